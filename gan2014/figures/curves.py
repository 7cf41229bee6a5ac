"""Learning curves of a run: the monitor channels and the validation Parzen score over epochs.

    python -m gan2014.figures.curves RUN_DIR --out figures/mnist_curves.png

RUN_DIR is a run folder (``python -m <backend>.run ... --out RUN_DIR``, or a ``seed_K`` folder of the
Table-1 driver). Read: ``monitor.jsonl`` (every channel of every monitoring step, epoch 0 = before
training) and, when present, ``valid_parzen.jsonl`` (the driver's validation Parzen, gan2014/table1.py).
Six panels: the monitored objectives of D and G on the validation images; ``valid_gen_ll``, the
original's in-training Parzen estimate (100 samples, sigma 0.2: noisy, not the paper's number); the
validation Parzen score with its standard error and the best epoch marked; the learning rate (log
scale once it spans a decade); the momentum; the seconds each epoch's training took.
"""
import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np

from gan2014.figures import png
from gan2014.monitor_log import read_jsonl

WIDTH, HEIGHT = 1500, 900
ORANGE = (230, 120, 0)
PURPLE = (120, 40, 160)


def nice_ticks(low, high, count=5):
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"cannot place ticks on [{low}, {high}]")
    if high <= low:
        high = low + (abs(low) or 1.0) * 0.1
    raw = (high - low) / max(1, count - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.999:
        ticks.append(round(value, 12))
        value += step
    return ticks


def tick_format(ticks):
    """A format showing each tick with the decimals its step needs ('{:.0f}' for 0, 50, 100)."""
    if len(ticks) < 2:
        return "{:g}"
    step = abs(ticks[1] - ticks[0])
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if abs(step / 10.0 ** -decimals - round(step / 10.0 ** -decimals)) > 1e-6:
        decimals += 1  # a step of 2.5 x 10^k needs one more digit
    return "{:.%df}" % decimals


def series(rows, name):
    """(epochs, values) of channel ``name``, finite values only."""
    points = [(r["epoch"], r[name]) for r in rows if name in r and r[name] is not None
              and math.isfinite(float(r[name]))]
    if not points:
        return np.array([]), np.array([])
    epochs, values = zip(*points)
    return np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)


def panel(canvas, box, title, ylabel, lines, epochs_max, ylog=False, note=None, legend="tr"):
    """One panel: ``lines`` = [(label, x, y, color), ...]; ylog switches to a log axis when the
    values are positive and span more than a decade. Returns the Axes (None if no data)."""
    values = np.concatenate([y for _, _, y, _ in lines]) if lines else np.array([])
    xticks = nice_ticks(0, max(1, epochs_max), 6)
    if values.size == 0:
        ax = png.Axes(canvas, box, (0, xticks[-1]), (0, 1))
        ax.frame(title=title, xlabel="epoch", ylabel=ylabel, xticks=xticks, yticks=())
        canvas.text((0.5 * (box[0] + box[2]), 0.5 * (box[1] + box[3])), note or "no data", 13,
                    png.GREY, anchor="mm")
        return None
    low, high = float(values.min()), float(values.max())
    use_log = ylog and low > 0 and high / low > 10
    if use_log:
        decades = list(range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1))
        yticks = [10.0 ** d for d in decades]
        ax = png.Axes(canvas, box, (0, xticks[-1]), (yticks[0], yticks[-1]), ylog=True)
    else:
        margin = 0.05 * (high - low) if high > low else 0.05 * (abs(high) or 1.0)
        yticks = nice_ticks(low - margin, high + margin, 5)
        ax = png.Axes(canvas, box, (0, xticks[-1]), (yticks[0], yticks[-1]))
    for tick in yticks:
        ax.hline(tick)
    for label, x, y, color in lines:
        if len(x) > 1:
            ax.plot(x, y, color, 2.0)
        if len(x) < 40:
            ax.scatter(x, y, color, 2.6)
    # frame() formats both axes alike: the y axis first (decimals by its step), then the epochs.
    ax.frame(title=title, ylabel=ylabel, yticks=yticks,
             fmt="{:g}" if use_log else tick_format(yticks), font=13)
    ax.frame(xlabel="epoch", xticks=xticks, fmt="{:g}", font=13)
    if len(lines) > 1:
        ax.legend([(label, "line", color) for label, _, _, color in lines], corner=legend, font=12)
    return ax


