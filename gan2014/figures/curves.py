"""Learning curves of a run: the monitor channels and the validation Parzen score over epochs.

    python -m gan2014.figures.curves RUN_DIR --out figures/mnist_curves.pdf

RUN_DIR is a run folder (``python -m <backend>.run ... --out RUN_DIR``, or a ``seed_K`` folder of
the Table-1 driver). Read: ``monitor.jsonl`` (every channel of every monitoring step, epoch 0 =
before training; ``monitor.csv``, which holds the same rows, where there is no JSONL) and, when
present, ``valid_parzen.jsonl`` (the driver's validation Parzen, gan2014.table1). ``--monitor
FILE`` and ``--validation FILE`` name the two records directly (e.g. the copies kept in
``results/``). Six panels: the monitored objectives of D and G on the validation images;
``valid_gen_ll``, the original's in-training Parzen estimate (100 samples, sigma 0.2: noisy, not the
paper's number); the validation Parzen score with its standard error and the best epoch marked; the
learning rate (log scale once it spans a decade); the momentum; the seconds each epoch's training
took. The format follows the extension of ``--out``: PNG, PDF or SVG.
"""
import argparse
import csv
import math
import os
import sys
from pathlib import Path

import numpy as np

from gan2014.figures import plot
from gan2014.fileio import read_jsonl

WIDTH, HEIGHT = 1500, 900
BLUE, RED, GREEN, BLACK, ORANGE, PURPLE, GREY = ("tab:blue", "tab:red", "tab:green", "black",
                                                 "tab:orange", "tab:purple", "0.45")


def read_monitor(path):
    """The rows of a monitor record: ``monitor.jsonl`` as written, or ``monitor.csv`` (the same
    rows; an empty cell is a channel not computed at that step)."""
    path = Path(path)
    if path.suffix != ".csv":
        return read_jsonl(path)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = []
        for row in csv.DictReader(handle):
            rows.append({name: (int(float(value)) if name == "epoch" else float(value))
                         for name, value in row.items() if value not in ("", None)})
        return rows


def monitor_path(run):
    """The monitor record of run folder ``run`` (JSONL preferred; None if it has neither)."""
    for name in ("monitor.jsonl", "monitor.csv"):
        if (Path(run) / name).is_file():
            return Path(run) / name
    return None


def series(rows, name):
    """(epochs, values) of channel ``name``, finite values only."""
    points = [(r["epoch"], r[name]) for r in rows if name in r and r[name] is not None
              and math.isfinite(float(r[name]))]
    if not points:
        return np.array([]), np.array([])
    epochs, values = zip(*points)
    return np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)


def panel(ax, title, ylabel, lines, epochs_max, ylog=False, note=None, legend="upper right"):
    """Draw one panel on matplotlib axes ``ax``: ``lines`` = [(label, x, y, color), ...] against
    the epoch; ``ylog`` switches to a log axis when the values are positive and span more than a
    decade. Returns False (and writes ``note``) when there is nothing to draw."""
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, max(1, epochs_max))
    values = np.concatenate([y for _, _, y, _ in lines]) if lines else np.array([])
    if values.size == 0:
        ax.text(0.5, 0.5, note or "no data", transform=ax.transAxes, ha="center", va="center",
                color=GREY)
        ax.set_yticks([])
        return False
    if ylog and values.min() > 0 and values.max() / values.min() > 10:
        ax.set_yscale("log")
    for label, x, y, color in lines:
        ax.plot(x, y, color=color, linewidth=1.8, label=label,
                marker="o" if len(x) < 40 else None, markersize=3.5)
    if len(lines) > 1:
        ax.legend(loc=legend)
    return True


