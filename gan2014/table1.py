"""The Table-1 run driver: train seeds of an MNIST config, validate with Parzen, report the test score.

    python -m port_torch.table1 --seeds 0 1 2 --device cuda --out runs/table1 \\
        --epochs 2500 --valid-every 50 --time-budget 500
    python -m port_torch.table1 --out runs/table1 --device cuda --report

The paper's Table 1 number comes from ``adversarial/parzen_ll.py`` run on a model pickled by
``pylearn2/train.py``; the paper does not say which epoch's pickle, and mnist.yaml never stops. This
driver makes that choice explicit and repeatable:

* **Training.** Each seed is an ordinary run folder ``OUT/seed_K/`` (``monitor.csv``,
  ``monitor.jsonl``, ``checkpoints/``) trained by the shared :class:`gan2014.train.Train` from the
  YAML, untouched, up to ``--epochs``. Seeds are trained one after another (seed 0 to its last
  epoch, then seed 1, ...): a switch costs a model build and a setup, and one seed's result is
  complete before the next starts. Re-running the same command resumes exactly from each seed's
  latest checkpoint (Train's resume), so the work of a command stopped by ``--time-budget`` is
  never lost.
* **Time budget.** Measured from the command's start. An epoch is started only if the time left
  covers the last epoch's length (plus the last validation's, when one falls due after it); the
  run then pauses exactly as Pylearn2's ``--time-budget`` paused it (the checkpoint of the last
  epoch is on disk) and the command exits with status 75 ("not finished, run it again").
* **Validation Parzen.** After every ``--valid-every`` epochs (and after the last epoch,
  ``--epochs``): 10,000 samples from G with a fixed noise seed (the same noise for every epoch and
  every seed, so epochs are compared on common random numbers); sigma chosen as in
  ``parzen_ll.py`` (the grid ``logspace(-1, 0, 10)``, argmax of the mean log-likelihood of the first
  ``--limit`` = 1,000 images of MNIST train[50000:60000]); the **validation score** is the mean
  log-likelihood, with that sigma, of all 10,000 images of train[50000:60000] (the original's
  ``-v`` option scored ``X[:-1]``, 9,999 of them, by an off-by-one; the score only ranks
  checkpoints, so using all of them changes nothing material). One row per validation goes to
  ``OUT/seed_K/valid_parzen.jsonl``; the parameters of the checkpoint with the best score are
  copied to ``OUT/seed_K/best_valid.npz`` (checkpoint rotation never deletes it; the earliest
  epoch wins a tie). When a seed reaches ``--epochs`` its test Parzen (below) is computed at once
  and kept in ``OUT/seed_K/test_parzen.json``.
* **Report** (``--report``): for each seed, the test Parzen of ``best_valid.npz`` by the protocol of
  ``parzen_ll.py`` (the same 10,000 samples, sigma selected again on the first 1,000 validation
  images -- the same sigma when run on the same kind of device -- then mean and standard error over
  the 10,000 MNIST test images), written to ``OUT/table1_summary.json`` and printed as a table.
  A value in ``test_parzen.json`` for the same best epoch and protocol is used as it is (it was
  computed on the training device); ``--recompute`` computes it again here. An earlier summary is
  kept as ``table1_summary.previous-N.json``, never overwritten.
* **Moving a run between machines** (``--pack DIR``, ``--unpack DIR``): to train on a GPU machine
  and report elsewhere, a run folder travels as a gzipped tar cut into pieces of ``--piece-mib``
  MiB (default 64; ``--max-pieces N`` refuses a bundle of more pieces, for links that limit the
  number or size of files). ``--pack`` writes what changed since the last ``--unpack`` (every file,
  the first time), of the checkpoints only each seed's latest; ``--pack-resume`` writes only what a
  fresh machine needs to continue (the manifest, the logs of the seeds not finished, their latest
  checkpoints, every seed's small records). ``--unpack`` merges a bundle into ``--out`` (refusing
  one made from another configuration).

``OUT/table1.json`` records the configuration (YAML text and its sha256), the backend and the
validation protocol; a command pointing at a folder made with anything different is refused.
``OUT/driver_log.jsonl`` has one row per seed per command (start, end, epochs, device, hardware,
the git commit of the code):
the wall time of a seed is the sum of its rows.

This module is framework-free; a backend (``port_torch.table1``) passes a :class:`Backend` that
builds nothing itself but knows its registry, its random seeds, its device, and how to draw samples
from G without moving a training random stream.
"""
import argparse
import contextlib
import dataclasses
import gzip
import hashlib
import json
import math
import os
import platform
import shutil
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from gan2014 import checkpoint as ckpt
from gan2014 import fileio, parzen_cli
from gan2014.exit_codes import (EXIT_BAD_INPUT, EXIT_DONE, EXIT_FAILED, EXIT_INTERRUPTED,
                                EXIT_UNFINISHED)
from gan2014.fileio import append_jsonl, read_jsonl, write_json_atomically

MANIFEST = "table1.json"
HISTORY = "valid_parzen.jsonl"
BEST = "best_valid.npz"
STATUS = "status.json"
TEST_PARZEN = "test_parzen.json"
FINAL_TEST_PARZEN = "test_parzen_final.json"
DRIVER_LOG = "driver_log.jsonl"
SUMMARY = "table1_summary.json"
MANIFEST_FORMAT = "gan2014-table1"
MANIFEST_VERSION = 1
# Table 1 of the paper: MNIST Parzen log-likelihood of the adversarial nets, mean +- se.
PAPER_MNIST = (225.0, 2.0)
# MNIST('train', 50000, 60000): the held-out images parzen_ll.py validated on.
VALID_START, VALID_STOP = 50000, 60000


class Table1Error(Exception):
    """Bad input: arguments, a folder made by another configuration, files that do not fit."""


@dataclasses.dataclass(frozen=True)
class Protocol:
    """What a validation row means; fixed for the life of an output folder (in its manifest)."""
    valid_every: int = 50
    n_samples: int = 10000
    limit: int = 1000
    noise_seed: int = 10097

    def is_due(self, epoch, last_epoch):
        """Validation after every ``valid_every`` epochs, and after the run's last epoch."""
        return epoch > 0 and (epoch % self.valid_every == 0 or epoch == last_epoch)


