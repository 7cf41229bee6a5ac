"""EpochCounter: one framework-free class (gan2014.termination_criteria) with Pylearn2's June-2014
semantics, used by both backends, reading the checkpoints either backend wrote before it was shared.
"""
import pytest

from gan2014.termination_criteria import EpochCounter


def epochs_run(counter, already_seen=0):
    """How many epochs Train runs under `counter`: one continue_learning call after each epoch."""
    epochs = 0
    while True:
        epochs += 1
        counter.epochs_already_seen = already_seen + epochs
        if not counter.continue_learning(model=None):
            return epochs


@pytest.mark.parametrize("max_epochs", [1, 2, 7])
def test_exactly_max_epochs_run(max_epochs):
    """Property: exactly max_epochs epochs run with new_epochs=True (the default). Exact count."""
    assert epochs_run(EpochCounter(max_epochs)) == max_epochs


def test_new_epochs_false_counts_the_epochs_already_trained():
    """Property: with new_epochs=False a model already trained 3 epochs stops at max_epochs=5 in
    all, after 2 more (Pylearn2 counted from the model's epochs seen); new_epochs=True runs 5
    more. Exact: integer epoch counts."""
    assert epochs_run(EpochCounter(5, new_epochs=False), already_seen=3) == 2
    assert epochs_run(EpochCounter(5, new_epochs=True), already_seen=3) == 5


def test_state_round_trip_and_the_torch_key():
    """Property: the count survives a checkpoint (key "epochs_done"), and the key torch checkpoints
    used before the class was shared ("count") is read as the same number; None means not yet
    started. Exact: the state dict and integer epoch counts."""
    counter = EpochCounter(10)
    for _ in range(4):
        counter.continue_learning(model=None)
    assert counter.state_dict() == {"epochs_done": 4}
    for state in ({"epochs_done": 4}, {"count": 4}):
        resumed = EpochCounter(10)
        resumed.load_state_dict(state)
        assert epochs_run(resumed) == 6
    fresh = EpochCounter(3)
    fresh.load_state_dict({"epochs_done": None})
    assert epochs_run(fresh) == 3


def test_both_backends_use_the_shared_class():
    """Property: the YAML name resolves to the same class in both registries (nothing
    framework-free is defined twice). Exact: object identity (`is`), so a copy of the class
    fails."""
    from port_torch.registry import REGISTRY as TORCH

    assert TORCH["pylearn2.termination_criteria.EpochCounter"] is EpochCounter
    pytest.importorskip("aesara")
    from legacy_aesara.registry import REGISTRY as AESARA

    assert AESARA["pylearn2.termination_criteria.EpochCounter"] is EpochCounter
