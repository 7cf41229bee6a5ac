"""Array-level preprocessing shared by the datasets (``pylearn2/expr/preprocessing.py``, June 2014).

Only ``global_contrast_normalize`` is needed: CIFAR10(gcn=55.) calls it with its defaults apart from
``scale``. The arithmetic follows Pylearn2 operation by operation, in the input's dtype (float32 for
CIFAR-10), so that the values match what the 2014 code produced.
"""
import numpy as np


def global_contrast_normalize(X, scale=1., subtract_mean=True, use_std=False, sqrt_bias=0.,
                              min_divisor=1e-8):
    """Per-example contrast normalisation (``preprocessing.py :: global_contrast_normalize``).

    For each row ``x`` of the 2-D design matrix ``X``:

    * ``x <- x - mean(x)`` when ``subtract_mean`` (the mean over that row's features);
    * ``n = sqrt(sqrt_bias + sum(x**2)) / scale``, or with ``use_std``
      ``n = sqrt(sqrt_bias + var(x, ddof=1)) / scale`` (``ddof=0`` for a single feature);
    * ``n = 1`` where ``n < min_divisor`` (a constant row is left unscaled, not blown up);
    * ``x <- x / n``.

    With the defaults and ``scale=55`` every non-constant row ends with mean 0 and L2 norm 55.
    Returns a new array; ``X`` itself is never modified.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise AssertionError("global_contrast_normalize needs a 2-D design matrix, got %d-D"
                             % X.ndim)
    scale = float(scale)
    if not scale >= min_divisor:
        raise AssertionError("global_contrast_normalize: scale=%r is below min_divisor=%r"
                             % (scale, min_divisor))

    # The mean is over the features of one example, so it does not matter which set (train,
    # valid, test) the row belongs to.
    if subtract_mean:
        X = X - X.mean(axis=1)[:, np.newaxis]
    else:
        X = X.copy()

    if use_std:
        # ddof=1 follows MATLAB's var(), as Coates et al.'s code did; one feature would give nan.
        ddof = 0 if X.shape[1] == 1 else 1
        normalizers = np.sqrt(sqrt_bias + X.var(axis=1, ddof=ddof)) / scale
    else:
        normalizers = np.sqrt(sqrt_bias + (X ** 2).sum(axis=1)) / scale

    normalizers[normalizers < min_divisor] = 1.
    X /= normalizers[:, np.newaxis]
    return X
