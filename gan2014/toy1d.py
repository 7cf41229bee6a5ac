"""The one-dimensional toy of the paper's Figure 1 and the theory of its section 4, in numpy.

Everything here is float64 numpy with hand-written gradients (checked by central differences in
``tests/test_theory_toy.py``); no autodiff framework is involved, so the theory can be checked on
its own, independently of both backends.

The pieces, top to bottom:

* the data ``x ~ N(mu, sigma^2)`` (:class:`DataDist`) and the noise ``z ~ U(-1, 1)``;
* a monotone generator (:class:`Generator`)::

      u = atanh(z)                  # u has the logistic density 1/2 sech^2(u): full support
      x = G(z) = c + e^s u + sum_j e^{a_j} tanh(e^{w_j} u + b_j)

  Every term increases with ``u``, so ``G`` is strictly increasing and its density is exact by the
  change of variables, ``p_g(x) = p_z(z) / G'(z) = 1/2 sech^2(u) / (dx/du)`` at ``u = G^{-1}(x)``.
  Because ``u`` has full support so has ``p_g``: ``D* = p_data / (p_data + p_g)`` is then smooth (a
  ``p_g`` with a hard edge would make ``D*`` jump, which no smooth ``D`` can fit);
* a discriminator (:class:`Discriminator`): logistic regression on fixed features (a linear and a
  quadratic term, so the logit can go to -inf in both tails, plus Gaussian bumps), convex in its
  parameters, so its population optimum can be found exactly by Newton's method
  (:func:`fit_discriminator_exact`);
* the two G objectives (:func:`generator_loss`): the paper's minimax ``log(1 - D(G(z)))`` and the
  non-saturating ``-log D(G(z))`` it recommends in practice;
* Algorithm 1 (:func:`train`): k minibatch SGD-with-momentum steps on D, then one on G;
* quadrature on a uniform grid (:class:`Grid`): ``V(G, D)``, ``C(G) = max_D V(G, D)``, ``JSD``.

Conventions: "losses" are minimised; ``V`` itself is the paper's value function (maximised by D).
Nothing here uses an API that numpy 2 removed (no ``np.trapz``: the grid has its own weights).
"""
import dataclasses
import math

import numpy as np

LOG2 = math.log(2.0)
LOG4 = math.log(4.0)
LOG_P_Z = -LOG2          # z ~ U(-1, 1)


# ---------------------------------------------------------------------------------------------
# Stable elementary functions: D(G(z)) gets down to 1e-10 early in training, and the saturation
# argument is about exactly those tiny values, so nothing may round them to 0.

def softplus(a):
    """log(1 + e^a) without overflow."""
    return np.logaddexp(0.0, a)


def sigmoid(a):
    """1 / (1 + e^-a), accurate down to ~1e-300 (0.5 * (1 + tanh(a/2)) would round tiny values
    to 0)."""
    return np.exp(-softplus(-a))


def log_sech2(u):
    """log(sech^2 u) = -2 log cosh u, finite for every finite u."""
    a = np.abs(u)
    return -2.0 * (a + np.log1p(np.exp(-2.0 * a)) - LOG2)


# ---------------------------------------------------------------------------------------------
# Data and noise.

@dataclasses.dataclass(frozen=True)
class DataDist:
    """p_data = N(mu, sigma^2)."""
    mu: float = 4.0
    sigma: float = 0.6

    def log_pdf(self, x):
        t = (np.asarray(x, dtype=np.float64) - self.mu) / self.sigma
        return -0.5 * t * t - math.log(self.sigma * math.sqrt(2.0 * math.pi))

    def pdf(self, x):
        return np.exp(self.log_pdf(x))

    def sample(self, rng, n):
        return self.mu + self.sigma * rng.standard_normal(n)


def sample_z(rng, n):
    """z ~ U(-1, 1), kept strictly inside so atanh(z) is finite."""
    return np.clip(rng.uniform(-1.0, 1.0, n), -1.0 + 1e-12, 1.0 - 1e-12)


# ---------------------------------------------------------------------------------------------
# The generator.

