"""Framework-free pieces shared by both backends (numpy, PyYAML, Pillow only)."""
