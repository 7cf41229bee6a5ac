"""Semi-supervised MNIST from learned features: the framework-free parts (the paper's section 7,
extension 4: features of the discriminator or of the inference net for a classifier trained on few
labels).

* Label draws: ``n`` labels balanced across the 10 classes (``n / 10`` per class), drawn from the
  pool (G's 50,000 training images) by ``RandomState(seed)``; one draw per seed.
* Features are centred per dimension and divided by one scale for the whole set (the root mean
  square of the centred values), both taken from the unlabelled pool: every feature set reaches the
  classifier with the same overall size, so one grid of L2 strengths suits all, and no dimension
  that barely varies (border pixels) is blown up.
* The classifier: multinomial logistic regression, ``mean cross-entropy + (lam / 2) ||W||^2`` (the
  bias is not penalised), float64, minimised from zero by limited-memory BFGS (:func:`lbfgs`,
  written here) with a backtracking line search: deterministic, the same numbers on every run.
* The L2 strength is chosen per label draw on a held-out part of the labelled set (a fifth of each
  class's labels, at least one), by the smallest held-out error, ties broken by the held-out
  cross-entropy; the classifier is then refitted on the whole labelled set. The test set is never
  used to choose anything.
"""
import numpy as np

N_CLASSES = 10
DEFAULT_LAMBDAS = (1.0, 1e-1, 1e-2, 1e-3, 1e-4)   # largest first: each fit warm-starts the next
HOLDOUT_FRACTION = 0.2


# --- labels --------------------------------------------------------------------------------------

def balanced_labels(labels, n_labels, seed, n_classes=N_CLASSES):
    """Sorted indices of ``n_labels`` examples, ``n_labels / n_classes`` of each class."""
    labels = np.asarray(labels).reshape(-1)
    if n_labels <= 0 or n_labels % n_classes:
        raise ValueError(f"the number of labels must be a positive multiple of {n_classes} "
                         f"(balanced classes), got {n_labels}")
    per_class = n_labels // n_classes
    rng = np.random.RandomState(int(seed))
    chosen = []
    for label in range(n_classes):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise ValueError(f"class {label} has {len(members)} examples in the pool, "
                             f"{per_class} are needed")
        chosen.append(rng.permutation(members)[:per_class])
    return np.sort(np.concatenate(chosen))


def holdout_split(labels, fraction=HOLDOUT_FRACTION, seed=0):
    """``(fit positions, held-out positions)`` within a labelled set: of each class, the fraction
    ``fraction`` (at least one, at most all but one) is held out."""
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.RandomState(int(seed))
    fit, held = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        if len(members) < 2:
            raise ValueError(f"class {label} has {len(members)} labelled example(s): at least two "
                             "are needed to hold one out")
        count = min(max(1, int(round(fraction * len(members)))), len(members) - 1)
        held.append(members[:count])
        fit.append(members[count:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(held))


# --- features ------------------------------------------------------------------------------------

class Standardiser:
    """Centre each dimension, divide by one scale (the RMS of the centred values); fitted once on
    the pool, in float64, a block of rows at a time (the pool may be 50,000 x 1,200)."""

    def __init__(self, pool, block_rows=5000):
        pool = np.asarray(pool)
        if pool.ndim != 2 or len(pool) < 2:
            raise ValueError(f"the pool must be a 2-D array of at least 2 rows, got {pool.shape}")
        self.mean = np.zeros(pool.shape[1])
        for start in range(0, len(pool), block_rows):
            self.mean += pool[start:start + block_rows].sum(axis=0, dtype=np.float64)
        self.mean /= len(pool)
        total = 0.0
        for start in range(0, len(pool), block_rows):
            total += float(np.sum((pool[start:start + block_rows] - self.mean) ** 2))
        scale = np.sqrt(total / pool.size)
        if not np.isfinite(scale) or scale == 0:
            raise ValueError("the feature set is constant over the pool: nothing to classify with")
        self.scale = float(scale)

    def __call__(self, features):
        return (np.asarray(features, np.float64) - self.mean) / self.scale


# --- the classifier ------------------------------------------------------------------------------

def _one_hot(labels, n_classes):
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got {labels.min()}..."
                         f"{labels.max()}")
    return np.eye(n_classes)[labels]


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def objective(theta, X, Y, lam):
    """``(loss, gradient)`` of mean cross-entropy + (lam / 2) ||W||^2 at ``theta`` = [W.ravel(), b].
    """
    d, k = X.shape[1], Y.shape[1]
    W, b = theta[:d * k].reshape(d, k), theta[d * k:]
    log_p = _log_softmax(X @ W + b)
    n = len(X)
    loss = -np.sum(Y * log_p) / n + 0.5 * lam * np.sum(W * W)
    delta = (np.exp(log_p) - Y) / n
    grad = np.concatenate([(X.T @ delta + lam * W).ravel(), delta.sum(axis=0)])
    return loss, grad


