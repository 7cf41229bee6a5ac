"""Pylearn2's training loop (pylearn2/train.py :: Train), framework-free, used by both backends.

The loop is Pylearn2's: setup (which compiles the step and projects the weights onto their max-norm
constraints once), a monitoring step at epoch 0 before any update, then for each epoch: train one
epoch, monitor, run the extensions' on_monitor (MomentumAdjustor), save every `save_freq` epochs,
and stop when the algorithm's termination criterion (or --max-epochs, or the time budget, checked at
the start of an epoch) says so.

What differs from 2014, on purpose:
* the model is never pickled: every save writes a data-only checkpoint (gan2014.checkpoint) holding
  parameters, velocities, schedules, counters and RNG states, so a run resumes exactly;
* `save_path` only says *that* the run saves; checkpoints go to <out_dir>/checkpoints/, rotated;
* a non-finite parameter (checked by the SGD after every batch) or monitored objective stops the run
  with a message naming the epoch and batch, before the bad state can overwrite the last good
  checkpoint;
* the first Ctrl-C (SIGINT) during the epoch loop is a request: the SGD stops after the batch in
  progress, Train writes a checkpoint of that exact place (epoch_NNNNNN_batch_BBBBBB.npz) and raises
  TrainingInterrupted; a second Ctrl-C stops at once (nothing more is saved). Outside the loop
  (setup, compilation, epoch-0 monitoring) Ctrl-C stops at once;
* a checkpoint given to resume is read and checked against the model BEFORE setup (which can compile
  for minutes), and the run folder is locked against a second run writing into it.
The backend protocol this relies on is described in docs/ARCHITECTURE.md; for the interrupt the SGD
also offers `stop_requested` (a callable Train sets, polled after every batch) and
`batches_into_epoch` (batches done of an epoch that was stopped inside; 0 at epoch boundaries).
"""
import collections
import contextlib
import json
import math
import numbers
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from gan2014 import checkpoint as ckpt
from gan2014.config.checks import check_whole_number
from gan2014.monitor_log import MonitorLog

# <out_dir>/run_facts.jsonl: one line per start of the run (Train.run_facts and the epoch).
RUN_FACTS_FILE = "run_facts.jsonl"

try:
    import fcntl
except ImportError:  # not on Windows: the run folder is then not locked
    fcntl = None


