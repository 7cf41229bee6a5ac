"""Figures drawn with numpy and Pillow only (there is no matplotlib in this project).

* :mod:`gan2014.figures.png` -- a tiny plotting layer: axes, polylines, dots, labels, legend.
* :mod:`gan2014.figures.figure1` -- the paper's Figure 1 from the 1-D toy of :mod:`gan2014.toy1d`.
* :mod:`gan2014.figures.saturation` -- why G trains on -log D(G(z)) rather than log(1 - D(G(z))).
"""
