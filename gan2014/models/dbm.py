"""``init_sigmoid_bias_from_marginals``, as in ``pylearn2/models/dbm/__init__.py``.

mnist.yaml (and the TFD pretraining config) use it as ``init_bias`` of the generator's output
Sigmoid layer, so that before training sigmoid(bias) equals each pixel's mean over the training set.
"""
import numpy as np

# Pylearn2 clipped the means to this margin so that always-0 / always-1 pixels get finite logits
# (about -16.118 / +16.118).
MARGIN = 1e-7


def init_sigmoid_bias_from_marginals(dataset, use_y=False):
    """The logit of the per-feature mean of ``dataset``'s design matrix (or of ``dataset.y``).

    Mirrors ``pylearn2/models/dbm/__init__.py :: init_sigmoid_bias_from_marginals``.
    """
    X = dataset.y if use_y else dataset.get_design_matrix()
    return init_sigmoid_bias_from_array(X)


def init_sigmoid_bias_from_array(X):
    """``log(m / (1 - m))`` with ``m = clip(X.mean(axis=0), 1e-7, 1 - 1e-7)``.

    Mirrors ``pylearn2/models/dbm/__init__.py :: init_sigmoid_bias_from_array``. ``X`` must have
    maximum exactly 1 and minimum exactly 0 (values in between are allowed). The arithmetic is in
    ``X``'s own dtype, as in 2014: a float32 design matrix gives a float32 mean (numpy accumulates a
    float32 mean over axis 0 row by row, in float32), a float32 ratio and a float32 result. An
    integer ``X`` (``use_y`` on uint8 labels) gives float64. Callers cast to their parameter dtype.
    """
    X = np.asarray(X)
    if not X.max() == 1:
        raise ValueError("Expected a design matrix with values in [0, 1] whose maximum is "
                         "exactly 1, but the maximum is %s" % X.max())
    if X.min() != 0:
        raise ValueError("Expected a design matrix with values in [0, 1] whose minimum is "
                         "exactly 0, but the minimum is %s" % X.min())
    mean = np.clip(X.mean(axis=0), MARGIN, 1 - MARGIN)
    ratio = mean / (1.0 - mean)
    return _log_correctly_rounded(ratio)


def _log_correctly_rounded(x):
    """``log(x)`` in ``x``'s dtype, as the 2014 run computed it.

    In 2014 numpy's float32 log called the C library's ``logf``. numpy >= 1.22 uses its own SIMD
    float32 log, which can be 1 ulp off (it misses the 2014 bias by up to 9.5e-7). So for float32 we
    call the C library's ``logf`` element by element (784 calls for MNIST); this reproduces all 784
    values of G/y_b in the reference fingerprints exactly (sum and sum of squares included). Where
    no C math library can be loaded, the float64 log rounded once to float32 is the fallback (equal
    to ``logf`` except for rare 1-ulp cases: 4 of MNIST's 784 pixels).
    """
    if x.dtype == np.float32:
        logf = _c_logf()
        if logf is not None:
            flat = x.reshape(-1)
            return np.fromiter((logf(float(v)) for v in flat), dtype=np.float32,
                               count=flat.size).reshape(x.shape)
    return np.log(x.astype(np.float64)).astype(x.dtype)


def _c_logf():
    """The C math library's single-precision log, or None where it cannot be loaded."""
    try:
        import ctypes
        import ctypes.util
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        logf = libm.logf
    except (OSError, AttributeError):
        return None
    logf.restype = ctypes.c_float
    logf.argtypes = [ctypes.c_float]
    return logf
