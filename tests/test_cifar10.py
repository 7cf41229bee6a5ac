"""Pylearn2's CIFAR10 and global_contrast_normalize, and the CIFAR-10 fetch command, on tiny files.

No network and no real CIFAR-10: batches are written in the real format (Python 2 protocol-2
pickles of dicts) with 4 images each, and the fetch command is given small fake archives.
"""
import io
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import types
import urllib.error

import numpy as np
import pytest

from gan2014.datasets import DatasetError
from gan2014.datasets import cifar10, fetch_cifar10
from gan2014.datasets.cifar10 import CIFAR10, BatchUnpickler
from gan2014.datasets.fetch import md5_file
from gan2014.datasets.preprocessing import global_contrast_normalize
from idx_fixtures import py2_pickle

PER_BATCH = 4
N_TRAIN, N_TEST = 5 * PER_BATCH, PER_BATCH
BATCH_NAMES = ["data_batch_%d" % i for i in range(1, 6)] + ["test_batch"]


# --- writing batches as Python 2's cPickle did ----------------------------------------------------

def py2_batch_pickle(batch):
    """A protocol-2 pickle of a dict of str, int lists and uint8 arrays, as Python 2 wrote it.

    Python 2 strings are BINSTRING opcodes, which Python 3 decodes with the given encoding; arrays
    reuse ``idx_fixtures.py2_pickle`` (stripped of its protocol header and STOP).
    """
    return b"\x80\x02" + _py2(batch) + b"."


def _py2(obj):
    if isinstance(obj, dict):
        return b"}(" + b"".join(_py2(key) + _py2(value) for key, value in obj.items()) + b"u"
    if isinstance(obj, list):
        return b"](" + b"".join(_py2(item) for item in obj) + b"e"
    if isinstance(obj, str):
        data = obj.encode("latin1")
        return b"T" + struct.pack("<i", len(data)) + data
    if isinstance(obj, int):
        return b"J" + struct.pack("<i", obj)
    if isinstance(obj, np.ndarray):
        return py2_pickle(obj)[2:-1]
    raise TypeError(type(obj))


def make_batches(seed=0):
    """Batch name -> (uint8 data PER_BATCH x 3072, int labels); one constant image for GCN."""
    rng = np.random.RandomState(seed)
    batches = {}
    for name in BATCH_NAMES:
        data = rng.randint(0, 256, size=(PER_BATCH, 3072)).astype(np.uint8)
        batches[name] = (data, rng.randint(0, 10, size=PER_BATCH))
    batches["data_batch_2"][0][0] = 7  # a constant image: GCN must leave it at zero, not divide
    batches["data_batch_1"][0][0, :2] = (0, 255)
    return batches


def batch_dict(name, data, labels):
    return {"batch_label": "fake " + name, "labels": [int(v) for v in labels], "data": data,
            "filenames": ["img_%d.png" % i for i in range(len(labels))]}


def write_batches(folder, batches, dump=py2_batch_pickle):
    folder.mkdir(parents=True, exist_ok=True)
    for name, (data, labels) in batches.items():
        (folder / name).write_bytes(dump(batch_dict(name, data, labels)))


