"""CIFAR-10 as Pylearn2 served it (``pylearn2/datasets/cifar10.py :: CIFAR10``, June 2014).

Behaviour kept from Pylearn2:

* Files are the python-version batches ``<data_path>/cifar10/cifar-10-batches-py/data_batch_1..5``
  (``'train'``, 50,000 images) and ``test_batch`` (``'test'``, 10,000): pickled dicts whose
  ``data`` is a uint8 ``n x 3072`` array and ``labels`` a list of class numbers 0..9.
* ``X`` is float32 in raw 0..255 (no division by 255), columns in CIFAR's planar order (1024 red,
  1024 green, 1024 blue values, each a 32x32 image in row-major order); the topological view is
  channel by channel, as ``DefaultViewConverter((32, 32, 3), axes)`` read it.
* In Pylearn2's order: ``center`` subtracts 127.5, ``rescale`` divides by 127.5 (independently of
  each other), ``toronto_prepro`` divides by 255 and subtracts the per-pixel mean of the training
  set, ``gcn`` calls ``global_contrast_normalize(X, scale=float(gcn))`` on the whole set, and only
  then is ``X[start:stop]`` taken, with ``0 <= start < stop <= N`` asserted.
* ``one_hot`` gives N x 10 float32 targets; ``preprocessor.apply(dataset)`` runs last;
  ``get_test_set()`` keeps ``center``, ``rescale``, ``gcn``, ``one_hot``, ``toronto_prepro`` and
  ``axes`` (not the slice, not the preprocessor).

Deliberate differences: the data root falls back to ``./data`` (see ``data_path.py``); the pickles
are read with an unpickler that can only rebuild numpy arrays, dicts, lists and strings; each file
is checked (``EXAMPLES_PER_BATCH`` rows of 3072 uint8, labels 0..9) and a bad one raises
``DatasetError`` naming it; only the files of the requested set are read (Pylearn2 read all six);
``y`` is the N x 1 uint8 column of labels for both sets (Pylearn2 of June 2014 gave a 1-D uint8
array for train and a 1-D int64 one for test; later Pylearn2 used N x 1 uint8); ``stop`` without
``start`` raises ``ValueError`` where Pylearn2 silently ignored it; a slice of the test set is
allowed (Pylearn2 then failed its ``X.shape[0] == 10000`` assertion); files are cached (see
``read_batch``). Except with ``toronto_prepro`` (whose mean needs every row), the rows are sliced
before conversion; every other step acts per pixel or per row, so the values are the same.
"""
import os
import pickle

import numpy as np

from gan2014.config.checks import check_dataset_options, check_number
from gan2014.datasets.errors import DatasetError
from gan2014.datasets.data_path import dataset_dir, where_from
from gan2014.datasets.dense_design_matrix import DEFAULT_AXES, DenseDesignMatrix, check_axes
from gan2014.datasets.safe_pickle import NumpyOnlyUnpickler
from gan2014.datasets.preprocessing import global_contrast_normalize

BATCH_FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple("data_batch_%d" % i for i in range(1, 6))
TEST_BATCH = "test_batch"
SET_FILES = {"train": TRAIN_BATCHES, "test": (TEST_BATCH,)}
# Pylearn2 assumed 10,000 images per file. Tests shrink it to run on small generated files.
EXAMPLES_PER_BATCH = 10000
IMAGE_SHAPE = (32, 32, 3)  # rows, columns, channels; the design matrix stores channels planar
N_FEATURES = 32 * 32 * 3
N_CLASSES = 10
LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")
ARCHIVE_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"

# Absolute path -> ((mtime_ns, size), (read-only data, read-only labels)).
_RAW_CACHE = {}


def clear_cache():
    """Forget every cached CIFAR-10 file (the next CIFAR10(...) reads from disk again)."""
    _RAW_CACHE.clear()


def batch_dir(root=None):
    """``<root>/cifar10/cifar-10-batches-py``, ``root`` defaulting to the data path."""
    return os.path.join(dataset_dir("cifar10", root), BATCH_FOLDER)


def how_to_get_cifar10():
    """Appended to "CIFAR-10 file not found" messages."""
    return ("%s Set PYLEARN2_DATA_PATH to the folder that holds cifar10/, or download and unpack "
            "%s with: python -m gan2014.datasets.fetch cifar10" % (where_from(), ARCHIVE_URL))


# --- reading the batch files ---------------------------------------------------------------------

