"""IDX reading/writing, the data path and Pylearn2's MNIST semantics, on small generated files."""
import gzip
import os
import re

import numpy as np
import pytest

from gan2014.datasets import DatasetError, MNIST, data_path
from gan2014.datasets import mnist
from gan2014.datasets.data_path import how_to_get_mnist
from gan2014.datasets.idx import IMAGE_MAGIC, LABEL_MAGIC, encode_idx, find_idx, read_idx, write_idx
from idx_fixtures import write_small_mnist

N_TRAIN, N_TEST = 6, 4


@pytest.fixture
def small_mnist(tmp_path, monkeypatch):
    """A 6-image train set and 4-image test set under a temporary PYLEARN2_DATA_PATH."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(mnist, "EXPECTED_EXAMPLES", {"train": N_TRAIN, "test": N_TEST})
    mnist.clear_cache()
    yield write_small_mnist(tmp_path, N_TRAIN, N_TEST)
    mnist.clear_cache()


# --- IDX ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5,), (3, 28, 28), (2, 3, 4, 5)])
def test_idx_round_trip(tmp_path, shape):
    """write_idx then read_idx gives back the same uint8 array and shape, for 1, 3 (MNIST images)
    and 4 dimensions. Exact: uint8 bytes."""
    array = np.arange(np.prod(shape), dtype=np.int64).astype(np.uint8).reshape(shape)
    path = write_idx(str(tmp_path / "a-idx"), array)
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.shape == shape
    np.testing.assert_array_equal(back, array)


def test_idx_header_layout():
    """The header is the big-endian magic 0x00000803 (2051 for images, 2049 for labels) then one
    uint32 per dimension, followed by the values. Exact: the bytes of a file format."""
    data = encode_idx(np.zeros((2, 28, 28), np.uint8))
    assert data[:16] == bytes.fromhex("00000803 00000002 0000001c 0000001c")
    assert len(data) == 16 + 2 * 784
    assert encode_idx(np.zeros(3, np.uint8))[:4] == (2049).to_bytes(4, "big")


def test_idx_writer_rejects_other_dtypes():
    """The writer refuses a non-uint8 array (int64) with a TypeError naming uint8. Exact: error type
    and message."""
    with pytest.raises(TypeError, match="uint8"):
        encode_idx(np.zeros(3, np.int64))


def test_idx_gz_round_trip(tmp_path):
    """A .gz path is really gzip-compressed (it decompresses to the plain IDX bytes) and reads back.
    Exact: bytes."""
    array = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    path = write_idx(str(tmp_path / "b-idx.gz"), array)
    with gzip.open(path, "rb") as handle:  # really gzip-compressed
        assert handle.read() == encode_idx(array)
    np.testing.assert_array_equal(read_idx(path), array)


def test_find_idx_prefers_uncompressed_then_gz(tmp_path):
    """find_idx returns the .gz file while it is alone and the uncompressed file once it exists.
    Exact: paths and values."""
    base = str(tmp_path / "c-idx")
    write_idx(base + ".gz", np.array([1, 2], np.uint8))
    assert find_idx(base) == base + ".gz"
    write_idx(base, np.array([7], np.uint8))
    assert find_idx(base) == base
    np.testing.assert_array_equal(read_idx(find_idx(base)), [7])


def test_missing_file_names_both_candidates(tmp_path):
    """With neither file present, find_idx raises DatasetError naming both names and ending with the
    hint. Exact (substrings): the message is the user's only guide."""
    base = str(tmp_path / "nothing-idx")
    with pytest.raises(DatasetError) as info:
        find_idx(base, hint="Set SOMETHING.")
    assert base in str(info.value) and base + ".gz" in str(info.value)
    assert "Set SOMETHING." in str(info.value)


def test_bad_magic_names_file_and_numbers(tmp_path):
    """Reading a labels file as images fails naming the file, the magic found (2049) and the one
    expected (2051). Exact (substrings): the message is the user's only guide."""
    path = write_idx(str(tmp_path / "labels-idx"), np.zeros(4, np.uint8))
    with pytest.raises(DatasetError) as info:
        read_idx(path, IMAGE_MAGIC)
    message = str(info.value)
    assert path in message and str(LABEL_MAGIC) in message and str(IMAGE_MAGIC) in message


