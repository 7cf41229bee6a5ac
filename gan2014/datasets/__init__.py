"""Datasets read from ``$PYLEARN2_DATA_PATH``, mirroring ``pylearn2/datasets`` (numpy only).

``DatasetError`` is defined here, before the submodules are imported, so that every submodule can
import it from the package without a separate errors module.
"""


class DatasetError(Exception):
    """A data file is missing, malformed or fails its checksum; the message names the file."""


from gan2014.datasets.data_path import DATA_PATH_VARIABLE, data_path  # noqa: E402
from gan2014.datasets.mnist import MNIST  # noqa: E402

__all__ = ["DATA_PATH_VARIABLE", "DatasetError", "MNIST", "data_path"]
