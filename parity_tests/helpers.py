"""Small helpers the parity and end-to-end tests share: an error measure, tiny dataset files (and
a context that points Pylearn2's data path at them), the real-MNIST skip marker, the unmodified
mnist.yaml built by either backend, and the 2014 monitor printout reader."""
import contextlib
import os
from pathlib import Path

import numpy as np
import pytest

from gan2014.datasets.idx import write_idx

REPO = Path(__file__).resolve().parents[1]
MNIST_YAML = REPO / "yaml_experiments" / "original" / "mnist.yaml"
FIXTURES = REPO / "parity_tests" / "fixtures"
REFERENCE_2014 = FIXTURES / "original_2014_mnist_fingerprints.json"
EPOCH0_MONITOR_2014 = FIXTURES / "original_2014_mnist_epoch0_monitor.txt"


def mnist_dir():
    """$PYLEARN2_DATA_PATH/mnist, or ./data/mnist when the variable is unset."""
    return Path(os.environ.get("PYLEARN2_DATA_PATH") or str(REPO / "data")) / "mnist"


def has_real_mnist():
    folder = mnist_dir()
    return any((folder / name).exists() for name in ("train-images-idx3-ubyte",
                                                     "train-images-idx3-ubyte.gz"))


# The marker of the tests that build the unmodified mnist.yaml (the 2014 batch and G/y_b's
# marginals come from the real training images).
needs_real_mnist = pytest.mark.skipif(
    not has_real_mnist(),
    reason="MNIST is not in $PYLEARN2_DATA_PATH/mnist (or ./data/mnist); "
           "get it with: python -m gan2014.datasets.fetch mnist")


def build_experiment(backend):
    """The Train object of the unmodified mnist.yaml built by `backend`'s registry ("torch" or
    "aesara"), reading MNIST from ./data when $PYLEARN2_DATA_PATH is unset (left as it was)."""
    from gan2014.config.yaml_parse import load_path

    if backend == "torch":
        from port_torch.registry import REGISTRY as registry
    elif backend == "aesara":
        from legacy_aesara.registry import load_registry
        registry = load_registry()
    else:
        raise ValueError(f"build_experiment: backend must be 'torch' or 'aesara', got {backend!r}")
    old = os.environ.get("PYLEARN2_DATA_PATH")
    os.environ.setdefault("PYLEARN2_DATA_PATH", str(REPO / "data"))
    try:
        return load_path(MNIST_YAML, registry)
    finally:
        if old is None:
            os.environ.pop("PYLEARN2_DATA_PATH", None)


# Lines of a printed monitor block that are counters or timers, not channels.
MONITOR_COUNTERS = ("Epochs seen", "Batches seen", "Examples seen", "total_seconds_last_epoch",
                    "training_seconds_this_epoch")
# Constant channels that Pylearn2's monitor averaged over its 100 batches in float32: the sum of
# 100 equal float32 values divided by 100 comes back a few ulp off (.5 -> 0.49999967).
ACCUMULATED_CONSTANTS = {"learning_rate": 0.1, "momentum": 0.5, "valid_now_train_generator": 1.0}


def read_monitor_block(path=EPOCH0_MONITOR_2014):
    """{channel: value} of a monitor block as Pylearn2 printed it ('name: value' lines; lines
    starting with '#' are comments). A malformed line is an error naming the file and line."""
    channels = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(": ")
        try:
            channels[name] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(f"{path}:{number}: expected 'channel: number', got {line!r}")
    return channels


def relative_error(a, b):
    """max |a - b| / max |b| (absolute when b is all zeros)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = float(np.abs(b).max()) or 1.0
    return float(np.abs(a - b).max()) / scale


@contextlib.contextmanager
def mnist_data_path(folder):
    """Within the block PYLEARN2_DATA_PATH is `folder` and the MNIST loader's cache starts empty;
    afterwards both are as before, even when the block fails (a tiny MNIST read here must not be
    what a later test reads)."""
    from gan2014.datasets import mnist

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYLEARN2_DATA_PATH", str(folder))
        mnist.clear_cache()
        try:
            yield folder
        finally:
            mnist.clear_cache()


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


def write_tiny_cifar10(root, per_batch, seed=0):
    """The six python-version CIFAR-10 batches under <root>/cifar10/cifar-10-batches-py, each with
    `per_batch` random uint8 images and labels, pickled as the real files are (dicts with `data`
    and `labels`). Readers must set gan2014.datasets.cifar10.EXAMPLES_PER_BATCH to `per_batch`."""
    import pickle

    rng = np.random.RandomState(seed)
    folder = Path(root) / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"batch_label": name,
                 "data": rng.randint(0, 256, (per_batch, 3072)).astype(np.uint8),
                 "labels": [int(label) for label in rng.randint(0, 10, per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return folder


def write_tiny_tfd(root, n_unlabeled=300, n_labelled=60, seed=0):
    """<root>/faces/TFD/TFD_48x48.mat in the real layout (images N x 48 x 48 uint8, folds N x 5,
    labs_ex and labs_id N x 1): the first `n_unlabeled` rows are unlabeled in every fold (code 0),
    the others rotate through train/valid/test (codes 1, 2, 3) from fold to fold, so each fold has
    n_labelled / 3 of each. Pixels 0 and 255 occur in the unlabeled split, so
    init_sigmoid_bias_from_marginals accepts it. Returns the arrays written."""
    import scipy.io

    rng = np.random.RandomState(seed)
    count = n_unlabeled + n_labelled
    images = rng.randint(0, 256, size=(count, 48, 48)).astype(np.uint8)
    images[0, 0, 0], images[1, 0, 0] = 0, 255
    folds = np.zeros((count, 5), np.uint8)
    for fold in range(5):
        folds[n_unlabeled:, fold] = 1 + (np.arange(n_labelled) + fold) % 3
    labs_ex = np.full((count, 1), -1, np.int16)
    labs_ex[n_unlabeled:, 0] = 1 + np.arange(n_labelled) % 7
    arrays = {"images": images, "folds": folds, "labs_ex": labs_ex,
              "labs_id": np.arange(count, dtype=np.int32).reshape(count, 1)}
    folder = Path(root) / "faces" / "TFD"
    folder.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(str(folder / "TFD_48x48.mat"), arrays)
    return arrays
