"""The framework-free Train loop follows Pylearn2's order and resumes exactly.

A tiny numpy 'backend' (a model with two parameters and an algorithm that takes random steps from
its own RandomState) stands in for Aesara and torch: what is tested here is the loop, not the math.
"""
from collections import OrderedDict

import numpy as np
import pytest

from gan2014 import checkpoint as ckpt
from gan2014.train import Train, TrainingDivergedError


class ToyModel:
    def __init__(self):
        self.values = OrderedDict([("G/h0_W", np.zeros((2, 2), np.float32)),
                                   ("D/y_b", np.zeros(1, np.float32))])
        self.constraints_enforced = 0

    def param_names(self):
        return list(self.values)

    def get_param_values(self):
        return OrderedDict((k, v.copy()) for k, v in self.values.items())

    def set_param_values(self, values):
        for name, value in values.items():
            self.values[name] = np.array(value, dtype=np.float32)

    def enforce_constraints(self):
        self.constraints_enforced += 1


class ToyAlgorithm:
    def __init__(self, events, max_epochs=None, blow_up_at=None):
        self.events, self.max_epochs, self.blow_up_at = events, max_epochs, blow_up_at
        self.rng = np.random.RandomState(0)
        self.velocity = np.zeros(1, np.float32)
        self.batches_seen = self.examples_seen = self.epochs = 0

    def setup(self, model, dataset):
        self.model = model
        self.events.append("setup")

    def train(self, dataset):
        self.epochs += 1
        for _ in range(3):
            step = self.rng.randn(1).astype(np.float32)
            self.velocity = np.float32(.5) * self.velocity + step
            self.model.values["D/y_b"] += self.velocity
            self.batches_seen += 1
            self.examples_seen += 10
        if self.blow_up_at == self.epochs:
            self.model.values["G/h0_W"][0, 0] = np.nan
        self.events.append("train")

    def continue_learning(self, model):
        return self.max_epochs is None or self.epochs < self.max_epochs

    def monitor(self, model):
        self.events.append("monitor")
        return {"valid_objective_d": float(model.values["D/y_b"][0]), "learning_rate": .1}

    def state_arrays(self):
        return {"velocity/D/y_b": self.velocity.copy()}

    def state_meta(self):
        return {"rng": ckpt.numpy_rng_state(self.rng), "batches": self.batches_seen,
                "examples": self.examples_seen, "epochs": self.epochs}

    def load_state(self, arrays, meta):
        self.velocity = arrays["velocity/D/y_b"].copy()
        ckpt.set_numpy_rng_state(self.rng, meta["rng"])
        self.batches_seen, self.examples_seen = meta["batches"], meta["examples"]
        self.epochs = meta["epochs"]


class RecordingExtension:
    def __init__(self, events):
        self.events, self.calls = events, 0

    def on_monitor(self, model, dataset, algorithm):
        self.calls += 1
        self.events.append("extension")

    def state_dict(self):
        return {"calls": self.calls}

    def load_state_dict(self, state):
        self.calls = state["calls"]


def make_train(tmp_path, events, max_epochs=None, blow_up_at=None, save_freq=1):
    train = Train(dataset=None, model=ToyModel(), save_freq=save_freq,
                  algorithm=ToyAlgorithm(events, max_epochs, blow_up_at),
                  extensions=[RecordingExtension(events)])
    train.configure(out_dir=tmp_path, verbose=False, backend="toy", keep_checkpoints=0)
    return train


def test_pylearn2_order_epoch0_monitoring_then_train_monitor_extensions(tmp_path):
    """setup, monitor+extensions at epoch 0 before any update, then train/monitor/extensions.
    Exact: the event list, counts, checkpoint epochs and monitor.csv lines."""
    events = []
    train = make_train(tmp_path, events, max_epochs=2)
    assert train.main_loop() == 2
    assert events == ["setup", "monitor", "extension", "train", "monitor", "extension",
                      "train", "monitor", "extension"]
    assert train.model.constraints_enforced == 1
    assert [e for e, _ in ckpt.list_checkpoints(tmp_path / "checkpoints")] == [1, 2]
    rows = (tmp_path / "monitor.csv").read_text().splitlines()
    assert len(rows) == 4 and rows[0].startswith("epoch,batches_seen")