@dataclasses.dataclass
class Generator:
    """x = c + e^s u + sum_j e^{a_j} tanh(e^{w_j} u + b_j), u = atanh(z).

    ``theta`` is one float64 vector ``[c, s, a_1..a_J, w_1..w_J, b_1..b_J]``; the exponentials keep
    every slope positive whatever SGD does, which is what keeps G monotone.
    """
    theta: np.ndarray

    @classmethod
    def make(cls, c, s, a, w, b):
        return cls(np.concatenate([[c, s], a, w, b]).astype(np.float64))

    @property
    def n_units(self):
        return (self.theta.size - 2) // 3

    def unpack(self):
        j = self.n_units
        t = self.theta
        return t[0], t[1], t[2:2 + j], t[2 + j:2 + 2 * j], t[2 + 2 * j:]

    def copy(self):
        return Generator(self.theta.copy())

    # -- forward in u (the natural variable: no precision is lost near z = +-1) --
    def x_of_u(self, u):
        c, s, a, w, b = self.unpack()
        u = np.asarray(u, dtype=np.float64)[:, None]
        return c + math.exp(s) * u[:, 0] + (np.exp(a) * np.tanh(np.exp(w) * u + b)).sum(axis=1)

    def dx_du(self, u):
        c, s, a, w, b = self.unpack()
        u = np.asarray(u, dtype=np.float64)[:, None]
        t = np.tanh(np.exp(w) * u + b)
        return math.exp(s) + (np.exp(a + w) * (1.0 - t * t)).sum(axis=1)

    def __call__(self, z):
        return self.x_of_u(np.arctanh(z))

    def jacobian(self, z):
        """d x / d theta for each z: an (n, P) matrix (the G half of backprop)."""
        c, s, a, w, b = self.unpack()
        u = np.arctanh(np.asarray(z, dtype=np.float64))[:, None]
        t = np.tanh(np.exp(w) * u + b)
        slope = np.exp(a) * (1.0 - t * t)           # d x / d (unit's pre-activation)
        return np.concatenate([np.ones_like(u), math.exp(s) * u,
                               np.exp(a) * t,           # d/da_j: e^{a_j} tanh(.)
                               slope * np.exp(w) * u,   # d/dw_j: through e^{w_j} u
                               slope], axis=1)          # d/db_j

    # -- the density by the change of variables --
    def inverse_u(self, x, iterations=80):
        """u = G^{-1}(x) by bisection, which cannot fail for an increasing function.

        The bracket is exact: |sum_j e^{a_j} tanh(.)| <= A = sum_j e^{a_j}, so
        (x - c - A) / e^s <= u <= (x - c + A) / e^s."""
        c, s, a, _, _ = self.unpack()
        x = np.asarray(x, dtype=np.float64)
        spread = np.exp(a).sum()
        lo = (x - c - spread) / math.exp(s)
        hi = (x - c + spread) / math.exp(s)
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            below = self.x_of_u(mid) < x
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def log_pdf_at_u(self, u):
        """log p_g(G(u)) = log(1/2 sech^2 u) - log(dx/du): exact, no inversion needed."""
        return LOG_P_Z + log_sech2(u) - np.log(self.dx_du(u))

    def log_pdf(self, x):
        return self.log_pdf_at_u(self.inverse_u(x))

    def pdf(self, x):
        return np.exp(self.log_pdf(x))


def initial_generator():
    """A generator "near convergence", as in the paper's panel (a): p_g is similar to p_data but
    shifted right and a little too wide."""
    return Generator.make(c=4.7, s=math.log(0.25), a=[math.log(0.45)] * 3, w=[0.0, 0.0, 0.0],
                          b=[-1.0, 0.0, 1.0])


def early_generator():
    """A generator early in training: p_g far from the data, where D rejects samples confidently."""
    return Generator.make(c=6.8, s=math.log(0.2), a=[math.log(0.3)] * 3, w=[0.0, 0.0, 0.0],
                          b=[-1.0, 0.0, 1.0])


# ---------------------------------------------------------------------------------------------
# The discriminator.

