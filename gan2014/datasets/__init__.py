"""Datasets read from ``$PYLEARN2_DATA_PATH``, mirroring ``pylearn2/datasets`` (numpy only)."""
from gan2014.datasets.data_path import DATA_PATH_VARIABLE, data_path
from gan2014.datasets.errors import DatasetError
from gan2014.datasets.mnist import MNIST

__all__ = ["DATA_PATH_VARIABLE", "DatasetError", "MNIST", "data_path"]
