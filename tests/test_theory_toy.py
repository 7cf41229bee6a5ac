"""Section 4 of the paper, checked numerically on the 1-D toy of Figure 1 (gan2014.toy1d).

Densities are exact (p_data is a Gaussian; p_g comes from a monotone G by the change of variables),
and every expectation is an integral on a fine uniform grid, so the statements are checked without
sampling noise wherever the theory is about populations:

1. Proposition 1: for fixed G the optimal D is D* = p_data / (p_data + p_g);
2. Theorem 1's identity C(G) = max_D V(G, D) = -log 4 + 2 JSD(p_data || p_g);
3. its consequence: C(G) = -log 4 exactly when p_g = p_data, and C(G) > -log 4 otherwise;
4. section 3's saturation argument: early in training log(1 - D(G(z))) gives G almost no gradient,
   -log D(G(z)) does;
5. the hand-written gradients behind all of it, against central differences.
"""
import math

import numpy as np
import pytest

from gan2014 import toy1d
from gan2014.toy1d import (LOG4, MINIMAX, NON_SATURATING, OBJECTIVES, DataDist, Discriminator,
                           Generator, Grid)

DATA = DataDist()
GRID = Grid.uniform()
LOG_PD = DATA.log_pdf(GRID.x)


def random_generator(rng, units=3):
    """A G of random shape: shifted, wider or narrower than the data, skewed by its tanh units."""
    return Generator.make(c=rng.uniform(3.0, 5.0), s=math.log(rng.uniform(0.2, 1.0)),
                          a=np.log(rng.uniform(0.1, 0.6, units)), w=rng.uniform(-0.5, 0.5, units),
                          b=rng.uniform(-1.5, 1.5, units))


def several_generators():
    rng = np.random.default_rng(2014)
    return ([toy1d.initial_generator(), toy1d.early_generator()]
            + [random_generator(rng) for _ in range(4)])


GENERATORS = several_generators()
GEN_IDS = ["initial", "early"] + [f"random{i}" for i in range(len(GENERATORS) - 2)]


def mass_region(log_pg, threshold=1e-3):
    """Where the densities have mass: p_data + p_g > threshold."""
    return np.exp(LOG_PD) + np.exp(log_pg) > threshold


# ---------------------------------------------------------------------------------------------
# The densities themselves: everything below relies on them.

@pytest.mark.parametrize("gen", GENERATORS, ids=GEN_IDS)
def test_densities_integrate_to_one_on_the_grid(gen):
    """Both masses are 1 to 1e-10: the grid is wide and fine enough, and p_g's change of variables
    is right (a wrong Jacobian factor would be off by O(1)). Theorem 1's identity below needs this,
    since C(G) - (-log 4 + 2 JSD) = log 2 * (2 - mass(p_data) - mass(p_g)) on any quadrature."""
    assert abs(GRID.integrate(np.exp(LOG_PD)) - 1.0) <= 1e-10
    assert abs(GRID.integrate(gen.pdf(GRID.x)) - 1.0) <= 1e-10


@pytest.mark.parametrize("gen", GENERATORS[:3], ids=GEN_IDS[:3])
def test_generator_density_matches_its_distribution_function(gen):
    """P(G(z) <= x) = P(z <= G^-1(x)) = (1 + tanh u) / 2 with u = atanh(G^-1(x)): the running
    integral of p_g must reproduce it. The trapezoid's running sum is O(h^2) (h = 2.5e-3), hence
    1e-5 (measured <= 4.2e-7).
    The inverse is checked on the way: G(G^-1(x)) = x."""
    u = gen.inverse_u(GRID.x)
    assert np.abs(gen.x_of_u(u) - GRID.x).max() <= 1e-9
    p = gen.pdf(GRID.x)
    h = GRID.x[1] - GRID.x[0]
    running = np.concatenate([[0.0], np.cumsum(0.5 * h * (p[1:] + p[:-1]))])
    assert np.abs(running - 0.5 * (1.0 + np.tanh(u))).max() <= 1e-5


# ---------------------------------------------------------------------------------------------
# 1. Proposition 1.