@dataclasses.dataclass
class Discriminator:
    """D(x) = sigmoid(v_0 + v_1 t + v_2 t^2 + sum_k v_{2+k} exp(-(x - m_k)^2 / (2 w^2))),
    t = (x - centre) / scale. ``v`` is the float64 parameter vector, bias first."""
    v: np.ndarray
    centres: np.ndarray
    width: float
    centre: float
    scale: float

    @classmethod
    def make(cls, lo=0.0, hi=9.0, n_bumps=28, width_factor=1.0):
        """Bumps evenly on [lo, hi], each as wide as the spacing (smooth, yet able to bend)."""
        centres = np.linspace(lo, hi, n_bumps)
        width = width_factor * (hi - lo) / (n_bumps - 1)
        return cls(np.zeros(3 + n_bumps), centres, width, 0.5 * (lo + hi), 0.5 * (hi - lo))

    def copy(self):
        return dataclasses.replace(self, v=self.v.copy())

    def features(self, x):
        """(n, 3 + K) matrix: 1, t, t^2, bumps."""
        x = np.asarray(x, dtype=np.float64)
        t = (x - self.centre) / self.scale
        bumps = np.exp(-0.5 * ((x[:, None] - self.centres) / self.width) ** 2)
        return np.concatenate([np.ones((x.size, 1)), t[:, None], (t * t)[:, None], bumps], axis=1)

    def feature_slopes(self, x):
        """d features / d x, same shape as :meth:`features`."""
        x = np.asarray(x, dtype=np.float64)
        t = (x - self.centre) / self.scale
        d = (x[:, None] - self.centres) / self.width
        bumps = -d / self.width * np.exp(-0.5 * d * d)
        return np.concatenate([np.zeros((x.size, 1)), np.full((x.size, 1), 1.0 / self.scale),
                               (2.0 * t / self.scale)[:, None], bumps], axis=1)

    def logit(self, x):
        return self.features(x) @ self.v

    def __call__(self, x):
        return sigmoid(self.logit(x))

    def dlogit_dx(self, x):
        """d a / d x: the only thing G's gradient needs from D (backprop into D's input)."""
        return self.feature_slopes(x) @ self.v


def discriminator_loss(disc, x_data, x_gen, l2=0.0):
    """-(mean log D(x_data) + mean log(1 - D(x_gen))) + l2/2 |v_1:|^2, and its gradient in v.

    d/da log sigmoid(a) = 1 - sigmoid(a) and d/da log(1 - sigmoid(a)) = -sigmoid(a); the bias is not
    decayed (Pylearn2's habit, and it keeps D = 1/2 reachable)."""
    phi_d, phi_g = disc.features(x_data), disc.features(x_gen)
    a_d, a_g = phi_d @ disc.v, phi_g @ disc.v
    loss = softplus(-a_d).mean() + softplus(a_g).mean() + 0.5 * l2 * (disc.v[1:] ** 2).sum()
    grad = (-(sigmoid(-a_d) @ phi_d) / a_d.size + (sigmoid(a_g) @ phi_g) / a_g.size)
    grad[1:] += l2 * disc.v[1:]
    return loss, grad


# ---------------------------------------------------------------------------------------------
# The generator's objectives.

MINIMAX = "minimax"                # minimise  mean log(1 - D(G(z)))  (the paper's equation 1)
NON_SATURATING = "non-saturating"  # minimise -mean log D(G(z))       (section 3's practical advice)
OBJECTIVES = (MINIMAX, NON_SATURATING)


def loss_and_dlogit(a, objective):
    """Per-sample G loss and its derivative with respect to D's logit a = logit D(G(z)).

    minimax:         log(1 - sigmoid(a)) = -softplus(a),   d/da = -sigmoid(a)
    non-saturating: -log sigmoid(a)      =  softplus(-a),  d/da = -(1 - sigmoid(a))
    When D rejects a sample (a << 0) the first vanishes like D itself; the second tends to -1."""
    if objective == MINIMAX:
        return -softplus(a), -sigmoid(a)
    if objective == NON_SATURATING:
        return softplus(-a), -sigmoid(-a)
    raise ValueError(f"unknown generator objective {objective!r}; expected one of {OBJECTIVES}")


def generator_loss(gen, disc, z, objective):
    """Mean G loss, its gradient in theta, and the per-sample d loss_i / d x_i at x_i = G(z_i).

    Backprop by hand: d loss/d x = d loss/d a * d a/d x (through D's input), then through G's
    Jacobian. The per-sample d/dx is what the saturation figure measures."""
    x = gen(z)
    per_sample, dl_da = loss_and_dlogit(disc.logit(x), objective)
    dl_dx = dl_da * disc.dlogit_dx(x)
    grad = (dl_dx @ gen.jacobian(z)) / z.size
    return per_sample.mean(), grad, dl_dx


