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
    """``log(x)`` in ``x``'s dtype, computed in float64 and rounded once.

    In 2014 numpy's float32 log called the C library's ``logf``, which is (almost always) correctly
    rounded. numpy >= 1.22 uses its own SIMD float32 log, which can be 1 ulp off, and which variant
    runs depends on the CPU. Taking the float64 log and rounding it to float32 gives the 2014 bits
    (it reproduces all 64 probed values of G/y_b in the reference fingerprints exactly; the float32
    SIMD log misses some by 1 ulp) on any CPU and numpy version.
    """
    return np.log(x.astype(np.float64)).astype(x.dtype)
