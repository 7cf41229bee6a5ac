"""The README's one-line status of the Table-1 campaign, rewritten from the campaign's run folder.

    python -m gan2014.table1.campaign_status RUNS README COMMIT

(`scripts/table1_campaign.sh land` calls it.) Per seed: the last checkpoint's epoch out of the
target, and the best validation Parzen estimate so far; then the pace of the seeds in the last
sitting (epochs per hour of wall time, from the driver log) and, at that pace, the hours of
training left to the seeds that are running. The pace is the machine's as it was shared in that
sitting, so the estimate is a guide, not a promise.
"""
import re
import sys
import time
from pathlib import Path

from gan2014 import checkpoint as ckpt
from gan2014.fileio import read_jsonl, write_text_atomically
from gan2014.exit_codes import EXIT_BAD_INPUT, EXIT_DONE
from gan2014.table1.layout import DRIVER_LOG, HISTORY, Table1Error, seed_dir
from gan2014.table1.manifest import read_manifest
from gan2014.table1.protocol import best_row

SEEDS = (0, 1, 2)
TARGET = 2500
LINE = re.compile(r"^Table 1 campaign status.*$", flags=re.M)


def last_epoch(folder):
    """The epoch of the newest end-of-epoch checkpoint in <folder>/checkpoints, or None."""
    found = ckpt.epoch_end_checkpoints(Path(folder) / "checkpoints")
    return found[-1][0] if found else None


def sitting_pace(driver_rows, seed):
    """Epochs per hour of the seed's last driver-log row that trained (None if none did)."""
    for row in reversed(driver_rows):
        if row.get("seed") != seed:
            continue
        epochs = row.get("last_epoch", 0) - row.get("first_epoch", 0)
        seconds = row.get("ended", 0) - row.get("started", 0)
        if epochs > 0 and seconds > 0:
            return epochs * 3600.0 / seconds
    return None


def status_line(runs, commit, today=None, target=TARGET):
    runs = Path(runs)
    driver = read_jsonl(runs / DRIVER_LOG, missing_ok=True)
    parts, paces, hours_left = [], [], []
    for seed in SEEDS:
        folder = seed_dir(runs, seed)
        epoch = last_epoch(folder)
        if epoch is None:
            parts.append(f"seed {seed} not started")
            continue
        text = f"seed {seed} {epoch}/{target} epochs"
        best = best_row(read_jsonl(folder / HISTORY, missing_ok=True))
        if best is not None:
            text += f" (best validation Parzen {best['valid_ll']:.2f} at epoch {best['epoch']})"
        parts.append(text)
        pace = sitting_pace(driver, seed)
        if pace is not None and epoch < target:
            paces.append(f"seed {seed} {pace:.0f}")
            hours_left.append((target - epoch) / pace)
    line = (f"Table 1 campaign status ({today or time.strftime('%Y-%m-%d')}, code {commit}): "
            + "; ".join(parts) + ".")
    if paces:
        line += (f" Pace in the last sitting, epochs an hour (the machine shared): "
                 f"{', '.join(paces)}; at that pace about {max(hours_left):.0f} more hours of "
                 f"training for {'it' if len(paces) == 1 else 'them'}.")
    return line + " Records: `results/table1/`."


def rewrite_readme(readme, line):
    text = Path(readme).read_text(encoding="utf-8")
    new, count = LINE.subn(lambda _: line, text)
    if count != 1:
        raise SystemExit(f"{readme} has no single 'Table 1 campaign status' line to update "
                         f"({count} found)")
    write_text_atomically(readme, new)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        raise SystemExit("usage: python -m gan2014.table1.campaign_status RUNS README COMMIT")
    runs, readme, commit = argv
    try:
        # A mistyped folder would read as "not started" for every seed and replace the line.
        read_manifest(runs)
    except Table1Error as error:
        print(f"error: {error}; {readme} is left as it was", file=sys.stderr)
        return EXIT_BAD_INPUT
    line = status_line(runs, commit)
    rewrite_readme(readme, line)
    print(line)
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(main())
