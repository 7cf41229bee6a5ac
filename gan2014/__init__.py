"""Framework-free pieces shared by both backends (numpy, PyYAML, Pillow; matplotlib for the line
plots of gan2014.figures only)."""
