"""init_sigmoid_bias_from_marginals (pylearn2/models/dbm/__init__.py) on toy datasets."""
import types

import numpy as np
import pytest

from gan2014.models.dbm import init_sigmoid_bias_from_array, init_sigmoid_bias_from_marginals


def toy(X, y=None):
    X = np.asarray(X, dtype=np.float32)
    return types.SimpleNamespace(get_design_matrix=lambda: X, y=y)


def test_logit_of_column_means():
    """The bias is the float32 logit of each column's mean: means 0 and 1 are clipped to 1e-7 and
    1 - 1e-7 in float32 (about -16.118 and 15.942), 0.5 gives 0 and 0.25 gives log(1/3). Within 1e-6
    relative (1e-5 absolute for the clipped end, a few float32 ulps at 16): a float32 result against
    float64 values, apart by float32 rounding (6e-8 relative)."""
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
    """On 500 x 7 float32 pixel values the mean, clip and ratio stay float32 (as in 2014) and the
    bias equals the float64 log of the float32 ratio rounded once to float32. Exact (bit for bit):
    the 2014 bias was float32 and is reproduced to the bit."""
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
    """A matrix whose maximum is below or above 1, or whose minimum is above or below 0, is refused
    with a ValueError naming the maximum or the minimum. Exact: the error type and that word."""
    with pytest.raises(ValueError, match=word):
        init_sigmoid_bias_from_marginals(toy(X))


def test_use_y_reads_targets():
    """use_y=True takes the means of dataset.y (3/4 and 1/4, so log 3 and log(1/3)), not of X.
    Within assert_allclose's default 1e-7 relative: uint8 targets give a float64 result, whose only
    error is float64 rounding."""
    dataset = toy([[0.0, 0.5]], y=np.array([[1, 0], [1, 1], [0, 0], [1, 0]], dtype=np.uint8))
    bias = init_sigmoid_bias_from_marginals(dataset, use_y=True)
    np.testing.assert_allclose(bias, [np.log(3.0), np.log(1 / 3)])