def render(monitor, validation, path, title=None):
    canvas = png.Canvas(WIDTH, HEIGHT)
    epochs_max = max([r["epoch"] for r in monitor] + [r["epoch"] for r in validation] + [1])
    left, top, width, height, gap_x, gap_y = 110, 70, 360, 300, 130, 130
    boxes = [(left + i * (width + gap_x), top + j * (height + gap_y),
              left + i * (width + gap_x) + width, top + j * (height + gap_y) + height)
             for j in range(2) for i in range(3)]
    if title:
        canvas.text((WIDTH / 2, 12), title, 16, anchor="mt")
    objectives = [(label, *series(monitor, name), color) for label, name, color in
                  (("D: valid_objective_d", "valid_objective_d", png.BLUE),
                   ("G: valid_objective_g", "valid_objective_g", png.RED))]
    panel(canvas, boxes[0], "objectives on the validation images", "cost (nats)",
          [line for line in objectives if len(line[1])], epochs_max)
    panel(canvas, boxes[1], "valid_gen_ll (100 samples, sigma 0.2)", "log-likelihood",
          [("valid_gen_ll", *series(monitor, "valid_gen_ll"), png.GREEN)], epochs_max)
    _validation_panel(canvas, boxes[2], validation, epochs_max)
    panel(canvas, boxes[3], "learning rate", "learning_rate",
          [("learning_rate", *series(monitor, "learning_rate"), ORANGE)], epochs_max, ylog=True)
    panel(canvas, boxes[4], "momentum", "momentum",
          [("momentum", *series(monitor, "momentum"), PURPLE)], epochs_max)
    seconds = [(e, s) for e, s in zip(*series(monitor, "seconds_this_epoch")) if e > 0]
    x, y = (np.array([p[0] for p in seconds]), np.array([p[1] for p in seconds]))
    panel(canvas, boxes[5], "training time per epoch", "seconds",
          [("seconds", x, y, png.GREY)] if len(x) else [], epochs_max)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)


def _validation_panel(canvas, box, validation, epochs_max):
    x, y = series(validation, "valid_ll")
    ax = panel(canvas, box, "validation Parzen (mean ll, train[50000:60000])", "log-likelihood",
               [("valid_ll", x, y, png.BLACK)] if len(x) else [], epochs_max,
               note="no valid_parzen.jsonl (not a table1 run)")
    if ax is None:
        return
    se = np.array([r.get("valid_se", 0.0) for r in validation if "valid_ll" in r])
    for xi, yi, si in zip(x, y, se):
        top, bottom = float(ax.py(yi + si)), float(ax.py(yi - si))
        canvas.line([(float(ax.px(xi)), max(top, box[1])), (float(ax.px(xi)), min(bottom, box[3]))],
                    png.GREY, 1.2)
    best = int(np.argmax(y))
    ax.scatter([x[best]], [y[best]], png.RED, 5.0, edge=png.BLACK)
    ax.legend([(f"best: {y[best]:.1f} at epoch {int(x[best])}", "rings", png.RED)], corner="tl",
              font=12)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan2014.figures.curves", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", help="a run folder holding monitor.jsonl")
    parser.add_argument("--out", default="figures/mnist_curves.png", help="PNG to write")
    parser.add_argument("--title", default=None, help="a line above the panels")
    args = parser.parse_args(argv)
    run = Path(args.run_dir)
    if not (run / "monitor.jsonl").is_file():
        print(f"error: {run / 'monitor.jsonl'} does not exist (RUN_DIR is the --out folder of a "
              "run, or a seed_K folder of a table1 run)", file=sys.stderr)
        return 2
    monitor = read_jsonl(run / "monitor.jsonl")
    validation = read_jsonl(run / "valid_parzen.jsonl") if (run / "valid_parzen.jsonl").is_file() \
        else []
    title = args.title or f"{os.path.normpath(run)}: {max(r['epoch'] for r in monitor)} epochs"
    render(monitor, validation, args.out, title)
    print(f"wrote {args.out} ({len(monitor)} monitoring steps, {len(validation)} validation Parzen "
          "evaluations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