@pytest.fixture
def small_cifar(tmp_path, monkeypatch):
    """Six 4-image batches under a temporary PYLEARN2_DATA_PATH; yields (train, test) arrays."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(cifar10, "EXAMPLES_PER_BATCH", PER_BATCH)
    cifar10.clear_cache()
    batches = make_batches()
    write_batches(tmp_path / "cifar10" / "cifar-10-batches-py", batches)
    train = tuple(np.concatenate([batches[n][i] for n in BATCH_NAMES[:5]]) for i in (0, 1))
    yield types.SimpleNamespace(train=train, test=batches["test_batch"], root=tmp_path)
    cifar10.clear_cache()


# --- values ---------------------------------------------------------------------------------------

def test_raw_values_planar_and_labels(small_cifar):
    """'train' is the five batches in order and 'test' is test_batch: X float32 in raw 0..255 (no
    division by 255) in the files' planar column order, y the N x 1 uint8 labels. Exact: uint8
    values are integers, which float32 holds exactly."""
    data = CIFAR10("train")
    images, labels = small_cifar.train
    assert data.X.shape == (N_TRAIN, 3072) and data.X.dtype == np.float32
    np.testing.assert_array_equal(data.X, images.astype(np.float32))  # 0..255, no /255
    assert data.X.max() == 255.0 and data.X.min() == 0.0
    assert data.y.shape == (N_TRAIN, 1) and data.y.dtype == np.uint8
    np.testing.assert_array_equal(data.y[:, 0], labels)
    test = CIFAR10("test")
    np.testing.assert_array_equal(test.X, small_cifar.test[0].astype(np.float32))
    np.testing.assert_array_equal(test.y[:, 0], small_cifar.test[1])
    assert test.y.dtype == np.uint8 and test.get_num_examples() == N_TEST


def test_topological_view_is_channel_planar(small_cifar):
    """The topological view reads column c * 1024 + 32 * i + j as pixel (i, j) of channel c, for the
    default b01c axes and for c01b, and get_design_matrix inverts it. Exact: the views only move
    values."""
    data = CIFAR10("train")
    topo = data.get_topological_view()
    assert topo.shape == (N_TRAIN, 32, 32, 3)
    # Column c * 1024 + 32 * i + j is pixel (i, j) of channel c.
    assert topo[2, 5, 7, 1] == data.X[2, 1 * 1024 + 32 * 5 + 7]
    np.testing.assert_array_equal(topo[:, :, :, 2], data.X[:, 2048:].reshape(-1, 32, 32))
    np.testing.assert_array_equal(data.get_design_matrix(topo), data.X)
    c01b = CIFAR10("train", axes=["c", 0, 1, "b"])
    assert c01b.axes == ("c", 0, 1, "b")
    np.testing.assert_array_equal(c01b.get_topological_view(), topo.transpose(3, 1, 2, 0))
    np.testing.assert_array_equal(c01b.get_design_matrix(c01b.get_topological_view()), data.X)


def test_center_and_rescale_are_independent(small_cifar):
    """center subtracts 127.5, rescale divides by 127.5, and both do one then the other, in float32.
    Exact: the expected values repeat the same float32 operations in the same order."""
    raw = small_cifar.train[0].astype(np.float32)
    np.testing.assert_array_equal(CIFAR10("train", center=True).X, raw - np.float32(127.5))
    np.testing.assert_array_equal(CIFAR10("train", rescale=True).X, raw / np.float32(127.5))
    both = CIFAR10("train", center=True, rescale=True).X
    np.testing.assert_array_equal(both, (raw - np.float32(127.5)) / np.float32(127.5))


def test_gcn_55_gives_zero_mean_and_norm_55(small_cifar):
    """gcn=55. leaves the constant image at 0 (norm below min_divisor: divided by 1) and gives the
    other rows mean 0 (1e-5 absolute), norm 55 (1e-5 relative) and the float64 formula's values
    (1e-5 relative and absolute): the output is float32, rounded at 6e-8 per operation over sums
    of 3072 terms, while a wrong centring or scale is off by far more."""
    data = CIFAR10("train", gcn=55.)
    X = data.X
    assert X.dtype == np.float32
    constant = PER_BATCH  # first image of data_batch_2
    np.testing.assert_array_equal(X[constant], 0.0)  # norm 0 < min_divisor: divided by 1, not 0
    others = np.delete(X, constant, axis=0).astype(np.float64)
    np.testing.assert_allclose(others.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.sqrt((others ** 2).sum(axis=1)), 55.0, rtol=1e-5)
    # The same as the float64 formula, to float32 precision.
    raw = np.delete(small_cifar.train[0], constant, axis=0).astype(np.float64)
    centred = raw - raw.mean(axis=1, keepdims=True)
    expected = centred / (np.sqrt((centred ** 2).sum(axis=1, keepdims=True)) / 55.0)
    np.testing.assert_allclose(others, expected, rtol=1e-5, atol=1e-5)


def test_gcn_after_slice_equals_pylearn2_gcn_before_slice(small_cifar):
    """gcn on rows 3:17 equals Pylearn2's global_contrast_normalize of the whole train set, then
    sliced, labels included. Exact (bit for bit): GCN works row by row, so each row gets the same
    float32 operations either way."""
    full = global_contrast_normalize(small_cifar.train[0].astype(np.float32), scale=55.)
    part = CIFAR10("train", gcn=55., start=3, stop=17)
    np.testing.assert_array_equal(part.X, full[3:17])  # bit for bit
    np.testing.assert_array_equal(part.y[:, 0], small_cifar.train[1][3:17])


def test_toronto_prepro_uses_the_training_pixel_means(small_cifar):
    """toronto_prepro divides by 255 and subtracts the per-pixel mean of the whole training set,
    before any slice and for the test set too; it is refused with center or gcn. Exact: the expected
    values repeat the same float32 operations; errors by type and message."""
    train = small_cifar.train[0].astype(np.float32) / np.float32(255)
    means = train.mean(axis=0)
    np.testing.assert_array_equal(CIFAR10("train", toronto_prepro=True).X, train - means)
    np.testing.assert_array_equal(CIFAR10("train", toronto_prepro=True, start=2, stop=5).X,
                                  (train - means)[2:5])  # the mean of all rows, then the slice
    test = small_cifar.test[0].astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(CIFAR10("test", toronto_prepro=True).X, test - means)
    with pytest.raises(AssertionError, match="center"):
        CIFAR10("train", toronto_prepro=True, center=True)
    with pytest.raises(AssertionError, match="gcn"):
        CIFAR10("train", toronto_prepro=True, gcn=55.)
    with pytest.raises(ValueError, match=r"CIFAR10: gcn must be a number, got '55e0' \(text"):
        CIFAR10("train", gcn="55e0")


def test_one_hot(small_cifar):
    """one_hot gives N x 10 float32 rows with a single 1 at the label. Exact: the values are
    0 and 1."""
    data = CIFAR10("test", one_hot=True)
    assert data.y.shape == (N_TEST, 10) and data.y.dtype == np.float32
    np.testing.assert_array_equal(data.y.argmax(axis=1), small_cifar.test[1])
    np.testing.assert_array_equal(data.y.sum(axis=1), 1.0)


# --- global_contrast_normalize itself ------------------------------------------------------------

def test_gcn_options_and_min_divisor():
    """global_contrast_normalize leaves its input alone and rows of norm below min_divisor centred
    but undivided, follows the formula for scale, use_std, sqrt_bias, subtract_mean=False and one
    feature (no nan), keeps float32, refuses bad input. Exact where nothing is divided and for
    errors; else assert_allclose's 1e-7 relative (float64: the formula up to rounding)."""
    X = np.array([[1., 2., 3., 6.], [5., 5., 5., 5.], [0., 1e-12, 0., 0.]])
    before = X.copy()
    out = global_contrast_normalize(X)
    np.testing.assert_array_equal(X, before)  # the input is not modified
    np.testing.assert_allclose(np.linalg.norm(out[0]), 1.0)
    np.testing.assert_array_equal(out[1], 0.0)
    # Row 2's norm is about 9e-13 < 1e-8, so it is centred but not divided.
    np.testing.assert_array_equal(out[2], X[2] - X[2].mean())
    std = global_contrast_normalize(X[:1], scale=2., use_std=True, sqrt_bias=10.)
    centred = X[0] - X[0].mean()
    np.testing.assert_allclose(std[0], centred / (np.sqrt(10. + centred.var(ddof=1)) / 2.))
    np.testing.assert_allclose(global_contrast_normalize(X[:1], subtract_mean=False)[0],
                               X[0] / np.linalg.norm(X[0]))
    # One feature: ddof falls back to 0 instead of producing nan.
    single = global_contrast_normalize(np.array([[3.], [4.]]), use_std=True, subtract_mean=False)
    np.testing.assert_array_equal(single, [[3.], [4.]])
    assert global_contrast_normalize(X.astype(np.float32), 55.).dtype == np.float32
    with pytest.raises(AssertionError, match="2-D"):
        global_contrast_normalize(np.zeros(3))
    with pytest.raises(AssertionError, match="min_divisor"):
        global_contrast_normalize(X, scale=0.)