class Backend:
    """What the driver needs from a backend (port_torch.table1.TorchBackend implements it)."""

    name = None

    def load_registry(self):
        raise NotImplementedError

    def configure(self):
        """Process-wide settings (device, threads), before anything is built."""

    def stream_seed(self, seed):
        """The backend's seed for the noise and dropout streams of seed number ``seed``."""
        raise NotImplementedError

    def seed_scope(self, seed):
        """A context in force while seed number ``seed``'s Train is built and trained (for a
        backend whose streams take their seeds as they are built: legacy_aesara.table1)."""
        return contextlib.nullcontext()

    def prepare(self, train, seed):
        """Put a freshly built Train on the device and seed its streams for seed number ``seed``."""
        raise NotImplementedError

    def draw_samples(self, model, n, noise_seed):
        """``n`` rows of G's output from noise seeded ``noise_seed``, without touching any training
        random stream. A numpy array, or whatever :meth:`ll_function` accepts."""
        raise NotImplementedError

    def ll_function(self):
        """An ``ll_fn`` for :func:`gan2014.parzen_cli.run_protocol`, or None for gan2014.parzen."""
        return None

    def load_model(self, path):
        """``(model, meta)`` rebuilt from a checkpoint, placed where :meth:`draw_samples` wants."""
        return parzen_cli.load_model(path, self.load_registry())

    def describe(self):
        """JSON-able facts for the logs: device, hardware, library versions."""
        return {"device": "cpu", "hardware": platform_description()}


# ------------------------------------------------------------------------------------- utilities
def platform_description():
    """'<CPU model>, N logical CPUs, <OS> <arch>' from the standard library (and /proc/cpuinfo)."""
    model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}"


def source_commit():
    """The git commit of the code that is running (``<sha>``, ``<sha>+modified`` when tracked files
    differ from it), or None outside a git checkout: a row of the driver log names the code that
    trained its epochs."""
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=30, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(here), "status", "--porcelain",
                                  "--untracked-files=no"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+modified" if changed else "")


def save_parameters_of(checkpoint, target):
    """Write the parameters of ``checkpoint`` (no velocities, no RNG states) with its metadata to
    ``target``, atomically (gan2014.checkpoint writes a temporary file and renames it).

    Half the size of the checkpoint (15 MB for mnist.yaml); enough for Parzen and figures, not for
    resuming.
    """
    arrays, meta = ckpt.load_checkpoint(checkpoint)
    names = meta.get("param_names") or [n for n in arrays if not n.startswith(("velocity/", "rng/"))]
    meta = dict(meta, parameters_only=True, copied_from=Path(checkpoint).name)
    ckpt.save_checkpoint(target, {name: arrays[name] for name in names}, meta)


def keep_previous(path):
    """Move an existing ``path`` to ``<stem>.previous-N<suffix>`` (the first free N); returns it."""
    path = Path(path)
    if not path.exists():
        return None
    number = 1
    while True:
        kept = path.with_name(f"{path.stem}.previous-{number}{path.suffix}")
        if not kept.exists():
            os.replace(path, kept)
            return kept
        number += 1


def seed_dir(out, seed):
    return Path(out) / f"seed_{seed}"


def latest_epoch(folder):
    """(epoch, path) of the newest checkpoint in ``folder/checkpoints``, or (0, None)."""
    found = ckpt.list_checkpoints(Path(folder) / "checkpoints")
    return found[-1] if found else (0, None)


def best_row(history):
    """The history row with the largest validation score; the earliest epoch wins a tie."""
    best = None
    for row in sorted(history, key=lambda r: r["epoch"]):
        if best is None or row["valid_ll"] > best["valid_ll"]:
            best = row
    return best


# ------------------------------------------------------------------------------ the output folder
def manifest_record(config_path, yaml_text, backend_name, protocol):
    return {
        "format": MANIFEST_FORMAT, "format_version": MANIFEST_VERSION,
        "config": str(config_path),
        "config_sha256": hashlib.sha256(yaml_text.encode("utf-8")).hexdigest(),
        "yaml": yaml_text,
        "backend": backend_name,
        "protocol": dataclasses.asdict(protocol),
        "valid_images": f"MNIST train[{VALID_START}:{VALID_STOP}]",
    }


def open_out_dir(out, record):
    """Create ``out`` with its manifest, or check that an existing one was made the same way.

    Refused: a non-empty folder that is not a table1 folder; one made from another YAML text,
    backend or validation protocol (its runs and history would not be one experiment).
    """
    out = Path(out)
    path = out / MANIFEST
    if not path.is_file():
        if out.exists() and any(out.iterdir()):
            raise Table1Error(f"--out {out} exists, is not empty and holds no {MANIFEST}: it is "
                              "not a table1 folder; choose another --out (nothing was changed)")
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, record)
        return record
    existing = read_manifest(out)
    differences = []
    if existing.get("config_sha256") != record["config_sha256"]:
        differences.append(f"the YAML text (this folder: {existing.get('config')}, sha256 "
                           f"{existing.get('config_sha256', '?')[:12]}...; now: {record['config']}, "
                           f"sha256 {record['config_sha256'][:12]}...)")
    if existing.get("backend") != record["backend"]:
        differences.append(f"the backend (this folder: {existing.get('backend')}; now: "
                           f"{record['backend']})")
    for key, value in record["protocol"].items():
        if existing.get("protocol", {}).get(key) != value:
            option = "--" + key.replace("_", "-")
            differences.append(f"{option} (this folder: {existing.get('protocol', {}).get(key)}; "
                               f"now: {value})")
    if differences:
        raise Table1Error(f"--out {out} holds a run made with other settings; they differ in "
                          + "; ".join(differences)
                          + ". Use the folder's settings or another --out (nothing was changed).")
    return existing


def read_manifest(out):
    path = Path(out) / MANIFEST
    if not path.is_file():
        raise Table1Error(f"{out} holds no {MANIFEST}: not a folder made by the table1 driver")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise Table1Error(f"{path} is not valid JSON: {error}") from error
    if record.get("format") != MANIFEST_FORMAT:
        raise Table1Error(f"{path} is not a table1 manifest (format {record.get('format')!r})")
    return record


# ------------------------------------------------------------------------------ validation Parzen
class ValidationData:
    """MNIST train[50000:60000] (the validation images) and, for the report, MNIST test; read once."""

    def __init__(self):
        self._valid = self._test = None

    @property
    def valid(self):
        if self._valid is None:
            from gan2014.datasets.mnist import MNIST
            self._valid = MNIST("train", start=VALID_START, stop=VALID_STOP).X
        return self._valid

    @property
    def test(self):
        if self._test is None:
            from gan2014.datasets.mnist import MNIST
            self._test = MNIST("test").X
        return self._test


def score_samples(samples, data, protocol, ll_fn=None, against="valid", progress=True):
    """sigma on the first ``protocol.limit`` validation images, then the mean and se over all
    validation images (``against='valid'``) or the MNIST test images (``'test'``)."""
    if samples.shape[1] != parzen_cli.MNIST_DIM:
        raise Table1Error(f"the generator makes {samples.shape[1]}-dimensional samples; only the "
                          f"MNIST protocol ({parzen_cli.MNIST_DIM} pixels) is implemented")
    scored = data.valid if against == "valid" else data.test
    result, _ = parzen_cli.run_protocol(samples, data.valid[:protocol.limit], scored, ll_fn=ll_fn,
                                        progress=progress)
    return result