def test_non_ubyte_header_rejected(tmp_path):
    """A header with another type code (0x0d, float) is refused as not unsigned-byte. Exact: error
    type and message."""
    path = tmp_path / "float-idx"
    path.write_bytes(bytes.fromhex("00000d01 00000001") + b"\0\0\0\0")  # type 0x0d = float
    with pytest.raises(DatasetError, match="unsigned-byte"):
        read_idx(str(path))


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file_reports_expected_and_actual_size(tmp_path, gz):
    """A file 10 bytes short, plain or gzipped, raises DatasetError naming the file, the expected
    size (16 + 3 x 784 bytes), the actual size and 'truncated'. Exact (substrings): integers, and
    the message is the user's only guide."""
    data = encode_idx(np.zeros((3, 28, 28), np.uint8))[:-10]
    path = str(tmp_path / ("t-idx" + (".gz" if gz else "")))
    with (gzip.open(path, "wb") if gz else open(path, "wb")) as handle:
        handle.write(data)
    with pytest.raises(DatasetError) as info:
        read_idx(path, IMAGE_MAGIC)
    message = str(info.value)
    assert path in message and str(16 + 3 * 784) in message and str(len(data)) in message
    assert "truncated" in message


def test_trailing_bytes_rejected(tmp_path):
    """A file one byte longer than its header says is refused as trailing data. Exact: error type
    and message."""
    path = tmp_path / "long-idx"
    path.write_bytes(encode_idx(np.zeros(4, np.uint8)) + b"x")
    with pytest.raises(DatasetError, match="trailing"):
        read_idx(str(path))


def test_truncated_header_and_cut_gzip_stream(tmp_path):
    """A header shorter than its dimensions need, and a gzip stream cut after 30 bytes, raise
    DatasetError (the latter naming the file). Exact: error type and message."""
    short = tmp_path / "short-idx"
    short.write_bytes(bytes.fromhex("00000803 00000001"))
    with pytest.raises(DatasetError, match="header"):
        read_idx(str(short))
    cut = tmp_path / "cut-idx.gz"
    cut.write_bytes(gzip.compress(encode_idx(np.zeros(1000, np.uint8)))[:30])
    with pytest.raises(DatasetError, match=re.escape(str(cut))):
        read_idx(str(cut))


# --- data path ------------------------------------------------------------------------------------

def test_data_path_uses_variable_else_cwd_data(tmp_path, monkeypatch):
    """data_path is $PYLEARN2_DATA_PATH when set, else ./data under the working directory (an empty
    value counts as unset; a relative one is resolved there), and how_to_get_mnist says which.
    Exact: paths and messages."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path / "elsewhere"))
    assert data_path() == str(tmp_path / "elsewhere")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYLEARN2_DATA_PATH")
    assert data_path() == str(tmp_path / "data")
    assert data_path({"PYLEARN2_DATA_PATH": ""}) == str(tmp_path / "data")
    assert data_path({"PYLEARN2_DATA_PATH": "rel"}) == str(tmp_path / "rel")
    assert "is not set, so ./data" in how_to_get_mnist({})
    assert "is set to '/x'" in how_to_get_mnist({"PYLEARN2_DATA_PATH": "/x"})


def test_missing_mnist_says_which_variable_to_set(tmp_path, monkeypatch):
    """A missing MNIST file raises DatasetError naming the file, PYLEARN2_DATA_PATH and the fetch
    command. Exact (substrings): the message is the user's only guide."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    mnist.clear_cache()
    with pytest.raises(DatasetError) as info:
        MNIST("train")
    message = str(info.value)
    assert "PYLEARN2_DATA_PATH" in message and "gan2014.datasets.fetch mnist" in message
    assert str(tmp_path / "mnist" / "train-images-idx3-ubyte") in message


# --- MNIST ----------------------------------------------------------------------------------------

def test_pixels_are_uint8_over_255_in_float32(small_mnist):
    """X is the file's uint8 / 255 in float32 (255 gives exactly 1.0), C-contiguous and writeable; y
    the N x 1 uint8 labels. Exact: pixel values are multiples of 1/255 from the same float32
    division, compared bit for bit."""
    data = MNIST("train")
    images = small_mnist["train-images-idx3-ubyte"]
    assert data.X.shape == (N_TRAIN, 784) and data.X.dtype == np.float32
    assert data.X.flags.c_contiguous and data.X.flags.writeable
    expected = images.reshape(N_TRAIN, 784).astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(data.X, expected)
    assert data.X.max() == 1.0 and data.X[images.reshape(N_TRAIN, 784) == 255].min() == 1.0
    assert data.X.min() == 0.0
    assert data.y.shape == (N_TRAIN, 1) and data.y.dtype == np.uint8
    np.testing.assert_array_equal(data.y[:, 0], small_mnist["train-labels-idx1-ubyte"])
    assert data.get_design_matrix() is data.X
    assert data.get_num_examples() == N_TRAIN
    assert (data.which_set, data.start, data.stop) == ("train", None, None)