# --- slices and arguments -------------------------------------------------------------------------

@pytest.mark.parametrize("start, stop, error", [
    (-1, 3, AssertionError),        # start < 0
    (3, 3, AssertionError),         # stop must exceed start
    (2, None, AssertionError),      # start without stop
    (0, N_TRAIN + 1, AssertionError),  # stop > N
    (None, 3, ValueError),          # stop without start (Pylearn2 ignored it silently)
])
def test_bad_slices_rejected(small_cifar, start, stop, error):
    """Pylearn2's slice checks: a negative start, stop not above start, start without stop and stop
    beyond N raise AssertionError; stop without start raises ValueError (Pylearn2 ignored it).
    Exact: the error type."""
    with pytest.raises(error):
        CIFAR10("train", start=start, stop=stop)


def test_slices_and_which_set(small_cifar):
    """start:stop selects those rows of the full set (all of it, the last 3, 2 test rows) and is
    kept as attributes; 'valid' is refused saying CIFAR-10 has no validation set. Exact: values,
    integers and message."""
    full = CIFAR10("train")
    part = CIFAR10("train", start=0, stop=N_TRAIN)
    np.testing.assert_array_equal(part.X, full.X)
    tail = CIFAR10("train", start=N_TRAIN - 3, stop=N_TRAIN)
    np.testing.assert_array_equal(tail.X, full.X[-3:])
    assert (tail.start, tail.stop, tail.which_set) == (N_TRAIN - 3, N_TRAIN, "train")
    assert CIFAR10("test", start=1, stop=3).get_num_examples() == 2
    with pytest.raises(ValueError, match="no validation set"):
        CIFAR10("valid")


