"""The hook a seed's training calls before every epoch: validate when due, keep the parameters of
the best validated epoch, and pause before an epoch the time budget cannot cover."""
import json
import math
import sys
import time

from gan2014 import checkpoint as ckpt
from gan2014 import fileio
from gan2014.fileio import append_jsonl, read_jsonl
from gan2014.table1.layout import BEST, HISTORY, Table1Error, save_parameters_of, seed_dir
from gan2014.table1.protocol import best_row, score_samples


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

    def __init__(self, out, seed, backend, protocol, epochs, budget, data, progress=True,
                 scorer=score_samples):
        self.folder = seed_dir(out, seed)
        self.seed = seed
        self.backend = backend
        self.protocol = protocol
        self.epochs = epochs
        self.budget = budget
        self.data = data
        self.progress = progress
        self.scorer = scorer  # score_samples, or a stand-in with its signature
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
                  f"next epoch needs about {needed:.1f} s; pausing after epoch "
                  f"{train.epochs_seen}.", flush=True)
            return False
        return True

    def validated_epochs(self):
        return {int(row["epoch"]) for row in self.history}

    def drop_history_after(self, epoch):
        """Rows of epochs after the checkpoint the run resumes from belong to a past that the
        resumed run replays (and validates again); drop them, as Train drops monitor rows."""
        kept = [row for row in self.history if int(row["epoch"]) <= epoch]
        if len(kept) != len(self.history):
            print(f"[seed {self.seed}] dropped {len(self.history) - len(kept)} validation "
                  f"row(s) of epochs after {epoch}: the run resumes from epoch {epoch}.",
                  flush=True)
            text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in kept)
            fileio.write_text_atomically(self.history_path, text)
            self.history = kept

    def validate_if_due(self, train):
        epoch = train.epochs_seen
        if not self.protocol.is_due(epoch, self.epochs) or epoch in self.validated_epochs():
            return None
        if getattr(train.algorithm, "batches_into_epoch", 0):
            print(f"[seed {self.seed}] not validating epoch {epoch}: the run resumed inside the "
                  f"next epoch, so the live parameters are not those of epoch {epoch}.",
                  file=sys.stderr)
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
        result = self.scorer(samples, self.data, self.protocol, self.backend.ll_function(),
                             progress=False)
        seconds = time.perf_counter() - began
        self.last_validation_seconds = seconds
        previous = best_row(self.history)
        is_best = previous is None or result.mean > previous["valid_ll"]
        if is_best:
            # Copied before the row is written: if the process dies in between, the row is missing
            # and the next command validates this epoch again (its checkpoint is the latest).
            save_parameters_of(checkpoint, self.folder / BEST)
        row = {"epoch": epoch, "valid_ll": result.mean, "valid_se": result.se,
               "sigma": result.sigma, "sigma_table": [[s, m] for s, m in result.sigma_table],
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