class TrainingDivergedError(RuntimeError):
    """A parameter or an objective became NaN or Inf.

    The backends' SGD raise it after the batch that made a parameter non-finite (`batch`, counted
    from 1 within the epoch, out of `batches_in_epoch`); Train then fills in `epoch` and
    `last_checkpoint` (the newest checkpoint on disk: nothing was saved after it).
    """

    def __init__(self, names, batch=None, batches_in_epoch=None, batches_seen=None, epoch=None,
                 last_checkpoint=None, note=""):
        super().__init__(names)
        # A plain message (the form this error took before it carried epoch and batch) is kept.
        self.message = names if isinstance(names, str) else None
        self.names = [] if isinstance(names, str) else list(names)
        self.batch = batch
        self.batches_in_epoch = batches_in_epoch
        self.batches_seen = batches_seen
        self.epoch = epoch
        self.last_checkpoint = last_checkpoint
        self.note = note

    def __str__(self):
        if self.message is not None:
            return self.message
        names = ", ".join(self.names) if self.names else "the parameters"
        where = []
        if self.epoch is not None:
            where.append(f"epoch {self.epoch}")
        if self.batch is not None:
            of = f" of {self.batches_in_epoch}" if self.batches_in_epoch else ""
            where.append(f"batch {self.batch}{of}")
        message = f"training diverged: non-finite values (NaN or Inf) in {names}"
        if where:
            message += " after " + ", ".join(where)
        if self.batches_seen is not None:
            message += f" (batches seen in total: {self.batches_seen})"
        if self.note:
            message += f" {self.note}"
        if self.last_checkpoint is not None:
            message += (". Nothing was saved after the last good checkpoint, "
                        f"{self.last_checkpoint}, which is intact")
        else:
            message += ". No checkpoint had been saved yet"
        return message + "."


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the run; the message says where, and which checkpoint --resume starts from."""


class RunFolderInUse(RuntimeError):
    """Another process is training into the same output folder."""


class Train:
    """Pylearn2's Train object; the constructor takes the YAML's (`!obj:pylearn2.train.Train`)."""

    def __init__(self, dataset, model, algorithm=None, save_path=None, save_freq=0,
                 extensions=None, allow_overwrite=True):
        if algorithm is None:
            raise ValueError("Train: this project needs an `algorithm` (Pylearn2's model-only "
                             "training path is not supported)")
        self.dataset = dataset
        self.model = model
        self.algorithm = algorithm
        self.save_path = save_path
        self.save_freq = check_whole_number("Train", "save_freq", save_freq)
        self.extensions = list(extensions or [])
        self.allow_overwrite = allow_overwrite
        self.epochs_seen = 0
        self.total_seconds_last_epoch = 0.0
        self.last_channels = {}
        self.options = RunOptions()
        self._log = None
        self._clock = EpochClock()

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

    def run_facts(self):
        """What the numbers of this run depend on besides the YAML: the backend and, from the
        algorithm, the step implementation, the seed of the noise/dropout streams and floatX."""
        facts = {"backend": self.options.backend}
        if hasattr(self.algorithm, "run_facts"):
            facts.update(self.algorithm.run_facts())
        return facts

    def _record_run_facts(self):
        """The run's header: one `Run: ...` line in the log and one JSON line per start (a resumed
        run appends its own, with the epoch it starts from) in <out_dir>/run_facts.jsonl, beside
        monitor.csv."""
        facts = self.run_facts()
        print("Run: " + ", ".join(f"{key} {value}" for key, value in facts.items()), flush=True)
        if self.options.out_dir is not None:
            with open(Path(self.options.out_dir) / RUN_FACTS_FILE, "a", encoding="utf-8") as out:
                out.write(json.dumps(dict(facts, epoch=self.epochs_seen)) + "\n")

    def main_loop(self, time_budget=None, resume_from=None):
        """Train until a stopping rule fires; returns the number of epochs seen.

        Raises TrainingInterrupted on Ctrl-C (after saving the exact place where the first Ctrl-C
        stopped the epoch loop), TrainingDivergedError on NaN/Inf, ckpt.CheckpointError for a
        checkpoint that cannot be read, used or written, RunFolderInUse.
        """
        start = time.time()
        self._stop_requested = False
        self._where = "before training started"
        try:
            # Read and check the checkpoint before setup, which can compile for minutes.
            loaded = self._read_checkpoint(resume_from) if resume_from is not None else None
            with self._run_folder():
                return self._loop(start, time_budget, loaded)
        except TrainingInterrupted:
            raise
        except KeyboardInterrupt:
            raise TrainingInterrupted(self._hard_interrupt_message()) from None

    def _loop(self, start, time_budget, loaded):
        self._where = "during setup"
        self.setup()
        keep_going = True
        if loaded is not None:
            keep_going = self._restore(*loaded)
        self._record_run_facts()
        if loaded is None:
            self._where = "during the epoch-0 monitoring"
            self._monitor_and_extend(seconds=0.0)
        self._clock.lap(self.epochs_seen)  # the wall clock of the progress line starts here
        saved_epoch = None
        with self._interrupt_requests():
            while keep_going and self._may_start_epoch(start, time_budget):
                self._where = f"during epoch {self.epochs_seen + 1}"
                seconds = self._train_one_epoch()
                if getattr(self.algorithm, "batches_into_epoch", 0):
                    # The SGD stopped inside the epoch, after a batch, because of a Ctrl-C.
                    raise TrainingInterrupted(self._stop_inside_epoch())
                self.epochs_seen += 1
                self._where = f"after epoch {self.epochs_seen}"
                extensions_continue = self._monitor_and_extend(seconds)
                self._check_finite()
                if self.save_freq > 0 and self.epochs_seen % self.save_freq == 0:
                    # Saved before the termination criterion is asked, as Pylearn2 did; the
                    # checkpoint says so, and a run resumed from it asks the same question first.
                    self.save(criterion_asked=False, extensions_continue=extensions_continue)
                    saved_epoch = self.epochs_seen
                keep_going = self.algorithm.continue_learning(self.model) and extensions_continue
                if self._stop_requested:
                    if self.save_freq > 0 and saved_epoch != self.epochs_seen:
                        self.save(criterion_asked=True)  # an epoch save_freq skips: keep it
                    raise TrainingInterrupted(self._stop_after_epoch())
        if self.save_freq > 0 and saved_epoch != self.epochs_seen:
            self.save(criterion_asked=True)
        return self.epochs_seen

    def _may_start_epoch(self, start, time_budget):
        if self.options.max_epochs is not None and self.epochs_seen >= self.options.max_epochs:
            return False
        if time_budget is not None and time.time() - start >= time_budget:
            print(f"Time budget of {time_budget} s used up after {self.epochs_seen} epochs.")
            return False
        if self.options.before_epoch is not None and not self.options.before_epoch(self):
            return False  # a pause, exactly as a used-up time budget: the run resumes from here
        return True

    def _train_one_epoch(self):
        began = time.time()
        try:
            self.algorithm.train(self.dataset)
        except TrainingDivergedError as error:
            error.epoch = self.epochs_seen + 1
            error.last_checkpoint = self._latest_checkpoint()
            raise
        seconds = time.time() - began
        self.total_seconds_last_epoch = seconds
        return seconds

    def total_epochs(self):
        """The epoch the run will stop after, if known: the smaller of --max-epochs and the
        termination criterion's ``max_epochs`` (EpochCounter; both count from the run's start, so
        a resumed run keeps the same total). None when neither is set."""
        limits = [self.options.max_epochs]
        criterion = getattr(self.algorithm, "termination_criterion", None)
        limits.append(getattr(criterion, "max_epochs", None))
        limits = [int(limit) for limit in limits
                  if isinstance(limit, numbers.Integral) and not isinstance(limit, bool)]
        return min(limits) if limits else None

    def _monitor_due(self):
        """Epoch 0, every ``monitor_every``-th epoch and the last epoch of --max-epochs (every epoch
        by default, as Pylearn2)."""
        every, last = self.options.monitor_every, self.options.max_epochs
        return self.epochs_seen % every == 0 or (last is not None and self.epochs_seen >= last)

    def _monitor_and_extend(self, seconds):
        """Monitor (printing every channel) when due, then run each extension's on_monitor, in
        list order, after every epoch: the momentum schedule steps per epoch whether or not the
        channels were computed. The monitor draws from streams of its own (port_torch: the
        "monitor" generator; legacy_aesara: the monitor function's own MRG states), so skipping it
        changes no training number."""
        if self._monitor_due():
            channels = dict(self.algorithm.monitor(self.model))
            channels["training_seconds_this_epoch"] = seconds
            channels["total_seconds_last_epoch"] = self.total_seconds_last_epoch
            self._clock.lap(self.epochs_seen)
            self._log.record(self.epochs_seen, self.algorithm.batches_seen,
                             self.algorithm.examples_seen, seconds, channels,
                             total_epochs=self.total_epochs(), wall_per_epoch=self._clock.mean())
            self.last_channels = channels
        keep_going = True
        for extension in self.extensions:
            if hasattr(extension, "on_monitor"):
                try:
                    extension.on_monitor(self.model, self.dataset, self.algorithm)
                except StopIteration:
                    keep_going = False
        return keep_going

    # ---------------------------------------------------------------- Ctrl-C
    @contextlib.contextmanager
    def _interrupt_requests(self):
        """During the epoch loop the first SIGINT only sets a flag (the SGD polls it after each
        batch, Train after each epoch's save); a second SIGINT raises KeyboardInterrupt at once. A
        SIGINT the process was started to ignore stays ignored; outside the main thread nothing
        changes."""
        install = (threading.current_thread() is threading.main_thread()
                   and signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, None))

        def request_stop(signum, frame):
            if self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested = True
            print("\nCtrl-C: stopping after the batch in progress and saving a checkpoint of that "
                  "exact place (press Ctrl-C again to stop at once, without saving).",
                  file=sys.stderr, flush=True)

        previous = signal.signal(signal.SIGINT, request_stop) if install else None
        self.algorithm.stop_requested = lambda: self._stop_requested
        try:
            yield
        finally:
            self.algorithm.stop_requested = None
            if install:
                signal.signal(signal.SIGINT, previous)

    def _stop_inside_epoch(self):
        done = self.algorithm.batches_into_epoch
        total = getattr(self.algorithm, "batches_per_epoch", None)
        where = (f"in epoch {self.epochs_seen + 1} after batch {done}"
                 + (f" of {total}" if total else ""))
        if self.save_freq <= 0 or self.checkpoint_dir is None:
            return (f"Interrupted (Ctrl-C) {where}; saving is off (save_freq: 0), so nothing was "
                    "saved.")
        path = self.save()
        return (f"Interrupted (Ctrl-C) {where}. Saved checkpoint {path}; --resume continues "
                "exactly from there.")

    def _stop_after_epoch(self):
        last = self._latest_checkpoint()
        if last is None:
            return f"Interrupted (Ctrl-C) after epoch {self.epochs_seen}; no checkpoint was saved."
        return (f"Interrupted (Ctrl-C) after epoch {self.epochs_seen}. Last checkpoint: {last}; "
                "--resume continues exactly from there.")

    def _hard_interrupt_message(self):
        last = self._latest_checkpoint()
        if last is None:
            return f"Interrupted (Ctrl-C) {self._where}; no checkpoint has been saved."
        return (f"Interrupted (Ctrl-C) {self._where}; nothing was saved after the last checkpoint, "
                f"{last}: --resume continues exactly from there.")

    # ---------------------------------------------------------------- safety checks
    def _check_finite(self):
        """After each epoch's monitoring: parameters and monitored objectives must be finite."""
        bad = [name for name, value in self.model.get_param_values().items()
               if not np.all(np.isfinite(value))]
        bad += [name for name, value in self.last_channels.items()
                if "objective" in name and not math.isfinite(float(value))]
        if bad:
            raise TrainingDivergedError(bad, epoch=self.epochs_seen,
                                        batches_seen=self.algorithm.batches_seen,
                                        last_checkpoint=self._latest_checkpoint(),
                                        note="(found by the monitoring at the end of the epoch)")

    # ---------------------------------------------------------------- checkpoints
    @property
    def checkpoint_dir(self):
        if self.options.out_dir is None:
            return None
        return Path(self.options.out_dir) / "checkpoints"

    def _latest_checkpoint(self):
        return ckpt.latest_checkpoint(self.checkpoint_dir) if self.checkpoint_dir else None

    @contextlib.contextmanager
    def _run_folder(self):
        """Hold an exclusive lock on the output folder while training (a second run into the same
        folder would interleave checkpoints and logs), and remove temporary files that a process
        killed while saving left in checkpoints/. The kernel releases the lock when the process
        ends, however it ends."""
        if self.options.out_dir is None:
            yield
            return
        out_dir = Path(self.options.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = open(out_dir / ".lock", "a")
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise RunFolderInUse(f"{out_dir} is in use by another training run (it holds "
                                         f"{out_dir / '.lock'}); wait for it to end or choose "
                                         "another --out") from None
            for path in ckpt.remove_stale_temp_files(self.checkpoint_dir):
                print(f"Removed {path}, left by a checkpoint write that never finished.",
                      flush=True)
            yield
        finally:
            handle.close()  # releases the lock

    def save(self, criterion_asked=True, extensions_continue=True):
        """Write the data-only checkpoint of the current place and rotate old ones.

        At an epoch boundary that is epoch_NNNNNN.npz; after a Ctrl-C inside an epoch (the SGD's
        `batches_into_epoch` > 0) it is epoch_NNNNNN_batch_BBBBBB.npz. `criterion_asked` says
        whether the termination criterion has already been asked after this epoch (its counter
        advanced); if not, a resumed run asks it first, with `extensions_continue` (the extensions'
        answer).
        """
        if self.checkpoint_dir is None:
            return None
        batch = int(getattr(self.algorithm, "batches_into_epoch", 0) or 0)
        path = ckpt.checkpoint_path(self.checkpoint_dir, self.epochs_seen, batch)
        if path.exists() and not self.allow_overwrite:
            raise ckpt.CheckpointError(f"{path} exists and allow_overwrite is False")
        arrays = dict(self.model.get_param_values())
        arrays.update(self.algorithm.state_arrays())
        meta = {
            "backend": self.options.backend,
            "epoch": self.epochs_seen,
            "batches_into_epoch": batch,
            "criterion_asked": bool(criterion_asked or batch),
            "extensions_continue": bool(extensions_continue),
            "param_names": list(self.model.param_names()),
            "algorithm": self.algorithm.state_meta(),
            "extensions": [_state_of(extension) for extension in self.extensions],
            "total_seconds_last_epoch": self.total_seconds_last_epoch,
            "yaml": self.options.yaml_text,
            # Extra metadata (absent from older checkpoints, which load all the same).
            "run": self.run_facts(),
        }
        previous = self._latest_checkpoint()
        try:
            ckpt.save_checkpoint(path, arrays, meta)
        except ckpt.CheckpointWriteError as error:
            kept = (f"The last checkpoint written, {previous}, is intact (byte for byte): fix the "
                    "cause (e.g. free disk space) and --resume from it" if previous is not None
                    else "No earlier checkpoint exists")
            raise ckpt.CheckpointWriteError(f"{error}. {kept}.") from error.__cause__
        ckpt.rotate_checkpoints(self.checkpoint_dir, self.options.keep_checkpoints)
        return path

    def load(self, path):
        """Restore everything a checkpoint holds (after setup); returns whether training goes on."""
        return self._restore(*self._read_checkpoint(path))

    def _read_checkpoint(self, path):
        """Read a checkpoint and check it fits this model and configuration (no side effects)."""
        arrays, meta = ckpt.load_checkpoint(path)
        for key in ("epoch", "algorithm"):
            if key not in meta:
                raise ckpt.CheckpointError(f"{path}: the checkpoint's metadata lacks {key!r}")
        shapes = {name: value.shape for name, value in self.model.get_param_values().items()}
        ckpt.check_parameters_match(path, arrays, shapes, saved_names=meta.get("param_names"))
        states = meta.get("extensions", [])
        if len(states) != len(self.extensions):
            raise ckpt.CheckpointError(f"{path} was saved with {len(states)} extensions, this "
                                       f"configuration has {len(self.extensions)}")
        return path, arrays, meta

    def _restore(self, path, arrays, meta):
        names = self.model.param_names()
        self.model.set_param_values({name: arrays[name] for name in names})
        algorithm_meta = dict(meta["algorithm"])
        algorithm_meta.setdefault("epochs_seen", int(meta["epoch"]))
        try:
            self.algorithm.load_state(arrays, algorithm_meta)
        except (KeyError, ValueError, TypeError) as error:
            raise ckpt.CheckpointError(f"{path} does not fit this configuration: "
                                       f"{type(error).__name__}: {error}") from error
        for extension, state in zip(self.extensions, meta.get("extensions", [])):
            if state is not None and hasattr(extension, "load_state_dict"):
                extension.load_state_dict(state)
        self.epochs_seen = int(meta["epoch"])
        self.total_seconds_last_epoch = float(meta.get("total_seconds_last_epoch", 0.0))
        dropped = self._log.truncate_after(self.epochs_seen)
        if dropped:
            print(f"Dropped {dropped} monitor.jsonl row(s) of epochs after {self.epochs_seen}: the "
                  "run is resumed from before them and monitors those epochs again.", flush=True)
        saved_by, running = meta.get("backend"), self.options.backend
        if saved_by and running and saved_by != running:
            print(f"Note: {path} was written by the {saved_by} backend. Parameters, velocities, "
                  "learning rate, momentum, schedules, counters and the batch-order RNG carry over "
                  "exactly; the noise and dropout random streams are backend-specific "
                  f"({saved_by}'s generator states cannot drive {running}'s), so they are "
                  "re-seeded from this run's seeds and the noise drawn from here on differs "
                  "from what the original run would have drawn.", flush=True)
        _note_changed_run_facts(path, meta.get("run"), self.run_facts())
        batch = int(meta.get("batches_into_epoch", 0) or 0)
        place = f"epoch {self.epochs_seen}" + (f" + {batch} batches of epoch {self.epochs_seen + 1}"
                                               if batch else "")
        print(f"Resumed from {path} ({place}, saved by the {saved_by} backend).", flush=True)
        if meta.get("criterion_asked", False):
            return True
        # The uninterrupted run asked the termination criterion right after saving this
        # checkpoint; ask it the same question now (with this configuration's settings), so that
        # the resumed run stops after the same epoch.
        keep_going = (self.algorithm.continue_learning(self.model)
                      and meta.get("extensions_continue", True))
        if not keep_going:
            print(f"The run had already ended after epoch {self.epochs_seen} (its termination "
                  "criterion or an extension stopped it): nothing to train.", flush=True)
        return keep_going


class EpochClock:
    """Wall-clock seconds per epoch over the last ``window`` epochs, for the progress line's
    s/epoch and time left: everything between two laps counts (training, monitoring, saving, a
    driver's validation), spread evenly over the epochs between them (with ``--monitor-every N``
    a lap comes every N epochs). The first lap only starts the clock: setup, compilation and the
    epoch-0 monitoring are not counted."""

    def __init__(self, window=10, clock=time.monotonic):
        self.recent = collections.deque(maxlen=window)
        self.clock = clock
        self.mark = None

    def lap(self, epoch):
        now = self.clock()
        if self.mark is not None and epoch > self.mark[0]:
            epochs = epoch - self.mark[0]
            self.recent.extend([(now - self.mark[1]) / epochs] * min(epochs, self.recent.maxlen))
        self.mark = (epoch, now)

    def mean(self):
        return sum(self.recent) / len(self.recent) if self.recent else None


class RunOptions:
    """Options that come from the command line rather than the YAML."""

    def __init__(self):
        self.out_dir = None
        self.max_epochs = None
        self.keep_checkpoints = 3
        self.yaml_text = None
        self.backend = None
        self.verbose = True
        # callable(train) -> bool, asked before each epoch is started (also right after a resume):
        # False pauses the run as a used-up time budget does. gan2014.table1 validates here.
        self.before_epoch = None
        # Monitor every N epochs (and at epoch 0 and the last): for long runs on a GPU, where the
        # monitor's 173 channels cost more than the training epoch. 1 = Pylearn2's behaviour.
        self.monitor_every = 1


def _note_changed_run_facts(path, saved, running):
    """A note when the resumed run differs from the one that wrote the checkpoint in its step
    implementation, seed or floatX (a different backend has a note of its own)."""
    changed = [f"{key} {saved[key]} -> {running[key]}" for key in ("step", "seed", "floatX")
               if saved and key in saved and key in running and saved[key] != running[key]
               and saved.get("backend") == running.get("backend")]
    if changed:
        print(f"Note: {path} was written by a run with another set-up ({'; '.join(changed)}).",
              flush=True)


def _state_of(extension):
    return extension.state_dict() if hasattr(extension, "state_dict") else None