def test_resume_continues_to_the_same_parameters_bit_for_bit(tmp_path):
    """4 epochs straight == 2 epochs, then a fresh process-like object resumed from the checkpoint,
    2 more. Exact: np.array_equal on every parameter and integer counters, as the resumed run
    restores the RandomState, velocity and counters and repeats the same float32 steps."""
    straight = make_train(tmp_path / "a", [])
    straight.configure(max_epochs=4)
    straight.main_loop()

    first = make_train(tmp_path / "b", [])
    first.configure(max_epochs=2)
    first.main_loop()
    resumed = make_train(tmp_path / "b", [])
    resumed.configure(max_epochs=4)
    resumed.main_loop(resume_from=ckpt.latest_checkpoint(tmp_path / "b" / "checkpoints"))

    for name, value in straight.model.get_param_values().items():
        assert np.array_equal(value, resumed.model.get_param_values()[name]), name
    assert resumed.extensions[0].calls == straight.extensions[0].calls == 5
    assert resumed.algorithm.batches_seen == straight.algorithm.batches_seen


def test_divergence_stops_with_epoch_and_keeps_last_good_checkpoint(tmp_path):
    """A parameter made NaN in epoch 3 stops training with an error naming the parameter, the epoch
    and the last good checkpoint (epoch 2), and no checkpoint of the NaN epoch is written. Exact:
    the message and the checkpoints' epoch numbers (integers)."""
    train = make_train(tmp_path, [], blow_up_at=3)
    with pytest.raises(TrainingDivergedError, match=r"G/h0_W after epoch 3.*epoch_000002"):
        train.main_loop()
    assert [e for e, _ in ckpt.list_checkpoints(tmp_path / "checkpoints")] == [1, 2]


def test_time_budget_is_checked_at_epoch_start(tmp_path):
    """With a time budget of 0 s the loop starts no epoch and returns 0 epochs seen, although 50
    are allowed. Exact: an integer count."""
    train = make_train(tmp_path, [], max_epochs=50)
    assert train.main_loop(time_budget=0.0) == 0


def test_a_budget_used_up_mid_run_stops_at_the_next_epoch_start(tmp_path, monkeypatch):
    """With a clock that advances 10 s per training epoch and a budget of 25 s, the loop runs the
    epochs that start inside the budget (at 0, 10 and 20 s) to their end, starts no fourth one, and
    checkpoints the third. Exact: integer epoch counts on a fake clock."""
    import time
    import types

    import gan2014.train

    events = []
    clock = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time)
                                     if not name.startswith("_")})
    clock.time = lambda: 1000.0 + 10.0 * events.count("train")
    monkeypatch.setattr(gan2014.train, "time", clock)
    train = make_train(tmp_path, events, max_epochs=50)
    assert train.main_loop(time_budget=25.0) == 3
    assert events.count("train") == 3
    assert [e for e, _ in ckpt.list_checkpoints(tmp_path / "checkpoints")][-1] == 3


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    """Resuming from a checkpoint whose G/h0_W has another shape is a CheckpointError naming the
    parameter and its shape. Exact: the error type and message."""
    train = make_train(tmp_path, [], max_epochs=1)
    train.main_loop()
    path = ckpt.latest_checkpoint(tmp_path / "checkpoints")
    arrays, meta = ckpt.load_checkpoint(path)
    arrays["G/h0_W"] = np.zeros((3, 3), np.float32)
    ckpt.save_checkpoint(tmp_path / "other.npz", arrays, meta)
    other = make_train(tmp_path / "x", [])
    with pytest.raises(ckpt.CheckpointError, match="G/h0_W has shape"):
        other.main_loop(resume_from=tmp_path / "other.npz")