def test_start_stop_slice(small_mnist):
    """start=2, stop=5 gives rows 2, 3 and 4 of the full set, X and y, and keeps start and stop.
    Exact: the same values."""
    full = MNIST("train")
    part = MNIST("train", start=2, stop=5)
    np.testing.assert_array_equal(part.X, full.X[2:5])
    np.testing.assert_array_equal(part.y, full.y[2:5])
    assert (part.start, part.stop, part.get_num_examples()) == (2, 5, 3)


@pytest.mark.parametrize("start, stop, error", [
    (0, N_TRAIN + 1, ValueError),   # stop > N
    (-1, 3, AssertionError),        # start < 0
    (3, 3, AssertionError),         # stop must exceed start
    (2, None, AssertionError),      # start without stop
    (None, 3, ValueError),          # stop without start (Pylearn2 ignored it silently)
])
def test_bad_slices_rejected(small_mnist, start, stop, error):
    """Pylearn2's slice checks, in its order: stop beyond N (ValueError), a negative start, stop not
    above start, start without stop (AssertionError), and stop without start (ValueError, where
    Pylearn2 ignored it). Exact: the error type."""
    with pytest.raises(error):
        MNIST("train", start=start, stop=stop)


@pytest.mark.parametrize("arguments, message", [
    (dict(center="no"), r"MNIST: center must be true, false, 0 or 1, got 'no'"),   # was centred
    (dict(start=0, stop=10.5), r"MNIST: stop must be a whole number, got 10\.5"),   # TypeError
    (dict(start="0", stop=3), r"MNIST: start must be a whole number, got '0'")])
def test_a_quoted_flag_or_a_slice_bound_that_is_not_a_whole_number_is_refused(small_mnist,
                                                                               arguments, message):
    """Python reads any non-empty text as true, so Pylearn2 centred MNIST for center: 'no'."""
    with pytest.raises(ValueError, match=message):
        MNIST("train", **arguments)


def test_which_set_values(small_mnist):
    """'valid' is refused saying MNIST has no validation set and an unknown name as unrecognized;
    'test' reads the t10k files. Exact: messages and labels."""
    with pytest.raises(ValueError, match="no validation set"):
        MNIST("valid")
    with pytest.raises(ValueError, match="Unrecognized"):
        MNIST("training")
    test = MNIST("test")
    assert test.X.shape == (N_TEST, 784)
    np.testing.assert_array_equal(test.y[:, 0], small_mnist["t10k-labels-idx1-ubyte"])


def test_get_test_set_clears_slice_and_keeps_arguments(small_mnist):
    """get_test_set() drops start and stop and keeps binarize (values 0 and 1 only) and the axes.
    Exact: the values are 0 or 1."""
    test = MNIST("train", start=1, stop=3, binarize=True, axes=("c", 0, 1, "b")).get_test_set()
    assert (test.which_set, test.start, test.stop) == ("test", None, None)
    assert test.X.shape == (N_TEST, 784)
    assert set(np.unique(test.X)) <= {0.0, 1.0}
    assert test.axes == ("c", 0, 1, "b")


def test_test_set_is_fitted_with_fit_test_preprocessor(small_mnist):
    """The preprocessor gets can_fit = fit_preprocessor (True) on train and fit_test_preprocessor
    (False) on get_test_set()'s test set; MNIST('test') with the two flags different is refused.
    Exact: the recorded calls and the error type."""
    calls = []

    class Recorder:
        def apply(self, dataset, can_fit=False):
            calls.append((dataset.which_set, can_fit))

    train = MNIST("train", preprocessor=Recorder(), fit_preprocessor=True,
                  fit_test_preprocessor=False)
    train.get_test_set()
    assert calls == [("train", True), ("test", False)]
    with pytest.raises(AssertionError):
        MNIST("test", fit_preprocessor=True, fit_test_preprocessor=False)


