"""Reading and writing IDX files, the format MNIST is distributed in.

An IDX file is a 4-byte big-endian magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the values in C order. Only the unsigned
byte type (code 0x08) occurs in MNIST, so only it is supported: images have magic 2051 (0x0803,
three dimensions) and labels 2049 (0x0801, one dimension).

Mirrors ``pylearn2/utils/mnist_ubyte.py :: read_mnist_images / read_mnist_labels``, which checked
the magic number but trusted the rest of the header. Here the payload length must match the header
exactly, so a truncated download fails loudly instead of being reshaped into the wrong thing.
Pylearn2 read the uncompressed file only; as a convenience a ``<name>.gz`` beside it is accepted
when the uncompressed file is absent (the uncompressed file always wins).
"""
import gzip
import os
import struct
import zlib

import numpy as np

from gan2014.datasets.errors import DatasetError

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
UBYTE_TYPE_CODE = 0x08
_MAGIC_NAMES = {IMAGE_MAGIC: "MNIST images", LABEL_MAGIC: "MNIST labels"}


def find_idx(path, hint=""):
    """Return ``path`` if it exists, else ``path + '.gz'`` if that exists, else raise DatasetError.

    ``hint`` is appended to the "not found" message (for example how to set the data path).
    """
    if os.path.isfile(path):
        return path
    if os.path.isfile(path + ".gz"):
        return path + ".gz"
    message = "IDX file not found: %s (nor %s.gz)." % (path, path)
    raise DatasetError(message + (" " + hint if hint else ""))


def read_idx(path, expected_magic=None):
    """Read one IDX file (gzip-compressed if its name ends in ``.gz``) into a uint8 array.

    The returned array is read-only: it shares memory with the bytes read from disk.
    """
    return decode_idx(_read_bytes(path), path, expected_magic)


def _read_bytes(path):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read()
        with open(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError, zlib.error) as exc:
        # EOFError is what gzip raises for a cut-off stream; BadGzipFile is an OSError.
        raise DatasetError("cannot read IDX file %s: %s" % (path, exc)) from exc


def decode_idx(data, path, expected_magic=None):
    """Parse the bytes of an IDX file; ``path`` is only used in error messages."""
    magic = _parse_magic(data, path, expected_magic)
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DatasetError(
            "%s: truncated IDX header: expected %d bytes, found %d" % (path, header_size, len(data))
        )
    dims = struct.unpack(">%dI" % ndim, data[4:header_size])
    expected_size = header_size + _product(dims)
    if len(data) != expected_size:
        raise DatasetError(
            "%s: IDX size mismatch: header says shape %s, so the file should be %d bytes "
            "(%d header + %d values), but it is %d bytes%s"
            % (path, dims, expected_size, header_size, expected_size - header_size, len(data),
               " (truncated?)" if len(data) < expected_size else " (trailing data)")
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims)


def _parse_magic(data, path, expected_magic):
    if len(data) < 4:
        raise DatasetError("%s: too short for an IDX file (%d bytes)" % (path, len(data)))
    (magic,) = struct.unpack(">I", data[:4])
    if expected_magic is not None and magic != expected_magic:
        raise DatasetError(
            "%s: wrong magic number %d, expected %d (%s)"
            % (path, magic, expected_magic, _MAGIC_NAMES.get(expected_magic, "IDX"))
        )
    if magic >> 16 != 0 or (magic >> 8) & 0xFF != UBYTE_TYPE_CODE or magic & 0xFF == 0:
        raise DatasetError(
            "%s: magic number %d (0x%08x) is not an unsigned-byte IDX header" % (path, magic, magic)
        )
    return magic


def _product(dims):
    # Python ints, so a corrupt header cannot overflow the size computation.
    total = 1
    for dim in dims:
        total *= dim
    return total


def encode_idx(array):
    """The bytes of an IDX file holding ``array`` (which must be uint8, 1 to 255 dimensions)."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise TypeError("IDX writer supports uint8 arrays only, got %s" % array.dtype)
    if not 1 <= array.ndim <= 255:
        raise ValueError("IDX arrays need 1 to 255 dimensions, got %d" % array.ndim)
    magic = (UBYTE_TYPE_CODE << 8) | array.ndim
    header = struct.pack(">I%dI" % array.ndim, magic, *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_idx(path, array):
    """Write ``array`` as an IDX file, gzipped (fixed timestamp) if ``path`` ends in ``.gz``."""
    data = encode_idx(array)
    if path.endswith(".gz"):
        # mtime=0 makes the compressed bytes reproducible, which keeps test fixtures stable.
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
            handle.write(data)
    else:
        with open(path, "wb") as handle:
            handle.write(data)
    return path
