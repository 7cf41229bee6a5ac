"""Why the paper trains G on -log D(G(z)) rather than log(1 - D(G(z))) (section 3), as a figure.

    python -m gan2014.figures.saturation --out figures/saturation.png

With a = D's logit at x = G(z), so D = sigmoid(a):

    minimax         loss log(1 - D):  |d loss / d a| = sigmoid(a)     = D
    non-saturating  loss -log D:      |d loss / d a| = 1 - sigmoid(a) = 1 - D

Early in training D rejects G's samples confidently (D -> 0): the minimax gradient vanishes with D,
the non-saturating one tends to 1. Left panel: these two curves, with the values the 1-D toy
(:mod:`gan2014.toy1d`) computes at its own samples as dots. Right panel: what G actually receives,
|d loss / d x| at x = G(z) (the logit's slope a'(x) multiplies both, so the ratio is D / (1 - D)).
"""
import argparse
import os

import numpy as np

from gan2014 import toy1d
from gan2014.figures import png

WIDTH, HEIGHT = 1300, 540
COLORS = {toy1d.MINIMAX: png.RED, toy1d.NON_SATURATING: png.BLUE}
NAMES = {toy1d.MINIMAX: "minimax: log(1 - D(G(z)))", toy1d.NON_SATURATING: "non-saturating: -log D(G(z))"}


def d_decades(samples):
    """Decades of the D axis: from the one below the smallest D(G(z)) up to 1."""
    low = int(np.floor(np.log10(samples["D"].min())))
    return [10.0 ** e for e in range(low, 1)]


def draw_logit_panel(canvas, box, samples):
    decades = d_decades(samples)
    ax = png.Axes(canvas, box, (decades[0], 1.0), (decades[0], 3.0), xlog=True, ylog=True)
    for decade in decades[1:]:
        ax.hline(decade, png.LIGHT_GREY, 1.0)
    d = np.logspace(np.log10(decades[0]), -1e-6, 400)
    ax.plot(d, d, COLORS[toy1d.MINIMAX], 2.5)                    # |d/da log(1 - sigmoid(a))|
    ax.plot(d, 1.0 - d, COLORS[toy1d.NON_SATURATING], 2.5)       # |d/da log sigmoid(a)|
    for objective in toy1d.OBJECTIVES:      # edged, so they show on top of their own curve
        ax.scatter(samples["D"], np.abs(samples["dlogit/" + objective]), COLORS[objective], 3.4,
                   edge=png.BLACK)
    ax.frame(title="G's gradient per unit of D's logit a", xlabel="D(G(z))",
             ylabel="|d loss / d a|", xticks=decades, yticks=decades)
    ax.legend([("minimax, log(1 - D):  D", "line", png.RED),
               ("non-saturating, -log D:  1 - D", "line", png.BLUE),
               ("the toy's samples", "rings", png.GREY)], at=(0.5, 0.74))


def draw_input_panel(canvas, box, samples):
    grads = {o: np.abs(samples["dx/" + o]) for o in toy1d.OBJECTIVES}
    lo = 10.0 ** np.floor(np.log10(min(g.min() for g in grads.values())))
    hi = 10.0 ** np.ceil(np.log10(max(g.max() for g in grads.values())))
    x_decades = d_decades(samples)
    ax = png.Axes(canvas, box, (x_decades[0], 1.0), (lo, hi), xlog=True, ylog=True)
    decades = [10.0 ** e for e in range(int(round(np.log10(lo))), int(round(np.log10(hi))) + 1)]
    for decade in decades:
        ax.hline(decade, png.LIGHT_GREY, 1.0)
    for objective in toy1d.OBJECTIVES:
        ax.scatter(samples["D"], grads[objective], COLORS[objective], 2.6)
    ax.frame(title="what G receives: |d loss / d x| at x = G(z)", xlabel="D(G(z))",
             ylabel="|d loss / d x|", xticks=x_decades, yticks=decades[::2])
    rejected = samples["D"] < 0.05
    ratio = np.median(grads[toy1d.MINIMAX][rejected] / grads[toy1d.NON_SATURATING][rejected])
    ax.legend([(NAMES[toy1d.MINIMAX], "dots", png.RED), (NAMES[toy1d.NON_SATURATING], "dots", png.BLUE),
               (f"where D < 0.05, median minimax / non-sat. = {ratio:.1e}", "text", None)],
              corner="br")


def render(samples, path):
    canvas = png.Canvas(WIDTH, HEIGHT)
    draw_logit_panel(canvas, (100, 60, 610, HEIGHT - 70), samples)
    draw_input_panel(canvas, (750, 60, 1260, HEIGHT - 70), samples)
    canvas.save(path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan2014.figures.saturation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="figures/saturation.png", help="PNG to write")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    samples = toy1d.early_training_gradients(seed=args.seed)
    rejected = samples["D"] < 0.05
    ratio = np.abs(samples["dx/" + toy1d.MINIMAX]) / np.abs(samples["dx/" + toy1d.NON_SATURATING])
    print(f"{rejected.mean():.0%} of G's samples have D(G(z)) < 0.05; there |minimax| / |non-saturating| "
          f"gradient is at most {ratio[rejected].max():.3g} (median {np.median(ratio[rejected]):.3g})")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    render(samples, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
