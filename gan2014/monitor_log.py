"""What a run prints and records about its monitoring channels.

Three views of the same numbers:
* the Pylearn2-style block ("Monitoring step:" then one tab-indented line per channel, sorted with
  digit runs compared numerically), as pylearn2/monitor.py :: Monitor.__call__ printed it;
* a one-line progress display per epoch (epoch N/M, training seconds, wall seconds per epoch and the
  estimated time left, the objectives, gen_ll);
* a CSV file and a JSONL file with every channel of every monitoring step, for plots and analysis.
"""
import csv
import io
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

from gan2014 import fileio
from gan2014.fileio import read_jsonl  # noqa: F401  (where the figures and tests read it)

PROGRESS_CHANNELS = (("valid_objective_d", "obj_d"), ("valid_objective_g", "obj_g"),
                     ("valid_gen_ll", "gen_ll"), ("learning_rate", "lr"), ("momentum", "mom"))


def natural_key(name):
    """Sort key that compares digit runs as numbers ('h2' < 'h10'), as Pylearn2's monitor did."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def format_value(value):
    """A channel value as Pylearn2 printed it: float32 repr, %.3e from |v| >= 1e4."""
    value = float(value)
    if math.isfinite(value) and abs(value) >= 1e4:
        return "%.3e" % value
    return str(np.float32(value))


def monitor_block(epochs_seen, batches_seen, examples_seen, channels):
    lines = ["Monitoring step:", f"\tEpochs seen: {epochs_seen}", f"\tBatches seen: {batches_seen}",
             f"\tExamples seen: {examples_seen}"]
    for name in sorted(channels, key=natural_key):
        lines.append(f"\t{name}: {format_value(channels[name])}")
    return "\n".join(lines)


def format_duration(seconds):
    """``42 s``, ``7 min 05 s``, ``20 h 51 min``, ``3 d 04 h``: the estimated time left."""
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours:02d} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def progress_line(epoch, seconds, channels, total_epochs=None, wall_per_epoch=None):
    """One line per monitored epoch: ``epoch N/M``, the training seconds of the epoch, and, when the
    wall time of recent epochs is known (training, monitoring and saving), s/epoch and the estimated
    time left for the M - N epochs still to run; then the main channels."""
    counter = f"epoch {epoch:5d}" + (f"/{total_epochs}" if total_epochs else "")
    parts = [counter, f"{seconds:7.2f} s"]
    if wall_per_epoch is not None:
        timing = f"{wall_per_epoch:.1f} s/epoch"
        if total_epochs:
            timing += f", {format_duration(wall_per_epoch * max(0, total_epochs - epoch))} left"
        parts.append(timing)
    for name, short in PROGRESS_CHANNELS:
        if name in channels:
            parts.append(f"{short} {float(channels[name]):.4g}")
    return " | ".join(parts)


class MonitorLog:
    """Appends one row per monitoring step to <out_dir>/monitor.csv and monitor.jsonl.

    Appending (not rewriting) means a resumed run continues the same files. The CSV columns are
    fixed by the first row written; a later row with other channels goes to the JSONL file in full
    and to the CSV with the known columns only.
    """

    FIXED = ("epoch", "batches_seen", "examples_seen", "seconds_this_epoch")

    def __init__(self, out_dir, verbose=True, stream=None):
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self._columns = None
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._columns = self._existing_columns()

    def record(self, epoch, batches_seen, examples_seen, seconds, channels, block=True,
               total_epochs=None, wall_per_epoch=None):
        if self.verbose and block:
            print(monitor_block(epoch, batches_seen, examples_seen, channels), file=self.stream)
        print(progress_line(epoch, seconds, channels, total_epochs, wall_per_epoch),
              file=self.stream, flush=True)
        if self.out_dir is None:
            return
        row = {"epoch": epoch, "batches_seen": batches_seen, "examples_seen": examples_seen,
               "seconds_this_epoch": seconds}
        row.update({name: float(channels[name]) for name in sorted(channels, key=natural_key)})
        # Channels in the order above, not sorted: monitor.csv rebuilt from this file keeps it.
        fileio.append_jsonl(self.out_dir / "monitor.jsonl", row, sort_keys=False)
        self._append_csv(row)

    def _append_csv(self, row):
        path = self.out_dir / "monitor.csv"
        new_file = self._columns is None
        if new_file:
            self._columns = list(row)
        with open(path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=self._columns, extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)

    def truncate_after(self, epoch):
        """Drop the rows of epochs after `epoch` from both files; returns how many were dropped.

        A resumed run continues from a checkpoint of `epoch` and monitors the later epochs again;
        rows of those epochs already in the files come from the interrupted run (which was stopped
        after monitoring an epoch but before its checkpoint was written) and would otherwise be
        doubled. A torn last line (a process killed while appending) is dropped too. Each file is
        rewritten through a temporary file and a rename.
        """
        if self.out_dir is None:
            return 0
        dropped = 0
        jsonl = self.out_dir / "monitor.jsonl"
        if jsonl.is_file():
            kept = []
            for line in jsonl.read_text(encoding="utf-8").splitlines():
                try:
                    keep = int(json.loads(line)["epoch"]) <= epoch
                except (ValueError, KeyError, TypeError):
                    keep = False
                if keep:
                    kept.append(line + "\n")
                elif line.strip():
                    dropped += 1
            fileio.write_text_atomically(jsonl, "".join(kept), newline="")
        path = self.out_dir / "monitor.csv"
        if path.is_file() and path.stat().st_size:
            with open(path, newline="", encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
            header, body = rows[0], rows[1:]
            kept = [row for row in body if len(row) == len(header)
                    and _int_or_none(row[0]) is not None
                    and _int_or_none(row[0]) <= epoch]
            if len(kept) != len(body):
                lines = io.StringIO()
                csv.writer(lines).writerows([header] + kept)
                fileio.write_text_atomically(path, lines.getvalue(), newline="")
        return dropped

    def _existing_columns(self):
        path = self.out_dir / "monitor.csv"
        if not path.is_file() or path.stat().st_size == 0:
            return None
        with open(path, newline="", encoding="utf-8") as handle:
            return next(csv.reader(handle), None)


def _int_or_none(text):
    try:
        return int(text)
    except ValueError:
        return None
