"""The Toronto Face Database as Pylearn2 served it (``pylearn2/datasets/tfd.py :: TFD``, June 2014).

Behaviour kept from Pylearn2:

* The file is ``<data_path>/faces/TFD/TFD_48x48.mat`` (``TFD_96x96.mat`` for ``image_size=96``),
  read with ``scipy.io.loadmat``; the variables used are ``images`` (N x s x s), ``folds`` (N x 5),
  ``labs_ex`` and ``labs_id`` (N x 1).
* Column ``fold`` of ``folds`` picks the split: 0 ``'unlabeled'``, 1 ``'train'``, 2 ``'valid'``,
  3 ``'test'``, and 1 or 2 ``'full_train'``.
* Pixels are cast to float32, cut to ``example_range`` (a Python slice of the split, unchecked),
  and reshaped in C order to ``N x s*s``. Then ``scale`` alone divides by 255, ``center`` alone
  subtracts 127.5, and both give ``(x - 127.5) / 127.5``, all in float32.
* ``shuffle`` permutes rows with ``rng`` or ``RandomState(seed)`` (``make_np_rng`` semantics).
* For labelled splits ``y = labs_ex - 1`` (7 expressions, N x 1, or N x 7 float32 one-hot) and
  ``y_identity = labs_id``; both are None for ``'unlabeled'``.
* ``preprocessor.apply(dataset)`` runs last; ``get_test_set(fold=None)`` keeps every argument.

Deliberate differences: the data root falls back to ``./data`` (see ``data_path.py``); an unknown
``which_set`` raises a readable ValueError (Pylearn2's message formatting raised a TypeError); a
missing or malformed file raises ``DatasetError`` naming the file; MATLAB v7.3 files are read with
h5py with their axes reversed back to MATLAB's order (Pylearn2 returned the raw h5py file, whose
arrays are transposed); one-hot labels outside 0..6 raise ``DatasetError`` (Pylearn2 wrapped -1
silently to column 6); the variables read are cached (see ``load_raw``) so the training and the
monitoring split of one file read it once.
"""
import os
import zlib

import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError

from gan2014.config.checks import check_dataset_options, check_whole_number
from gan2014.datasets import DatasetError
from gan2014.datasets.data_path import dataset_dir, where_from
from gan2014.datasets.dense_design_matrix import DEFAULT_AXES, DenseDesignMatrix, check_axes

FILE_NAMES = {48: "TFD_48x48.mat", 96: "TFD_96x96.mat"}
# which_set -> the values of folds[:, fold] that select its rows.
SPLIT_CODES = {"unlabeled": (0,), "train": (1,), "valid": (2,), "test": (3,), "full_train": (1, 2)}
VARIABLES = ("images", "folds", "labs_ex", "labs_id")
N_FOLDS = 5
N_EXPRESSIONS = 7
DEFAULT_SEED = 132987
MAKE_NP_RNG_FALLBACK_SEED = 42  # pylearn2/utils/rng.py :: make_rng when both rng and seed are None

# Absolute path -> ((mtime_ns, size), {variable: read-only array}).
_RAW_CACHE = {}


def clear_cache():
    """Forget every cached TFD file (the next TFD(...) reads from disk again)."""
    _RAW_CACHE.clear()


def tfd_path(image_size, root=None):
    """``<root>/faces/TFD/TFD_<s>x<s>.mat``; ``image_size`` must be 48 or 96."""
    if image_size not in FILE_NAMES:
        raise ValueError("image_size should be either 48 or 96, got %r" % (image_size,))
    return os.path.join(dataset_dir("faces", root), "TFD", FILE_NAMES[image_size])


def how_to_get_tfd(path):
    """The "file not found" explanation: TFD cannot be downloaded, only requested."""
    return ("TFD file not found: %s. The Toronto Face Database is not publicly distributed: it "
            "must be obtained from its owners at the University of Toronto (Susskind, Anderson and "
            "Hinton, 2010) under their licence, and the .mat file they provide placed at that "
            "path. %s" % (path, where_from()))


# --- reading the .mat file ------------------------------------------------------------------------

