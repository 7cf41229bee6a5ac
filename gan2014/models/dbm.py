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
    maximum exactly 1 and minimum exactly 0 (values in between are allowed). The arithmetic is
    numpy's on ``X``'s own dtype: a float32 design matrix gives a float32 mean (numpy accumulates a
    float32 mean in float32) and a float32 result, as in 2014; callers cast to their parameter dtype.
    """
    X = np.asarray(X)
    if not X.max() == 1:
        raise ValueError("Expected a design matrix with values in [0, 1] whose maximum is exactly 1, "
                         "but the maximum is %s" % X.max())
    if X.min() != 0:
        raise ValueError("Expected a design matrix with values in [0, 1] whose minimum is exactly 0, "
                         "but the minimum is %s" % X.min())
    mean = np.clip(X.mean(axis=0), MARGIN, 1 - MARGIN)
    return np.log(mean / (1.0 - mean))
