"""Runs side by side: validation Parzen and monitored objectives of several runs over epochs.

    python -m gan2014.figures.compare aesara=runs/cpu_compare/legacy_aesara/seed_0 \\
        torch=runs/cpu_compare/port_torch/seed_0 --out figures/mnist_cpu_compare.pdf

Each argument is LABEL=RUN_DIR, a run folder of the Table-1 driver (``seed_K``, holding
``monitor.jsonl`` or ``monitor.csv``, and ``valid_parzen.jsonl``), or LABEL=MONITOR,VALIDATION, the
two records named directly (e.g. the copies kept in ``results/``). Three panels: the validation
Parzen score (mean log-likelihood of train[50000:60000], gan2014.table1) with its standard error,
and the monitored ``valid_objective_d`` and ``valid_objective_g``. The command also prints, as a
Markdown table, the validation scores at the epochs every run has validated, which is how
REPRODUCING.md compares the two backends at equal epochs. The format follows the extension of
``--out``: PNG, PDF or SVG.
"""
import argparse
import sys
from pathlib import Path

from gan2014.figures import plot
from gan2014.figures.curves import GREY, monitor_path, panel, read_monitor, series
from gan2014.fileio import read_jsonl

WIDTH, HEIGHT = 1500, 520
COLORS = ("tab:blue", "tab:red", "tab:green", "black", "tab:orange", "tab:purple")


def parse_run(text):
    label, sep, where = text.partition("=")
    if not sep or not label or not where:
        raise argparse.ArgumentTypeError(f"{text!r}: expected LABEL=RUN_DIR or "
                                         "LABEL=MONITOR,VALIDATION")
    if Path(where).is_dir() or "," not in where:
        run = Path(where)
        monitor = monitor_path(run) or run / "monitor.jsonl"
        validation = run / "valid_parzen.jsonl"
        hint = " (RUN_DIR is a seed_K folder of a table1 run)"
    else:
        monitor, validation = (Path(part) for part in where.split(",", 1))
        hint = ""
    for path in (monitor, validation):
        if not path.is_file():
            raise argparse.ArgumentTypeError(f"{path} does not exist{hint}")
    return label, read_monitor(monitor), read_jsonl(validation)


def common_epochs(runs):
    """The validated epochs every run has, ascending."""
    sets = [{row["epoch"] for row in validation} for _, _, validation in runs]
    return sorted(set.intersection(*sets)) if sets else []


def markdown_table(runs):
    lines = ["| epoch | " + " | ".join(f"{label}: validation Parzen (σ)" for label, _, _ in runs)
             + " |", "| --- |" + " --- |" * len(runs)]
    for epoch in common_epochs(runs):
        cells = []
        for _, _, validation in runs:
            row = next(r for r in validation if r["epoch"] == epoch)
            cells.append(f"{row['valid_ll']:.2f} ± {row['valid_se']:.2f} ({row['sigma']:.4g})")
        lines.append(f"| {epoch} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(runs, path, title=None):
    with plot.style():
        figure, axes = plot.new_figure(WIDTH, HEIGHT, nrows=1, ncols=3)
        if title:
            figure.suptitle(title)
        epochs_max = max([r["epoch"] for _, monitor, validation in runs
                          for r in monitor + validation] + [1])
        colors = {label: COLORS[i % len(COLORS)] for i, (label, _, _) in enumerate(runs)}
        lines = [(label, *series(validation, "valid_ll"), colors[label])
                 for label, _, validation in runs]
        drawn = panel(axes[0], "Validation Parzen (train[50000:60000])",
                      "Parzen log-likelihood (nats)", [line for line in lines if len(line[1])],
                      epochs_max, legend="lower right")
        if drawn:
            for label, _, validation in runs:
                rows = [r for r in validation if "valid_ll" in r]
                axes[0].errorbar([r["epoch"] for r in rows], [r["valid_ll"] for r in rows],
                                 yerr=[r.get("valid_se", 0.0) for r in rows], fmt="none",
                                 ecolor=colors[label], elinewidth=1.0, capsize=2)
            axes[0].text(0.02, 0.98, "bars: ± standard error", transform=axes[0].transAxes,
                         ha="left", va="top", color=GREY, fontsize=9)
        for ax, channel, title_, who in zip(
                axes[1:], ("valid_objective_d", "valid_objective_g"),
                ("Discriminator's objective", "Generator's objective"), ("D", "G")):
            curves = [(label, *series(monitor, channel), colors[label])
                      for label, monitor, _ in runs]
            panel(ax, f"{title_} (validation images)", f"cost of {who} (nats)",
                  [c for c in curves if len(c[1])], epochs_max)
        plot.save(figure, path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan2014.figures.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=parse_run, metavar="LABEL=RUN_DIR")
    plot.add_out_argument(parser, "figures/mnist_compare.png")
    parser.add_argument("--title", default=None, help="a line above the panels")
    args = parser.parse_args(argv)
    plot.check_out(parser, args.out)
    labels = [label for label, _, _ in args.runs]
    if len(set(labels)) != len(labels):
        parser.error(f"labels must differ, got {labels}")
    render(args.runs, args.out, args.title)
    print(markdown_table(args.runs))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
