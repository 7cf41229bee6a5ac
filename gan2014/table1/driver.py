"""Training the seeds: each seed's run folder is trained by gan2014.train.Train from the YAML up to
``--epochs``, resumed from its latest checkpoint, one seed after another; a finished seed's test
Parzen is computed at once, on the device that trained it."""
import sys
import time
from pathlib import Path

from gan2014.exit_codes import EXIT_DONE, EXIT_FAILED, EXIT_UNFINISHED
from gan2014.fileio import append_jsonl, write_json_atomically
from gan2014.table1.backend import source_commit
from gan2014.table1.layout import (DRIVER_LOG, STATUS, Table1Error, latest_epoch, read_status,
                                   seed_dir)
from gan2014.table1.protocol import ValidationData, score_samples
from gan2014.table1.report import test_parzen
from gan2014.table1.validation import SeedRun


def train_seed(out, manifest, seed, backend, protocol, epochs, budget, data, keep_checkpoints=3,
               verbose=False, progress=True, monitor_every=1, save_every=None,
               scorer=score_samples):
    """Train seed number ``seed`` until ``epochs`` (or the budget); returns 'done', 'paused' or
    'diverged'. Raises gan2014.train errors other than divergence."""
    from gan2014.config.yaml_parse import load
    from gan2014.train import TrainingDivergedError

    folder = seed_dir(out, seed)
    status = read_status(folder)
    if status.get("state") == "diverged":
        print(f"[seed {seed}] skipped: it diverged ({status.get('message')})", flush=True)
        return "diverged"
    run = SeedRun(out, seed, backend, protocol, epochs, budget, data, progress=progress,
                  scorer=scorer)
    start_epoch, latest = latest_epoch(folder)
    if status.get("state") in ("finished", "ended") and start_epoch < status["epoch"]:
        # A bundle carries no checkpoint of a finished seed: its records say it is done.
        if status["state"] == "ended" or status["epoch"] >= epochs:
            print(f"[seed {seed}] done: {status['epoch']} epochs trained and validated.",
                  flush=True)
            return "done"
        raise Table1Error(f"seed {seed} finished at epoch {status['epoch']} but its checkpoints "
                          f"are not in {folder / 'checkpoints'}: restore them to train it to "
                          f"{epochs}")
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
        row = test_parzen(out, seed, backend, protocol, data, progress=progress, scorer=scorer)
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
    """Train the seeds one after another; returns an exit status (EXIT_DONE, EXIT_UNFINISHED or
    EXIT_FAILED)."""
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