def lbfgs(fun, x0, max_iter=1000, tol=1e-6, memory=10):
    """Minimise ``fun`` (returning ``(value, gradient)``) from ``x0`` by L-BFGS.

    The two-loop recursion gives the direction, a backtracking line search (halving from a unit
    step, Armijo's sufficient decrease 1e-4) the step; a pair (s, y) is kept only when its curvature
    y.s is positive. Stops when the largest gradient entry is at most ``tol`` or after ``max_iter``
    iterations. Returns ``(x, {"iterations", "grad_max", "converged", "value"})``.
    """
    x = np.array(x0, np.float64)
    value, grad = fun(x)
    pairs = []
    for iteration in range(int(max_iter)):
        if np.max(np.abs(grad)) <= tol:
            return x, _info(iteration, grad, True, value)
        direction = -_two_loop(grad, pairs)
        slope = grad @ direction
        if slope >= 0:   # not a descent direction (rounding): restart from the gradient
            pairs, direction, slope = [], -grad, -(grad @ grad)
        step = 1.0 if pairs else 1.0 / max(1.0, np.max(np.abs(grad)))
        while True:
            x_new = x + step * direction
            value_new, grad_new = fun(x_new)
            if value_new <= value + 1e-4 * step * slope:
                break
            step *= 0.5
            if step < 1e-20:
                return x, _info(iteration, grad, False, value)
        s, y = x_new - x, grad_new - grad
        if y @ s > 1e-12 * (y @ y):
            pairs = (pairs + [(s, y, 1.0 / (y @ s))])[-int(memory):]
        x, value, grad = x_new, value_new, grad_new
    return x, _info(int(max_iter), grad, bool(np.max(np.abs(grad)) <= tol), value)


def _two_loop(grad, pairs):
    """The L-BFGS product H grad (H the inverse-Hessian estimate of the stored pairs)."""
    q = grad.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        alpha = rho * (s @ q)
        q -= alpha * y
        alphas.append(alpha)
    if pairs:
        s, y, _ = pairs[-1]
        q *= (s @ y) / (y @ y)
    for (s, y, rho), alpha in zip(pairs, reversed(alphas)):
        q += s * (alpha - rho * (y @ q))
    return q


def _info(iterations, grad, converged, value):
    return {"iterations": int(iterations), "grad_max": float(np.max(np.abs(grad))),
            "converged": bool(converged), "value": float(value)}


class LogisticRegression:
    """Multinomial logistic regression with an L2 penalty on W (see :func:`objective`)."""

    def __init__(self, lam, n_classes=N_CLASSES, max_iter=1000, tol=1e-6):
        if lam < 0:
            raise ValueError(f"the L2 strength must be >= 0, got {lam}")
        self.lam, self.n_classes, self.max_iter, self.tol = float(lam), n_classes, max_iter, tol
        self.W = self.b = None
        self.info = None

    def fit(self, X, labels, start=None):
        """Fit on rows ``X`` with integer ``labels``; ``start`` (a fitted model) warm-starts."""
        X = np.asarray(X, np.float64)
        Y = _one_hot(labels, self.n_classes)
        if len(X) != len(Y):
            raise ValueError(f"{len(X)} feature rows but {len(Y)} labels")
        d, k = X.shape[1], self.n_classes
        theta0 = (np.zeros(d * k + k) if start is None
                  else np.concatenate([start.W.ravel(), start.b]))
        theta, self.info = lbfgs(lambda t: objective(t, X, Y, self.lam), theta0,
                                 self.max_iter, self.tol)
        self.W, self.b = theta[:d * k].reshape(d, k), theta[d * k:]
        return self

    def decision(self, X):
        return np.asarray(X, np.float64) @ self.W + self.b

    def predict(self, X):
        return np.argmax(self.decision(X), axis=1)

    def error(self, X, labels):
        return float(np.mean(self.predict(X) != np.asarray(labels).reshape(-1)))

    def cross_entropy(self, X, labels):
        log_p = _log_softmax(self.decision(X))
        return float(-np.mean(log_p[np.arange(len(log_p)), np.asarray(labels).reshape(-1)]))