# ---------------------------------------------------------------------------------------------
# Algorithm 1.

@dataclasses.dataclass
class TrainConfig:
    """Algorithm 1's settings; the defaults are Figure 1's. With lr_g = 0.05 the non-saturating
    objective still converges but the minimax one falls into a two-bump p_g on several seeds."""
    steps: int = 3000          # outer iterations (G updates)
    k: int = 1                 # D steps per G step (the paper used k = 1)
    batch: int = 128
    lr_d: float = 0.1
    lr_g: float = 0.02
    momentum: float = 0.5
    l2: float = 1e-2           # weight decay on D's feature weights (not its bias)
    objective: str = NON_SATURATING


@dataclasses.dataclass
class TrainState:
    gen: Generator
    disc: Discriminator
    vel_g: np.ndarray = None
    vel_d: np.ndarray = None

    def __post_init__(self):
        if self.vel_g is None:
            self.vel_g = np.zeros_like(self.gen.theta)
        if self.vel_d is None:
            self.vel_d = np.zeros_like(self.disc.v)

    def copy(self):
        return TrainState(self.gen.copy(), self.disc.copy(), self.vel_g.copy(), self.vel_d.copy())


def momentum_step(param, velocity, grad, lr, momentum):
    """Pylearn2's momentum rule, in place: v <- m v - lr g; p <- p + v."""
    velocity *= momentum
    velocity -= lr * grad
    param += velocity


def d_step(state, data, rng, cfg):
    x_data = data.sample(rng, cfg.batch)
    x_gen = state.gen(sample_z(rng, cfg.batch))
    _, grad = discriminator_loss(state.disc, x_data, x_gen, cfg.l2)
    momentum_step(state.disc.v, state.vel_d, grad, cfg.lr_d, cfg.momentum)


def g_step(state, rng, cfg):
    _, grad, _ = generator_loss(state.gen, state.disc, sample_z(rng, cfg.batch), cfg.objective)
    momentum_step(state.gen.theta, state.vel_g, grad, cfg.lr_g, cfg.momentum)


def train(state, data, rng, cfg, steps=None):
    """The paper's Algorithm 1: for each iteration, k D steps on fresh minibatches, then one G step.
    Updates ``state`` in place and returns it."""
    for _ in range(cfg.steps if steps is None else steps):
        for _ in range(cfg.k):
            d_step(state, data, rng, cfg)
        g_step(state, rng, cfg)
    return state


def train_discriminator(state, data, rng, cfg, steps):
    """The inner loop alone (G fixed), ``steps`` minibatch SGD steps on D."""
    for _ in range(steps):
        d_step(state, data, rng, cfg)
    return state