@pytest.mark.parametrize("gen", GENERATORS, ids=GEN_IDS)
def test_proposition1_exact_inner_optimum_is_d_star(gen):
    """D maximising V(G, D) (Newton's method on the population loss, a convex problem) equals D*.

    Tolerance 5e-3 on max |D - D*| where p_data + p_g > 1e-3: what is left is only D's finite
    capacity (a quadratic plus 28 Gaussian bumps 0.33 apart cannot follow log p_data - log p_g
    exactly where p_g has a sharp shoulder); measured 2e-6 to 8.1e-4 over these generators.
    Also V(G, D) <= C(G) = V(G, D*), and nearly equal."""
    log_pg = gen.log_pdf(GRID.x)
    disc = toy1d.fit_discriminator_exact(Discriminator.make(), GRID, LOG_PD, log_pg)
    d_star = toy1d.optimal_discriminator(LOG_PD, log_pg)
    region = mass_region(log_pg)
    assert np.abs(disc(GRID.x) - d_star)[region].max() <= 5e-3
    v = toy1d.value(GRID, LOG_PD, log_pg, disc.logit(GRID.x))
    c = toy1d.virtual_criterion(GRID, LOG_PD, log_pg)
    assert c - 1e-6 <= v <= c + 1e-12


def test_proposition1_sgd_inner_loop_approaches_d_star():
    """The inner loop of Algorithm 1 itself (minibatch SGD with momentum, G fixed, 6,000 steps of
    256 samples, the step cut twice) gets D close to D*.

    On top of finite capacity there is finite training: the gradient on D's value at x is
    proportional to p_data(x) + p_g(x), so the region's thin edges converge slowest (and see the
    fewest samples). Hence two tolerances on max |D - D*|: 0.025 where p_data + p_g > 1e-2 and 0.06
    where it is > 1e-3 (measured over 10 seeds: at most 0.018 and 0.042; seed 0: 0.013 and 0.041).
    The exact solver above meets 5e-3 on the whole region: the gap is training, not the theory."""
    gen = toy1d.initial_generator()
    state = toy1d.TrainState(gen, Discriminator.make())
    toy1d.converge_discriminator(state, DATA, np.random.default_rng(0))
    log_pg = gen.log_pdf(GRID.x)
    error = np.abs(state.disc(GRID.x) - toy1d.optimal_discriminator(LOG_PD, log_pg))
    assert error[mass_region(log_pg, 1e-2)].max() <= 0.025
    assert error[mass_region(log_pg, 1e-3)].max() <= 0.06


# ---------------------------------------------------------------------------------------------
# 2.-3. Theorem 1.

def trained_generator():
    """A G after some of Algorithm 1 (so the identity is also checked on a G that training made)."""
    state = toy1d.TrainState(toy1d.initial_generator(), Discriminator.make())
    cfg = toy1d.TrainConfig(lr_d=0.1, lr_g=0.02, l2=1e-2)
    return toy1d.train(state, DATA, np.random.default_rng(7), cfg, steps=400).gen


@pytest.mark.parametrize("gen", GENERATORS + [trained_generator()], ids=GEN_IDS + ["trained"])
def test_virtual_criterion_is_minus_log4_plus_twice_jsd(gen):
    """C(G) = E_data log D* + E_g log(1 - D*) = -log 4 + 2 JSD(p_data || p_g), to 1e-8 (measured
    ~1e-15: the two sides differ only by log 2 times the quadrature's mass error). And C(G) exceeds
    -log 4 by 2 JSD > 0 for each of these G, none of which is p_data."""
    log_pg = gen.log_pdf(GRID.x)
    c = toy1d.virtual_criterion(GRID, LOG_PD, log_pg)
    jsd = toy1d.jensen_shannon(GRID, LOG_PD, log_pg)
    assert abs(c - (-LOG4 + 2.0 * jsd)) <= 1e-8
    assert jsd > 1e-5 and c > -LOG4 + 2e-5


def test_virtual_criterion_is_minus_log4_when_pg_is_pdata():
    """p_g = p_data: D* = 1/2 everywhere and C(G) = -log 4 to 1e-10 (the global minimum)."""
    assert np.abs(toy1d.optimal_discriminator(LOG_PD, LOG_PD) - 0.5).max() == 0.0
    assert abs(toy1d.virtual_criterion(GRID, LOG_PD, LOG_PD) - (-LOG4)) <= 1e-10
    assert abs(toy1d.jensen_shannon(GRID, LOG_PD, LOG_PD)) <= 1e-12