class TimeBudget:
    """Seconds from the command's start (``None``: no limit), on a monotonic clock."""

    def __init__(self, seconds, clock=time.monotonic):
        self.clock = clock
        self.deadline = None if seconds is None else clock() + float(seconds)

    def left(self):
        return math.inf if self.deadline is None else self.deadline - self.clock()

    def allows(self, seconds):
        """Whether ``seconds`` of work still fit."""
        return self.left() > seconds


class SeedRun:
    """One seed's training under the driver: the before-epoch hook that validates, keeps the best
    checkpoint and pauses when the time budget would be overrun."""

    def __init__(self, out, seed, backend, protocol, epochs, budget, data, progress=True):
        self.folder = seed_dir(out, seed)
        self.seed = seed
        self.backend = backend
        self.protocol = protocol
        self.epochs = epochs
        self.budget = budget
        self.data = data
        self.progress = progress
        self.history_path = self.folder / HISTORY
        self.history = read_jsonl(self.history_path, missing_ok=True)
        self.paused = False
        self.last_validation_seconds = 0.0

    # -- the hook Train calls before each epoch
    def __call__(self, train):
        self.validate_if_due(train)
        next_epoch = train.epochs_seen + 1
        needed = train.total_seconds_last_epoch
        if self.protocol.is_due(next_epoch, self.epochs):
            needed += self.last_validation_seconds
        if not self.budget.allows(needed):
            self.paused = True
            print(f"[seed {self.seed}] time budget: {max(self.budget.left(), 0):.1f} s left, the "
                  f"next epoch needs about {needed:.1f} s; pausing after epoch {train.epochs_seen}.",
                  flush=True)
            return False
        return True

    def validated_epochs(self):
        return {int(row["epoch"]) for row in self.history}

    def drop_history_after(self, epoch):
        """Rows of epochs after the checkpoint the run resumes from belong to a past that the
        resumed run replays (and validates again); drop them, as Train drops monitor rows."""
        kept = [row for row in self.history if int(row["epoch"]) <= epoch]
        if len(kept) != len(self.history):
            print(f"[seed {self.seed}] dropped {len(self.history) - len(kept)} validation row(s) of "
                  f"epochs after {epoch}: the run resumes from epoch {epoch}.", flush=True)
            text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in kept)
            fileio.write_text_atomically(self.history_path, text)
            self.history = kept

    def validate_if_due(self, train):
        epoch = train.epochs_seen
        if not self.protocol.is_due(epoch, self.epochs) or epoch in self.validated_epochs():
            return None
        if getattr(train.algorithm, "batches_into_epoch", 0):
            print(f"[seed {self.seed}] not validating epoch {epoch}: the run resumed inside the next "
                  f"epoch, so the live parameters are not those of epoch {epoch}.", file=sys.stderr)
            return None
        checkpoint = ckpt.checkpoint_path(self.folder / "checkpoints", epoch)
        if not checkpoint.is_file():
            raise Table1Error(f"epoch {epoch} of seed {self.seed} is due for validation but "
                              f"{checkpoint} does not exist (save_freq must save every epoch the "
                              "driver validates)")
        began = time.perf_counter()
        samples = self.backend.draw_samples(train.model, self.protocol.n_samples,
                                            self.protocol.noise_seed)
        # No progress line: it would be labelled "test" by parzen_cli, and takes seconds at most.
        result = score_samples(samples, self.data, self.protocol, self.backend.ll_function(),
                               progress=False)
        seconds = time.perf_counter() - began
        self.last_validation_seconds = seconds
        previous = best_row(self.history)
        is_best = previous is None or result.mean > previous["valid_ll"]
        if is_best:
            # Copied before the row is written: if the process dies in between, the row is missing
            # and the next command validates this epoch again (its checkpoint is the latest).
            save_parameters_of(checkpoint, self.folder / BEST)
        row = {"epoch": epoch, "valid_ll": result.mean, "valid_se": result.se, "sigma": result.sigma,
               "sigma_table": [[s, m] for s, m in result.sigma_table],
               "n_samples": result.n_samples, "n_valid": result.n_test,
               "limit": self.protocol.limit, "noise_seed": self.protocol.noise_seed,
               "checkpoint": f"checkpoints/{checkpoint.name}", "best_so_far": is_best,
               "seconds": seconds, "recorded_at": time.time()}
        append_jsonl(self.history_path, row)
        self.history.append(row)
        best = row if is_best else previous
        print(f"[seed {self.seed}] epoch {epoch}: validation Parzen {result.mean:.2f} +- "
              f"{result.se:.2f} (sigma {result.sigma:.4g}); best {best['valid_ll']:.2f} at epoch "
              f"{best['epoch']} ({seconds:.1f} s)", flush=True)
        return row