def load_raw(path, image_size):
    """The four TFD variables of ``path``, checked and read-only, read once per (mtime, size).

    The pretraining config builds TFD('unlabeled') and TFD('valid') from the same file; the cache
    avoids reading it twice. Read-only arrays keep one dataset from changing what another sees.
    """
    if not os.path.isfile(path):
        raise DatasetError(how_to_get_tfd(path))
    resolved = os.path.abspath(path)
    info = os.stat(resolved)
    stamp = (info.st_mtime_ns, info.st_size)
    cached = _RAW_CACHE.get(resolved)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    arrays = _check_variables(read_mat(resolved), resolved, image_size)
    for array in arrays.values():
        array.flags.writeable = False
    _RAW_CACHE[resolved] = (stamp, arrays)
    return arrays


def read_mat(path):
    """``{name: array}`` for ``VARIABLES`` (those present) of a MATLAB v5/v7 or v7.3 file.

    Mirrors ``pylearn2/utils/serial.py :: load``: scipy first, h5py when scipy reports a v7.3 file.
    """
    try:
        return scipy.io.loadmat(path, variable_names=VARIABLES)
    except NotImplementedError:
        # scipy's way of saying "this is a v7.3 (HDF5) file".
        return _read_v73(path)
    except (MatReadError, OSError, ValueError, TypeError, EOFError, zlib.error) as exc:
        raise DatasetError("cannot read TFD file %s: %s" % (path, exc)) from exc


def _import_h5py():
    """h5py, or None when it is not installed (tests replace this function)."""
    try:
        import h5py
    except ImportError:
        return None
    return h5py


def _read_v73(path):
    h5py = _import_h5py()
    if h5py is None:
        raise DatasetError("%s is a MATLAB v7.3 (HDF5) file, which scipy cannot read. Install h5py "
                           "(pip install h5py) or re-save the file in MATLAB with "
                           "save(..., '-v7')." % path)
    try:
        with h5py.File(path, "r") as handle:
            # HDF5 stores MATLAB's column-major arrays with their axes reversed; .T restores
            # MATLAB's order (N x s x s images, N x 5 folds).
            return {name: np.asarray(handle[name]).T for name in VARIABLES if name in handle}
    except OSError as exc:
        raise DatasetError("cannot read TFD file %s with h5py: %s" % (path, exc)) from exc


def _check_variables(arrays, path, image_size):
    """Keep the four variables, with labels as N x 1 columns, or raise DatasetError."""
    missing = [name for name in VARIABLES if name not in arrays]
    if missing:
        raise DatasetError("%s: missing variable(s) %s; a TFD file holds %s"
                           % (path, ", ".join(missing), ", ".join(VARIABLES)))
    images = np.asarray(arrays["images"])
    count = images.shape[0] if images.ndim else 0
    if images.shape != (count, image_size, image_size):
        raise DatasetError("%s: images have shape %s, expected N x %d x %d"
                           % (path, images.shape, image_size, image_size))
    folds = np.asarray(arrays["folds"])
    if folds.shape != (count, N_FOLDS):
        raise DatasetError("%s: folds have shape %s, expected %d x %d"
                           % (path, folds.shape, count, N_FOLDS))
    checked = {"images": images, "folds": folds}
    for name in ("labs_ex", "labs_id"):
        labels = np.asarray(arrays[name])
        if labels.shape not in ((count,), (count, 1)):
            raise DatasetError("%s: %s has shape %s, expected %d x 1"
                               % (path, name, labels.shape, count))
        checked[name] = labels.reshape(count, 1)
    return checked


# --- the dataset ----------------------------------------------------------------------------------

