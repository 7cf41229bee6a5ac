"""Small helpers the parity and end-to-end tests share: an error measure and tiny MNIST files."""
from pathlib import Path

import numpy as np

from gan2014.datasets.idx import write_idx


def relative_error(a, b):
    """max |a - b| / max |b| (absolute when b is all zeros)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = float(np.abs(b).max()) or 1.0
    return float(np.abs(a - b).max()) / scale


def write_tiny_mnist(root):
    """The four MNIST IDX files at their real sizes under <root>/mnist: 800 random train images
    (pixels 0 and 255 included, so init_sigmoid_bias_from_marginals accepts them), everything else
    zero. The smoke configs read train rows 0-800."""
    rng = np.random.RandomState(0)
    folder = Path(root) / "mnist"
    folder.mkdir(parents=True)
    train = np.zeros((60000, 28, 28), np.uint8)
    train[:800] = rng.randint(0, 256, size=(800, 28, 28))
    train[0, 0, 0], train[799, 27, 27] = 0, 255
    write_idx(str(folder / "train-images-idx3-ubyte"), train)
    write_idx(str(folder / "train-labels-idx1-ubyte"), rng.randint(0, 10, 60000).astype(np.uint8))
    write_idx(str(folder / "t10k-images-idx3-ubyte"), np.zeros((10000, 28, 28), np.uint8))
    write_idx(str(folder / "t10k-labels-idx1-ubyte"), np.zeros(10000, np.uint8))
