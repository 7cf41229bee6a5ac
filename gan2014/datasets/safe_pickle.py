"""Safe unpickling of the pickled datasets (MNIST's mnist.pkl.gz, CIFAR-10's batches) and file
checksums: a leaf module the readers and the download commands share."""
import hashlib
import pickle

import numpy as np


def _numpy_reconstruct():
    # numpy 2 moved numpy.core to numpy._core (1.26 already has the new name); the pickle itself
    # names numpy.core, which find_class maps to the same function.
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 1.26
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler whose only reachable globals are what numpy arrays need to rebuild themselves.

    Anything else (``os.system``, ``builtins.eval``, ...) raises ``pickle.UnpicklingError``;
    ``what`` names the file in that message.
    """

    what = "the MNIST pickle"

    def find_class(self, module, name):
        allowed = {
            ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
            ("numpy", "ndarray"): lambda: np.ndarray,
            ("numpy", "dtype"): lambda: np.dtype,
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError("refusing to load global %s.%s from %s"
                                         % (module, name, self.what))
        return allowed[(module, name)]()


def md5_bytes(data):
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_file(path, chunk_size=1 << 20):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()
