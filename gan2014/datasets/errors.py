"""The one error every dataset module raises: a leaf module, imported by the others."""


class DatasetError(Exception):
    """A data file is missing, malformed or fails its checksum; the message names the file."""
