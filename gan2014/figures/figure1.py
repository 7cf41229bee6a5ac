"""The paper's Figure 1, drawn from the 1-D toy of :mod:`gan2014.toy1d` (numpy + Pillow only).

    python -m gan2014.figures.figure1 --out figures/figure1.png

Four panels, as in the paper. Each shows the data density (black dots), the generator's density p_g
(green line, exact by the change of variables) and the discriminator D(x) (blue dashes); below, the
z line with arrows from evenly spaced z to x = G(z), so the arrows crowd where p_g is high.

(a) near convergence: p_g is similar to p_data and D is a partially accurate classifier (a few SGD
    steps);
(b) the inner loop has trained D (G fixed) to convergence: D ~ D* = p_data / (p_data + p_g)
    (here the exact optimum of D's convex problem, the limit the inner loop's SGD approaches);
(c) after one G step against that D (D fixed): G(z) has flowed towards where D says "data";
(d) after Algorithm 1 has run for a while: p_g ~ p_data and D ~ 1/2 wherever there is data.

The printed lines give each panel's JSD(p_data || p_g) and max |D - D*| on the data's region.
"""
import argparse
import dataclasses
import os

import numpy as np

from gan2014 import toy1d
from gan2014.figures import png

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


def draw_panel(canvas, box, title, state, data):
    left, top, right, bottom = box
    x_line, z_line = bottom - 110, bottom - 30
    ax = png.Axes(canvas, (left, top, right, x_line), X_LIM, (0.0, 1.0))
    ax.hline(0.5, png.LIGHT_GREY, 1.0, dash=(4, 4))
    xs = np.linspace(X_LIM[0], X_LIM[1], 600)
    dots = np.arange(X_LIM[0], X_LIM[1] + 1e-9, 0.1)
    ax.scatter(dots, data.pdf(dots), png.BLACK, 2.2)
    ax.plot(xs, state.gen.pdf(xs), png.GREEN, 2.5)
    ax.plot(xs, state.disc(xs), png.BLUE, 2.5, dash=(8, 5))
    ax.frame(title=title, xticks=range(int(X_LIM[0]), int(X_LIM[1]) + 1), yticks=(0, 0.5, 1))
    canvas.text((right + 6, x_line), "x", 15, anchor="lm")
    draw_mapping(canvas, ax, state.gen, x_line, z_line)


def draw_mapping(canvas, ax, gen, x_line, z_line):
    """The z line (z in [-1, 1] drawn under the middle of the x axis) and arrows z -> x = G(z)."""
    left, _, right, _ = ax.box
    z_left, z_right = left + 0.2 * (right - left), right - 0.2 * (right - left)
    canvas.line([(z_left, z_line), (z_right, z_line)], png.BLACK, 1.5)
    canvas.text((z_right + 6, z_line), "z", 15, anchor="lm")
    canvas.text((z_left, z_line + 6), "-1", 11, png.GREY, anchor="mt")
    canvas.text((z_right, z_line + 6), "1", 11, png.GREY, anchor="mt")
    zx = z_left + (Z_ARROWS + 1.0) / 2.0 * (z_right - z_left)
    gx = ax.px(gen(Z_ARROWS))
    for start, end in zip(zx, gx):
        if left <= end <= right:
            canvas.arrow((start, z_line - 2), (end, x_line + 22), png.GREY, 1.1, 7)
        canvas.dot((start, z_line), 1.8, png.BLACK)


def draw_legend(canvas, y):
    entries = [("data density p_data", "dots", png.BLACK), ("generator density p_g", "line", png.GREEN),
               ("discriminator D(x)", "dash", png.BLUE), ("x = G(z)", "arrow", png.GREY)]
    widths = [48 + canvas.text_size(label, 14)[0] for label, _, _ in entries]
    x = 0.5 * (WIDTH - sum(widths) - 40 * (len(entries) - 1))
    for (label, kind, color), w in zip(entries, widths):
        png.draw_swatch(canvas, (x, y), 36, kind, color)
        canvas.text((x + 44, y), label, 14, anchor="lm")
        x += w + 40


def render(shots, path):
    data = toy1d.DataDist()
    canvas = png.Canvas(WIDTH, HEIGHT)
    panel_w = WIDTH / len(shots)
    for i, (title, state) in enumerate(shots):
        box = (i * panel_w + 45, 40, (i + 1) * panel_w - 25, HEIGHT - 45)
        draw_panel(canvas, box, title, state, data)
    draw_legend(canvas, HEIGHT - 18)
    canvas.save(path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan2014.figures.figure1", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="figures/figure1.png", help="PNG to write")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--objective", choices=toy1d.OBJECTIVES, default=toy1d.NON_SATURATING,
                        help="G's objective in the G update and in Algorithm 1")
    args = parser.parse_args(argv)
    shots = snapshots(args.seed, args.objective)
    grid = toy1d.Grid.uniform()
    for title, state in shots:
        jsd, gap = panel_stats(state, toy1d.DataDist(), grid)
        print(f"{title:28s} JSD(p_data||p_g) = {jsd:.5f}   max|D - D*| (p_data > 1e-2) = {gap:.3f}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    render(shots, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
