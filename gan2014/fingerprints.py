"""Array fingerprints: the compact form in which the 2014 reference numbers are stored.

A fingerprint holds an array's shape, dtype, float64 sum, sum of squares, largest absolute value and
its values at 64 fixed flat indices (C order). A 0/1 mask is stored whole, as numpy packbits of the
flattened mask, base64-encoded. See parity_tests/fixtures/README.md for where the numbers come from.
"""
import base64
import json
from pathlib import Path

import numpy as np

N_PROBES = 64


def probe_indices(size):
    """The 64 sorted flat indices drawn from numpy RandomState(0), as the reference used."""
    count = min(N_PROBES, size)
    return np.sort(np.random.RandomState(0).choice(size, count, replace=False))


def fingerprint(array):
    """Fingerprint of an array, in the reference's format."""
    array = np.asarray(array)
    flat = array.reshape(-1)
    wide = flat.astype(np.float64)
    idx = probe_indices(flat.size)
    return {
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "sum": float(wide.sum()),
        "sumsq": float((wide * wide).sum()),
        "absmax": float(np.abs(wide).max()) if wide.size else 0.0,
        "idx": [int(i) for i in idx],
        "val": [float(v) for v in wide[idx]],
    }


def unpack_mask(record):
    """A stored 0/1 mask as a float32 array of its shape."""
    shape = tuple(record["shape"])
    bits = np.frombuffer(base64.b64decode(record["packbits_b64"]), dtype=np.uint8)
    flat = np.unpackbits(bits)[: int(np.prod(shape))]
    return flat.reshape(shape).astype(np.float32)


def compare(array, record):
    """How far `array` is from a fingerprint record.

    Returns a dict: `max_abs` (largest |a - ref| over the probed values), `absmax_ref` (the
    reference's absmax, the scale of relative tolerances), and the absolute differences of sum,
    sumsq and absmax. Shapes must agree (ValueError otherwise).
    """
    array = np.asarray(array)
    if list(array.shape) != list(record["shape"]):
        raise ValueError(f"shape {list(array.shape)} differs from the reference {record['shape']}")
    wide = array.reshape(-1).astype(np.float64)
    ref_vals = np.asarray(record["val"], dtype=np.float64)
    got_vals = wide[np.asarray(record["idx"], dtype=np.int64)]
    return {
        "max_abs": float(np.max(np.abs(got_vals - ref_vals))) if ref_vals.size else 0.0,
        "absmax_ref": float(record["absmax"]),
        "sum_diff": abs(float(wide.sum()) - record["sum"]),
        "sumsq_diff": abs(float((wide * wide).sum()) - record["sumsq"]),
        "absmax_diff": abs(float(np.abs(wide).max()) - record["absmax"]),
    }


def load_reference(path):
    with open(Path(path), encoding="utf-8") as handle:
        return json.load(handle)