def converge_discriminator(state, data, rng, steps=6000, batch=256, lr=0.4, momentum=0.9,
                           phases=3, decay=0.3):
    """The inner loop run (nearly) to convergence with G fixed (panel (b) of Figure 1 shows its
    limit, computed exactly by :func:`fit_discriminator_exact`).

    Minibatch SGD with momentum, without weight decay (D* is unconstrained), and with the learning
    rate cut by ``decay`` in each of ``phases`` phases: at a constant step D keeps jittering by the
    minibatch noise instead of settling."""
    cfg = TrainConfig(batch=batch, lr_d=lr, momentum=momentum, l2=0.0)
    for _ in range(phases):
        train_discriminator(state, data, rng, cfg, steps // phases)
        cfg.lr_d *= decay
    return state


def early_training_gradients(seed=0, n=300, d_steps=600):
    """The saturation measurement: G early in training (:func:`early_generator`, far from the data),
    D trained against it by the inner loop until it rejects G's samples confidently; then, for n
    samples x = G(z), D(x) and both objectives' gradients with respect to D's logit and to x.

    Returns a dict of arrays: ``D``, ``dlogit/<objective>`` and ``dx/<objective>``, sorted by z."""
    data, rng = DataDist(), np.random.default_rng(seed)
    state = converge_discriminator(TrainState(early_generator(), Discriminator.make()), data, rng,
                                   steps=d_steps)
    z = np.sort(sample_z(rng, n))
    out = {"z": z, "D": state.disc(state.gen(z))}
    for objective in OBJECTIVES:
        _, _, dl_dx = generator_loss(state.gen, state.disc, z, objective)
        out["dx/" + objective] = dl_dx                   # d loss_i / d x_i, one per sample
        out["dlogit/" + objective] = loss_and_dlogit(state.disc.logit(state.gen(z)), objective)[1]
    return out


# ---------------------------------------------------------------------------------------------
# Quadrature on a grid: the population quantities of section 4.

@dataclasses.dataclass
class Grid:
    """A uniform grid with trapezoid weights. Both densities are smooth and decay fast, and for such
    integrands the trapezoid rule on a wide uniform grid is accurate far beyond its O(h^2) bound."""
    x: np.ndarray
    w: np.ndarray

    @classmethod
    def uniform(cls, lo=-20.0, hi=30.0, n=20001):
        x = np.linspace(lo, hi, n)
        w = np.full(n, (hi - lo) / (n - 1))
        w[[0, -1]] *= 0.5
        return cls(x, w)

    def integrate(self, values):
        return float(self.w @ values)


def optimal_discriminator(log_pd, log_pg):
    """Proposition 1: D*(x) = p_data / (p_data + p_g) = sigmoid(log p_data - log p_g)."""
    return sigmoid(log_pd - log_pg)


def value(grid, log_pd, log_pg, logit_d):
    """V(G, D) = E_data log D(x) + E_g log(1 - D(x)), as an integral over the grid.

    In log space throughout so that 0 * log 0 never occurs (far out, p underflows to 0 but its log
    and D's logit stay finite)."""
    return grid.integrate(np.exp(log_pd) * -softplus(-logit_d)
                          + np.exp(log_pg) * -softplus(logit_d))


def virtual_criterion(grid, log_pd, log_pg):
    """C(G) = max_D V(G, D) = V(G, D*): D*'s logit is log p_data - log p_g."""
    return value(grid, log_pd, log_pg, log_pd - log_pg)


def jensen_shannon(grid, log_pd, log_pg):
    """JSD(p_data || p_g) = 1/2 KL(p_data || m) + 1/2 KL(p_g || m), m = (p_data + p_g) / 2."""
    log_m = np.logaddexp(log_pd, log_pg) - LOG2
    return 0.5 * grid.integrate(np.exp(log_pd) * (log_pd - log_m)
                                + np.exp(log_pg) * (log_pg - log_m))


def fit_discriminator_exact(disc, grid, log_pd, log_pg, l2=0.0, iterations=100, tol=1e-18):
    """The D that maximises V(G, D) within D's feature class, found by Newton's method on the
    population loss (an integral, not minibatches). The problem is convex (logistic regression),
    so this is the inner loop run to convergence with neither sampling nor step-size error.

    Newton's step is halved until the loss drops (damped Newton): when p_g and p_data barely
    overlap, D*'s logit reaches +-30 and a full step from D = 1/2 overshoots. It stops when the
    Newton decrement (the loss decrease a full step promises) is below ``tol``. Returns a new
    Discriminator."""
    disc = disc.copy()
    phi = disc.features(grid.x)
    pd, pg = np.exp(log_pd) * grid.w, np.exp(log_pg) * grid.w
    # Rows whose mass is below 1e-20 cannot move a loss of order 1; dropping them (3/4 of the
    # grid) makes each Newton step 4 times cheaper.
    keep = (pd + pg) > 1e-20
    phi, pd, pg = phi[keep], pd[keep], pg[keep]
    ridge = np.full(disc.v.size, l2)
    ridge[0] = 0.0
    ridge += 1e-12                           # keeps the Hessian invertible where bumps see no mass

    def loss(v):
        a = phi @ v
        return pd @ softplus(-a) + pg @ softplus(a) + 0.5 * ridge @ (v * v)

    current = loss(disc.v)
    for _ in range(iterations):
        d = sigmoid(phi @ disc.v)
        grad = phi.T @ (-pd * (1.0 - d) + pg * d) + ridge * disc.v
        hess = (phi * ((pd + pg) * d * (1.0 - d))[:, None]).T @ phi + np.diag(ridge)
        step = np.linalg.solve(hess, grad)
        if grad @ step < tol:
            break
        t = 1.0
        while t > 1e-8 and loss(disc.v - t * step) > current - 1e-4 * t * (grad @ step):
            t *= 0.5
        disc.v -= t * step
        current = loss(disc.v)
    return disc
