"""SGDState: the batch order, counters and stop/resume position both backends' SGD share
(gan2014/training_algorithms/sgd_state.py), framework-free, read from checkpoints in the layout
the SGD classes wrote before the state was shared."""
import json

import numpy as np
import pytest

from gan2014 import checkpoint as ckpt
from gan2014.training_algorithms.sgd_state import SGDState

EXAMPLES, BATCH = 23, 5          # 5 batches an epoch, the last one partial (3 rows)

# The keys the Aesara and torch SGDs wrote for this state before it was shared; old checkpoints
# carry exactly these, so the shared class must keep writing and reading them.
ARRAY_KEYS = ["rng/sgd_iterator/keys"]
META_KEYS = ["batches_seen", "examples_seen", "epochs_seen", "sgd_iterator_rng",
             "batches_into_epoch", "epoch_start_rng", "update_callbacks", "termination_criterion"]


class CountingCallback:
    """An update callback with a checkpointable state, like ExponentialDecay."""

    def __init__(self):
        self.calls = 0

    def __call__(self, algorithm):
        self.calls += 1

    def state_dict(self):
        return {"calls": self.calls}

    def load_state_dict(self, state):
        self.calls = state["calls"]


class Loop(SGDState):
    """The epoch loop of the SGD classes without a model: it records which rows each step got."""

    def __init__(self, **kwargs):
        super().__init__(update_callbacks=CountingCallback(), **kwargs)
        self.batch_size = BATCH
        self.steps = []

    def train(self, stop_after=None):
        batches, first = self._begin_epoch(EXAMPLES)
        for position in range(first, len(batches)):
            self.steps.append(batches[position].tolist())
            self._after_batch(len(batches[position]))
            if self._stop_after(position + 1):
                self._pause(position + 1)
                return
        self._end_epoch()

    def checkpoint(self):
        """(arrays, meta) as gan2014.train writes them: meta goes through JSON."""
        meta = dict(self._progress_meta())
        meta.update(self._schedule_meta())
        return self._order_arrays(), json.loads(json.dumps(meta))


def test_stopped_and_resumed_run_takes_the_same_batches():
    """Property: a run stopped after batch 2 of epoch 2 and resumed from its checkpoint in a fresh
    object takes exactly the batches (rows, in order) and ends with exactly the counters of an
    uninterrupted 3-epoch run. Exact equality: the batch order is integer data."""
    straight = Loop()
    for _ in range(3):
        straight.train()
    stopped = Loop()
    stopped.train()
    stopped.stop_requested = lambda: len(stopped.steps) == 7
    stopped.train()
    assert (stopped.batches_into_epoch, stopped.epochs_seen) == (2, 1)
    arrays, meta = stopped.checkpoint()
    resumed = Loop()
    resumed._load_progress(arrays, meta)
    resumed.steps = list(stopped.steps)
    resumed.train()
    resumed.train()
    assert resumed.steps == straight.steps
    assert (resumed.batches_seen, resumed.examples_seen, resumed.epochs_seen) == (15, 69, 3)
    assert resumed.update_callbacks[0].calls == straight.update_callbacks[0].calls == 15


def test_writes_the_keys_of_earlier_checkpoints():
    """Property: the state goes into a checkpoint under exactly the keys the backends' SGDs used
    before it was shared (a changed key would make old checkpoints unreadable). Exact key lists."""
    loop = Loop()
    loop.train()
    arrays, meta = loop.checkpoint()
    assert list(arrays) == ARRAY_KEYS and list(meta) == META_KEYS
    assert sorted(meta["sgd_iterator_rng"]) == ["cached_gaussian", "has_gauss", "pos"]


def earlier_checkpoint(epochs_done, batches_done):
    """The (arrays, meta) an SGD wrote before SGDState existed, built field by field as that
    code built them, after `epochs_done` epochs and `batches_done` batches of the next one."""
    rng = np.random.RandomState([2012, 10, 5])
    for _ in range(epochs_done):
        rng.shuffle(np.arange(EXAMPLES))
    epoch_start = rng.get_state()
    if batches_done:
        rng.shuffle(np.arange(EXAMPLES))     # the stopped epoch's shuffle was drawn
    _kind, keys, pos, has_gauss, cached = rng.get_state()
    batches = 5 * epochs_done + batches_done
    meta = {"learning_rate": 0.1, "momentum": 0.5, "batches_seen": batches,
            "examples_seen": EXAMPLES * epochs_done + BATCH * batches_done,
            "epochs_seen": epochs_done,
            "sgd_iterator_rng": {"pos": int(pos), "has_gauss": int(has_gauss),
                                 "cached_gaussian": float(cached)},
            "batches_into_epoch": batches_done,
            "epoch_start_rng": ckpt.numpy_rng_state(epoch_start) if batches_done else None,
            "cost_switches": {"now_train_generator": 1.0, "now_train_discriminator": 1.0},
            "update_callbacks": [{"calls": batches}], "termination_criterion": None}
    return {"rng/sgd_iterator/keys": keys.copy()}, json.loads(json.dumps(meta))


@pytest.mark.parametrize("epochs_done,batches_done", [(2, 0), (1, 3)])
def test_reads_earlier_checkpoints(epochs_done, batches_done):
    """Property: a checkpoint in the earlier layout, at an epoch boundary or inside an epoch,
    loads and continues with exactly the batches a run that never stopped takes next, with its
    counters and callback state. Exact equality (integer data)."""
    straight = Loop()
    for _ in range(epochs_done + 2):
        straight.train()
    arrays, meta = earlier_checkpoint(epochs_done, batches_done)
    loop = Loop()
    loop._load_progress(arrays, meta)
    assert (loop.batches_seen, loop.epochs_seen, loop.batches_into_epoch) == \
        (meta["batches_seen"], epochs_done, batches_done)
    loop.train()
    loop.train()
    done = 5 * epochs_done + batches_done
    assert loop.steps == straight.steps[done:5 * (epochs_done + 2)]
    assert (loop.batches_seen, loop.epochs_seen) == (straight.batches_seen, straight.epochs_seen)
    assert loop.update_callbacks[0].calls == loop.batches_seen


def test_missing_entries_are_named():
    """Property: a checkpoint without the batch-order key vector or the counters is refused with
    an error naming the missing entry (not a bare KeyError). Exact: the error type and the
    entry's name in the message, the user's only guide."""
    arrays, meta = earlier_checkpoint(1, 0)
    with pytest.raises(ValueError, match="rng/sgd_iterator/keys"):
        Loop()._load_progress({}, meta)
    del meta["sgd_iterator_rng"]
    with pytest.raises(ValueError, match="sgd_iterator_rng"):
        Loop()._load_progress(arrays, meta)


def test_resuming_past_the_epoch_is_refused():
    """Property: a position beyond the epoch's batch count (a checkpoint of another dataset or
    batch size) is refused when the epoch begins, naming both numbers. Exact: the error type and
    the text 'after batch 9 of an epoch of 5'."""
    arrays, meta = earlier_checkpoint(1, 3)
    meta["batches_into_epoch"] = 9
    loop = Loop()
    loop._load_progress(arrays, meta)
    with pytest.raises(ValueError, match="after batch 9 of an epoch of 5"):
        loop.train()
