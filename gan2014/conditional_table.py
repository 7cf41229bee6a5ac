"""Print a conditional run's scores, both ways of sampling, as one Markdown table.

    python -m gan2014.conditional_table results/conditional/mnist_conditional-port_torch
    python -m gan2014.conditional_table <folder> --epochs 5 10 20 95 120

The folder is where `python -m port_torch.conditional <run>/checkpoints` (or legacy_aesara's)
wrote `scores.csv` (G deterministic, as the 2014 Parzen script sampled) and, with
`--generator-dropout`, `scores_gdropout.csv` (G with its training dropout). The table has one
column per chosen epoch and four rows: validation and test ± se for each way; the best checkpoint
by validation of each way is in bold, the one the protocol keeps. Without --epochs the columns are
a spread of the scored epochs (every 5th to 20, every 20th to 200, every 100th after), each way's
best and the last epoch scored.
"""
import argparse
import csv
import sys
from pathlib import Path

from gan2014.exit_codes import EXIT_BAD_INPUT, EXIT_DONE

WAYS = (("scores.csv", "deterministic G"), ("scores_gdropout.csv", "with G's dropout"))
NEEDED = ("epoch", "validation_ll", "test_ll", "test_se")


class ScoresError(ValueError):
    """A scores table that is missing or cannot be read."""


def read_scores(path):
    """{epoch: row} of one scores table, numbers as floats (epoch as int)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in NEEDED if name not in (reader.fieldnames or ())]
            if missing:
                raise ScoresError(f"{path}: no column {', '.join(missing)} (is it a scores table "
                                  "written by the conditional Parzen command?)")
            rows = {}
            for line, row in enumerate(reader, start=2):
                try:
                    rows[int(row["epoch"])] = {name: float(row[name]) for name in NEEDED[1:]}
                except (TypeError, ValueError):
                    raise ScoresError(f"{path}, line {line}: not a number in {row}") from None
    except OSError as error:
        raise ScoresError(f"{path}: {error.strerror}") from None
    if not rows:
        raise ScoresError(f"{path}: no scored checkpoint")
    return rows


def best_epoch(rows):
    """The epoch the protocol keeps: the highest validation log-likelihood (ties: the first)."""
    return max(sorted(rows), key=lambda epoch: rows[epoch]["validation_ll"])


def spread(epochs):
    """The default columns: every 5th epoch to 20, every 20th to 200, every 100th after."""
    return [e for e in epochs
            if (e <= 20 and e % 5 == 0) or (e <= 200 and e % 20 == 0) or e % 100 == 0]


def columns(tables, wanted=None):
    """The epochs to show: `wanted` (those scored by at least one way), or the spread of the scored
    epochs plus each way's best and the last epoch scored."""
    scored = sorted(set().union(*(rows.keys() for rows in tables.values())))
    if wanted:
        return [epoch for epoch in sorted(set(wanted)) if epoch in scored]
    chosen = set(spread(scored)) | {best_epoch(rows) for rows in tables.values()} | {scored[-1]}
    return sorted(chosen)


def bold_if(text, bold):
    return f"**{text}**" if bold else text


def signed(value, digits=1):
    """A number as REPRODUCING.md writes it: a true minus sign."""
    return f"{value:.{digits}f}".replace("-", "−")


def format_table(tables, epochs):
    """The Markdown table: a header of epochs, then validation and test ± se per way."""
    lines = ["| epoch | " + " | ".join(str(epoch) for epoch in epochs) + " |",
             "| --- |" + " --- |" * len(epochs)]
    for name, label in WAYS:
        if name not in tables:
            continue
        rows = tables[name]
        best = best_epoch(rows)
        valid = [bold_if(signed(rows[e]["validation_ll"]), e == best) if e in rows else "–"
                 for e in epochs]
        test = [bold_if(f"{signed(rows[e]['test_ll'])} ± {rows[e]['test_se']:.1f}", e == best)
                if e in rows else "–" for e in epochs]
        lines.append(f"| validation, {label} | " + " | ".join(valid) + " |")
        lines.append(f"| test ± se, {label} | " + " | ".join(test) + " |")
    return "\n".join(lines)


def summary(tables):
    """One line per way: its best checkpoint by validation and how many were scored."""
    out = []
    for name, label in WAYS:
        if name in tables:
            rows = tables[name]
            best = best_epoch(rows)
            row = rows[best]
            out.append(f"best by validation, {label}: epoch {best} (validation "
                       f"{row['validation_ll']:.2f}), test {row['test_ll']:.2f} ± "
                       f"{row['test_se']:.2f}; {len(rows)} checkpoints scored, epochs "
                       f"{min(rows)}–{max(rows)}")
    return "\n".join(out)


def load_tables(folder):
    """{file name: rows} of the scores tables in `folder`; at least one must exist."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScoresError(f"{folder}: no such folder")
    tables = {name: read_scores(folder / name) for name, _ in WAYS if (folder / name).exists()}
    if not tables:
        raise ScoresError(f"{folder}: neither {WAYS[0][0]} nor {WAYS[1][0]} (score the run's "
                          "checkpoints first: python -m port_torch.conditional <run>/checkpoints)")
    return tables


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m gan2014.conditional_table",
        description="Print a conditional run's Parzen scores (G deterministic and with its "
                    "training dropout) as one Markdown table, best by validation in bold.")
    parser.add_argument("folder", help="the folder holding scores.csv and/or scores_gdropout.csv")
    parser.add_argument("--epochs", type=int, nargs="+", default=None,
                        help="the epochs to show (default: a spread, each way's best, the last)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        tables = load_tables(args.folder)
    except ScoresError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    epochs = columns(tables, args.epochs)
    if not epochs:
        print(f"error: none of the epochs {args.epochs} is scored in {args.folder}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    print(format_table(tables, epochs))
    print()
    print(summary(tables))
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(main())