def test_get_test_set_keeps_preprocessing_not_slice(small_cifar):
    """get_test_set() keeps gcn, center, rescale and axes but not the slice or the preprocessor: its
    X is test_batch centred, rescaled then normalized, and the preprocessor ran once, for train.
    Exact: the same float32 operations in the same order."""
    seen = []

    class Recorder:
        def apply(self, dataset):
            seen.append(dataset.which_set)

    train = CIFAR10("train", gcn=55., center=True, rescale=True, start=0, stop=8,
                    axes=("c", 0, 1, "b"), preprocessor=Recorder())
    test = train.get_test_set()
    assert (test.which_set, test.start, test.stop, test.axes) == ("test", None, None,
                                                                   ("c", 0, 1, "b"))
    assert (test.gcn, test.center, test.rescale) == (55., True, True)
    raw = (small_cifar.test[0].astype(np.float32) - np.float32(127.5)) / np.float32(127.5)
    np.testing.assert_array_equal(test.X, global_contrast_normalize(raw, scale=55.))
    assert seen == ["train"]  # the preprocessor ran once, for train only


def test_viewer_scaling(small_cifar):
    """adjust_for_viewer divides each GCN row by its largest magnitude and maps raw 0..255 to
    [-1, 1] as (x - 127.5) / 127.5; adjust_to_be_viewed_with clips to [-1, 1]. assert_allclose's
    1e-7 relative (float32, one or two operations), exact for the peaks and clipped ends."""
    gcn = CIFAR10("train", gcn=55.)
    rows = np.delete(gcn.X, PER_BATCH, axis=0)
    np.testing.assert_allclose(np.abs(gcn.adjust_for_viewer(rows)).max(axis=1), 1.0)
    assert np.abs(gcn.adjust_to_be_viewed_with(2 * rows, rows)).max() == 1.0
    raw = CIFAR10("train")
    shown = raw.adjust_for_viewer(raw.X)
    np.testing.assert_allclose(shown, (raw.X - 127.5) / 127.5)
    assert shown.min() == -1.0 and shown.max() == 1.0


def test_files_read_once_and_cache_is_read_only(small_cifar, monkeypatch):
    """Two train sets read the five batch files once in all (5 reads), each dataset owns its X
    (zeroing one leaves the next at 255), and cached batch arrays are read-only. Exact: counts and
    values."""
    reads = []
    real = cifar10._unpickle
    monkeypatch.setattr(cifar10, "_unpickle", lambda path: reads.append(path) or real(path))
    train = CIFAR10("train", gcn=55., start=0, stop=16)
    CIFAR10("train", gcn=55., start=16, stop=20)
    assert len(reads) == 5
    train.X[:] = 0
    assert CIFAR10("train").X.max() == 255.0
    data, labels = cifar10.read_batch(reads[0])
    with pytest.raises(ValueError):
        data[0, 0] = 1


# --- file format and safety -----------------------------------------------------------------------

@pytest.mark.parametrize("dump", [lambda obj: pickle.dumps(obj, protocol=2),
                                  lambda obj: pickle.dumps(obj, protocol=4)])