def test_virtual_criterion_grows_with_the_distance_to_the_data():
    """C(G) > -log 4 and rises monotonically as p_g slides off p_data (a pure shift of a G that is
    otherwise fixed), so -log 4 is the minimum along the way. Strict comparisons, no margin: the
    smallest gap (measured 0.024, shift 0 to 0.25) is far above the grid sums' float64 rounding."""
    values = []
    for shift in (0.0, 0.25, 0.5, 1.0, 2.0):
        gen = toy1d.initial_generator()
        gen.theta[0] = DATA.mu + shift
        values.append(toy1d.virtual_criterion(GRID, LOG_PD, gen.log_pdf(GRID.x)))
    assert values[0] > -LOG4
    assert all(b > a for a, b in zip(values[:-1], values[1:]))


def test_value_of_any_discriminator_is_at_most_c():
    """C(G) = max_D V(G, D): random discriminators never beat D*. Strict comparison, no margin:
    D* maximises the integrand at every grid point, so no D exceeds C(G) on this quadrature, and
    these random D fall short by far more than rounding (measured: at least 0.16)."""
    rng = np.random.default_rng(3)
    log_pg = toy1d.initial_generator().log_pdf(GRID.x)
    c = toy1d.virtual_criterion(GRID, LOG_PD, log_pg)
    for _ in range(20):
        disc = Discriminator.make()
        disc.v = rng.normal(0.0, 1.0, disc.v.size)
        assert toy1d.value(GRID, LOG_PD, log_pg, disc.logit(GRID.x)) < c


# ---------------------------------------------------------------------------------------------
# 4. Saturation.