def _latin1_encode(text, encoding="latin1"):
    """``_codecs.encode`` restricted to latin1: how Python 3's protocol-2 pickles rebuild bytes."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError("refusing _codecs.encode(%r, %r) in a CIFAR-10 batch"
                                     % (type(text).__name__, encoding))
    return text.encode("latin1")


class BatchUnpickler(NumpyOnlyUnpickler):
    """``NumpyOnlyUnpickler`` plus latin1 ``_codecs.encode``, with errors that name CIFAR-10.

    Dicts, lists, ints and strings need no globals; the only callables a batch may name are the
    numpy array rebuilders (and, in a batch re-pickled by Python 3 with protocol 2, the latin1
    encoder for its bytes). Anything else, such as ``os.system``, raises ``UnpicklingError``.
    """

    def find_class(self, module, name):
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        try:
            return super().find_class(module, name)
        except pickle.UnpicklingError:
            raise pickle.UnpicklingError("refusing to load global %s.%s from a CIFAR-10 batch"
                                         % (module, name)) from None


def read_batch(path):
    """``(data, labels)`` of one batch file: read-only uint8 ``n x 3072`` and ``n`` arrays.

    Read once per (path, mtime, size): the CIFAR-10 configs build the training set and the
    monitoring set from the same five files.
    """
    if not os.path.isfile(path):
        raise DatasetError("CIFAR-10 file not found: %s. %s" % (path, how_to_get_cifar10()))
    resolved = os.path.abspath(path)
    info = os.stat(resolved)
    stamp = (info.st_mtime_ns, info.st_size)
    cached = _RAW_CACHE.get(resolved)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    data, labels = _check_batch(_unpickle(resolved), resolved)
    data.flags.writeable = False
    labels.flags.writeable = False
    _RAW_CACHE[resolved] = (stamp, (data, labels))
    return data, labels


def _unpickle(path):
    # latin1 turns the Python 2 str keys into str and lets numpy rebuild the array bytes.
    try:
        with open(path, "rb") as handle:
            return BatchUnpickler(handle, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, ImportError) as exc:
        raise DatasetError("cannot read CIFAR-10 batch %s: %s" % (path, exc)) from exc


def _field(batch, name, path):
    """``batch[name]``, whether the pickle's keys came back as str or as bytes."""
    for key in (name, name.encode("ascii")):
        if key in batch:
            return batch[key]
    raise DatasetError("%s: the batch has no %r entry" % (path, name))


def _check_batch(batch, path):
    if not isinstance(batch, dict):
        raise DatasetError("%s: expected a pickled dict, found %s" % (path, type(batch).__name__))
    data = _field(batch, "data", path)
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8
            and data.shape == (EXAMPLES_PER_BATCH, N_FEATURES)):
        raise DatasetError("%s: data should be a uint8 array of %d x %d, found %s"
                           % (path, EXAMPLES_PER_BATCH, N_FEATURES, _describe(data)))
    labels = np.asarray(_field(batch, "labels", path))
    if labels.shape != (EXAMPLES_PER_BATCH,) or labels.dtype.kind not in "iu":
        raise DatasetError("%s: labels should be %d integers, found %s"
                           % (path, EXAMPLES_PER_BATCH, _describe(labels)))
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise DatasetError("%s: labels fall outside 0..%d" % (path, N_CLASSES - 1))
    return np.ascontiguousarray(data), labels.astype(np.uint8)


def _describe(value):
    if isinstance(value, np.ndarray):
        return "%s array of shape %s" % (value.dtype, value.shape)
    return type(value).__name__


def load_set(which_set):
    """``(images, labels)``: the uint8 ``N x 3072`` pixels and ``N`` labels of a whole set."""
    folder = batch_dir()
    batches = [read_batch(os.path.join(folder, name)) for name in SET_FILES[which_set]]
    if len(batches) == 1:
        return batches[0]
    return (np.concatenate([data for data, _ in batches]),
            np.concatenate([labels for _, labels in batches]))


# --- the dataset ----------------------------------------------------------------------------------

