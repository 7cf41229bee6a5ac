"""The shared numpy draws reproduce the 2014 random streams without needing MNIST.

Weight draws and the first shuffled batch depend only on numpy's RandomState, so they can be checked
against the 2014 fingerprints exactly (tolerance 0) on any machine.
"""
from pathlib import Path

import numpy as np
import pytest

from gan2014.fingerprints import compare, load_reference
from gan2014.iteration import num_batches, sequential_batches, shuffled_sequential_batches
from gan2014.models.init import (draw_weights, dropout_seed, initial_bias, irange_weights, mlp_rng,
                                 sparse_weights)

REFERENCE = load_reference(Path(__file__).parents[1] / "parity_tests" / "fixtures" /
                           "original_2014_mnist_fingerprints.json")
MNIST_LAYERS = {"G": [("h0", 100, 1200, .05), ("h1", 1200, 1200, .05), ("y", 1200, 784, .05)],
                "D": [("h0", 784, 1200, .005), ("h1", 240, 1200, .005), ("y", 240, 1, .005)]}


@pytest.mark.parametrize("net", ["G", "D"])
def test_irange_draws_equal_2014_weights_exactly(net):
    """Each MLP's RandomState([2013,1,4]), drawn layer by layer (values then include mask), gives
    the 2014 weights bit for bit: tolerance 0, as the same numpy algorithm gives the same doubles.
    """
    rng = mlp_rng()
    for name, n_in, n_out, irange in MNIST_LAYERS[net]:
        W = irange_weights(rng, (n_in, n_out), irange).astype(np.float32)
        result = compare(W, REFERENCE["init_params"][f"{net}/{name}_W"])
        assert result["max_abs"] == 0.0 and result["sum_diff"] == 0.0, (name, result)


def test_first_shuffled_batch_is_the_2014_batch():
    """SGD's RandomState([2012,10,5]) shuffling arange(50000) gives the first minibatch the original
    code trained on (exact indices)."""
    batches = shuffled_sequential_batches(50000, 100, np.random.RandomState([2012, 10, 5]))
    assert len(batches) == 500
    assert batches[0].tolist() == REFERENCE["step0_nodropout"]["batch_indices"]


def test_shuffle_stream_persists_across_epochs():
    """Epoch e uses the e-th shuffle of one persistent stream, not a reseeded one. Exact: integer
    index arrays."""
    rng = np.random.RandomState([2012, 10, 5])
    first, second = (shuffled_sequential_batches(1000, 100, rng) for _ in range(2))
    assert not np.array_equal(first[0], second[0])
    assert sorted(np.concatenate(second).tolist()) == list(range(1000))
    stream = np.random.RandomState([2012, 10, 5])
    for epoch in (first, second):
        order = np.arange(1000)
        stream.shuffle(order)
        assert np.array_equal(np.concatenate(epoch), order)


def test_partial_last_batch_and_sequential_mode():
    """250 examples in batches of 100 give batches of 100, 100 and a last partial 50, in shuffled
    and in sequential (monitoring) mode, and num_batches counts 3. Exact: integer sizes and
    slices."""
    batches = shuffled_sequential_batches(250, 100, np.random.RandomState(0))
    assert [len(b) for b in batches] == [100, 100, 50] and num_batches(250, 100) == 3
    assert sequential_batches(250, 100) == [slice(0, 100), slice(100, 200), slice(200, 250)]


def test_exactly_one_init_option_is_required():
    """draw_weights with two initialisation options (irange and istdev) or none is a ValueError
    naming the layer and what was set, as Pylearn2 asserted exactly one. Exact: the error type and
    message."""
    with pytest.raises(ValueError, match="exactly one of irange"):
        draw_weights(mlp_rng(), (3, 4), irange=.1, istdev=.1, layer_name="h0")
    with pytest.raises(ValueError, match="'h0'.*none"):
        draw_weights(mlp_rng(), (3, 4), layer_name="h0")


def test_sparse_init_puts_k_gaussians_per_column():
    """sparse_weights with sparse_init = 5 gives exactly 5 non-zero entries in each of the 7
    columns, and those entries are the RandomState's randn draws, in Pylearn2's interleaved order
    (randint for the row, then randn), times sparse_stdev = 2; a sparse_init above the input
    dimension is a ValueError. Exact: integer counts, the same float64 draws times 2 (exact), and
    the message."""
    W = sparse_weights(np.random.RandomState(1), (50, 7), 5, sparse_stdev=2.0)
    assert ((W != 0).sum(axis=0) == 5).all()
    rng, expected = np.random.RandomState(1), np.zeros((50, 7))
    for column in range(7):
        for _ in range(5):
            row = rng.randint(0, 50)
            while expected[row, column] != 0:
                row = rng.randint(0, 50)
            expected[row, column] = rng.randn()
    np.testing.assert_array_equal(W, expected * 2.0)
    with pytest.raises(ValueError, match="exceeds"):
        sparse_weights(np.random.RandomState(1), (3, 2), 4)


def test_bias_and_dropout_seed():
    """initial_bias is init_bias repeated, in float32; the dropout seed drawn from 20 RandomStates
    lies in [1, 2**15). Exact: small integers and values exact in float32."""
    assert initial_bias(3, -2.0).tolist() == [-2.0, -2.0, -2.0]
    assert initial_bias(3).dtype == np.float32
    seeds = [dropout_seed(np.random.RandomState(s)) for s in range(20)]
    assert all(1 <= s < 2 ** 15 for s in seeds)
