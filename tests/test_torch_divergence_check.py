"""The torch SGD's per-batch NaN/Inf check: cheap, and still exact about the batch and parameters.

The check screens with one sum per parameter (a sum holding a NaN or an Inf is never finite) and
confirms with isfinite only when the screen fires. These tests pin the two properties that makes
it safe: a real divergence is reported at the batch where it happened, naming exactly the bad
parameters; a screen that fires because finite parameters' sum overflowed float32 stops nothing.
"""
import numpy as np
import pytest
import torch

from gan2014.config.yaml_parse import load_path
from gan2014.train import TrainingDivergedError
from port_torch.registry import REGISTRY
from gan2014.datasets import mnist
from idx_fixtures import write_small_mnist

TINY = "yaml_experiments/smoke/mnist_tiny.yaml"


@pytest.fixture
def algorithm(tmp_path, monkeypatch, one_torch_thread):
    write_small_mnist(tmp_path, n_train=800, n_test=200)
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(mnist, "EXPECTED_EXAMPLES", {"train": 800, "test": 200})
    mnist.clear_cache()
    train = load_path(TINY, REGISTRY)
    mnist.clear_cache()
    train.model.streams.seed(3)
    train.algorithm.setup(train.model, train.dataset)
    return train


def _poison_at(batch, name, value):
    """An update callback that writes `value` into parameter `name` after batch `batch`."""
    def callback(algorithm):
        if algorithm.batches_seen == batch:
            index = algorithm.param_names.index(name)
            algorithm.params[index].view(-1)[0] = value
    return callback


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_divergence_is_named_at_its_batch(algorithm, value):
    """A non-finite entry written after batch 4 of 6: the error names batch 4 (not a later one) and
    exactly that parameter. Exact: the check runs after every batch on the CPU."""
    sgd = algorithm.algorithm
    sgd.update_callbacks.append(_poison_at(4, "G/h1_W", value))
    with pytest.raises(TrainingDivergedError) as caught:
        sgd.train(algorithm.dataset)
    message = str(caught.value)
    assert "batch 4 of 6" in message, message
    assert "G/h1_W" in message and "D/" not in message, message


def test_a_sum_that_overflows_is_not_a_divergence(algorithm):
    """Finite parameters whose float32 sum overflows to Inf: the screen fires, isfinite clears it,
    and the record of a first bad batch is reset so a later real divergence is still named
    at its own batch. Exact: the record reset to 0, and the batch and parameter named; 3e38 is
    finite in float32 (max about 3.4e38) but four of them overflow the sum, so the screen surely
    fires."""
    sgd = algorithm.algorithm
    weights = sgd.params[sgd.param_names.index("G/h0_W")]
    saved = weights.clone()
    weights.view(-1)[:4] = 3e38  # every entry finite, the sum is +Inf in float32
    assert not torch.isfinite(weights.sum()) and bool(torch.isfinite(weights).all())
    sgd._first_bad = torch.zeros((), dtype=torch.long)
    sgd._watch_step(1, 6)  # does not raise
    assert int(sgd._first_bad) == 0
    weights.copy_(saved)
    weights.view(-1)[1] = float("nan")
    with pytest.raises(TrainingDivergedError, match=r"G/h0_W.*batch 2 of 6"):
        sgd._watch_step(2, 6)


def test_the_screen_does_not_change_training(algorithm):
    """An epoch with the check runs the same steps: parameters stay finite and equal to float32
    values the step produced (the check only reads)."""
    sgd = algorithm.algorithm
    sgd.train(algorithm.dataset)
    assert all(np.isfinite(p.numpy()).all() for p in sgd.params)
    assert sgd.batches_seen == 6