def test_python3_pickles_with_bytes_keys_load_too(tmp_path, monkeypatch, dump):
    """A batch re-pickled by Python 3 with bytes keys loads to the same pixels, with protocol 2
    (bytes rebuilt through _codecs.encode) and protocol 4. Exact: uint8 pixels as float32."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(cifar10, "EXAMPLES_PER_BATCH", PER_BATCH)
    cifar10.clear_cache()
    data, labels = make_batches()["test_batch"]
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    (folder / "test_batch").write_bytes(dump({b"data": data, b"labels": [int(v) for v in labels]}))
    np.testing.assert_array_equal(CIFAR10("test").X, data.astype(np.float32))
    cifar10.clear_cache()


def test_missing_file_says_how_to_get_it(tmp_path, monkeypatch):
    """A missing batch raises DatasetError naming the file, the fetch command and
    PYLEARN2_DATA_PATH. Exact (substrings): the message is the user's only guide."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    cifar10.clear_cache()
    with pytest.raises(DatasetError) as info:
        CIFAR10("test")
    message = str(info.value)
    assert str(tmp_path / "cifar10" / "cifar-10-batches-py" / "test_batch") in message
    assert "python -m gan2014.datasets.fetch cifar10" in message and "PYLEARN2_DATA_PATH" in message