# ------------------------------------------------------------------------------------- training
def read_status(folder):
    path = Path(folder) / STATUS
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def train_seed(out, manifest, seed, backend, protocol, epochs, budget, data, keep_checkpoints=3,
               verbose=False, progress=True, monitor_every=1, save_every=None):
    """Train seed number ``seed`` until ``epochs`` (or the budget); returns 'done', 'paused' or
    'diverged'. Raises gan2014.train errors other than divergence."""
    from gan2014.config.yaml_parse import load
    from gan2014.train import TrainingDivergedError

    folder = seed_dir(out, seed)
    status = read_status(folder)
    if status.get("state") == "diverged":
        print(f"[seed {seed}] skipped: it diverged ({status.get('message')})", flush=True)
        return "diverged"
    run = SeedRun(out, seed, backend, protocol, epochs, budget, data, progress=progress)
    start_epoch, latest = latest_epoch(folder)
    if status.get("state") in ("finished", "ended") and start_epoch < status["epoch"]:
        # A bundle carries no checkpoint of a finished seed: its records say it is done.
        if status["state"] == "ended" or status["epoch"] >= epochs:
            print(f"[seed {seed}] done: {status['epoch']} epochs trained and validated.", flush=True)
            return "done"
        raise Table1Error(f"seed {seed} finished at epoch {status['epoch']} but its checkpoints are "
                          f"not in {folder / 'checkpoints'}: restore them to train it to {epochs}")
    if latest is None and run.history:
        raise Table1Error(f"{folder} holds validation rows up to epoch "
                          f"{max(run.validated_epochs())} but no checkpoint: restore its "
                          "checkpoints (e.g. --unpack the bundle that has them), or remove the "
                          "folder to train the seed again from the start")
    run.drop_history_after(start_epoch)
    finished = status.get("state") == "ended" or start_epoch >= epochs and (
        start_epoch in run.validated_epochs() or not protocol.is_due(start_epoch, epochs))
    if finished:
        print(f"[seed {seed}] done: {start_epoch} epochs trained and validated.", flush=True)
        return "done"
    if not budget.allows(0):
        return "paused"
    print(f"[seed {seed}] {'resuming from epoch %d' % start_epoch if latest else 'starting'}; "
          f"target {epochs} epochs, validation every {protocol.valid_every}"
          + ("" if budget.deadline is None else f"; {budget.left():.0f} s of the budget left"),
          flush=True)
    with backend.seed_scope(seed):
        train = load(manifest["yaml"], backend.load_registry(), filename=manifest["config"],
                     environ=_train_file_environ(manifest["config"]))
        if not hasattr(train, "main_loop"):
            raise Table1Error(f"{manifest['config']} does not describe a pylearn2.train.Train "
                              "object")
        if save_every is not None:
            train.save_freq = save_every  # the YAML's save_freq otherwise (1 for mnist.yaml)
        if train.save_freq < 1 or protocol.valid_every % train.save_freq:
            raise Table1Error(f"{manifest['config']}: save_freq is {train.save_freq}; the driver "
                              f"needs a checkpoint at every validated epoch (save_freq dividing "
                              f"--valid-every {protocol.valid_every})")
        train.configure(out_dir=folder, max_epochs=epochs, keep_checkpoints=keep_checkpoints,
                        yaml_text=manifest["yaml"], backend=backend.name, verbose=verbose,
                        before_epoch=run, monitor_every=monitor_every)
        backend.prepare(train, seed)
        began = time.time()
        try:
            train.main_loop(resume_from=latest)
        except TrainingDivergedError as error:
            write_json_atomically(folder / STATUS, {"state": "diverged", "message": str(error)})
            _log_session(out, seed, backend, began, start_epoch, train.epochs_seen, "diverged")
            print(f"[seed {seed}] error: {error}", file=sys.stderr, flush=True)
            return "diverged"
        except BaseException as error:
            _log_session(out, seed, backend, began, start_epoch, train.epochs_seen,
                         f"stopped: {type(error).__name__}")
            raise
    run.validate_if_due(train)  # the last epoch: Train stops before asking the hook about it
    if run.paused:
        state = "paused"
    else:
        state = "done"
        if train.epochs_seen < epochs:
            # The YAML's own termination criterion stopped the run before --epochs.
            print(f"[seed {seed}] the configuration's termination criterion ended the run after "
                  f"epoch {train.epochs_seen} (before --epochs {epochs}).", flush=True)
        write_json_atomically(folder / STATUS, {
            "state": "ended" if train.epochs_seen < epochs else "finished",
            "epoch": train.epochs_seen})
    _log_session(out, seed, backend, began, start_epoch, train.epochs_seen, state)
    if state == "done":
        # The test score of the selected checkpoint, once, on the device that trained it.
        row = test_parzen(out, seed, backend, protocol, data, progress=progress)
        print(f"[seed {seed}] best epoch {row['best_epoch']} (validation {row['valid_ll']:.2f}): "
              f"test Parzen {row['test_ll']:.2f} +- {row['test_se']:.2f} (sigma "
              f"{row['sigma']:.4g})", flush=True)
    return state


def _train_file_environ(config):
    from gan2014.config.yaml_parse import train_file_variables
    return train_file_variables(str(config))


def _log_session(out, seed, backend, began, first_epoch, last_epoch, state):
    row = {"seed": seed, "stream_seed": backend.stream_seed(seed), "started": began,
           "ended": time.time(), "first_epoch": first_epoch, "last_epoch": last_epoch,
           "state": state, "backend": backend.name, "commit": source_commit()}
    row.update(backend.describe())
    append_jsonl(Path(out) / DRIVER_LOG, row)


def train_all(out, manifest, seeds, backend, protocol, epochs, budget, data=None, **options):
    """Train the seeds one after another; returns an exit status (EXIT_DONE, _UNFINISHED, _FAILED)."""
    data = ValidationData() if data is None else data
    states = {}
    for seed in seeds:
        states[seed] = train_seed(out, manifest, seed, backend, protocol, epochs, budget, data,
                                  **options)
        if states[seed] == "paused":
            break
    unfinished = [s for s in seeds if states.get(s) in (None, "paused")]
    diverged = [s for s in seeds if states.get(s) == "diverged"]
    if unfinished:
        print(f"Time budget used up: seeds {unfinished} have not reached {epochs} epochs. Run the "
              "same command again to continue exactly where this one stopped.", flush=True)
        return EXIT_UNFINISHED
    if diverged:
        print(f"Seeds {diverged} diverged (see {DRIVER_LOG} and seed_K/{STATUS}); the others are "
              "done.", flush=True)
        return EXIT_FAILED
    print(f"All seeds {list(seeds)} trained to {epochs} epochs and validated. Next: --report.",
          flush=True)
    return EXIT_DONE


# ------------------------------------------------------------------------------------- the report
def seed_numbers(out):
    """Seed numbers that have a folder in ``out``, in order."""
    found = []
    for path in Path(out).glob("seed_*"):
        suffix = path.name[len("seed_"):]
        if path.is_dir() and suffix.isdigit():
            found.append(int(suffix))
    return sorted(found)


def test_parzen(out, seed, backend, protocol, data, progress=True, recompute=False):
    """The test Parzen of seed ``seed``'s best-by-validation checkpoint (a dict).

    Kept in ``seed_K/test_parzen.json``; a kept value for the same best epoch and protocol is
    returned as it is unless ``recompute``.
    """
    folder = seed_dir(out, seed)
    best = best_row(read_jsonl(folder / HISTORY, missing_ok=True))
    if best is None:
        raise Table1Error(f"{folder / HISTORY} has no validation rows yet: train first")
    kept_path = folder / TEST_PARZEN
    if kept_path.is_file() and not recompute:
        kept = json.loads(kept_path.read_text(encoding="utf-8"))
        if kept.get("best_epoch") == int(best["epoch"]) and \
                kept.get("protocol") == dataclasses.asdict(protocol):
            return kept
    best_path = folder / BEST
    began = time.perf_counter()
    model, meta = backend.load_model(best_path)
    if int(meta["epoch"]) != int(best["epoch"]):
        raise Table1Error(f"{best_path} holds epoch {meta['epoch']} but the best validation score "
                          f"in {folder / HISTORY} is epoch {best['epoch']}: the folder was changed "
                          "by hand or a copy was cut short")
    result, facts = _score_on_test(model, backend, protocol, data, progress, began)
    row = {"seed": seed, "best_epoch": int(best["epoch"]), "valid_ll": best["valid_ll"],
           "valid_se": best["valid_se"], "valid_sigma": best["sigma"],
           "sigma_table": [[s, m] for s, m in result.sigma_table], **facts}
    write_json_atomically(kept_path, row)
    return row


