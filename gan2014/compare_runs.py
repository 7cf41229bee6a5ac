"""Does one run retrace another? Compare two runs' records on the epochs they share.

    python -m gan2014.compare_runs EARLIER LATER

EARLIER and LATER are run folders (or copies of their records): each holds `monitor.csv` and, for a
Table-1 seed, `valid_parzen.jsonl`. A run that is lost with its machine is restarted from epoch 0
elsewhere; when the new machine does the same float32 arithmetic, the restart is the same training
and its records equal the lost ones digit for digit, which this command checks on every epoch both
have recorded: every monitoring channel (the wall-clock timings excepted) and every validation row
(its timings excepted). Numbers are compared as written, so "equal" means bit for bit.

Exit status, as cmp(1): 0 every shared epoch is equal, 1 some differ (the first one is named, with
the channels that differ and by how much), 2 bad input (a folder without a monitor log, a log
that cannot be read, or no epoch in common).
"""
import argparse
import csv
import math
import sys
from pathlib import Path

from gan2014.exit_codes import EXIT_BAD_INPUT, EXIT_DONE, EXIT_FAILED
from gan2014.fileio import JSONLError, read_jsonl

MONITOR = "monitor.csv"
VALIDATION = "valid_parzen.jsonl"


class CompareError(ValueError):
    """A record that cannot be compared (missing, unreadable, nothing in common)."""


def is_timing(name):
    """Wall-clock measurements, which differ between any two runs and say nothing of the numbers."""
    return "seconds" in name or name == "recorded_at"


def read_monitor(folder):
    """{epoch: {channel: text}} of a run's monitor.csv."""
    path = Path(folder) / MONITOR
    if not path.is_file():
        raise CompareError(f"{folder}: no {MONITOR} (is it a run folder?)")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "epoch" not in reader.fieldnames:
            raise CompareError(f"{path}: no 'epoch' column in its header")
        rows = {}
        for line, row in enumerate(reader, 2):
            try:
                rows[int(row["epoch"])] = row
            except (TypeError, ValueError):
                raise CompareError(f"{path} line {line}: epoch {row['epoch']!r} is not a "
                                   "whole number") from None
    return rows


def read_validation(folder):
    """{epoch: row} of a run's valid_parzen.jsonl ({} when the run has none)."""
    path = Path(folder) / VALIDATION
    try:
        rows = read_jsonl(path, missing_ok=True)
    except JSONLError as error:
        raise CompareError(str(error)) from None
    if not all(isinstance(row, dict) and "epoch" in row for row in rows):
        raise CompareError(f"{path}: a row without an 'epoch'")
    return {row["epoch"]: row for row in rows}


def relative_difference(a, b):
    """|a - b| / max(|a|, |b|) for two numbers written as text (None when either is not one)."""
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    scale = max(abs(x), abs(y))
    return abs(x - y) / scale if scale else 0.0


def differing(earlier, later):
    """The fields (timings excepted) whose values differ, as (name, relative difference)."""
    names = [name for name in earlier if name in later and not is_timing(name)]
    return [(name, relative_difference(earlier[name], later[name])) for name in names
            if earlier[name] != later[name]]


def compare(name, earlier, later):
    """(equal, report line) for two {epoch: row} maps of one record."""
    shared = sorted(set(earlier) & set(later))
    if not shared:
        return None, f"{name}: no epoch in common"
    for epoch in shared:
        found = differing(earlier[epoch], later[epoch])
        if found:
            sizes = [size for _, size in found if size is not None]
            worst = max(found, key=lambda item: -1.0 if item[1] is None else item[1])
            largest = (f"; largest relative difference {max(sizes):.2g} ({worst[0]})"
                       if sizes else "")
            return False, (f"{name}: first difference at epoch {epoch}: {len(found)} of "
                           f"{compared_fields(earlier[epoch])} fields differ{largest}; "
                           f"{agreed_before(shared[:shared.index(epoch)])}")
    return True, (f"{name}: equal on all {len(shared)} epochs in common ({shared[0]} to "
                  f"{shared[-1]}; {compared_fields(earlier[shared[-1]])} fields each, timings "
                  "ignored)")


def compared_fields(row):
    return len([name for name in row if not is_timing(name)])


def agreed_before(epochs):
    if not epochs:
        return "no earlier epoch in common"
    if len(epochs) == 1:
        return f"equal before it (epoch {epochs[0]})"
    return f"equal before it ({len(epochs)} epochs, {epochs[0]} to {epochs[-1]})"


def compare_runs(earlier, later):
    """(exit status, report lines) for two run folders."""
    results = [compare(MONITOR, read_monitor(earlier), read_monitor(later))]
    old_valid, new_valid = read_validation(earlier), read_validation(later)
    if old_valid and new_valid:
        results.append(compare(VALIDATION, old_valid, new_valid))
    lines = [line for _, line in results]
    if results[0][0] is None:
        raise CompareError(f"{earlier} and {later}: no monitored epoch in common")
    status = EXIT_DONE if all(equal is not False for equal, _ in results) else EXIT_FAILED
    return status, lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m gan2014.compare_runs",
        description="Check, epoch by epoch, that one run's records equal another's (a restart "
                    "on another machine retracing a lost run). Exit 0 equal, 1 different, 2 bad "
                    "input.")
    parser.add_argument("earlier", help="a run folder (or a copy of its records): monitor.csv, "
                                        "and valid_parzen.jsonl if it has one")
    parser.add_argument("later", help="the run to compare with it")
    args = parser.parse_args(argv)
    try:
        status, lines = compare_runs(args.earlier, args.later)
    except CompareError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