def render(monitor, validation, path, title=None):
    with plot.style():
        figure, axes = plot.new_figure(WIDTH, HEIGHT, nrows=2, ncols=3)
        axes = axes.ravel()
        if title:
            figure.suptitle(title)
        epochs_max = max([r["epoch"] for r in monitor] + [r["epoch"] for r in validation] + [1])
        objectives = [(label, *series(monitor, name), color) for label, name, color in
                      (("discriminator D", "valid_objective_d", BLUE),
                       ("generator G", "valid_objective_g", RED))]
        panel(axes[0], "Objectives on the validation images", "cost (nats)",
              [line for line in objectives if len(line[1])], epochs_max)
        panel(axes[1], "In-training Parzen estimate (100 samples, σ = 0.2)",
              "log-likelihood (nats)", [("", *series(monitor, "valid_gen_ll"), GREEN)],
              epochs_max)
        _validation_panel(axes[2], validation, epochs_max)
        panel(axes[3], "Learning rate", "learning rate",
              [("", *series(monitor, "learning_rate"), ORANGE)], epochs_max, ylog=True)
        panel(axes[4], "Momentum", "momentum coefficient",
              [("", *series(monitor, "momentum"), PURPLE)], epochs_max)
        seconds = [(e, v) for e, v in zip(*series(monitor, "seconds_this_epoch")) if e > 0]
        x, y = np.array([p[0] for p in seconds]), np.array([p[1] for p in seconds])
        panel(axes[5], "Training time per epoch", "time (s)",
              [("", x, y, GREY)] if len(x) else [], epochs_max)
        plot.save(figure, path)


def _validation_panel(ax, validation, epochs_max):
    x, y = series(validation, "valid_ll")
    drawn = panel(ax, "Validation Parzen (train[50000:60000])", "Parzen log-likelihood (nats)",
                  [("", x, y, BLACK)] if len(x) else [], epochs_max,
                  note="no valid_parzen.jsonl (not a table1 run)")
    if not drawn:
        return
    se = np.array([r.get("valid_se", 0.0) for r in validation if "valid_ll" in r])
    ax.errorbar(x, y, yerr=se, fmt="none", ecolor=GREY, elinewidth=1.0, capsize=2,
                label="± standard error")
    best = int(np.argmax(y))
    ax.plot([x[best]], [y[best]], linestyle="none", marker="o", markersize=8, color=RED,
            markeredgecolor=BLACK, label=f"best: {y[best]:.1f} at epoch {int(x[best])}")
    ax.legend(loc="lower right")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan2014.figures.curves", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", nargs="?", default=None,
                        help="a run folder holding monitor.jsonl (or monitor.csv)")
    parser.add_argument("--monitor", default=None, metavar="FILE",
                        help="the monitor record (.jsonl or .csv) instead of RUN_DIR's")
    parser.add_argument("--validation", default=None, metavar="FILE",
                        help="the validation Parzen record (valid_parzen.jsonl) instead of "
                             "RUN_DIR's")
    plot.add_out_argument(parser, "figures/mnist_curves.png")
    parser.add_argument("--title", default=None, help="a line above the panels")
    args = parser.parse_args(argv)
    plot.check_out(parser, args.out)
    if args.run_dir is None and args.monitor is None:
        parser.error("give RUN_DIR or --monitor FILE")
    run = Path(args.run_dir) if args.run_dir is not None else None
    monitor_file = Path(args.monitor) if args.monitor else monitor_path(run)
    if monitor_file is None or not monitor_file.is_file():
        missing = monitor_file if monitor_file is not None else run / "monitor.jsonl"
        print(f"error: {missing} does not exist (RUN_DIR is the --out folder of a run, or a seed_K "
              "folder of a table1 run)", file=sys.stderr)
        return 2
    validation_file = Path(args.validation) if args.validation else (
        run / "valid_parzen.jsonl" if run is not None else None)
    if args.validation and not validation_file.is_file():
        print(f"error: {validation_file} does not exist", file=sys.stderr)
        return 2
    monitor = read_monitor(monitor_file)
    validation = read_jsonl(validation_file) if validation_file is not None \
        and validation_file.is_file() else []
    name = os.path.normpath(run) if run is not None else monitor_file.name
    title = args.title or f"{name}: {max(r['epoch'] for r in monitor)} epochs"
    render(monitor, validation, args.out, title)
    print(f"wrote {args.out} ({len(monitor)} monitoring steps, {len(validation)} validation Parzen "
          "evaluations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
