"""Pylearn2's training loop (pylearn2/train.py :: Train), framework-free, used by both backends.

The loop is Pylearn2's: setup (which compiles the step and projects the weights onto their max-norm
constraints once), a monitoring step at epoch 0 before any update, then for each epoch: train one epoch,
monitor, run the extensions' on_monitor (MomentumAdjustor), save every `save_freq` epochs, and stop
when the algorithm's termination criterion (or --max-epochs, or the time budget, checked at the start
of an epoch) says so.

What differs from 2014, on purpose:
* the model is never pickled: every save writes a data-only checkpoint (gan2014.checkpoint) holding
  parameters, velocities, schedules, counters and RNG states, so a run resumes exactly;
* `save_path` only says *that* the run saves; checkpoints go to <out_dir>/checkpoints/, rotated;
* a non-finite parameter or objective stops the run with a message naming the epoch, before the bad
  state can overwrite the last good checkpoint.
The backend protocol this relies on is described in docs/ARCHITECTURE.md.
"""
import math
import time
from pathlib import Path

import numpy as np

from gan2014 import checkpoint as ckpt
from gan2014.monitor_log import MonitorLog


class TrainingDivergedError(RuntimeError):
    """A parameter or an objective became NaN or Inf."""


class Train:
    """Pylearn2's Train object. Constructor arguments are the YAML's (`!obj:pylearn2.train.Train`)."""

    def __init__(self, dataset, model, algorithm=None, save_path=None, save_freq=0,
                 extensions=None, allow_overwrite=True):
        if algorithm is None:
            raise ValueError("Train: this project needs an `algorithm` (Pylearn2's model-only "
                             "training path is not supported)")
        self.dataset = dataset
        self.model = model
        self.algorithm = algorithm
        self.save_path = save_path
        self.save_freq = int(save_freq)
        self.extensions = list(extensions or [])
        self.allow_overwrite = allow_overwrite
        self.epochs_seen = 0
        self.total_seconds_last_epoch = 0.0
        self.options = RunOptions()
        self._log = None

    # ---------------------------------------------------------------- configuration by the CLI
    def configure(self, **options):
        """Set run options (out_dir, max_epochs, keep_checkpoints, yaml_text, backend, verbose)."""
        for name, value in options.items():
            if not hasattr(self.options, name):
                raise TypeError(f"unknown run option {name!r}")
            setattr(self.options, name, value)
        return self

    # ---------------------------------------------------------------- the loop
    def setup(self):
        self.algorithm.setup(self.model, self.dataset)
        for extension in self.extensions:
            if hasattr(extension, "setup"):
                extension.setup(self.model, self.dataset, self.algorithm)
        # Pylearn2 projected the freshly initialised weights onto the max-norm constraints here.
        self.model.enforce_constraints()
        self._log = MonitorLog(self.options.out_dir, verbose=self.options.verbose)

    def main_loop(self, time_budget=None, resume_from=None):
        """Train until a stopping rule fires; returns the number of epochs seen."""
        start = time.time()
        self.setup()
        if resume_from is not None:
            self.load(resume_from)
        else:
            self._monitor_and_extend(seconds=0.0)
        while self._may_start_epoch(start, time_budget):
            seconds = self._train_one_epoch()
            self.epochs_seen += 1
            keep_going = self._monitor_and_extend(seconds)
            self._check_finite()
            if self.save_freq > 0 and self.epochs_seen % self.save_freq == 0:
                self.save()
            if not (self.algorithm.continue_learning(self.model) and keep_going):
                break
        if self.save_freq > 0:
            self.save()
        return self.epochs_seen

    def _may_start_epoch(self, start, time_budget):
        if self.options.max_epochs is not None and self.epochs_seen >= self.options.max_epochs:
            return False
        if time_budget is not None and time.time() - start >= time_budget:
            print(f"Time budget of {time_budget} s used up after {self.epochs_seen} epochs.")
            return False
        return True

    def _train_one_epoch(self):
        began = time.time()
        try:
            self.algorithm.train(self.dataset)
        except KeyboardInterrupt:
            self._report_interrupt()
            raise
        seconds = time.time() - began
        self.total_seconds_last_epoch = seconds
        return seconds

    def _monitor_and_extend(self, seconds):
        """Monitor (printing every channel), then run each extension's on_monitor, in list order."""
        channels = dict(self.algorithm.monitor(self.model))
        channels["training_seconds_this_epoch"] = seconds
        channels["total_seconds_last_epoch"] = self.total_seconds_last_epoch
        self._log.record(self.epochs_seen, self.algorithm.batches_seen,
                         self.algorithm.examples_seen, seconds, channels)
        self.last_channels = channels
        keep_going = True
        for extension in self.extensions:
            if hasattr(extension, "on_monitor"):
                try:
                    extension.on_monitor(self.model, self.dataset, self.algorithm)
                except StopIteration:
                    keep_going = False
        return keep_going

    # ---------------------------------------------------------------- safety checks
    def _check_finite(self):
        bad = [name for name, value in self.model.get_param_values().items()
               if not np.all(np.isfinite(value))]
        bad += [name for name, value in self.last_channels.items()
                if "objective" in name and not math.isfinite(float(value))]
        if bad:
            last = self._latest_checkpoint()
            raise TrainingDivergedError(
                f"non-finite values in {', '.join(bad)} after epoch {self.epochs_seen} "
                f"(batches seen: {self.algorithm.batches_seen}); nothing was saved for this epoch; "
                f"last good checkpoint: {last if last else 'none'}")

    def _report_interrupt(self):
        last = self._latest_checkpoint()
        print(f"\nInterrupted during epoch {self.epochs_seen + 1}. Last checkpoint: "
              f"{last if last else 'none'} (resume continues from there, exactly).", flush=True)

    # ---------------------------------------------------------------- checkpoints
    @property
    def checkpoint_dir(self):
        if self.options.out_dir is None:
            return None
        return Path(self.options.out_dir) / "checkpoints"

    def _latest_checkpoint(self):
        return ckpt.latest_checkpoint(self.checkpoint_dir) if self.checkpoint_dir else None

    def save(self):
        """Write the data-only checkpoint of the current epoch and rotate old ones."""
        if self.checkpoint_dir is None:
            return None
        path = ckpt.checkpoint_path(self.checkpoint_dir, self.epochs_seen)
        if path.exists() and not self.allow_overwrite:
            raise ckpt.CheckpointError(f"{path} exists and allow_overwrite is False")
        arrays = dict(self.model.get_param_values())
        arrays.update(self.algorithm.state_arrays())
        meta = {
            "backend": self.options.backend,
            "epoch": self.epochs_seen,
            "param_names": list(self.model.param_names()),
            "algorithm": self.algorithm.state_meta(),
            "extensions": [_state_of(extension) for extension in self.extensions],
            "total_seconds_last_epoch": self.total_seconds_last_epoch,
            "yaml": self.options.yaml_text,
        }
        ckpt.save_checkpoint(path, arrays, meta)
        ckpt.rotate_checkpoints(self.checkpoint_dir, self.options.keep_checkpoints)
        return path

    def load(self, path):
        """Restore everything a checkpoint holds; training then continues after its epoch."""
        arrays, meta = ckpt.load_checkpoint(path)
        values = self.model.get_param_values()
        ckpt.check_parameters_match(path, arrays, {n: v.shape for n, v in values.items()})
        self.model.set_param_values({name: arrays[name] for name in values})
        self.algorithm.load_state(arrays, meta["algorithm"])
        states = meta.get("extensions", [])
        if len(states) != len(self.extensions):
            raise ckpt.CheckpointError(f"{path} was saved with {len(states)} extensions, this "
                                       f"configuration has {len(self.extensions)}")
        for extension, state in zip(self.extensions, states):
            if state is not None and hasattr(extension, "load_state_dict"):
                extension.load_state_dict(state)
        self.epochs_seen = int(meta["epoch"])
        self.total_seconds_last_epoch = float(meta.get("total_seconds_last_epoch", 0.0))
        print(f"Resumed from {path} (epoch {self.epochs_seen}, saved by the "
              f"{meta.get('backend')} backend).", flush=True)


class RunOptions:
    """Options that come from the command line rather than the YAML."""

    def __init__(self):
        self.out_dir = None
        self.max_epochs = None
        self.keep_checkpoints = 3
        self.yaml_text = None
        self.backend = None
        self.verbose = True


def _state_of(extension):
    return extension.state_dict() if hasattr(extension, "state_dict") else None