def test_minimax_generator_gradient_saturates_when_d_rejects_samples():
    """G early in training, D trained until it rejects G's samples: where D(G(z)) < 0.05,
    |d log(1 - D(x))/dx| / |d log D(x)/dx| at x = G(z) is below 0.1 (measured: at most 0.047,
    median 1.9e-4, with 94% of the samples rejected). The ratio is D / (1 - D) exactly, since both
    are D's logit slope times sigmoid(a) resp. 1 - sigmoid(a); this is checked to 1e-9 relative."""
    samples = toy1d.early_training_gradients(seed=0)
    d = samples["D"]
    rejected = d < 0.05
    assert rejected.mean() >= 0.8            # "early in training" indeed: D rejects most samples
    minimax, non_sat = np.abs(samples["dx/" + MINIMAX]), np.abs(samples["dx/" + NON_SATURATING])
    ratio = minimax[rejected] / non_sat[rejected]
    assert ratio.max() < 0.1
    np.testing.assert_allclose(ratio, d[rejected] / (1.0 - d[rejected]), rtol=1e-9)
    np.testing.assert_allclose(np.abs(samples["dlogit/" + MINIMAX]), d, rtol=1e-12)
    np.testing.assert_allclose(np.abs(samples["dlogit/" + NON_SATURATING]), 1.0 - d, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# 5. Gradient checks: central differences in float64, relative error <= 1e-6 (measured ~1e-10).

def central_difference(f, params, h=1e-5):
    """d f / d params for scalar f (or a vector f: returns the Jacobian, one column per param)."""
    columns = []
    for i in range(params.size):
        old = params[i]
        params[i] = old + h
        up = np.asarray(f(), dtype=np.float64)
        params[i] = old - h
        down = np.asarray(f(), dtype=np.float64)
        params[i] = old
        columns.append((up - down) / (2.0 * h))
    return np.stack(columns, axis=-1)


def relative_error(analytic, numeric):
    scale = max(np.abs(analytic).max(), np.abs(numeric).max(), 1e-12)
    return np.abs(analytic - numeric).max() / scale


def random_pair(seed):
    rng = np.random.default_rng(seed)
    disc = Discriminator.make()
    disc.v = rng.normal(0.0, 0.5, disc.v.size)
    return random_generator(rng), disc, rng


def test_generator_jacobian():
    """G's hand-written d x / d theta on 16 z matches central differences (h = 1e-5) within 1e-6
    relative to the largest entry: float64 differences err by ~h^2 plus rounding (measured ~1e-10),
    while a wrong term is off by order one."""
    gen, _, rng = random_pair(0)
    z = toy1d.sample_z(rng, 16)
    numeric = central_difference(lambda: gen(z), gen.theta)
    assert relative_error(gen.jacobian(z), numeric) <= 1e-6


def test_generator_slope_in_u():
    """G's dx/du on 16 random u matches central differences (h = 1e-5) within 1e-6 relative: the
    float64 difference errs by ~h^2 plus rounding, far below, and a wrong factor by order one."""
    gen, _, rng = random_pair(1)
    u = rng.normal(0.0, 2.0, 16)
    numeric = (gen.x_of_u(u + 1e-5) - gen.x_of_u(u - 1e-5)) / 2e-5
    assert relative_error(gen.dx_du(u), numeric) <= 1e-6


def test_discriminator_input_gradient():
    """D's d logit / d x on 16 points of [0, 9] matches central differences (h = 1e-5) within 1e-6
    relative: float64 differences err far less, a wrong term by order one."""
    _, disc, rng = random_pair(2)
    x = rng.uniform(0.0, 9.0, 16)
    numeric = (disc.logit(x + 1e-5) - disc.logit(x - 1e-5)) / 2e-5
    assert relative_error(disc.dlogit_dx(x), numeric) <= 1e-6


def test_discriminator_loss_gradient():
    """The gradient of D's minibatch loss (with l2 = 0.01) in its parameters matches central
    differences (h = 1e-5) within 1e-6 relative: float64 differences err far less, a wrong term by
    order one."""
    gen, disc, rng = random_pair(3)
    x_data, x_gen = DATA.sample(rng, 32), gen(toy1d.sample_z(rng, 32))

    def loss():
        return toy1d.discriminator_loss(disc, x_data, x_gen, l2=0.01)[0]

    _, analytic = toy1d.discriminator_loss(disc, x_data, x_gen, l2=0.01)
    assert relative_error(analytic, central_difference(loss, disc.v)) <= 1e-6


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_generator_loss_gradient(objective):
    """For both G objectives (minimax and non-saturating): the gradient of G's loss in its
    parameters, and the per-sample d loss_i / d x_i the saturation test uses, match central
    differences (h = 1e-5) within 1e-6 relative: float64 differences err far less, a wrong term by
    order one."""
    gen, disc, rng = random_pair(4)
    z = toy1d.sample_z(rng, 32)

    def loss():
        return toy1d.generator_loss(gen, disc, z, objective)[0]

    _, analytic, per_sample = toy1d.generator_loss(gen, disc, z, objective)
    assert relative_error(analytic, central_difference(loss, gen.theta)) <= 1e-6
    # the per-sample d loss_i / d x_i that the saturation test uses
    x = gen(z)

    def per_loss(xx):
        return toy1d.loss_and_dlogit(disc.logit(xx), objective)[0]

    numeric = (per_loss(x + 1e-5) - per_loss(x - 1e-5)) / 2e-5
    assert relative_error(per_sample, numeric) <= 1e-6


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_objective_derivative_in_the_logit(objective):
    """For both G objectives, d loss / d logit on logits from -30 to 30 matches central differences
    (h = 1e-5) within 1e-6 relative: float64 differences err far less, a wrong sign or sigmoid by
    order one."""
    a = np.linspace(-30.0, 30.0, 61)
    numeric = (toy1d.loss_and_dlogit(a + 1e-5, objective)[0]
               - toy1d.loss_and_dlogit(a - 1e-5, objective)[0]) / 2e-5
    assert relative_error(toy1d.loss_and_dlogit(a, objective)[1], numeric) <= 1e-6


def test_unknown_objective_is_refused():
    """An objective other than minimax and non-saturating is a ValueError saying it is unknown.
    Exact: the error type and message."""
    with pytest.raises(ValueError, match="unknown generator objective"):
        toy1d.loss_and_dlogit(np.zeros(2), "wasserstein")


# ---------------------------------------------------------------------------------------------
# The figures render (small, fast versions).

def test_figures_render(tmp_path):
    """Small versions of Figure 1 and the saturation figure are written at their modules' sizes in
    pixels (exact), with more than 500 coloured pixels (a channel more than 60 levels from the
    pixel's mean): a white or grey page has none, so something was drawn."""
    from PIL import Image

    from gan2014.figures import figure1, saturation
    path1, path2 = tmp_path / "figure1.png", tmp_path / "saturation.png"
    figure1.render(figure1.snapshots(train_steps=20), str(path1))
    saturation.render(toy1d.early_training_gradients(n=40, d_steps=60), str(path2))
    for path, size in ((path1, (figure1.WIDTH, figure1.HEIGHT)),
                       (path2, (saturation.WIDTH, saturation.HEIGHT))):
        image = Image.open(path)
        assert image.size == size
        # something was drawn: green (p_g) or blue/red pixels, not just a white page
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
        assert (np.abs(pixels - pixels.mean(axis=1, keepdims=True)).max(axis=1) > 60).sum() > 500