class TFD(DenseDesignMatrix):
    """The TFD design-matrix dataset with Pylearn2's constructor signature and semantics.

    Attributes: ``X`` (float32, N x s*s), ``y`` (N x 1 expression labels 0..6, N x 7 float32 when
    ``one_hot``, or None for ``'unlabeled'``), ``y_identity`` (N x 1 or None), ``which_set``,
    ``fold``, ``image_size``, ``axes``, ``one_hot``, ``args`` (reused by ``get_test_set``).
    """

    def __init__(self, which_set, fold=0, image_size=48, example_range=None, center=False,
                 scale=False, shuffle=False, one_hot=False, rng=None, seed=DEFAULT_SEED,
                 preprocessor=None, axes=DEFAULT_AXES):
        self.args = dict(which_set=which_set, fold=fold, image_size=image_size,
                         example_range=example_range, center=center, scale=scale,
                         shuffle=shuffle, one_hot=one_hot, rng=rng, seed=seed,
                         preprocessor=preprocessor, axes=axes)
        _check_which_set(which_set)
        check_dataset_options("TFD", center=center, scale=scale, shuffle=shuffle,
                              one_hot=one_hot)
        check_whole_number("TFD", "fold", fold, minimum=None)   # its range: Pylearn2's assertion
        if not 0 <= fold < N_FOLDS:
            raise AssertionError("TFD fold must be in 0..4, got %r" % (fold,))
        path = tfd_path(image_size)
        self.which_set, self.fold, self.image_size = which_set, fold, image_size
        self.view_shape = (image_size, image_size, 1)
        self.axes = check_axes(axes)
        self.one_hot = one_hot

        raw = load_raw(path, image_size)
        rows = _split_rows(raw["folds"][:, fold], which_set, fold, path)
        rows = rows[_example_slice(example_range)]
        X = _design_matrix(raw["images"], rows, center, scale, path)
        labelled = which_set != "unlabeled"
        y = raw["labs_ex"][rows] - 1 if labelled else None
        y_identity = raw["labs_id"][rows] if labelled else None
        if shuffle:
            order = _shuffle_rng(rng, seed).permutation(len(X))
            X = X[order]
            if labelled:
                y, y_identity = y[order], y_identity[order]
        if labelled and one_hot:
            y = _one_hot(y, path)
        self.X, self.y, self.y_identity = X, y, y_identity
        self.y_labels = N_EXPRESSIONS if labelled else None

        if preprocessor is not None:
            preprocessor.apply(self)

    def get_test_set(self, fold=None):
        """TFD('test') with the other arguments kept, ``fold`` replaced if given (Pylearn2's)."""
        args = dict(self.args, which_set="test")
        if fold is not None:
            args["fold"] = fold
        return TFD(**args)


def _check_which_set(which_set):
    if which_set not in SPLIT_CODES:
        raise ValueError("Unrecognized which_set value %r; valid values are %s."
                         % (which_set, ", ".join(repr(name) for name in SPLIT_CODES)))


def _split_rows(fold_column, which_set, fold, path):
    """Indices (in file order) of the rows whose fold code belongs to ``which_set``."""
    rows = np.flatnonzero(np.isin(fold_column, SPLIT_CODES[which_set]))
    if rows.size == 0:
        raise DatasetError("%s: no %r examples in fold %d (folds[:, %d] has no %s)"
                           % (path, which_set, fold, fold,
                              " or ".join(str(code) for code in SPLIT_CODES[which_set])))
    return rows


def _example_slice(example_range):
    """``slice(example_range[0], example_range[1])``, or everything when it is empty or None."""
    if example_range is None or len(example_range) == 0:
        return slice(None)
    return slice(example_range[0], example_range[1])


def _design_matrix(images, rows, center, scale, path):
    """float32 ``N x s*s`` pixels of ``rows`` with Pylearn2's center/scale arithmetic."""
    X = images[rows].astype(np.float32).reshape(len(rows), -1)
    if images.dtype.kind == "f" and np.isnan(X).any():
        raise DatasetError("%s: images contain NaN" % path)
    # In place and in float32, in Pylearn2's order.
    if center and scale:
        X -= np.float32(127.5)
        X /= np.float32(127.5)
    elif center:
        X -= np.float32(127.5)
    elif scale:
        X /= np.float32(255.)
    return X


def _shuffle_rng(rng, seed):
    """``pylearn2/utils/rng.py :: make_np_rng(rng, seed, which_method='permutation')``."""
    if rng is not None and hasattr(rng, "permutation"):
        return rng
    if rng is not None:
        return np.random.RandomState(rng)
    return np.random.RandomState(MAKE_NP_RNG_FALLBACK_SEED if seed is None else seed)


def _one_hot(y, path):
    """N x 7 float32 one-hot rows from the N x 1 expression labels."""
    labels = y[:, 0]
    if labels.size and (labels.min() < 0 or labels.max() >= N_EXPRESSIONS):
        raise DatasetError("%s: expression labels (labs_ex - 1) fall outside 0..%d: %s"
                           % (path, N_EXPRESSIONS - 1, np.unique(labels)))
    one_hot = np.zeros((len(labels), N_EXPRESSIONS), dtype=np.float32)
    one_hot[np.arange(len(labels)), labels.astype(np.int64)] = 1.0
    return one_hot
