"""What every line plot of the project shares: a matplotlib figure, saved in the format its file
name asks for.

The plots are drawn on :class:`matplotlib.figure.Figure` objects directly (no ``pyplot``: no global
state, no window, no backend to choose), sized in pixels at :data:`DPI` so that a PNG has exactly
the size a module names. :func:`save` writes ``.png``, ``.pdf`` or ``.svg`` by the extension of
the path, with the creation date and the software version left out of the file, so that the same
figure gives the same bytes on every run.

The sample grids (:mod:`gan2014.figures.samples`) are not drawn here: they are pixel-exact images
written with Pillow.
"""
import os
from pathlib import Path

DPI = 100
FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}
# Metadata a format would otherwise stamp with the date or the library version.
_METADATA = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Producer": None},
             "svg": {"Date": None, "Creator": None}}
STYLE = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 10,
         "axes.grid": True, "grid.color": "0.88", "grid.linewidth": 0.8, "axes.axisbelow": True,
         "svg.hashsalt": "gan2014", "pdf.fonttype": 42, "svg.fonttype": "path"}


def figure_format(path):
    """The format of ``path`` from its extension ('png', 'pdf' or 'svg'); ValueError otherwise."""
    extension = Path(path).suffix.lower()
    if extension not in FORMATS:
        raise ValueError(f"{path}: the figure's format follows its extension, one of "
                         f"{', '.join(FORMATS)} (got {extension or 'none'!r})")
    return FORMATS[extension]


def new_figure(width, height, **subplots):
    """A figure of ``width`` x ``height`` pixels (at :data:`DPI`) with a constrained layout; with
    ``subplots`` (``nrows``, ``ncols``, ...) also its axes: returns ``(figure, axes)``."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
        if not subplots:
            return figure
        return figure, figure.subplots(**subplots)


def style():
    """A context in which axes, artists and text take the project's style (wrap drawing in it)."""
    import matplotlib

    return matplotlib.rc_context(STYLE)


def save(figure, path):
    """Write ``figure`` to ``path`` in the format of its extension; creates the folder."""
    import matplotlib

    fmt = figure_format(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with matplotlib.rc_context(STYLE):
        figure.savefig(path, format=fmt, dpi=DPI, metadata=_METADATA[fmt])


def add_out_argument(parser, default):
    """The ``--out`` option every figure command has."""
    parser.add_argument("--out", default=default,
                        help=f"file to write (default {default}); the format follows the "
                             f"extension: {', '.join(FORMATS)}")


def check_out(parser, path):
    """Stop the command (status 2) when ``path`` has no supported extension."""
    try:
        figure_format(path)
    except ValueError as error:
        parser.error(str(error))