@pytest.mark.parametrize("batch, match", [
    ({"data": np.zeros((PER_BATCH + 1, 3072), np.uint8), "labels": [0] * PER_BATCH},
     "data should be a uint8 array of 4 x 3072"),
    ({"data": np.zeros((PER_BATCH, 3072), np.float32), "labels": [0] * PER_BATCH}, "uint8"),
    ({"data": np.zeros((PER_BATCH, 3072), np.uint8), "labels": [0] * (PER_BATCH - 1)},
     "labels should be 4 integers"),
    ({"data": np.zeros((PER_BATCH, 3072), np.uint8), "labels": [0, 1, 2, 10]}, "outside 0..9"),
    ({"data": np.zeros((PER_BATCH, 3072), np.uint8)}, "no 'labels' entry"),
    ([1, 2], "expected a pickled dict"),
])
def test_malformed_batches_rejected(tmp_path, monkeypatch, batch, match):
    """Too many rows, float data, too few labels, a label of 10, no labels entry or a list instead
    of a dict raise DatasetError naming the file and the problem; so does a pickle cut short. Exact:
    the error type and message, the user's only guide to the bad file."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(cifar10, "EXAMPLES_PER_BATCH", PER_BATCH)
    cifar10.clear_cache()
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    (folder / "test_batch").write_bytes(py2_batch_pickle(batch))
    with pytest.raises(DatasetError, match=match) as info:
        CIFAR10("test")
    assert str(folder / "test_batch") in str(info.value)
    (folder / "test_batch").write_bytes(b"\x80\x02}q\x00")  # cut short
    with pytest.raises(DatasetError, match="cannot read"):
        CIFAR10("test")


class _RunsShell:
    """Pickles to a call of os.system (what a tampered batch could contain)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_restricted_unpickler_refuses_code(tmp_path, monkeypatch):
    """A batch whose pickle calls os.system is refused before it runs (no marker file), as are
    builtins.eval and _codecs.encode with an encoding other than latin1. Exact: error type and
    message, and the marker must not exist."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    cifar10.clear_cache()
    marker = tmp_path / "pwned"
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    evil = pickle.dumps({b"data": _RunsShell("touch %s" % marker), b"labels": []}, protocol=2)
    (folder / "test_batch").write_bytes(evil)
    with pytest.raises(DatasetError, match="refusing to load global .*system"):
        CIFAR10("test")
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match="eval"):
        BatchUnpickler(io.BytesIO(
            b"\x80\x02cbuiltins\neval\nq\x00X\x01\x00\x00\x001q\x01\x85q\x02Rq\x03.")).load()
    # _codecs.encode is allowed only as the latin1 encoder that Python 3 bytes need.
    with pytest.raises(pickle.UnpicklingError, match="_codecs.encode"):
        BatchUnpickler(io.BytesIO(
            b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00zlib\x86R.")).load()


# --- the fetch command ----------------------------------------------------------------------------

def add_member(tar, name, payload=b"", **attributes):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    for key, value in attributes.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(payload) if payload else None)


def write_archive(path, batches=None, extra=(), skip=()):
    """A cifar-10-python.tar.gz look-alike holding ``batches`` plus ``extra`` (name, payload)."""
    batches = make_batches() if batches is None else batches
    with tarfile.open(str(path), "w:gz") as tar:
        add_member(tar, "cifar-10-batches-py", type=tarfile.DIRTYPE, mode=0o755)
        for name, (data, labels) in batches.items():
            if name not in skip:
                add_member(tar, "cifar-10-batches-py/" + name,
                           py2_batch_pickle(batch_dict(name, data, labels)))
        add_member(tar, "cifar-10-batches-py/batches.meta", b"meta")
        add_member(tar, "cifar-10-batches-py/readme.html", b"<html></html>")
        for name, payload in extra:
            add_member(tar, name, payload)
    return str(path)


def fake_md5(path):
    return {fetch_cifar10.ARCHIVE_NAME: md5_file(str(path))}


def no_download(folder, log=print):
    raise AssertionError("must not download")


def quiet(line):
    pass


def test_fetch_extracts_only_known_members(tmp_path, monkeypatch):
    """fetch writes only the archive's eight known files (members escaping with ../ or an absolute
    path, or unknown, are skipped and counted in the log), leaves no download folder, CIFAR10 reads
    the result, and a second run only says the files are present. Exact: listings, lines, values."""
    evil = [("../escaped", b"x"), ("cifar-10-batches-py/../../escaped2", b"x"),
            ("/tmp/absolute-%d" % os.getpid(), b"x"), ("cifar-10-batches-py/extra", b"x")]
    archive = write_archive(tmp_path / "a.tar.gz", extra=evil)
    root = tmp_path / "data"
    lines = []
    folder = fetch_cifar10.fetch_cifar10(str(root), archive=archive, md5_table=fake_md5(archive),
                                         download=no_download, log=lines.append)
    assert folder == str(root / "cifar10" / "cifar-10-batches-py")
    assert sorted(os.listdir(folder)) == sorted(BATCH_NAMES + ["batches.meta", "readme.html"])
    assert os.listdir(root / "cifar10") == ["cifar-10-batches-py"]  # no download folder left
    assert not (tmp_path / "escaped").exists() and not (root / "escaped2").exists()
    assert not os.path.exists("/tmp/absolute-%d" % os.getpid())
    assert "skipped 4 unexpected member(s) of %s" % archive in lines
    # CIFAR10 reads what was unpacked.
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(root))
    monkeypatch.setattr(cifar10, "EXAMPLES_PER_BATCH", PER_BATCH)
    cifar10.clear_cache()
    np.testing.assert_array_equal(CIFAR10("test").X, make_batches()["test_batch"][0])
    cifar10.clear_cache()
    # A second run only notices the files are there.
    lines.clear()
    fetch_cifar10.fetch_cifar10(str(root), md5_table={}, download=no_download, log=lines.append)
    assert lines == ["CIFAR-10 already present in %s (pass --force to unpack it again)" % folder]


def test_md5_mismatch_extracts_nothing(tmp_path):
    """An archive whose md5 is not the published one is refused with both md5s in the message, and
    no batch folder is created. Exact: substrings and file system state."""
    archive = write_archive(tmp_path / "a.tar.gz")
    root = tmp_path / "data"
    with pytest.raises(DatasetError) as info:
        fetch_cifar10.fetch_cifar10(str(root), archive=archive, log=quiet)
    message = str(info.value)
    assert "c58f30108f718f92721af3b95e74349a" in message and md5_file(archive) in message
    assert not (root / "cifar10" / "cifar-10-batches-py").exists()


@pytest.mark.parametrize("extra, skip, match", [
    ((), ("test_batch",), "has no cifar-10-batches-py/test_batch"),
    ((("cifar-10-batches-py/test_batch", b"again"),), (), "repeated"),
])
def test_incomplete_or_repeated_members_extract_nothing(tmp_path, extra, skip, match):
    """An archive without test_batch, or with test_batch twice, is refused and leaves the batch
    folder empty (no batch, no .part file). Exact: error message and folder listing."""
    archive = write_archive(tmp_path / "a.tar.gz", extra=extra, skip=skip)
    root = tmp_path / "data"
    with pytest.raises(DatasetError, match=match):
        fetch_cifar10.fetch_cifar10(str(root), archive=archive, md5_table=fake_md5(archive),
                                    log=quiet)
    assert os.listdir(root / "cifar10" / "cifar-10-batches-py") == []  # no .part files either


def test_link_member_refused(tmp_path):
    """A batch member that is a symbolic link is refused as not a file, and nothing is written.
    Exact: error message and folder listing."""
    archive = str(tmp_path / "links.tar.gz")
    with tarfile.open(archive, "w:gz") as tar:
        add_member(tar, "cifar-10-batches-py/data_batch_1", type=tarfile.SYMTYPE,
                   linkname="/etc/passwd")
    with pytest.raises(DatasetError, match="data_batch_1 is not a file"):
        fetch_cifar10.extract_batches(archive, str(tmp_path / "out"), log=quiet)
    assert os.listdir(tmp_path / "out") == []


def test_not_an_archive_or_cut_short(tmp_path):
    """A file that is not gzip and an archive cut in the middle of a batch both raise DatasetError
    'cannot read', leaving no .part file. Exact: error type, message and folder listing."""
    path = tmp_path / "a.tar.gz"
    path.write_bytes(b"not gzip")
    with pytest.raises(DatasetError, match="cannot read"):
        fetch_cifar10.fetch_cifar10(str(tmp_path / "data"), archive=str(path),
                                    md5_table=fake_md5(path), log=quiet)
    whole = open(write_archive(tmp_path / "b.tar.gz"), "rb").read()
    path.write_bytes(whole[:len(whole) // 2])  # ends in the middle of a batch
    with pytest.raises(DatasetError, match="cannot read"):
        fetch_cifar10.fetch_cifar10(str(tmp_path / "data"), archive=str(path),
                                    md5_table=fake_md5(path), log=quiet)
    assert os.listdir(tmp_path / "data" / "cifar10" / "cifar-10-batches-py") == []  # no .part


def test_download_through_the_opener(tmp_path):
    """Without an archive, the download opens ARCHIVE_URL (the Toronto address) with
    DOWNLOAD_TIMEOUT_S, unpacks it and removes the download. Exact: call arguments, URL and folder
    listing."""
    archive = write_archive(tmp_path / "a.tar.gz")
    payload = open(archive, "rb").read()
    calls = []

    def opener(url, timeout):
        calls.append((url, timeout))
        return io.BytesIO(payload)

    def download(folder, log=print):
        return fetch_cifar10.download_archive(folder, opener=opener, log=log)

    root = tmp_path / "data"
    fetch_cifar10.fetch_cifar10(str(root), md5_table=fake_md5(archive), download=download,
                                log=quiet)
    assert calls == [(fetch_cifar10.ARCHIVE_URL, fetch_cifar10.DOWNLOAD_TIMEOUT_S)]
    assert fetch_cifar10.ARCHIVE_URL == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert os.listdir(root / "cifar10") == ["cifar-10-batches-py"]  # the download was removed


def test_no_network_says_where_to_get_the_archive(tmp_path):
    """A failed download raises DatasetError giving the network error, the archive's URL, the home
    page, the --archive option and the published md5. Exact (substrings): offline, the message is
    the user's only guide."""
    def blocked(url, timeout):
        raise urllib.error.URLError("network is unreachable")

    with pytest.raises(DatasetError) as info:
        fetch_cifar10.download_archive(str(tmp_path), opener=blocked, log=quiet)
    message = str(info.value)
    assert "network is unreachable" in message and fetch_cifar10.ARCHIVE_URL in message
    assert "https://www.cs.toronto.edu/~kriz/cifar.html" in message
    assert "--archive PATH/cifar-10-python.tar.gz" in message
    assert "c58f30108f718f92721af3b95e74349a" in message


