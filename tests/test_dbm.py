"""init_sigmoid_bias_from_marginals (pylearn2/models/dbm/__init__.py) on toy datasets."""
import types

import numpy as np
import pytest

from gan2014.models.dbm import init_sigmoid_bias_from_array, init_sigmoid_bias_from_marginals


def toy(X, y=None):
    X = np.asarray(X, dtype=np.float32)
    return types.SimpleNamespace(get_design_matrix=lambda: X, y=y)


def test_logit_of_column_means():
    dataset = toy([[0.0, 1.0, 0.0, 1.0],
                   [0.0, 1.0, 0.5, 0.0],
                   [0.0, 1.0, 1.0, 0.0],
                   [0.0, 1.0, 0.5, 0.0]])
    bias = init_sigmoid_bias_from_marginals(dataset)
    assert bias.dtype == np.float32 and bias.shape == (4,)
    # Means 0, 1, .5, .25 -> clipped 1e-7 / 1 - 1e-7 (in float32) at the ends.
    np.testing.assert_allclose(bias, [np.log(1e-7 / (1 - 1e-7)), 15.942385, 0.0, np.log(1 / 3)],
                               rtol=1e-6)
    assert bias[0] == pytest.approx(-16.118095, abs=1e-5)
    sigmoid = 1 / (1 + np.exp(-bias.astype(np.float64)))
    np.testing.assert_allclose(sigmoid[2:], [0.5, 0.25], rtol=1e-6)


def test_float32_arithmetic_as_in_2014():
    rng = np.random.RandomState(0)
    X = (rng.randint(0, 256, size=(500, 7)) / np.float32(255)).astype(np.float32)
    X[0, 0], X[1, 0] = 0.0, 1.0
    mean = np.clip(X.mean(axis=0), 1e-7, 1 - 1e-7)
    assert mean.dtype == np.float32
    expected = np.log((mean / (1 - mean)).astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(init_sigmoid_bias_from_array(X), expected)


@pytest.mark.parametrize("X, word", [([[0.0, 0.9], [0.1, 0.2]], "maximum"),
                                     ([[0.1, 1.0], [0.2, 0.5]], "minimum"),
                                     ([[0.0, 2.0], [0.0, 1.0]], "maximum"),
                                     ([[-1.0, 1.0], [0.0, 0.0]], "minimum")])
def test_requires_max_one_and_min_zero(X, word):
    with pytest.raises(ValueError, match=word):
        init_sigmoid_bias_from_marginals(toy(X))


def test_use_y_reads_targets():
    dataset = toy([[0.0, 0.5]], y=np.array([[1, 0], [1, 1], [0, 0], [1, 0]], dtype=np.uint8))
    bias = init_sigmoid_bias_from_marginals(dataset, use_y=True)
    np.testing.assert_allclose(bias, [np.log(3.0), np.log(1 / 3)])
