"""Initial weight draws of Pylearn2's layers, shared by both backends.

Pylearn2 draws every weight matrix from the owning MLP's numpy RandomState, in layer order, when the
layer's input space is set (pylearn2/models/mlp.py :: Linear.set_input_space and
pylearn2/models/maxout.py :: Maxout.set_input_space). Matching the 2014 numbers bit for bit means
making the *same calls in the same order* on the same RandomState, so both backends call these
functions and only then copy the result into their own tensors.

All functions return float64 arrays in Pylearn2's (input_dim, output_dim) layout; the caller casts
to float32, as the shared variable constructor did in Pylearn2.
"""
import numpy as np

from gan2014.config.checks import check_number
from gan2014.seeds import MLP_DEFAULT_SEED

DEFAULT_MLP_SEED = list(MLP_DEFAULT_SEED)


def mlp_rng(seed=None):
    """The RandomState an outer MLP creates in its constructor (seed or [2013, 1, 4])."""
    return np.random.RandomState(DEFAULT_MLP_SEED if seed is None else seed)


def irange_weights(rng, shape, irange, include_prob=1.0):
    """U(-irange, irange), then a Bernoulli(include_prob) mask.

    The mask is drawn even when include_prob == 1: Pylearn2 always made the second draw, so every
    irange layer consumes 2 * in * out uniforms and later layers see the stream where 2014 saw it.
    """
    values = rng.uniform(-irange, irange, shape)
    keep = rng.uniform(0.0, 1.0, shape) < include_prob
    return values * keep


def istdev_weights(rng, shape, istdev):
    """N(0, istdev^2) entries (Linear's `istdev` option)."""
    return rng.randn(*shape) * istdev


def sparse_weights(rng, shape, sparse_init, sparse_stdev=1.0):
    """`sparse_init` non-zero N(0,1) entries per output column, times sparse_stdev.

    The randint and randn draws interleave column by column, as in Pylearn2; a row index that
    already holds a non-zero weight is drawn again.
    """
    input_dim, output_dim = shape
    if sparse_init > input_dim:
        raise ValueError(f"sparse_init={sparse_init} exceeds the input dimension {input_dim}")
    W = np.zeros(shape)
    for column in range(output_dim):
        for _ in range(sparse_init):
            row = rng.randint(0, input_dim)
            while W[row, column] != 0:
                row = rng.randint(0, input_dim)
            W[row, column] = rng.randn()
    return W * sparse_stdev


def draw_weights(rng, shape, irange=None, istdev=None, sparse_init=None, sparse_stdev=1.0,
                 include_prob=1.0, layer_name="?"):
    """Dispatch on the one initialisation option that is set (Pylearn2 asserts exactly one)."""
    chosen = [name for name, value in (("irange", irange), ("istdev", istdev),
                                       ("sparse_init", sparse_init)) if value is not None]
    if len(chosen) != 1:
        raise ValueError(f"layer {layer_name!r}: exactly one of irange, istdev, sparse_init "
                         f"must be set, got {chosen or 'none'}")
    owner = f"layer {layer_name!r}"
    if irange is not None:
        # Pylearn2 drew rng.uniform(-irange, irange): text such as YAML's '-.05' failed there.
        irange = check_number(owner, "irange", irange)
        return irange_weights(rng, shape, irange, include_prob)
    if istdev is not None:
        return istdev_weights(rng, shape, check_number(owner, "istdev", istdev))
    return sparse_weights(rng, shape, sparse_init, sparse_stdev)


def initial_bias(dim, init_bias=0.0, layer_name="?"):
    """zeros(dim) + init_bias, cast to float32 (scalar or array broadcastable to dim)."""
    if isinstance(init_bias, str):       # text to YAML 1.1 such as '-.5': numpy's add failed on it
        check_number(f"layer {layer_name!r}", "init_bias", init_bias)
    return (np.zeros(dim) + np.asarray(init_bias)).astype(np.float32)


def dropout_seed(rng):
    """The MRG seed a dropout_fprop call takes from its MLP's init RandomState, floored at 1."""
    return max(int(rng.randint(2 ** 15)), 1)