def test_command_line(tmp_path, monkeypatch, capsys):
    """main() exits 1 with the md5 error on stderr for an archive that is not the published one, 0
    with 'CIFAR-10 ready' once the md5 matches, and unpacks again with --force. Exact: exit codes
    and messages."""
    archive = write_archive(tmp_path / "a.tar.gz")
    root = str(tmp_path / "data")
    assert fetch_cifar10.main(["--data-path", root, "--archive", archive]) == 1
    assert "does not match the published CIFAR-10 md5" in capsys.readouterr().err
    monkeypatch.setattr(fetch_cifar10, "ARCHIVE_MD5", fake_md5(archive))
    assert fetch_cifar10.main(["--data-path", root, "--archive", archive]) == 0
    assert "CIFAR-10 ready" in capsys.readouterr().out
    assert fetch_cifar10.main(["--data-path", root, "--archive", archive, "--force"]) == 0
    assert "wrote" in capsys.readouterr().out


def test_module_entry_point(tmp_path):
    """python -m gan2014.datasets.fetch_cifar10 runs and, with six (empty) batch files present,
    exits 0 saying they are already there. Exact: exit status and message."""
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in BATCH_NAMES:
        (folder / name).write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "gan2014.datasets.fetch_cifar10",
                             "--data-path", str(tmp_path)], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0, result.stderr
    assert "already present" in result.stdout