def _score_on_test(model, backend, protocol, data, progress, began):
    """The protocol's test Parzen of `model` and the facts every kept score records."""
    samples = backend.draw_samples(model, protocol.n_samples, protocol.noise_seed)
    result = score_samples(samples, data, protocol, backend.ll_function(), against="test",
                           progress=progress)
    return result, {
        "test_ll": result.mean, "test_se": result.se, "sigma": result.sigma,
        "n_samples": result.n_samples, "n_test": result.n_test,
        "protocol": dataclasses.asdict(protocol), "computed_by": backend.name,
        "computed_on": backend.describe(), "computed_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "seconds": time.perf_counter() - began}


def final_test_parzen(out, seed, backend, protocol, data, progress=True, recompute=False):
    """The test Parzen of seed ``seed``'s newest checkpoint, by the same protocol (a dict).

    The original kept one pickle, overwritten after every epoch (mnist.yaml: save_freq 1, its
    MonitorBasedSaveBest commented out), so the model parzen_ll.py scored was the last epoch
    trained; the best of ~50 noisy validation scores is an optimistic choice beside it. Kept in
    ``seed_K/test_parzen_final.json`` for the same epoch and protocol unless ``recompute``.
    """
    folder = seed_dir(out, seed)
    epoch, path = latest_epoch(folder)
    if path is None:
        raise Table1Error(f"{folder / 'checkpoints'} holds no checkpoint yet: train first")
    kept_path = folder / FINAL_TEST_PARZEN
    if kept_path.is_file() and not recompute:
        kept = json.loads(kept_path.read_text(encoding="utf-8"))
        if kept.get("epoch") == int(epoch) and kept.get("protocol") == dataclasses.asdict(protocol):
            return kept
    began = time.perf_counter()
    model, meta = backend.load_model(path)
    _, facts = _score_on_test(model, backend, protocol, data, progress, began)
    row = {"seed": seed, "epoch": int(meta["epoch"]), "checkpoint": path.name, **facts}
    write_json_atomically(kept_path, row)
    return row


def report_seed(out, seed, backend, protocol, data, progress=True, recompute=False):
    """:func:`test_parzen` (best by validation) and :func:`final_test_parzen` (the newest
    checkpoint) of seed ``seed``, with what explains them: epochs, times, hardware, commits."""
    folder = seed_dir(out, seed)
    row = dict(test_parzen(out, seed, backend, protocol, data, progress, recompute))
    final = final_test_parzen(out, seed, backend, protocol, data, progress, recompute)
    history = read_jsonl(folder / HISTORY, missing_ok=True)
    monitor = read_jsonl(folder / "monitor.jsonl", missing_ok=True)
    sessions = [r for r in read_jsonl(Path(out) / DRIVER_LOG, missing_ok=True)
                if r.get("seed") == seed]
    status = read_status(folder)
    best_epoch = row["best_epoch"]
    row.update({
        "final": {key: final[key] for key in ("epoch", "test_ll", "test_se", "sigma")},
        "epochs_trained": max(latest_epoch(folder)[0], int(status.get("epoch", 0))),
        "validations": len(history),
        # Training seconds of the epochs the monitor recorded (all of them by default; with
        # --monitor-every N only every N-th), so their median, not a sum, describes the run.
        "train_seconds_per_epoch_median": (
            float(np.median(epoch_seconds)) if (epoch_seconds := [
                r["seconds_this_epoch"] for r in monitor
                if r["epoch"] > 0 and "seconds_this_epoch" in r]) else None),
        "monitored_epochs": sum(1 for r in monitor if r["epoch"] > 0),
        "wall_seconds": sum(r["ended"] - r["started"] for r in sessions),
        "hardware": sorted({f"{r.get('device')}: {r.get('hardware')}" for r in sessions}),
        "commits": sorted({r["commit"] for r in sessions if r.get("commit")}),
        "state": status.get("state", "training"),
    })
    return row


def build_report(out, backend, seeds=None, data=None, progress=True, recompute=False):
    manifest = read_manifest(out)
    if manifest.get("backend") != backend.name:
        print(f"Note: {out} was trained by {manifest.get('backend')}; the test Parzen is computed "
              f"by {backend.name}, whose samples from the same noise seed differ.", flush=True)
    protocol = Protocol(**manifest["protocol"])
    data = ValidationData() if data is None else data
    seeds = seed_numbers(out) if not seeds else list(seeds)
    if not seeds:
        raise Table1Error(f"{out} holds no seed_K folders: train first")
    rows = []
    for seed in seeds:
        if not seed_dir(out, seed).is_dir():
            raise Table1Error(f"{seed_dir(out, seed)} does not exist")
        if read_status(seed_dir(out, seed)).get("state") == "diverged":
            rows.append({"seed": seed, "state": "diverged"})
            continue
        rows.append(report_seed(out, seed, backend, protocol, data, progress, recompute))
    scored = [r["test_ll"] for r in rows if "test_ll" in r]
    final = [r["final"]["test_ll"] for r in rows if "final" in r]
    return {
        "final_mean_over_seeds": float(np.mean(final)) if final else None,
        "final_std_over_seeds": float(np.std(final, ddof=1)) if len(final) > 1 else None,
        "paper": {"test_ll": PAPER_MNIST[0], "test_se": PAPER_MNIST[1]},
        "seeds": rows,
        "mean_over_seeds": float(np.mean(scored)) if scored else None,
        "std_over_seeds": float(np.std(scored, ddof=1)) if len(scored) > 1 else None,
        "config": manifest["config"], "config_sha256": manifest["config_sha256"],
        "trained_by": manifest["backend"], "reported_by": backend.name,
        "protocol": manifest["protocol"], "valid_images": manifest["valid_images"],
        "report_environment": dict(backend.describe(), python=platform.python_version(),
                                   numpy=np.__version__),
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def format_report(summary):
    """The summary as Markdown, ready for REPRODUCING.md.

    The table leads with the final epoch's test Parzen (what the original's one overwritten pickle
    held when training stopped) and gives the best-by-validation checkpoint's beside it."""
    paper = summary["paper"]
    lines = ["| MNIST test Parzen log-likelihood | final epoch: mean ± se (σ) | "
             "best by validation: mean ± se (σ) | best epoch (validation ll) | epochs | "
             "s/epoch (median) | wall time | commit |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |",
             f"| paper (Table 1) | {paper['test_ll']:.0f} ± {paper['test_se']:.0f} "
             "| | | | | | |"]
    for row in summary["seeds"]:
        if "test_ll" not in row:
            lines.append(f"| seed {row['seed']} | {row['state']} | | | | | | |")
            continue
        final = row.get("final")
        final_text = (f"{final['test_ll']:.2f} ± {final['test_se']:.2f} ({final['sigma']:.4g}); "
                      f"epoch {final['epoch']}" if final else "-")
        per_epoch = row.get("train_seconds_per_epoch_median")
        commits = ", ".join(c[:12] for c in row.get("commits", [])) or "not recorded"
        lines.append(f"| seed {row['seed']} | {final_text} | {row['test_ll']:.2f} ± "
                     f"{row['test_se']:.2f} ({row['sigma']:.4g}) | {row['best_epoch']} "
                     f"({row['valid_ll']:.2f}) | {row['epochs_trained']} | "
                     f"{'-' if per_epoch is None else f'{per_epoch:.2f}'} | "
                     f"{row['wall_seconds'] / 3600:.1f} h | {commits} |")
    for key, label in (("final_", "final epoch"), ("", "best by validation")):
        mean = summary.get(f"{key}mean_over_seeds")
        if mean is None:
            continue
        std = summary.get(f"{key}std_over_seeds")
        spread = "" if std is None else f" ± {std:.2f} (sd over seeds)"
        count = sum("test_ll" in r for r in summary["seeds"])
        lines.append(f"| mean over {count} seed{'s' if count != 1 else ''}, {label} | "
                     f"{mean:.2f}{spread} | | | | | | |")
    protocol = summary["protocol"]
    hardware = sorted({h for row in summary["seeds"] for h in row.get("hardware", [])})
    computed_on = sorted({f"{r['computed_on'].get('device')}: {r['computed_on'].get('hardware')}"
                          for r in summary["seeds"] if "computed_on" in r})
    lines += ["", f"Config {summary['config']} (sha256 {summary['config_sha256'][:12]}), trained by "
              f"{summary['trained_by']}, reported by {summary['reported_by']}; {protocol['n_samples']}"
              f" samples (noise seed {protocol['noise_seed']}), σ from logspace(-1, 0, 10) on the "
              f"first {protocol['limit']} of {summary['valid_images']}, best epoch by the mean ll "
              f"of all of them (validated every {protocol['valid_every']} epochs).",
              "Training hardware: " + ("; ".join(hardware) if hardware else "not recorded") + ".",
              "Test Parzen computed on: " + ("; ".join(computed_on) or "-") + "."]
    return "\n".join(lines)


def write_report(out, summary):
    """Write ``table1_summary.json`` and ``.md``, keeping earlier ones as ``.previous-N``."""
    out = Path(out)
    paths = []
    for name, text in ((SUMMARY, json.dumps(summary, indent=2, sort_keys=True) + "\n"),
                       (Path(SUMMARY).stem + ".md", format_report(summary) + "\n")):
        path = out / name
        kept = keep_previous(path)
        if kept is not None:
            print(f"The previous {name} was kept as {kept.name}.", flush=True)
        fileio.write_text_atomically(path, text)
        paths.append(path)
    return paths


# -------------------------------------------------------------------------------------- bundles
BUNDLE_PREFIX = "table1_bundle."
BUNDLE_PIECE_MIB = 64          # default size of a piece (--piece-mib)
BUNDLE_INDEX = ".bundle_index.json"
# Never travel: the run-folder lock, temporary files, the index itself. monitor.csv is rebuilt from
# monitor.jsonl on unpacking (it holds the same rows), which saves a third of the logs' bytes.
NOT_BUNDLED = (".lock", BUNDLE_INDEX, "monitor.csv")


class _Pieces:
    """A write-only file object that cuts what is written into ``PREFIX000``, ``PREFIX001``, ..."""

    def __init__(self, folder, piece=BUNDLE_PIECE_MIB * 2 ** 20):
        self.folder, self.piece = Path(folder), piece
        self.paths, self._handle, self._left = [], None, 0

    def write(self, data):
        view = memoryview(data)
        while len(view):
            if self._left == 0:
                self._next()
            part = view[:self._left]
            self._handle.write(part)
            self._left -= len(part)
            view = view[len(part):]
        return len(data)

    def _next(self):
        if self._handle is not None:
            self._handle.close()
        path = self.folder / f"{BUNDLE_PREFIX}{len(self.paths):03d}"
        self._handle, self._left = open(path, "wb"), self.piece
        self.paths.append(path)

    def flush(self):
        if self._handle is not None:
            self._handle.flush()

    def close(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _file_stamp(path):
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


def bundle_files(out, mode):
    """Paths (relative to ``out``) a bundle carries. ``mode`` 'changed': every file that differs from
    the index the last unpack wrote (all, without one), of each seed's checkpoints only the latest;
    'resume': what a fresh machine needs to continue training. The manifest is always one."""
    out = Path(out)
    latest = {}
    for seed in seed_numbers(out):
        _, path = latest_epoch(seed_dir(out, seed))
        latest[seed] = path
    keep = set()
    for path in out.rglob("*"):
        relative = path.relative_to(out)
        if not path.is_file() or path.name in NOT_BUNDLED or path.name.endswith(".tmp"):
            continue
        if relative.parts[-2:-1] == ("checkpoints",):
            seed = int(relative.parts[0][len("seed_"):]) if relative.parts[0].startswith("seed_") \
                else None
            if latest.get(seed) != path:
                continue
        keep.add(relative)
    if mode == "changed":
        index_path = out / BUNDLE_INDEX
        index = json.loads(index_path.read_text(encoding="utf-8")) if index_path.is_file() else {}
        # The manifest always travels: unpacking checks that bundle and folder are one run.
        return sorted(r for r in keep if r == Path(MANIFEST)
                      or index.get(r.as_posix()) != _file_stamp(out / r))
    if mode != "resume":
        raise ValueError(f"unknown bundle mode {mode!r}")
    chosen = {Path(MANIFEST), Path(DRIVER_LOG)} & keep
    for seed in seed_numbers(out):
        folder = Path(f"seed_{seed}")
        chosen |= {folder / name for name in (STATUS, HISTORY, TEST_PARZEN)} & keep
        if read_status(out / folder).get("state") not in ("finished", "ended", "diverged"):
            # A seed still training: its logs, its latest checkpoint and its best parameters
            # (the test Parzen at its end reads them).
            chosen |= {r for r in keep if r.parts[0] == folder.name}
    return sorted(chosen)


def pack_bundle(out, folder, mode="changed", piece_mib=BUNDLE_PIECE_MIB, max_pieces=None):
    """Write a bundle of ``out`` into ``folder`` (a gzipped tar in pieces of ``piece_mib`` MiB);
    returns the pieces. With ``max_pieces``, a bundle that needs more pieces is refused (and
    nothing is left in ``folder``).
    """
    import tarfile

    read_manifest(out)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stale = sorted(folder.glob(BUNDLE_PREFIX + "*"))
    if stale:
        raise Table1Error(f"{folder} already holds a bundle ({stale[0].name}, ...): pack into an "
                          "empty folder")
    files = bundle_files(out, mode)
    piece_bytes = max(1, int(piece_mib * 2 ** 20))
    pieces = _Pieces(folder, piece_bytes)
    # gzip level 1: the logs shrink 4x at once; checkpoints (float32 mantissas) barely compress.
    with gzip.GzipFile(fileobj=pieces, mode="wb", compresslevel=1, mtime=0) as stream, \
            tarfile.open(fileobj=stream, mode="w|") as archive:
        for relative in files:
            archive.add(Path(out) / relative, arcname=relative.as_posix(), recursive=False)
    pieces.close()
    total = sum(p.stat().st_size for p in pieces.paths)
    if max_pieces is not None and len(pieces.paths) > max_pieces:
        for path in pieces.paths:
            path.unlink()
        largest = sorted(files, key=lambda r: -(Path(out) / r).stat().st_size)[:5]
        raise Table1Error(f"the bundle of {out} would take {len(pieces.paths)} pieces of "
                          f"{piece_mib:g} MiB ({total / 2 ** 20:.0f} MiB), more than --max-pieces "
                          f"{max_pieces}; largest files: "
                          + ", ".join(f"{r} ({(Path(out) / r).stat().st_size / 2 ** 20:.1f} MiB)"
                                      for r in largest)
                          + ". Train fewer seeds per command (--seeds K) or use larger pieces.")
    print(f"Packed {len(files)} files of {out} into {len(pieces.paths)} piece(s), "
          f"{total / 2 ** 20:.1f} MiB, in {folder}.", flush=True)
    return pieces.paths


class _Joined:
    """A read-only file object over the pieces of a bundle, in order."""

    def __init__(self, paths):
        self.paths, self._handle = list(paths), None

    def read(self, size=-1):
        chunks = []
        while size != 0 and (self._handle is not None or self.paths):
            if self._handle is None:
                self._handle = open(self.paths.pop(0), "rb")
            data = self._handle.read(size)
            if not data:
                self._handle.close()
                self._handle = None
                continue
            chunks.append(data)
            size = size - len(data) if size > 0 else size
        return b"".join(chunks)


def unpack_bundle(out, folder):
    """Merge the bundle in ``folder`` into ``out`` (its files replace those of the same name), then
    rebuild each seed's monitor.csv and record the index the next ``--pack`` compares against."""
    import tarfile

    folder, out = Path(folder), Path(out)
    paths = sorted(folder.glob(BUNDLE_PREFIX + "*"))
    if not paths:
        raise Table1Error(f"{folder} holds no bundle ({BUNDLE_PREFIX}000, ...)")
    numbers = [int(p.name[len(BUNDLE_PREFIX):]) for p in paths]
    if numbers != list(range(len(paths))):
        raise Table1Error(f"{folder}: bundle pieces {numbers} are not 000 to "
                          f"{len(paths) - 1:03d} without gaps: a piece is missing")
    staging = out.with_name(out.name + ".unpacking")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        with gzip.GzipFile(fileobj=_Joined(paths), mode="rb") as stream, \
                tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                name = Path(member.name)
                if not member.isfile() or name.is_absolute() or ".." in name.parts:
                    raise Table1Error(f"{folder}: the bundle holds {member.name!r}, which is not a "
                                      "plain file inside the run folder; nothing was unpacked")
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: the strict filter too
                    archive.extract(member, staging, set_attrs=False, filter="data")
                else:
                    archive.extract(member, staging, set_attrs=False)
                stamp = int(round(member.mtime * 10 ** 9))
                os.utime(staging / name, ns=(stamp, stamp))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise Table1Error(f"{folder}: the bundle cannot be read ({type(error).__name__}: {error}); "
                          "a piece may be cut short. Nothing was unpacked.") from error
    try:
        incoming = read_manifest(staging)
        if (out / MANIFEST).is_file():
            mine = read_manifest(out)
            keys = ("config_sha256", "backend", "protocol")
            if any(mine.get(k) != incoming.get(k) for k in keys):
                raise Table1Error(f"the bundle in {folder} comes from a run with another "
                                  f"configuration than {out} (compare their {MANIFEST}); nothing "
                                  "was unpacked")
        elif out.exists() and any(out.iterdir()):
            raise Table1Error(f"--out {out} is not empty and holds no {MANIFEST}: not a table1 "
                              "folder; nothing was unpacked")
        moved = []
        for path in sorted(staging.rglob("*")):
            if path.is_file():
                target = out / path.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                moved.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for seed in seed_numbers(out):
        _rebuild_monitor_csv(seed_dir(out, seed))
    index = {p.relative_to(out).as_posix(): _file_stamp(p) for p in out.rglob("*")
             if p.is_file() and p.name not in NOT_BUNDLED}
    write_json_atomically(out / BUNDLE_INDEX, index)
    print(f"Unpacked {len(moved)} files from {folder} into {out}.", flush=True)
    return moved


def _rebuild_monitor_csv(folder):
    """monitor.csv from monitor.jsonl: the same rows and columns MonitorLog wrote (the first row's
    channels, in its order)."""
    import csv

    rows = read_jsonl(Path(folder) / "monitor.jsonl", missing_ok=True)
    if not rows:
        return
    with fileio.atomic_writer(Path(folder) / "monitor.csv", binary=False, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


# ------------------------------------------------------------------------------------- commands
def build_parser(backend_name, default_config, default_noise_seed=None):
    parser = argparse.ArgumentParser(
        prog=f"python -m {backend_name}.table1",
        description="Table 1 (MNIST Parzen): train seeds with periodic validation Parzen, resume "
                    "across calls, and report the test Parzen of each seed's best-by-validation "
                    "checkpoint. See gan2014/table1.py for the protocol.")
    parser.add_argument("--config", default=default_config,
                        help=f"the experiment's YAML (default {default_config}, the faithful "
                             "config); tests pass a tiny one")
    parser.add_argument("--out", required=True, help="output folder (one seed_K/ run folder per seed)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="seed numbers to train, one after another (default: 0); with "
                             "--report, the seeds to report (default: every seed_K folder)")
    parser.add_argument("--epochs", type=int, default=2500,
                        help="train each seed to this many epochs (default 2500)")
    parser.add_argument("--valid-every", type=int, default=50,
                        help="epochs between validation Parzen evaluations (default 50)")
    parser.add_argument("--time-budget", type=float, default=None,
                        help="seconds for this command, from its start; it stops cleanly before "
                             "an epoch it could not finish, and exits with status 75")
    parser.add_argument("--n-samples", type=int, default=10000,
                        help="samples from G per Parzen evaluation (parzen_ll.py -n; default 10000)")
    parser.add_argument("--limit", type=int, default=1000,
                        help="validation images that choose sigma (parzen_ll.py -l; default 1000)")
    parser.add_argument("--noise-seed", type=int, default=None,
                        help="seed of the noise G turns into Parzen samples (default "
                             f"{default_noise_seed}, the same for every epoch and seed)")
    parser.add_argument("--keep-checkpoints", type=int, default=3,
                        help="epoch checkpoints kept per seed besides best_valid.npz (0 keeps all)")
    parser.add_argument("--save-every", type=int, default=None, metavar="N",
                        help="write a checkpoint after every N-th epoch (default: the YAML's "
                             "save_freq, 1 for mnist.yaml); must divide --valid-every. A pause "
                             "still saves the exact epoch it stops at; a kill loses at most N-1 "
                             "epochs. Each mnist.yaml checkpoint is 30 MB")
    parser.add_argument("--monitor-every", type=int, default=1, metavar="N",
                        help="compute the monitoring channels after every N-th epoch only (and "
                             "after epoch 0 and the last); training and validation are unchanged. "
                             "Default 1, as Pylearn2; on a GPU the 173 channels of mnist.yaml cost "
                             "more than an epoch of training")
    parser.add_argument("--report", action="store_true",
                        help="do not train: compute the test Parzen of each seed's best checkpoint, "
                             "write table1_summary.json/.md and print the table")
    parser.add_argument("--recompute", action="store_true",
                        help="with --report: compute every test Parzen again, here, instead of "
                             "using the value kept when the seed finished")
    parser.add_argument("--unpack", metavar="DIR", default=None,
                        help="first merge the bundle in DIR (table1_bundle.000, ...) into --out: "
                             "a run moved here from another machine")
    parser.add_argument("--pack", metavar="DIR", default=None,
                        help="last write a bundle of what changed in --out since the last --unpack "
                             "into DIR, to move the run's results to another machine")
    parser.add_argument("--pack-resume", metavar="DIR", default=None,
                        help="last write a bundle of what a fresh machine needs to continue the "
                             "run (copy DIR there and --unpack it)")
    parser.add_argument("--piece-mib", type=float, default=BUNDLE_PIECE_MIB, metavar="MIB",
                        help="size of each bundle piece in MiB (default %(default)g)")
    parser.add_argument("--max-pieces", type=int, default=None, metavar="N",
                        help="refuse to write a bundle of more than N pieces (default: no limit)")
    parser.add_argument("--no-train", action="store_true",
                        help="only --unpack / --pack / --report, no training")
    parser.add_argument("--verbose", action="store_true",
                        help="print Pylearn2's monitor block every epoch (default: one line)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no Parzen progress display")
    return parser


def check_arguments(parser, args):
    if args.epochs < 1:
        parser.error("--epochs must be >= 1")
    if args.valid_every < 1:
        parser.error("--valid-every must be >= 1")
    if args.monitor_every < 1:
        parser.error("--monitor-every must be >= 1")
    if args.save_every is not None and (args.save_every < 1 or args.valid_every % args.save_every):
        parser.error("--save-every must be >= 1 and divide --valid-every (every validated epoch "
                     "needs its checkpoint)")
    if not args.piece_mib > 0:
        parser.error("--piece-mib must be > 0")
    if args.max_pieces is not None and args.max_pieces < 1:
        parser.error("--max-pieces must be >= 1")
    if args.n_samples < 1 or args.limit < 1:
        parser.error("--n-samples and --limit must be >= 1")
    if args.limit > VALID_STOP - VALID_START:
        parser.error(f"--limit must be <= {VALID_STOP - VALID_START} (the validation images)")
    if args.seeds is not None and (len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0):
        parser.error("--seeds must be distinct numbers >= 0")
    if args.time_budget is not None and not args.time_budget >= 0:
        parser.error("--time-budget must be >= 0 seconds")


def main(argv, backend_name, make_backend, default_noise_seed, add_arguments=None,
         default_config=os.path.join("yaml_experiments", "mnist.yaml"), budget=None):
    """Parse, then train (default) or report. Returns a process exit status.

    ``make_backend(args)`` -> a :class:`Backend`; ``budget`` replaces the ``--time-budget`` clock
    (tests pass one that pauses at chosen epochs).
    """
    from gan2014.config.yaml_parse import YAMLConfigError
    from gan2014.datasets import DatasetError
    from gan2014.train import RunFolderInUse

    began = time.monotonic()
    parser = build_parser(backend_name, default_config, default_noise_seed)
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    noise_seed = default_noise_seed if args.noise_seed is None else args.noise_seed
    try:
        backend = make_backend(args)
        backend.configure()
        if args.unpack:
            unpack_bundle(args.out, args.unpack)
        status = EXIT_DONE
        if args.report:
            summary = build_report(args.out, backend, seeds=args.seeds, progress=not args.quiet,
                                   recompute=args.recompute)
            print(format_report(summary))
            for path in write_report(args.out, summary):
                print(f"written: {path}")
        elif not args.no_train:
            status = _train_command(args, backend, noise_seed, budget, began)
        if args.pack:
            pack_bundle(args.out, args.pack, "changed", args.piece_mib, args.max_pieces)
        if args.pack_resume:
            pack_bundle(args.out, args.pack_resume, "resume", args.piece_mib, args.max_pieces)
        return status
    except KeyboardInterrupt as interrupt:
        message = str(interrupt) or "Interrupted (Ctrl-C)."
        print(f"\n{message} Run the same command again to continue.", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except (Table1Error, YAMLConfigError, ckpt.CheckpointError, RunFolderInUse,
            DatasetError, fileio.JSONLError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return EXIT_FAILED if isinstance(error, ckpt.CheckpointWriteError) else EXIT_BAD_INPUT
    except OSError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return EXIT_FAILED


def _train_command(args, backend, noise_seed, budget, began):
    config = Path(args.config)
    if not config.is_file():
        raise Table1Error(f"--config {config} does not exist")
    protocol = Protocol(valid_every=args.valid_every, n_samples=args.n_samples, limit=args.limit,
                        noise_seed=noise_seed)
    manifest = open_out_dir(args.out, manifest_record(
        config, config.read_text(encoding="utf-8"), backend.name, protocol))
    if budget is None:
        budget = TimeBudget(args.time_budget)
        if budget.deadline is not None:
            budget.deadline = began + args.time_budget  # from the command's start
    return train_all(args.out, manifest, args.seeds or [0], backend, protocol, args.epochs, budget,
                     keep_checkpoints=args.keep_checkpoints, monitor_every=args.monitor_every,
                     save_every=args.save_every,
                     verbose=args.verbose,
                     progress=not args.quiet)
