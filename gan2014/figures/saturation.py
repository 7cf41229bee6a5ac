"""Why the paper trains G on -log D(G(z)) rather than log(1 - D(G(z))) (section 3), as a figure.

    python -m gan2014.figures.saturation --out figures/saturation.pdf

With a = D's logit at x = G(z), so D = sigmoid(a):

    minimax         loss log(1 - D):  |d loss / d a| = sigmoid(a)     = D
    non-saturating  loss -log D:      |d loss / d a| = 1 - sigmoid(a) = 1 - D

Early in training D rejects G's samples confidently (D -> 0): the minimax gradient vanishes with D,
the non-saturating one tends to 1. Left panel: these two curves, with the values the 1-D toy
(:mod:`gan2014.toy1d`) computes at its own samples as dots. Right panel: what G actually receives,
|d loss / d x| at x = G(z) (the logit's slope a'(x) multiplies both, so the ratio is D / (1 - D)).
The format follows the extension of ``--out``: PNG, PDF or SVG.
"""
import argparse

import numpy as np

from gan2014 import toy1d
from gan2014.figures import plot

WIDTH, HEIGHT = 1300, 540
COLORS = {toy1d.MINIMAX: "tab:red", toy1d.NON_SATURATING: "tab:blue"}
NAMES = {toy1d.MINIMAX: "minimax: log(1 − D(G(z)))",
         toy1d.NON_SATURATING: "non-saturating: −log D(G(z))"}


def d_decades(samples):
    """Decades of the D axis: from the one below the smallest D(G(z)) up to 1."""
    low = int(np.floor(np.log10(samples["D"].min())))
    return [10.0 ** e for e in range(low, 1)]


def draw_logit_panel(ax, samples):
    decades = d_decades(samples)
    d = np.logspace(np.log10(decades[0]), -1e-6, 400)
    ax.plot(d, d, color=COLORS[toy1d.MINIMAX], linewidth=2.0,       # |d/da log(1 - sigmoid(a))|
            label="minimax, log(1 − D): slope D")
    ax.plot(d, 1.0 - d, color=COLORS[toy1d.NON_SATURATING], linewidth=2.0,   # |d/da log sigmoid(a)|
            label="non-saturating, −log D: slope 1 − D")
    for objective in toy1d.OBJECTIVES:      # edged, so they show on top of their own curve
        ax.plot(samples["D"], np.abs(samples["dlogit/" + objective]), linestyle="none",
                marker="o", markersize=5, color=COLORS[objective], markeredgecolor="black",
                markeredgewidth=0.6)
    ax.plot([], [], linestyle="none", marker="o", markersize=5, color="white",
            markeredgecolor="black", markeredgewidth=0.6, label="at the toy's samples G(z)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(decades[0], 1.0)
    ax.set_ylim(decades[0], 3.0)
    ax.set_title("G's gradient per unit of D's logit a")
    ax.set_xlabel("D(G(z)), the discriminator's output on a sample")
    ax.set_ylabel("|∂ loss / ∂ a|")
    ax.legend(loc="lower right")


def draw_input_panel(ax, samples):
    grads = {o: np.abs(samples["dx/" + o]) for o in toy1d.OBJECTIVES}
    for objective in toy1d.OBJECTIVES:
        ax.plot(samples["D"], grads[objective], linestyle="none", marker="o", markersize=4,
                color=COLORS[objective], label=NAMES[objective])
    rejected = samples["D"] < 0.05
    ratio = np.median(grads[toy1d.MINIMAX][rejected] / grads[toy1d.NON_SATURATING][rejected])
    ax.plot([], [], linestyle="none",
            label=f"where D < 0.05: median minimax / non-sat. = {ratio:.1e}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(d_decades(samples)[0], 1.0)
    ax.set_title("What G receives: |∂ loss / ∂ x| at x = G(z)")
    ax.set_xlabel("D(G(z)), the discriminator's output on a sample")
    ax.set_ylabel("|∂ loss / ∂ x|")
    ax.legend(loc="lower right")


def render(samples, path):
    with plot.style():
        figure, axes = plot.new_figure(WIDTH, HEIGHT, nrows=1, ncols=2)
        draw_logit_panel(axes[0], samples)
        draw_input_panel(axes[1], samples)
        plot.save(figure, path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan2014.figures.saturation",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    plot.add_out_argument(parser, "figures/saturation.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    plot.check_out(parser, args.out)
    samples = toy1d.early_training_gradients(seed=args.seed)
    rejected = samples["D"] < 0.05
    ratio = np.abs(samples["dx/" + toy1d.MINIMAX]) / np.abs(samples["dx/" + toy1d.NON_SATURATING])
    print(f"{rejected.mean():.0%} of G's samples have D(G(z)) < 0.05; there "
          f"|minimax| / |non-saturating| gradient is at most {ratio[rejected].max():.3g} "
          f"(median {np.median(ratio[rejected]):.3g})")
    render(samples, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