def test_binarize_center_shuffle_follow_pylearn2(small_mnist):
    """binarize is pixel > 0.5; center subtracts the float32 mean of the whole set, then slices;
    shuffle swaps row i with a row drawn from RandomState([1, 2, 3]) for each i in turn, labels
    alongside. Exact: the expected values repeat the same float32 operations and draws."""
    images = small_mnist["train-images-idx3-ubyte"].reshape(N_TRAIN, 784)
    labels = small_mnist["train-labels-idx1-ubyte"]
    floats = images.astype(np.float32) / np.float32(255)

    binary = MNIST("train", binarize=True).X
    np.testing.assert_array_equal(binary, (floats > 0.5).astype(np.float32))

    # Centring subtracts the float32 mean of the *whole* set, then slices.
    centred = MNIST("train", center=True, start=1, stop=4).X
    np.testing.assert_array_equal(centred, (floats - floats.mean(axis=0))[1:4])

    # Shuffling swaps row i with a row j drawn from RandomState([1, 2, 3]), for each i in turn.
    rng, order = np.random.RandomState([1, 2, 3]), np.arange(N_TRAIN)
    for i in range(N_TRAIN):
        j = rng.randint(N_TRAIN)
        order[i], order[j] = order[j], order[i]
    shuffled = MNIST("train", shuffle=True)
    np.testing.assert_array_equal(shuffled.X, floats[order])
    np.testing.assert_array_equal(shuffled.y[:, 0], labels[order])


def test_one_hot_only_warns(small_mnist):
    """one_hot only warns (UserWarning naming it) and y stays the N x 1 column. Exact: the warning
    and the shape."""
    with pytest.warns(UserWarning, match="one_hot"):
        data = MNIST("train", one_hot=True)
    assert data.y.shape == (N_TRAIN, 1)


def test_axes_and_topological_view(small_mnist):
    """With c01b axes the topological view is 1 x 28 x 28 x N, each image row-major, and
    get_design_matrix inverts it; axes that are not a permutation of b01c are refused. Exact: the
    views only move values."""
    data = MNIST("train", axes=("c", 0, 1, "b"))
    topo = data.get_topological_view()
    assert topo.shape == (1, 28, 28, N_TRAIN)
    np.testing.assert_array_equal(topo[0, :, :, 2], data.X[2].reshape(28, 28))
    np.testing.assert_array_equal(data.get_design_matrix(topo), data.X)
    with pytest.raises(ValueError, match="permutation"):
        MNIST("train", axes=("b", 0, 1))


def test_wrong_image_size_or_count_rejected(small_mnist, tmp_path):
    """Files with 27 x 28 images, one image too many or one label too few raise DatasetError saying
    what was expected. Exact: error type and message."""
    folder = tmp_path / "mnist"
    write_idx(str(folder / "t10k-images-idx3-ubyte"), np.zeros((N_TEST, 27, 28), np.uint8))
    with pytest.raises(DatasetError, match="28x28"):
        MNIST("test")
    write_idx(str(folder / "t10k-images-idx3-ubyte"), np.zeros((N_TEST + 1, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match="expected %d images" % N_TEST):
        MNIST("test")
    write_idx(str(folder / "t10k-images-idx3-ubyte"), np.zeros((N_TEST, 28, 28), np.uint8))
    write_idx(str(folder / "t10k-labels-idx1-ubyte"), np.zeros(N_TEST - 1, np.uint8))
    with pytest.raises(DatasetError, match="labels"):
        MNIST("test")


def test_gz_files_are_read_when_uncompressed_are_absent(tmp_path, monkeypatch):
    """With only the .gz files present, MNIST reads them: the same float32 uint8 / 255 pixels.
    Exact: the same float32 division, compared bit for bit."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(mnist, "EXPECTED_EXAMPLES", {"train": N_TRAIN, "test": N_TEST})
    mnist.clear_cache()
    arrays = write_small_mnist(tmp_path, N_TRAIN, N_TEST, gz=True)
    data = MNIST("test")
    images = arrays["t10k-images-idx3-ubyte"].reshape(N_TEST, 784)
    np.testing.assert_array_equal(data.X, images.astype(np.float32) / np.float32(255))
    mnist.clear_cache()


def test_file_read_once_for_two_datasets_and_again_after_change(small_mnist, tmp_path, monkeypatch):
    """Two slices of the train set read each file once (2 reads), each dataset owns its X (zeroing
    one changes neither the other nor the cache), and a rewritten file is read again (3 reads, its
    new labels). Exact: counts and values."""
    reads = []
    real_read = mnist.read_idx
    def counting_read(path, magic):
        reads.append(path)
        return real_read(path, magic)

    monkeypatch.setattr(mnist, "read_idx", counting_read)
    train = MNIST("train", start=0, stop=4)
    valid = MNIST("train", start=4, stop=6)
    assert len(reads) == 2  # images + labels, once
    train.X[:] = 0  # datasets own their arrays: the cache and the other set are unaffected
    assert valid.X.max() > 0 and MNIST("train").X.max() == 1.0
    path = str(tmp_path / "mnist" / "train-labels-idx1-ubyte")
    write_idx(path, np.full(N_TRAIN, 3, np.uint8))
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse-grained file systems
    assert (MNIST("train").y == 3).all()
    assert len(reads) == 3
