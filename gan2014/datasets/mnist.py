"""MNIST as Pylearn2 served it (``pylearn2/datasets/mnist.py :: MNIST``, June 2014).

Behaviour kept from Pylearn2:

* ``which_set`` is ``'train'`` (60,000 images) or ``'test'`` (10,000); ``'valid'`` is refused.
* Files are ``<data_path>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte``.
* Pixels are float32 ``uint8 / 255`` (255 becomes exactly 1.0); ``X`` is ``N x 784`` in row-major
  28x28 order; ``y`` is the ``N x 1`` uint8 column of digit labels (Pylearn2 stored
  ``atleast_2d(labels).T``).
* Optional ``binarize``, ``center`` and ``shuffle`` act on the full 60k/10k set, in that order,
  before the ``start:stop`` slice, with Pylearn2's checks on ``start`` and ``stop``.
* ``one_hot`` only warns (it was deprecated in favour of data_specs and did nothing else).
* ``preprocessor.apply(dataset, fit_preprocessor)`` runs last.

Deliberate differences: the data root falls back to ``./data`` when ``PYLEARN2_DATA_PATH`` is unset
(see ``data_path.py``); ``<file>.gz`` is read when the uncompressed file is absent; ``stop`` without
``start`` raises ``ValueError`` where Pylearn2 silently ignored it; raw file contents are cached
(see ``load_raw``), so a training set and a monitoring set cut from the same file read it once.
"""
import os
import warnings

import numpy as np

from gan2014.config.checks import check_dataset_options
from gan2014.datasets.errors import DatasetError
from gan2014.datasets.data_path import dataset_dir, how_to_get_mnist
from gan2014.datasets.dense_design_matrix import DEFAULT_AXES, DenseDesignMatrix, check_axes
from gan2014.datasets.idx import IMAGE_MAGIC, LABEL_MAGIC, find_idx, read_idx

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# Pylearn2 asserted these sizes. Tests shrink them to run on small generated files.
EXPECTED_EXAMPLES = {"train": 60000, "test": 10000}
IMAGE_SHAPE = (28, 28)
SHUFFLE_SEED = [1, 2, 3]

_NO_VALID_SET = (
    "MNIST has no validation set: it consists of 60,000 train and 10,000 test examples. To monitor "
    "on held-out data, slice the train set, e.g. MNIST('train', start=50000, stop=60000), as "
    "mnist.yaml does."
)

# Absolute path -> ((mtime_ns, size), read-only uint8 array). One entry per file, replaced when the
# file changes on disk.
_RAW_CACHE = {}


def clear_cache():
    """Forget every cached MNIST file (the next MNIST(...) reads from disk again)."""
    _RAW_CACHE.clear()


def load_raw(path, expected_magic):
    """The uint8 contents of an IDX file (or its .gz), read once per (path, mtime, size).

    mnist.yaml builds MNIST('train') twice (training set and monitoring set); caching the raw bytes
    avoids reading and parsing the 47 MB file twice. The array is read-only so no dataset can
    change what another one sees.
    """
    resolved = os.path.abspath(find_idx(path, hint=how_to_get_mnist()))
    info = os.stat(resolved)
    stamp = (info.st_mtime_ns, info.st_size)
    cached = _RAW_CACHE.get(resolved)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    array = read_idx(resolved, expected_magic)
    array.flags.writeable = False
    _RAW_CACHE[resolved] = (stamp, array)
    return array


