"""Runs side by side: the validation Parzen and the monitored objectives of several runs over epochs.

    python -m gan2014.figures.compare aesara=runs/cpu_compare/legacy_aesara/seed_0 \\
        torch=runs/cpu_compare/port_torch/seed_0 --out figures/mnist_cpu_compare.png

Each argument is LABEL=RUN_DIR, a run folder of the Table-1 driver (``seed_K``, holding
``monitor.jsonl`` and ``valid_parzen.jsonl``). Three panels: the validation Parzen score (mean
log-likelihood of train[50000:60000], gan2014/table1.py) with its standard error, and the monitored
``valid_objective_d`` and ``valid_objective_g``. The command also prints, as a Markdown table, the
validation scores at the epochs every run has validated, which is how REPRODUCING.md compares the
two backends at equal epochs.
"""
import argparse
import sys
from pathlib import Path

from gan2014.figures import png
from gan2014.figures.curves import panel, series
from gan2014.monitor_log import read_jsonl

WIDTH, HEIGHT = 1500, 520
COLORS = (png.BLUE, png.RED, png.GREEN, png.BLACK, (230, 120, 0), (120, 40, 160))


def parse_run(text):
    label, sep, folder = text.partition("=")
    if not sep or not label or not folder:
        raise argparse.ArgumentTypeError(f"{text!r}: expected LABEL=RUN_DIR")
    run = Path(folder)
    for name in ("monitor.jsonl", "valid_parzen.jsonl"):
        if not (run / name).is_file():
            raise argparse.ArgumentTypeError(f"{run / name} does not exist (RUN_DIR is a seed_K "
                                             "folder of a table1 run)")
    return label, read_jsonl(run / "monitor.jsonl"), read_jsonl(run / "valid_parzen.jsonl")


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
    canvas = png.Canvas(WIDTH, HEIGHT)
    epochs_max = max([r["epoch"] for _, monitor, validation in runs for r in monitor + validation]
                     + [1])
    left, top, width, height, gap = 110, 80, 360, 330, 130
    boxes = [(left + i * (width + gap), top, left + i * (width + gap) + width, top + height)
             for i in range(3)]
    if title:
        canvas.text((WIDTH / 2, 12), title, 16, anchor="mt")
    colors = {label: COLORS[i % len(COLORS)] for i, (label, _, _) in enumerate(runs)}
    lines = [(label, *series(validation, "valid_ll"), colors[label])
             for label, _, validation in runs]
    ax = panel(canvas, boxes[0], "validation Parzen (train[50000:60000])", "log-likelihood",
               [line for line in lines if len(line[1])], epochs_max, legend="br")
    if ax is not None:
        for label, _, validation in runs:
            for row in validation:
                top_y = float(ax.py(row["valid_ll"] + row["valid_se"]))
                bottom_y = float(ax.py(row["valid_ll"] - row["valid_se"]))
                x = float(ax.px(row["epoch"]))
                canvas.line([(x, max(top_y, boxes[0][1])), (x, min(bottom_y, boxes[0][3]))],
                            colors[label], 1.2)
    for box, channel in zip(boxes[1:], ("valid_objective_d", "valid_objective_g")):
        curves = [(label, *series(monitor, channel), colors[label]) for label, monitor, _ in runs]
        panel(canvas, box, channel, "cost (nats)", [c for c in curves if len(c[1])], epochs_max)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan2014.figures.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=parse_run, metavar="LABEL=RUN_DIR")
    parser.add_argument("--out", default="figures/mnist_compare.png", help="PNG to write")
    parser.add_argument("--title", default=None, help="a line above the panels")
    args = parser.parse_args(argv)
    labels = [label for label, _, _ in args.runs]
    if len(set(labels)) != len(labels):
        parser.error(f"labels must differ, got {labels}")
    render(args.runs, args.out, args.title)
    print(markdown_table(args.runs))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
