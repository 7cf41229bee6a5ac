"""The paper's Figure 1, drawn from the 1-D toy of :mod:`gan2014.toy1d`.

    python -m gan2014.figures.figure1 --out figures/figure1.pdf

Four panels, as in the paper. Each shows the data density (black dots), the generator's density p_g
(green line, exact by the change of variables) and the discriminator D(x) (blue dashes); below, the
z line with arrows from evenly spaced z to x = G(z), so the arrows crowd where p_g is high.

(a) near convergence: p_g is similar to p_data and D is a partially accurate classifier (a few SGD
    steps);
(b) the inner loop has trained D (G fixed) to convergence: D ~ D* = p_data / (p_data + p_g)
    (here the exact optimum of D's convex problem, the limit the inner loop's SGD approaches);
(c) after one G step against that D (D fixed): G(z) has flowed towards where D says "data";
(d) after Algorithm 1 has run for a while: p_g ~ p_data and D ~ 1/2 wherever there is data.

The printed lines give each panel's JSD(p_data || p_g) and max |D - D*| on the data's region. The
format follows the extension of ``--out``: PNG, PDF or SVG.
"""
import argparse
import dataclasses

import numpy as np

from gan2014 import toy1d
from gan2014.figures import plot

WIDTH, HEIGHT = 1600, 470
X_LIM = (1.0, 8.0)
Z_ARROWS = np.linspace(-0.96, 0.96, 21)     # evenly spaced z: equal p_z mass between arrows


def snapshots(seed=1234, objective=toy1d.NON_SATURATING, g_step_size=0.2, train_steps=3000):
    """Run the toy through the four moments of Figure 1; returns [(title, state)] * 4."""
    data = toy1d.DataDist()
    rng = np.random.default_rng(seed)
    # Weight decay 1e-2 on D's feature weights: where neither density has mass nothing else pins D,
    # and the decay pulls it to the bias alone, so that at the end D reads 1/2 across the panel.
    cfg = toy1d.TrainConfig(batch=128, lr_d=0.1, lr_g=0.02, momentum=0.5, k=1, l2=1e-2,
                            objective=objective)
    state = toy1d.TrainState(toy1d.initial_generator(), toy1d.Discriminator.make())
    toy1d.train_discriminator(state, data, rng, cfg, 25)
    shots = [("(a) near convergence", state.copy())]
    # The inner loop's limit, computed exactly (Newton's method on the population loss, a convex
    # problem). tests/test_theory_toy.py shows that minibatch SGD gets close too (within 0.025 of D*
    # where p_data + p_g > 1e-2), but leaves D unpinned, and so wavy, where neither has mass.
    grid = toy1d.Grid.uniform()
    state.disc = toy1d.fit_discriminator_exact(state.disc, grid, data.log_pdf(grid.x),
                                               state.gen.log_pdf(grid.x))
    shots.append(("(b) after D is trained", state.copy()))
    # One plain gradient step on G against the converged D, on a large batch and with a step larger
    # than Algorithm 1's: a single step of Algorithm 1's size moves p_g too little to see.
    one_step = dataclasses.replace(cfg, batch=1024, lr_g=g_step_size, momentum=0.0)
    toy1d.g_step(state, rng, one_step)
    shots.append(("(c) after a G update", state.copy()))
    state.vel_d[:] = 0.0          # D was replaced by the exact fit: panel (a)'s velocity is stale
    toy1d.train(state, data, rng, cfg, train_steps)
    shots.append(("(d) at the end", state.copy()))
    return shots


def panel_stats(state, data, grid):
    """JSD(p_data || p_g) and max |D - D*| where p_data > 1e-2 (what the eye checks in a panel)."""
    log_pd, log_pg = data.log_pdf(grid.x), state.gen.log_pdf(grid.x)
    d_star = toy1d.optimal_discriminator(log_pd, log_pg)
    region = np.exp(log_pd) > 1e-2
    gap = np.abs(state.disc(grid.x) - d_star)[region].max()
    return toy1d.jensen_shannon(grid, log_pd, log_pg), gap


BLACK, GREEN, BLUE, GREY = "black", "tab:green", "tab:blue", "0.45"
Z_LINE = 0.32                               # height of the z line in the mapping's axes (0 to 1)