class MNIST(DenseDesignMatrix):
    """The MNIST design-matrix dataset with Pylearn2's constructor signature and semantics.

    Attributes: ``X`` (float32, N x 784), ``y`` (uint8, N x 1), ``which_set``, ``start``, ``stop``,
    ``axes``, ``args`` (the constructor arguments, as ``get_test_set`` reuses them).
    """

    y_labels = 10
    view_shape = IMAGE_SHAPE + (1,)

    def __init__(self, which_set, center=False, shuffle=False, one_hot=None, binarize=False,
                 start=None, stop=None, axes=DEFAULT_AXES, preprocessor=None,
                 fit_preprocessor=False, fit_test_preprocessor=False):
        self.args = dict(which_set=which_set, center=center, shuffle=shuffle, one_hot=one_hot,
                         binarize=binarize, start=start, stop=stop, axes=axes,
                         preprocessor=preprocessor, fit_preprocessor=fit_preprocessor,
                         fit_test_preprocessor=fit_test_preprocessor)
        _check_which_set(which_set)
        check_dataset_options("MNIST", start, stop, center=center, shuffle=shuffle,
                              binarize=binarize, fit_preprocessor=fit_preprocessor,
                              fit_test_preprocessor=fit_test_preprocessor)
        self.which_set = which_set
        self.start = start
        self.stop = stop
        self.axes = check_axes(axes)
        if one_hot is not None:
            warnings.warn("MNIST's `one_hot` argument was deprecated in Pylearn2 and has no effect "
                          "here: y stays the N x 1 column of labels.", stacklevel=2)
        if stop is not None and start is None:
            raise ValueError("MNIST got stop=%r without start; give both (Pylearn2 silently "
                             "ignored such a stop and loaded the whole set)." % (stop,))

        images, labels = self._load_files()
        if center or shuffle:
            X, y = _full_set(images, labels, binarize, center, shuffle)
            X, y = _slice(X, y, start, stop)
            X = np.ascontiguousarray(X)
        else:
            # Every remaining step is per-pixel, so slicing the uint8 data first gives the same
            # values while converting only the rows that are kept.
            images, y = _slice(images, labels.reshape(-1, 1), start, stop)
            X = _to_float(images, binarize)
        self.X = X
        self.y = np.array(y, dtype=np.uint8)

        if which_set == "test" and not (fit_test_preprocessor is None
                                        or fit_preprocessor == fit_test_preprocessor):
            raise AssertionError("for the MNIST test set, fit_test_preprocessor must be None or "
                                 "equal to fit_preprocessor")
        if preprocessor:
            preprocessor.apply(self, fit_preprocessor)

    def _load_files(self):
        folder = dataset_dir("mnist")
        image_name, label_name = FILES[self.which_set]
        image_path = os.path.join(folder, image_name)
        images = load_raw(image_path, IMAGE_MAGIC)
        labels = load_raw(os.path.join(folder, label_name), LABEL_MAGIC)
        expected = EXPECTED_EXAMPLES[self.which_set]
        if images.shape != (expected,) + IMAGE_SHAPE:
            raise DatasetError("%s: expected %d images of 28x28 pixels, found shape %s"
                               % (image_path, expected, images.shape))
        if labels.shape != (expected,):
            raise DatasetError("%s: expected %d labels, found shape %s"
                               % (os.path.join(folder, label_name), expected, labels.shape))
        return images, labels

    def get_test_set(self):
        """MNIST('test') with the same arguments but no slice (``MNIST.get_test_set``).

        As in Pylearn2, the test set is fitted with ``fit_test_preprocessor``.
        """
        args = dict(self.args)
        args.update(which_set="test", start=None, stop=None,
                    fit_preprocessor=args["fit_test_preprocessor"], fit_test_preprocessor=None)
        return MNIST(**args)

    def adjust_for_viewer(self, X):
        """Map [0, 1] pixels to [-1, 1] for display (``MNIST.adjust_for_viewer``)."""
        return np.clip(X * 2.0 - 1.0, -1.0, 1.0)

    def adjust_to_be_viewed_with(self, X, other, per_example=False):
        return self.adjust_for_viewer(X)


def _check_which_set(which_set):
    if which_set == "valid":
        raise ValueError(_NO_VALID_SET)
    if which_set not in FILES:
        raise ValueError('Unrecognized which_set value %r; valid values are "train" and "test".'
                         % (which_set,))


def _to_float(images, binarize):
    """uint8 -> float32 / 255 (in place, in float32, as mnist_ubyte.read_mnist_images did)."""
    X = images.reshape(images.shape[0], -1).astype(np.float32)
    X /= np.float32(255)
    if binarize:
        X = (X > 0.5).astype(np.float32)
    return X


def _full_set(images, labels, binarize, center, shuffle):
    """The whole set through binarize, center and shuffle, in Pylearn2's order."""
    X = _to_float(images, binarize)
    y = labels.reshape(-1, 1).copy()
    if center:
        # Mean over the whole 60k/10k set, in float32, before any slicing.
        topo = X.reshape((-1,) + IMAGE_SHAPE + (1,))
        topo -= topo.mean(axis=0)
    if shuffle:
        _pylearn2_shuffle(X, y, np.random.RandomState(SHUFFLE_SEED))
    return X, y


def _pylearn2_shuffle(X, y, rng):
    """Pylearn2's in-place shuffle: for each row i, swap it with a uniformly drawn row j.

    (Not a uniform permutation, but the order Pylearn2 produced for seed [1, 2, 3].)
    """
    count = X.shape[0]
    for i in range(count):
        j = rng.randint(count)
        X[[i, j]] = X[[j, i]]
        y[[i, j]] = y[[j, i]]


def _slice(X, y, start, stop):
    """``X[start:stop], y[start:stop]`` with the checks of Pylearn2's MNIST, in its order."""
    if start is None:
        return X, y
    if not start >= 0:
        raise AssertionError("MNIST start must be >= 0, got %r" % (start,))
    if stop is None:
        raise AssertionError("MNIST start=%r needs a stop as well" % (start,))
    if stop > X.shape[0]:
        raise ValueError("MNIST stop=%d > number of examples m=%d" % (stop, X.shape[0]))
    if not stop > start:
        raise AssertionError("MNIST stop (%r) must be greater than start (%r)" % (stop, start))
    return X[start:stop], y[start:stop]