# ---------------------------------------------------------------- the progress line
def test_progress_line_shows_epoch_of_total_wall_time_and_time_left():
    """The progress line shows epoch N/M, the epoch's seconds, s/epoch and the time left (2,988
    epochs at 25 s: 20 h 45 min) before the channels; without the total or the rate those parts are
    left out. Exact: the formatted text."""
    from gan2014.monitor_log import progress_line

    line = progress_line(12, 15.2, {"valid_objective_d": 0.5}, total_epochs=3000,
                         wall_per_epoch=25.0)
    # 2,988 epochs left at 25 s: 74,700 s = 20 h 45 min.
    assert line.startswith("epoch    12/3000 |   15.20 s | 25.0 s/epoch, 20 h 45 min left | ")
    assert line.endswith("obj_d 0.5")
    assert progress_line(3, 1.0, {}) == "epoch     3 |    1.00 s"  # nothing known: as before
    assert progress_line(3, 1.0, {}, total_epochs=5) == "epoch     3/5 |    1.00 s"


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (59.4, "59 s"), (61, "1 min 01 s"),
                                           (3600, "1 h 00 min"), (90061, "1 d 01 h")])
def test_time_left_formats(seconds, text):
    """format_duration gives the two largest units of the rounded seconds: 0 s, 59 s (59.4),
    1 min 01 s, 1 h 00 min, 1 d 01 h (90,061 s). Exact: the text."""
    from gan2014.monitor_log import format_duration

    assert format_duration(seconds) == text


def test_epoch_clock_spreads_a_lap_over_its_epochs_and_keeps_the_recent_ones():
    """The first lap only starts the clock; a lap over two epochs counts half its seconds for each;
    only the last window (3) epochs are kept. Exact: the fake clock's times are sums and halves of
    small round numbers, exact in float64."""
    from gan2014.train import EpochClock

    now = [100.0]
    clock = EpochClock(window=3, clock=lambda: now[0])
    clock.lap(0)  # starts the clock only: set-up and epoch-0 monitoring are not counted
    assert clock.mean() is None
    now[0] += 20.0
    clock.lap(1)
    assert clock.mean() == 20.0
    now[0] += 30.0
    clock.lap(3)  # two epochs in one lap (--monitor-every 2): 15 s each
    assert list(clock.recent) == [20.0, 15.0, 15.0]
    now[0] += 40.0
    clock.lap(4)
    assert list(clock.recent) == [15.0, 15.0, 40.0]


def test_train_prints_epoch_of_total_from_max_epochs_and_the_criterion(tmp_path, capsys):
    """Train's progress lines read epoch 0/2 (no wall time yet), 1/2 and 2/2 with s/epoch and time
    left (0 s at the end); the total is the smaller of --max-epochs (2) and the criterion's
    max_epochs (7), and the criterion's alone when --max-epochs is unset. Exact: text and
    integers."""
    events = []
    train = make_train(tmp_path, events, max_epochs=None)

    class Counter:  # an EpochCounter's public limit
        max_epochs = 7

    train.algorithm.termination_criterion = Counter()
    train.configure(max_epochs=2)
    train.main_loop()
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert lines[0].startswith("epoch     0/2 |    0.00 s | obj_d")  # no wall time at epoch 0
    assert lines[1].startswith("epoch     1/2 |")
    assert " s/epoch, " in lines[1] and " left | " in lines[1]
    assert lines[2].startswith("epoch     2/2 |") and "s/epoch, 0 s left" in lines[2]
    assert train.total_epochs() == 2
    train.configure(max_epochs=None)
    assert train.total_epochs() == 7


def test_the_epoch_counter_exposes_its_limit():
    """The progress line's M of `epoch N/M` comes from the shared EpochCounter's max_epochs.
    Exact: an integer."""
    from gan2014.termination_criteria import EpochCounter

    assert EpochCounter(3000).max_epochs == 3000