def draw_panel(ax, mapping, title, state, data):
    """One panel: the densities and D over x on ``ax``, the mapping z -> x = G(z) on ``mapping``."""
    ax.axhline(0.5, color="0.75", linewidth=1.0, linestyle=(0, (4, 4)))
    xs = np.linspace(X_LIM[0], X_LIM[1], 600)
    dots = np.arange(X_LIM[0], X_LIM[1] + 1e-9, 0.1)
    ax.plot(dots, data.pdf(dots), linestyle="none", marker="o", markersize=2.5, color=BLACK)
    ax.plot(xs, state.gen.pdf(xs), color=GREEN, linewidth=2.0)
    ax.plot(xs, state.disc(xs), color=BLUE, linewidth=2.0, linestyle=(0, (6, 4)))
    ax.set_xlim(*X_LIM)
    ax.set_ylim(0.0, 1.05)
    ax.set_yticks([0, 0.5, 1])
    ax.set_xticks(range(int(X_LIM[0]), int(X_LIM[1]) + 1))
    ax.set_title(title)
    ax.set_xlabel("x", labelpad=1)
    ax.grid(False)
    draw_mapping(mapping, state.gen)


def draw_mapping(ax, gen):
    """The z line (z in [-1, 1] drawn under the middle of the x axis) and arrows from evenly spaced
    z up to x = G(z), in x's coordinates."""
    ax.set_xlim(*X_LIM)
    ax.set_ylim(0.0, 1.0)
    ax.axis("off")
    width = X_LIM[1] - X_LIM[0]
    z_left, z_right = X_LIM[0] + 0.2 * width, X_LIM[1] - 0.2 * width
    ax.plot([z_left, z_right], [Z_LINE, Z_LINE], color=BLACK, linewidth=1.2)
    ax.text(z_right + 0.1, Z_LINE, "z", ha="left", va="center")
    ax.text(z_left, Z_LINE - 0.1, "−1", ha="center", va="top", color=GREY, fontsize=9)
    ax.text(z_right, Z_LINE - 0.1, "1", ha="center", va="top", color=GREY, fontsize=9)
    zx = z_left + (Z_ARROWS + 1.0) / 2.0 * (z_right - z_left)
    gx = gen(Z_ARROWS)
    for start, end in zip(zx, gx):
        if X_LIM[0] <= end <= X_LIM[1]:
            ax.annotate("", xy=(end, 0.98), xytext=(start, Z_LINE + 0.02),
                        arrowprops=dict(arrowstyle="-|>", color=GREY, linewidth=0.9,
                                        shrinkA=0, shrinkB=0, mutation_scale=8))
    ax.plot(zx, np.full_like(zx, Z_LINE), linestyle="none", marker="o", markersize=2.5, color=BLACK)


def legend_handles():
    from matplotlib.lines import Line2D

    return [Line2D([], [], linestyle="none", marker="o", markersize=4, color=BLACK,
                   label="data density $p_{data}$"),
            Line2D([], [], color=GREEN, linewidth=2.0, label="generator density $p_g$"),
            Line2D([], [], color=BLUE, linewidth=2.0, linestyle=(0, (6, 4)),
                   label="discriminator $D(x)$"),
            Line2D([], [], color=GREY, linewidth=1.0, marker=">", markevery=[1],
                   label="$x = G(z)$, from evenly spaced $z$")]


def render(shots, path):
    data = toy1d.DataDist()
    with plot.style():
        figure = plot.new_figure(WIDTH, HEIGHT)
        grid = figure.add_gridspec(2, len(shots), height_ratios=(3.0, 1.1), hspace=0.0)
        for i, (title, state) in enumerate(shots):
            ax = figure.add_subplot(grid[0, i])
            mapping = figure.add_subplot(grid[1, i])
            draw_panel(ax, mapping, title, state, data)
            if i == 0:
                ax.set_ylabel("density, or D(x)")
        figure.legend(handles=legend_handles(), loc="outside lower center", ncols=4,
                      frameon=False)
        plot.save(figure, path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan2014.figures.figure1", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    plot.add_out_argument(parser, "figures/figure1.png")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--objective", choices=toy1d.OBJECTIVES, default=toy1d.NON_SATURATING,
                        help="G's objective in the G update and in Algorithm 1")
    args = parser.parse_args(argv)
    plot.check_out(parser, args.out)
    shots = snapshots(args.seed, args.objective)
    grid = toy1d.Grid.uniform()
    for title, state in shots:
        jsd, gap = panel_stats(state, toy1d.DataDist(), grid)
        print(f"{title:28s} JSD(p_data||p_g) = {jsd:.5f}   max|D - D*| (p_data > 1e-2) = {gap:.3f}")
    render(shots, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
