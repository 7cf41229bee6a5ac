"""Pylearn2's TFD semantics on small generated .mat files (TFD itself is not distributed)."""
import types

import numpy as np
import pytest
import scipy.io

from gan2014.datasets import DatasetError
from gan2014.datasets import tfd
from gan2014.datasets.tfd import TFD

N_UNLABELED, N_LABELLED = 20, 20
N = N_UNLABELED + N_LABELLED
SPLIT_CODES = {"unlabeled": (0,), "train": (1,), "valid": (2,), "test": (3,), "full_train": (1, 2)}


def make_tfd_arrays(image_size=48, seed=0):
    """TFD-shaped variables: the first 20 rows unlabeled in every fold, the rest coded 1, 2, 3 in a
    different arrangement in each fold column.

    Labels follow the real file's layout: N x 1 columns, expressions 1..7, -1 where unlabeled.
    """
    rng = np.random.RandomState(seed)
    images = rng.randint(0, 256, size=(N, image_size, image_size)).astype(np.uint8)
    # The extremes, in the unlabeled rows and in the labelled ones.
    images[0, 0, 0], images[N_UNLABELED - 1, -1, -1] = 0, 255
    images[N_UNLABELED, 0, 0], images[-1, -1, -1] = 0, 255
    folds = np.zeros((N, 5), dtype=np.uint8)
    for fold in range(5):
        # Runs of fold + 1 rows per code, shifted by the fold: no two folds' columns are alike.
        folds[N_UNLABELED:, fold] = 1 + (np.arange(N_LABELLED) // (fold + 1) + fold) % 3
    labs_ex = np.full((N, 1), -1, dtype=np.int16)
    labs_ex[N_UNLABELED:, 0] = 1 + np.arange(N_LABELLED) % 7
    labs_id = (1000 + np.arange(N)).astype(np.int32).reshape(N, 1)
    return {"images": images, "folds": folds, "labs_ex": labs_ex, "labs_id": labs_id}


def write_mat(root, arrays, name="TFD_48x48.mat"):
    folder = root / "faces" / "TFD"
    folder.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(str(folder / name), arrays)
    return folder / name


@pytest.fixture
def small_tfd(tmp_path, monkeypatch):
    """A 40-image TFD_48x48.mat under a temporary PYLEARN2_DATA_PATH; yields its arrays."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    tfd.clear_cache()
    arrays = make_tfd_arrays()
    write_mat(tmp_path, arrays)
    yield arrays
    tfd.clear_cache()


def rows_of(arrays, which_set, fold=0):
    return np.flatnonzero(np.isin(arrays["folds"][:, fold], SPLIT_CODES[which_set]))


def floats(arrays, rows):
    return arrays["images"][rows].reshape(len(rows), -1).astype(np.float32)


# --- splits and labels ----------------------------------------------------------------------------

def test_unlabeled_is_fold_code_0_without_labels(small_tfd):
    """'unlabeled' is the rows with fold code 0, in file order, as float32 raw 0..255, with y,
    y_identity and y_labels None. Exact: uint8 pixels are integers, which float32 holds exactly."""
    data = TFD("unlabeled")
    assert data.X.shape == (N_UNLABELED, 48 * 48) and data.X.dtype == np.float32
    np.testing.assert_array_equal(data.X, floats(small_tfd, np.arange(N_UNLABELED)))
    assert data.y is None and data.y_identity is None and data.y_labels is None
    assert data.X.max() == 255.0 and data.get_num_examples() == N_UNLABELED
    assert data.get_design_matrix() is data.X


@pytest.mark.parametrize("fold", [0, 3, 4])
@pytest.mark.parametrize("which_set", ["train", "valid", "test", "full_train"])
def test_labelled_splits_follow_the_fold_column(small_tfd, which_set, fold):
    """For folds 0, 3 and 4 and each labelled split, the rows are those whose code in that column of
    folds selects the split (1, 2, 3, or 1 and 2 for full_train), y = labs_ex - 1 (0..6, N x 1) and
    y_identity = labs_id. Exact: integer labels and integer pixels."""
    rows = rows_of(small_tfd, which_set, fold)
    data = TFD(which_set, fold=fold)
    np.testing.assert_array_equal(data.X, floats(small_tfd, rows))
    # Expressions 1..7 in the file become classes 0..6, as an N x 1 column.
    np.testing.assert_array_equal(data.y, small_tfd["labs_ex"][rows] - 1)
    assert data.y.shape == (len(rows), 1) and data.y.min() >= 0 and data.y.max() <= 6
    np.testing.assert_array_equal(data.y_identity, small_tfd["labs_id"][rows])
    assert data.y_labels == 7 and (data.which_set, data.fold) == (which_set, fold)


def test_full_train_keeps_file_order_of_train_and_valid(small_tfd):
    """full_train holds the train and valid rows together in file order (not train then valid).
    Exact: row indices and pixels."""
    full, train, valid = TFD("full_train"), TFD("train"), TFD("valid")
    assert full.get_num_examples() == train.get_num_examples() + valid.get_num_examples()
    rows = rows_of(small_tfd, "full_train")
    assert list(rows) == sorted(set(rows_of(small_tfd, "train")) | set(rows_of(small_tfd, "valid")))
    np.testing.assert_array_equal(full.X, floats(small_tfd, rows))


def test_example_range_slices_the_split(small_tfd):
    """example_range (1, 4) slices the split's X, y and y_identity; an empty one keeps everything;
    [15, 99] is a plain slice, not a checked range. Exact: the same values."""
    full = TFD("train")
    part = TFD("train", example_range=(1, 4))
    np.testing.assert_array_equal(part.X, full.X[1:4])
    np.testing.assert_array_equal(part.y, full.y[1:4])
    np.testing.assert_array_equal(part.y_identity, full.y_identity[1:4])
    np.testing.assert_array_equal(TFD("train", example_range=[]).X, full.X)  # falsy: everything
    np.testing.assert_array_equal(TFD("unlabeled", example_range=[15, 99]).X,
                                  TFD("unlabeled").X[15:])  # a slice, not a checked range


def test_one_hot_has_seven_columns(small_tfd):
    """one_hot gives N x 7 float32 rows with a single 1 at the class; 'unlabeled' keeps y None.
    Exact: the values are 0 and 1."""
    plain, coded = TFD("test"), TFD("test", one_hot=True)
    assert coded.y.shape == (plain.y.shape[0], 7) and coded.y.dtype == np.float32
    np.testing.assert_array_equal(coded.y.argmax(axis=1), plain.y[:, 0])
    np.testing.assert_array_equal(coded.y.sum(axis=1), 1.0)
    assert TFD("unlabeled", one_hot=True).y is None


# --- scaling and shuffling ------------------------------------------------------------------------

def test_scale_and_center_arithmetic(small_tfd):
    """scale divides by 255, center subtracts 127.5, both give (x - 127.5) / 127.5, in float32,
    reaching [0, 1] and [-1, 1] exactly. Exact: the expected values repeat the same float32
    operations."""
    raw = floats(small_tfd, np.arange(N_UNLABELED))
    scaled = TFD("unlabeled", scale=True).X
    np.testing.assert_array_equal(scaled, raw / np.float32(255))
    assert (scaled.min(), scaled.max(), scaled.dtype) == (0.0, 1.0, np.float32)
    np.testing.assert_array_equal(TFD("unlabeled", center=True).X, raw - np.float32(127.5))
    both = TFD("unlabeled", center=True, scale=True).X
    np.testing.assert_array_equal(both, (raw - np.float32(127.5)) / np.float32(127.5))
    assert (both.min(), both.max(), both.dtype) == (-1.0, 1.0, np.float32)


def test_shuffle_uses_the_seed_or_the_given_rng(small_tfd):
    """shuffle permutes X, y and y_identity together with RandomState(132987) by default,
    RandomState(5) for rng=5 or a given RandomState(5), and RandomState(42) for seed=None
    (make_np_rng's fallback). Exact: the same permutations."""
    plain = TFD("train")
    order = np.random.RandomState(132987).permutation(plain.get_num_examples())
    shuffled = TFD("train", shuffle=True)
    np.testing.assert_array_equal(shuffled.X, plain.X[order])
    np.testing.assert_array_equal(shuffled.y, plain.y[order])
    np.testing.assert_array_equal(shuffled.y_identity, plain.y_identity[order])
    order = np.random.RandomState(5).permutation(plain.get_num_examples())
    np.testing.assert_array_equal(TFD("train", shuffle=True, rng=5).X, plain.X[order])
    np.testing.assert_array_equal(
        TFD("train", shuffle=True, rng=np.random.RandomState(5)).X, plain.X[order])
    order = np.random.RandomState(42).permutation(plain.get_num_examples())
    np.testing.assert_array_equal(TFD("train", shuffle=True, seed=None).X, plain.X[order])


# --- other methods --------------------------------------------------------------------------------

def test_get_test_set_keeps_arguments_and_can_change_fold(small_tfd):
    """get_test_set() keeps fold, scale and axes; get_test_set(fold=4) changes only the fold. Exact:
    the same float32 division by 255."""
    train = TFD("train", fold=2, scale=True, axes=("c", 0, 1, "b"))
    test = train.get_test_set()
    assert (test.which_set, test.fold, test.axes) == ("test", 2, ("c", 0, 1, "b"))
    np.testing.assert_array_equal(test.X, floats(small_tfd, rows_of(small_tfd, "test", 2)) / 255)
    other = train.get_test_set(fold=4)
    assert other.fold == 4
    np.testing.assert_array_equal(other.X, TFD("test", fold=4, scale=True).X)


def test_preprocessor_is_applied_last(small_tfd):
    """The preprocessor is applied once, to the scaled X. Exact: the same float32 values."""
    seen = []

    class Recorder:
        def apply(self, dataset):
            seen.append((dataset.which_set, dataset.X.max()))

    TFD("valid", scale=True, preprocessor=Recorder())
    assert seen == [("valid", TFD("valid", scale=True).X.max())]  # called once, after scaling


def test_axes_and_topological_view(small_tfd):
    """With c01b axes the topological view is 1 x 48 x 48 x N, holding the file's images, and
    get_design_matrix inverts it; axes that are not a permutation of b01c are refused. Exact: the
    views only move values."""
    data = TFD("unlabeled", axes=("c", 0, 1, "b"))
    topo = data.get_topological_view()
    assert topo.shape == (1, 48, 48, N_UNLABELED)
    np.testing.assert_array_equal(topo[0, :, :, 3], small_tfd["images"][3])
    np.testing.assert_array_equal(data.get_design_matrix(topo), data.X)
    with pytest.raises(ValueError, match="permutation"):
        TFD("unlabeled", axes=("b", 0, 1))


def test_viewer_scaling(small_tfd):
    """adjust_for_viewer divides by the largest magnitude and adjust_to_be_viewed_with clips to
    [-1, 1]. Exact: the peak divided by itself is 1 and clipping gives the bounds."""
    data = TFD("unlabeled", center=True)
    assert np.abs(data.adjust_for_viewer(data.X)).max() == 1.0
    clipped = data.adjust_to_be_viewed_with(2 * data.X, data.X)
    assert clipped.min() == -1.0 and clipped.max() == 1.0


def test_96_pixel_file(tmp_path, monkeypatch):
    """image_size=96 reads TFD_96x96.mat (96 x 96 images, 9,216 columns); with only that file, the
    default size fails naming TFD_48x48.mat. Exact: shapes, integer pixels and message."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    tfd.clear_cache()
    arrays = make_tfd_arrays(image_size=96)
    write_mat(tmp_path, arrays, "TFD_96x96.mat")
    data = TFD("test", image_size=96)
    rows = rows_of(arrays, "test")
    assert data.X.shape == (len(rows), 96 * 96)
    np.testing.assert_array_equal(data.X, floats(arrays, rows))
    assert data.get_topological_view().shape == (len(rows), 96, 96, 1)
    with pytest.raises(DatasetError, match="TFD_48x48.mat"):
        TFD("test")  # only the 96 file exists
    tfd.clear_cache()


def test_file_read_once_and_cache_is_read_only(small_tfd, tmp_path, monkeypatch):
    """'unlabeled' and 'valid' from one file read it once, each dataset owns its X (zeroing one
    leaves the next at 255), and the cached arrays are read-only. Exact: counts and values."""
    reads = []
    real_read = tfd.read_mat
    monkeypatch.setattr(tfd, "read_mat", lambda path: reads.append(path) or real_read(path))
    train = TFD("unlabeled", scale=True)
    valid = TFD("valid", scale=True)
    assert len(reads) == 1
    train.X[:] = 0  # datasets own their arrays
    assert TFD("unlabeled").X.max() == 255.0 and valid.X.max() > 0
    with pytest.raises(ValueError):
        tfd.load_raw(reads[0], 48)["images"][0, 0, 0] = 1


# --- errors ---------------------------------------------------------------------------------------

def test_argument_errors(small_tfd):
    """An unknown which_set (the message lists the valid ones), fold 5 or -1 and image_size 64 are
    refused. Exact: error type and message."""
    with pytest.raises(ValueError, match="'unlabeled', 'train'"):
        TFD("training")
    with pytest.raises(AssertionError, match="fold"):
        TFD("train", fold=5)
    with pytest.raises(AssertionError, match="fold"):
        TFD("train", fold=-1)
    with pytest.raises(ValueError, match="48 or 96"):
        TFD("train", image_size=64)


def test_missing_file_explains_tfd_is_not_public(tmp_path, monkeypatch):
    """A missing file raises DatasetError naming the path, saying TFD is not publicly distributed
    (ask the University of Toronto) and naming PYLEARN2_DATA_PATH. Exact (substrings): TFD cannot be
    downloaded, so the message is the user's only guide."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    tfd.clear_cache()
    with pytest.raises(DatasetError) as info:
        TFD("unlabeled")
    message = str(info.value)
    assert str(tmp_path / "faces" / "TFD" / "TFD_48x48.mat") in message
    assert "not publicly distributed" in message and "University of Toronto" in message
    assert "PYLEARN2_DATA_PATH" in message


@pytest.mark.parametrize("change, match", [
    (lambda a: a.pop("labs_id"), "missing variable.*labs_id"),
    (lambda a: a.update(images=a["images"][:, :47]), "images have shape"),
    (lambda a: a.update(folds=a["folds"][:, :4]), "folds have shape"),
    (lambda a: a.update(labs_ex=a["labs_ex"][:-1]), "labs_ex has shape"),
    (lambda a: a.update(labs_ex=a["labs_ex"].T), "labs_ex has shape"),
])
def test_malformed_variables_rejected(tmp_path, monkeypatch, change, match):
    """A file without labs_id, with 47 x 48 images, 4 fold columns, one expression label too few or
    the labels as a row raises DatasetError naming the file and the variable. Exact: error type and
    message."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    tfd.clear_cache()
    arrays = make_tfd_arrays()
    change(arrays)
    path = write_mat(tmp_path, arrays)
    with pytest.raises(DatasetError, match=match) as info:
        TFD("train")
    assert str(path) in str(info.value)


def test_empty_split_and_bad_one_hot_labels(tmp_path, monkeypatch):
    """A fold without test rows raises DatasetError; an expression label 0 in the file (class -1) is
    kept in plain y, as Pylearn2 did, but refused with one_hot. Exact: messages and integers."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    tfd.clear_cache()
    arrays = make_tfd_arrays()
    arrays["folds"][arrays["folds"] == 3] = 2  # no test rows at all
    arrays["labs_ex"][N_UNLABELED + 1] = 0     # a valid row (code 2), outside 1..7
    write_mat(tmp_path, arrays)
    with pytest.raises(DatasetError, match="no 'test' examples in fold 0"):
        TFD("test")
    assert TFD("valid").y.min() == -1  # kept as Pylearn2 did ...
    with pytest.raises(DatasetError, match="outside 0..6"):
        TFD("valid", one_hot=True)  # ... but refused where it would pick a wrong column


def test_corrupt_file_rejected(tmp_path, monkeypatch):
    """A file with a MATLAB header and garbage after it raises DatasetError 'cannot read TFD file'.
    Exact: error type and message."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    tfd.clear_cache()
    folder = tmp_path / "faces" / "TFD"
    folder.mkdir(parents=True)
    (folder / "TFD_48x48.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\xff" * 200)
    with pytest.raises(DatasetError, match="cannot read TFD file"):
        TFD("train")


def _v73_header():
    # What scipy looks at: a 128-byte MATLAB header whose version bytes say 0x0200 (v7.3).
    return b"MATLAB 7.3 MAT-file".ljust(116, b" ") + b"\0" * 8 + b"\x00\x02IM"


def test_v73_file_without_h5py_says_what_to_do(tmp_path, monkeypatch):
    """A MATLAB v7.3 file without h5py installed raises DatasetError saying it is v7.3 and to pip
    install h5py. Exact: the message is the user's only guide."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    tfd.clear_cache()
    monkeypatch.setattr(tfd, "_import_h5py", lambda: None)
    folder = tmp_path / "faces" / "TFD"
    folder.mkdir(parents=True)
    (folder / "TFD_48x48.mat").write_bytes(_v73_header() + b"\0" * 64)
    with pytest.raises(DatasetError, match="v7.3.*pip install h5py"):
        TFD("train")


def test_v73_file_read_with_h5py_axes_reversed(tmp_path, monkeypatch):
    """h5py sees MATLAB arrays with their axes reversed; the reader transposes them back. Exact:
    integer labels and integer pixels (float32 holds them exactly); a transpose does no
    arithmetic."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    tfd.clear_cache()
    arrays = make_tfd_arrays()
    on_disk = {name: np.ascontiguousarray(array.T) for name, array in arrays.items()}

    class FakeFile(dict):
        def __init__(self, path, mode):
            assert mode == "r"
            super().__init__(on_disk)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(tfd, "_import_h5py", lambda: types.SimpleNamespace(File=FakeFile))
    folder = tmp_path / "faces" / "TFD"
    folder.mkdir(parents=True)
    (folder / "TFD_48x48.mat").write_bytes(_v73_header() + b"\0" * 64)
    data = TFD("valid")
    rows = rows_of(arrays, "valid")
    np.testing.assert_array_equal(data.X, floats(arrays, rows))
    np.testing.assert_array_equal(data.y, arrays["labs_ex"][rows] - 1)
    tfd.clear_cache()
