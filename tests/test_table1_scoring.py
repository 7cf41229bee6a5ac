"""Table 1's validation and test scores against a direct float64 Parzen computation."""
from types import SimpleNamespace

import numpy as np
import pytest

from gan2014 import parzen, table1


def _data():
    """Samples, a validation set close to them (its best sigma is the grid's smallest, .1) and a
    test set of independent uniform images (its best sigma is larger)."""
    rng = np.random.RandomState(3)
    samples = rng.uniform(0, 1, (40, 784))
    valid = np.clip(samples[rng.randint(0, 40, 30)] + rng.normal(0, .08, (30, 784)), 0, 1)
    test = rng.uniform(0, 1, (25, 784))
    return samples, SimpleNamespace(valid=valid, test=test)


@pytest.mark.parametrize("against", ["valid", "test"])
def test_scores_equal_a_direct_parzen_computation_with_sigma_from_validation(against):
    """Property: table1.score_samples(samples, data, protocol, against=X) is exactly
    gan2014.parzen.evaluate(samples, data.valid[:limit], data.X): sigma chosen on the first
    `limit` validation images (never on the scored images), then the mean and the population-std
    standard error over every scored image. Tolerance 1e-9 nats on the mean and se (both are the
    float64 product form on the same arrays; only block splits may differ, ~1e-12), and the sigma
    equal. The data are built so that the scored test set alone would choose another sigma
    (checked), so selecting sigma on the scored images cannot pass."""
    samples, data = _data()
    protocol = table1.Protocol(limit=20)
    scored = data.valid if against == "valid" else data.test
    got = table1.score_samples(samples, data, protocol, against=against, progress=False)
    direct = parzen.evaluate(samples, data.valid[:20], scored, progress=False)
    assert got.sigma == direct.sigma
    assert abs(got.mean - direct.mean) <= 1e-9 and abs(got.se - direct.se) <= 1e-9
    assert got.n_test == scored.shape[0]
    on_scored = parzen.evaluate(samples, scored[:20], scored, progress=False)
    if against == "test":
        assert on_scored.sigma != direct.sigma
