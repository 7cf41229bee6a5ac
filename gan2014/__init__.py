"""Framework-free pieces shared by both backends (numpy, PyYAML, Pillow; matplotlib for the line
plots of gan2014.figures only).

Importing the package chooses OpenBLAS's kernels for this CPU (gan2014/blas.py) by setting
OPENBLAS_CORETYPE, unless the user has: the libraries read it only when they are loaded, and every
entry point of the project imports this package before numpy or SciPy load theirs.
"""
from gan2014.blas import choose_coretype as _choose_coretype

# (kernel family or None, who chose it) as this process started: reported by the benches.
OPENBLAS_CHOICE = _choose_coretype()
