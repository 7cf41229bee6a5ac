"""The framework-free Train loop follows Pylearn2's order and resumes exactly.

A tiny numpy 'backend' (a model with two parameters and an algorithm that takes random steps from its
own RandomState) stands in for Aesara and torch: what is tested here is the loop, not the math.
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
    """setup, monitor+extensions at epoch 0 before any update, then train/monitor/extensions."""
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
    """4 epochs straight == 2 epochs, a fresh process-like object resumed from the checkpoint, 2 more."""
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
    train = make_train(tmp_path, [], blow_up_at=3)
    with pytest.raises(TrainingDivergedError, match=r"G/h0_W after epoch 3.*epoch_000002"):
        train.main_loop()
    assert [e for e, _ in ckpt.list_checkpoints(tmp_path / "checkpoints")] == [1, 2]


def test_time_budget_is_checked_at_epoch_start(tmp_path):
    train = make_train(tmp_path, [], max_epochs=50)
    assert train.main_loop(time_budget=0.0) == 0


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    train = make_train(tmp_path, [], max_epochs=1)
    train.main_loop()
    path = ckpt.latest_checkpoint(tmp_path / "checkpoints")
    arrays, meta = ckpt.load_checkpoint(path)
    arrays["G/h0_W"] = np.zeros((3, 3), np.float32)
    ckpt.save_checkpoint(tmp_path / "other.npz", arrays, meta)
    other = make_train(tmp_path / "x", [])
    with pytest.raises(ckpt.CheckpointError, match="G/h0_W has shape"):
        other.main_loop(resume_from=tmp_path / "other.npz")