class CIFAR10(DenseDesignMatrix):
    """The CIFAR-10 design-matrix dataset with Pylearn2's constructor signature and semantics.

    Attributes: ``X`` (float32, N x 3072, planar RGB), ``y`` (uint8 N x 1, or N x 10 float32 when
    ``one_hot``), ``which_set``, ``start``, ``stop``, ``axes``, ``center``, ``rescale``, ``gcn``,
    ``one_hot``, ``toronto_prepro``, ``img_shape`` (3, 32, 32), ``n_classes``, ``label_names``.
    """

    y_labels = N_CLASSES
    img_shape = (3, 32, 32)
    view_shape = IMAGE_SHAPE
    img_size = N_FEATURES
    n_classes = N_CLASSES
    label_names = LABEL_NAMES

    def __init__(self, which_set, center=False, rescale=False, gcn=None, one_hot=False,
                 start=None, stop=None, axes=DEFAULT_AXES, toronto_prepro=False,
                 preprocessor=None):
        if which_set not in SET_FILES:
            raise ValueError('Unrecognized which_set value %r; valid values are "train" and '
                             '"test" (CIFAR-10 has no validation set: slice the train set).'
                             % (which_set,))
        check_dataset_options("CIFAR10", start, stop, center=center, rescale=rescale,
                              one_hot=one_hot, toronto_prepro=toronto_prepro)
        if gcn is not None:
            check_number("CIFAR10", "gcn", gcn, low=0, low_open=True)
        self.which_set, self.start, self.stop = which_set, start, stop
        self.axes = check_axes(axes)
        self.center, self.rescale, self.gcn = center, rescale, gcn
        self.one_hot, self.toronto_prepro = one_hot, toronto_prepro
        if toronto_prepro and center:
            raise AssertionError("CIFAR10: toronto_prepro cannot be combined with center")
        if toronto_prepro and gcn:
            raise AssertionError("CIFAR10: toronto_prepro cannot be combined with gcn")
        if stop is not None and start is None:
            raise ValueError("CIFAR10 got stop=%r without start; give both (Pylearn2 silently "
                             "ignored such a stop and kept the whole set)." % (stop,))

        images, labels = load_set(which_set)
        _check_slice(start, stop, images.shape[0])
        if toronto_prepro:
            X = _toronto(_pixels(images, center, rescale), which_set)
            X, labels = _slice(X, labels, start, stop)
        else:
            images, labels = _slice(images, labels, start, stop)
            X = _pixels(images, center, rescale)
        if gcn is not None:
            # Per row, so applying it after the slice gives what Pylearn2 computed before it.
            X = global_contrast_normalize(X, scale=float(gcn))
        self.X = X
        self.y = _targets(labels, one_hot)

        if preprocessor:
            preprocessor.apply(self)

    def get_test_set(self):
        """CIFAR10('test') with the same preprocessing and axes (``CIFAR10.get_test_set``)."""
        return CIFAR10(which_set="test", center=self.center, rescale=self.rescale, gcn=self.gcn,
                       one_hot=self.one_hot, toronto_prepro=self.toronto_prepro, axes=self.axes)

    def adjust_for_viewer(self, X):
        """Map data to [-1, 1] for display (``CIFAR10.adjust_for_viewer``).

        With GCN each example is divided by its own largest magnitude; otherwise the raw range is
        undone as Pylearn2 did (-127.5 unless centred, / 127.5 unless rescaled) and clipped.
        """
        if self.gcn is not None:
            return X / _example_max_abs(X)
        return self._undo_range(X)

    def adjust_to_be_viewed_with(self, X, orig, per_example=False):
        """Like ``adjust_for_viewer`` but with the scale of ``orig`` (``CIFAR10`` method)."""
        if self.gcn is not None:
            scale = _example_max_abs(orig) if per_example else np.abs(orig).max()
            return np.clip(X / scale, -1.0, 1.0)
        return self._undo_range(X)

    def _undo_range(self, X):
        rval = np.array(X, copy=True)
        if not self.center:
            rval -= 127.5
        if not self.rescale:
            rval /= 127.5
        return np.clip(rval, -1.0, 1.0)


def _check_slice(start, stop, count):
    """Pylearn2's three assertions on ``start:stop`` (only checked when ``start`` is given)."""
    if start is None:
        return
    if not start >= 0:
        raise AssertionError("CIFAR10 start must be >= 0, got %r" % (start,))
    if stop is None or not stop > start:
        raise AssertionError("CIFAR10 stop (%r) must be greater than start (%r)" % (stop, start))
    if not stop <= count:
        raise AssertionError("CIFAR10 stop=%r > number of examples %d" % (stop, count))


def _slice(X, labels, start, stop):
    if start is None:
        return X, labels
    return X[start:stop], labels[start:stop]


def _pixels(images, center, rescale):
    """uint8 -> float32, then Pylearn2's in-place ``-= 127.5`` and ``/= 127.5``."""
    X = images.astype(np.float32)
    if center:
        X -= np.float32(127.5)
    if rescale:
        X /= np.float32(127.5)
    return X


def _toronto(X, which_set):
    """x / 255 minus the per-pixel mean of the (whole, /255) training set."""
    X = X / np.float32(255.)
    if which_set == "test":
        # Pylearn2 built CIFAR10('train') with default arguments: the mean ignores rescale.
        train = load_set("train")[0].astype(np.float32)
        train /= np.float32(255.)
        return X - train.mean(axis=0)
    return X - X.mean(axis=0)


def _targets(labels, one_hot):
    """N x 1 uint8 labels, or N x 10 float32 one-hot rows."""
    if not one_hot:
        return np.array(labels, dtype=np.uint8).reshape(-1, 1)
    targets = np.zeros((len(labels), N_CLASSES), dtype=np.float32)
    targets[np.arange(len(labels)), labels] = 1.0
    return targets


def _example_max_abs(X):
    """The largest magnitude of each example (first axis), shaped to broadcast against ``X``."""
    X = np.asarray(X)
    peak = np.abs(X).reshape(X.shape[0], -1).max(axis=1)
    return peak.reshape((-1,) + (1,) * (X.ndim - 1))