def select_and_fit(X, labels, lambdas=DEFAULT_LAMBDAS, seed=0, fraction=HOLDOUT_FRACTION,
                   max_iter=1000):
    """Choose the L2 strength on a held-out part of ``(X, labels)``, refit on all of it.

    Returns ``(model, record)``; the record lists each strength's held-out error and
    cross-entropy and the one chosen.
    """
    labels = np.asarray(labels).reshape(-1)
    fit, held = holdout_split(labels, fraction, seed)
    table, models = [], []
    for lam in sorted(lambdas, reverse=True):
        model = LogisticRegression(lam, max_iter=max_iter).fit(
            X[fit], labels[fit], start=models[-1] if models else None)
        table.append({"lam": lam, "holdout_error": model.error(X[held], labels[held]),
                      "holdout_cross_entropy": model.cross_entropy(X[held], labels[held]),
                      "converged": model.info["converged"]})
        models.append(model)
    best = min(range(len(table)), key=lambda i: (table[i]["holdout_error"],
                                                 table[i]["holdout_cross_entropy"]))
    # Warm-started from the chosen strength's fit: the same minimum (the objective is strictly
    # convex), reached in fewer iterations.
    final = LogisticRegression(table[best]["lam"], max_iter=max_iter).fit(X, labels,
                                                                         start=models[best])
    best = table[best]
    return final, {"lam": best["lam"], "grid": table, "n_fit": int(len(fit)),
                   "n_holdout": int(len(held)), "final_fit": final.info}


# --- reporting -----------------------------------------------------------------------------------

def summarise(errors):
    """``{"mean", "sd", "n"}`` of a list of test errors (sd with ddof 1: spread between draws)."""
    errors = np.asarray(errors, np.float64)
    sd = float(errors.std(ddof=1)) if len(errors) > 1 else float("nan")
    return {"mean": float(errors.mean()), "sd": sd, "n": int(len(errors))}


def markdown_table(summary, label_counts, feature_sets):
    """Test error (%) mean +- sd over draws, one row per feature set, one column per label count."""
    head = "| features | " + " | ".join(f"{n} labels" for n in label_counts) + " |"
    rule = "| --- |" + " --- |" * len(label_counts)
    rows = [head, rule]
    for name in feature_sets:
        cells = [summary[name][str(n)] for n in label_counts]
        rows.append(f"| {name} | " + " | ".join(
            f"{100 * c['mean']:.2f} ± {100 * c['sd']:.2f}" for c in cells) + " |")
    return "\n".join(rows)


def plot_errors(summary, label_counts, feature_sets, path, title=None):
    """Test error (%) against the number of labels (log axis), one line per feature set, error
    bars one sd over draws; saved in the format of ``path``'s extension."""
    from gan2014.figures import plot

    figure, axes = plot.new_figure(720, 480, nrows=1, ncols=1)
    with plot.style():
        for name in feature_sets:
            means = [100 * summary[name][str(n)]["mean"] for n in label_counts]
            sds = [100 * summary[name][str(n)]["sd"] for n in label_counts]
            axes.errorbar(label_counts, means, yerr=sds, marker="o", capsize=3, label=name)
        axes.set_xscale("log")
        axes.set_xticks(label_counts, [str(n) for n in label_counts])
        axes.set_xlabel("labelled training digits (balanced)")
        axes.set_ylabel("test error (%)")
        axes.set_title(title or "Linear classifier on features, MNIST test set")
        axes.legend(loc="upper right")
    plot.save(figure, path)
    return path
