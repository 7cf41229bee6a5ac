"""Figures of the paper and of the project's runs.

* :mod:`gan2014.figures.plot` -- what the line plots share: matplotlib figures sized in pixels,
  saved as PNG, PDF or SVG by the extension of the file name.
* :mod:`gan2014.figures.curves` -- learning curves of one run; :mod:`gan2014.figures.compare` --
  several runs side by side.
* :mod:`gan2014.figures.figure1` -- the paper's Figure 1 from the 1-D toy of :mod:`gan2014.toy1d`.
* :mod:`gan2014.figures.saturation` -- why G trains on -log D(G(z)) rather than log(1 - D(G(z))).
* :mod:`gan2014.figures.samples` -- the sample grids (Figures 2 and 3): pixel-exact PNG images
  written with Pillow.
"""
