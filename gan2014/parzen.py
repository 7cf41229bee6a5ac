"""Parzen-window log-likelihood, the protocol of the paper's Table 1, in float64 numpy.

Mirrors ``adversarial/parzen_ll.py`` (``log_mean_exp``, ``theano_parzen``, ``get_nll``,
``cross_validate_sigma``, ``get_valid``, ``main``) and the helpers of the same names in
``adversarial/__init__.py``.

The estimator: an isotropic Gaussian of width ``sigma`` is put on each of the ``n`` generated
samples ``mu_j`` (equal weights ``1/n``), and each held-out point ``x_i`` gets the log-density

    ll_i = logmeanexp_j( -1/2 * sum_d ((x_id - mu_jd) / sigma)^2 ) - D * log(sigma * sqrt(2 pi)).

Two implementations:

* :func:`parzen_log_likelihood_bruteforce` follows the original formula term by term (differences,
  divide, square, sum), in float64 and in chunks so memory stays bounded. Everything else is checked
  against it.
* :func:`parzen_log_likelihood` is the fast exact form: ``|x - mu|^2 = |x|^2 - 2 x.mu + |mu|^2``
  with the cross term as one float64 matrix product (BLAS dgemm) per block of rows, and one
  distance block serving every sigma of a grid.

The protocol (:func:`select_sigma`, :func:`evaluate`, :func:`mnist_protocol`): sigma is the value of
``logspace(-1, 0, 10)`` with the largest mean log-likelihood of 1,000 validation images, then the
test set's mean and standard error ``std / sqrt(N)`` (ddof 0) are reported, as ``parzen_ll.py`` did.
For TFD (:func:`tfd_protocol`) that is done once per fold, sigma chosen on the fold's whole
validation split, and the folds' test means are summarised by their mean and the standard error
across folds (:func:`across_folds`), as the paper reports TFD.
``python -m gan2014.parzen --real-data-check`` scores 10,000 real training images as if they were
samples (the sanity check of Theis et al., 2016).
"""
import argparse
import contextlib
import dataclasses
import json
import math
import sys
import time

import numpy as np

# The sigma grid of parzen_ll.py's defaults:
# logspace(--sigma_start -1, --sigma_end 0, num=--cross_val 10).
DEFAULT_SIGMAS = np.logspace(-1, 0, 10)

# exp() of arguments below about -708 leaves numpy's vectorised path (it underflows to subnormals
# or zero, far slower per element). Arguments are shifted so the largest term of each row is
# exp(0) = 1; raising anything lower to -700 adds at most n * exp(-700) ~ 1e-300 to a sum >= 1,
# which float64 cannot see, so the result is unchanged.
EXP_FLOOR = -700.0

# Memory for the distance block of the fast form (plus a scratch copy when several sigmas are
# evaluated): against 10,000 samples, 160 MB holds 2,000 rows for one sigma, 1,000 for a grid.
BLOCK_BYTES = 160 * 2 ** 20
# The element-wise passes (scale, floor, exp, sum) run on slices this many rows tall, so that a
# slice (32 x 10,000 float64 = 2.5 MB) stays in cache across the passes instead of streaming from
# memory.
SLICE_ROWS = 32
# Memory for the (rows, samples, D) difference tensor of the brute force.
BRUTE_FORCE_BYTES = 32 * 2 ** 20

# Progress lines appear only once a phase has run this long, and update at most this often.
PROGRESS_DELAY_S = 2.0
PROGRESS_INTERVAL_S = 0.25


# --- the estimator -------------------------------------------------------------------------------

def log_mean_exp(a, axis=1):
    """``max + log(mean(exp(a - max)))`` along ``axis`` (``parzen_ll.py :: log_mean_exp``).

    Shifting by the maximum keeps the largest term at exp(0) = 1, so rows whose entries are all far
    below zero (e.g. -1000, where exp() underflows to 0) still give a finite answer. A row that is
    entirely -inf gives -inf (the original gave nan).
    """
    a = np.asarray(a, dtype=np.float64)
    top = np.max(a, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.mean(np.exp(a - shift), axis=axis, keepdims=True)) + shift
    return np.squeeze(out, axis=axis)


def log_normaliser(dim, sigma):
    """``D * log(sigma * sqrt(2 pi))``, the Gaussian normaliser of ``theano_parzen`` (``Z``)."""
    return dim * np.log(sigma * math.sqrt(2.0 * math.pi))


def parzen_log_likelihood_bruteforce(x, mu, sigma):
    """Per-row Parzen log-likelihood of ``x`` under kernels on ``mu``, written as the original.

    Mirrors ``adversarial/parzen_ll.py :: theano_parzen``: the differences ``(x_i - mu_j) / sigma``
    are formed explicitly, squared and summed, then :func:`log_mean_exp` over the samples. The
    original built the whole ``(batch, n, D)`` tensor (3.1 GB in float32 for MNIST); here the tensor
    is cut into chunks of at most ``BRUTE_FORCE_BYTES``, and everything is float64. Slow; it is the
    reference.
    """
    x, mu = _check_inputs(x, mu)
    sigma = float(sigma)
    if not sigma > 0:
        raise ValueError("sigma must be positive, got %r" % (sigma,))
    n, dim = mu.shape
    elements = max(1, BRUTE_FORCE_BYTES // 8)
    mu_chunk = max(1, min(n, elements // dim))
    x_chunk = max(1, elements // (mu_chunk * dim))
    ll = np.empty(x.shape[0])
    for start in range(0, x.shape[0], x_chunk):
        rows = np.asarray(x[start:start + x_chunk], dtype=np.float64)
        energy = np.empty((rows.shape[0], n))
        for j in range(0, n, mu_chunk):
            centres = np.asarray(mu[j:j + mu_chunk], dtype=np.float64)
            a = (rows[:, None, :] - centres[None, :, :]) / sigma
            energy[:, j:j + mu_chunk] = -0.5 * (a ** 2).sum(axis=2)
        ll[start:start + rows.shape[0]] = log_mean_exp(energy, axis=1)
    return ll - log_normaliser(dim, sigma)


def parzen_log_likelihood(x, mu, sigma, block_rows=None, progress=None):
    """Per-row Parzen log-likelihood, fast and exact (within 1e-6 nats of the brute force).

    Same estimator as :func:`parzen_log_likelihood_bruteforce` (``theano_parzen``); on MNIST the two
    differ by about 1e-11 nats. ``sigma`` is a positive number (result: shape ``(N,)``) or a 1-D
    sequence of them (result: shape ``(len(sigma), N)``, row k for ``sigma[k]``). Each block of
    squared distances is computed once and evaluated for every sigma, as the grid search needs
    (``adversarial/parzen_ll.py :: cross_validate_sigma`` recomputed them for each sigma).

    ``block_rows`` rows of ``x`` are done per block (default: as many as fit ``BLOCK_BYTES``).
    ``progress``, if given, is called after each block as ``progress(done, total, ll_so_far)``,
    where ``ll_so_far`` holds the results of the rows finished so far (last axis). Rows are taken in
    order; the original's strided batches (``get_nll``) changed only the order of the values.
    """
    x, mu = _check_inputs(x, mu)
    sigmas, scalar = _check_sigmas(sigma)
    n, dim = mu.shape
    rows_total = x.shape[0]
    if block_rows is None:
        copies = 1 if len(sigmas) == 1 else 2
        block_rows = max(1, min(rows_total, BLOCK_BYTES // (8 * n * copies)))
    block_rows = int(block_rows)
    if block_rows < 1:
        raise ValueError("block_rows must be >= 1, got %r" % (block_rows,))

    columns = _active_columns(x)
    centres = _augmented_centres(mu, columns)
    width = centres.shape[1] - 1
    out = np.empty((len(sigmas), rows_total))
    offsets = np.log(n) + log_normaliser(dim, sigmas)  # log of the 1/n weights, the Gaussian's Z
    # Buffers reused by every block (numpy out= arguments instead of fresh temporaries).
    x_aug = np.ones((min(block_rows, rows_total), width + 1))
    excess = np.empty((x_aug.shape[0], n))
    scratch = np.empty((SLICE_ROWS, n)) if len(sigmas) > 1 else None
    total = -(-rows_total // block_rows)
    for done, start in enumerate(range(0, rows_total, block_rows), 1):
        stop = min(start + block_rows, rows_total)
        rows = stop - start
        x_aug[:rows, :width] = x[start:stop] if columns is None else x[start:stop, columns]
        min_sq = _excess_distances(x_aug[:rows], centres, excess[:rows])
        for s in range(0, rows, SLICE_ROWS):
            t = min(s + SLICE_ROWS, rows)
            log_sums = np.log(_kernel_sums(excess[s:t], sigmas, scratch))
            # Undo the max shift (the nearest sample's term), then the 1/n weights and Z.
            out[:, start + s:start + t] = (log_sums - 0.5 * min_sq[s:t] / sigmas[:, None] ** 2
                                           - offsets[:, None])
        if progress is not None:
            done_part = out[:, :stop]
            progress(done, total, done_part[0] if scalar else done_part)
    return out[0] if scalar else out


def _active_columns(x):
    """The columns where some row of ``x`` is non-zero, or None to keep all of them.

    A column that is zero in every row of ``x`` adds exactly 0 to each ``x_i.mu_j``, so the product
    can skip it; only ``|mu_j|^2`` needs every column. MNIST's borders are blank: 116 of the 784
    pixels are 0 throughout the test set and 204 in the 1,000 validation images, so the dgemm
    does 116/784 to 204/784 less work. Not worth a copy when few columns drop out.
    """
    active = np.flatnonzero(np.any(x != 0, axis=0))
    return None if active.size > 0.9 * x.shape[1] else active


def _augmented_centres(mu, columns=None):
    """The float64 matrix ``[-2 mu[:, columns], |mu|^2]``, ``n x (len(columns) + 1)``.

    With ``x`` augmented by a column of ones, one dgemm then yields ``|mu_j|^2 - 2 x_i.mu_j`` (the
    squared distance less ``|x_i|^2``), saving a pass over the block. Multiplying by -2 is exact in
    floating point, so this is the plain float64 product up to BLAS summation order.
    """
    mu64 = np.asarray(mu, dtype=np.float64)
    kept = mu64 if columns is None else mu64[:, columns]
    centres = np.empty((mu64.shape[0], kept.shape[1] + 1))
    np.multiply(kept, -2.0, out=centres[:, :-1])
    centres[:, -1] = np.einsum("ij,ij->i", mu64, mu64)
    return centres


def _excess_distances(x_aug, centres, out):
    """Fill ``out`` with ``d_ij - min_j d_ij`` and return ``min_j d_ij`` (squared distances ``d``).

    ``d_ij = |x_i|^2 + e_ij`` with ``e = x_aug @ centres.T``. Cancellation can make a tiny true
    distance (near-duplicate points) slightly negative; ``d`` is clamped at 0, i.e. ``e_ij`` at
    ``-|x_i|^2``. Only differences within a row matter to the log-sum-exp, so ``|x_i|^2`` is added
    to the row minimum alone instead of to every entry.
    """
    width = x_aug.shape[1] - 1
    sq_norms = np.einsum("ij,ij->i", x_aug[:, :width], x_aug[:, :width])
    np.matmul(x_aug, centres.T, out=out)
    np.maximum(out, -sq_norms[:, None], out=out)
    row_min = out.min(axis=1)
    np.subtract(out, row_min[:, None], out=out)
    return np.maximum(sq_norms + row_min, 0.0)


def _kernel_sums(excess, sigmas, scratch):
    """``sum_j exp(-excess_ij / (2 sigma^2))`` for each sigma: an array ``(len(sigmas), rows)``.

    ``excess`` (>= 0, zero at each row's nearest sample) is the max shift of the log-sum-exp. With
    one sigma it is overwritten in place; with several, each sigma works in ``scratch``.
    """
    sums = np.empty((len(sigmas), excess.shape[0]))
    for k, sigma in enumerate(sigmas):
        work = excess if scratch is None else scratch[:excess.shape[0]]
        np.multiply(excess, -0.5 / sigma ** 2, out=work)
        np.maximum(work, EXP_FLOOR, out=work)
        np.exp(work, out=work)
        work.sum(axis=1, out=sums[k])
    return sums


def _check_inputs(x, mu):
    x = np.asarray(x)
    mu = np.asarray(mu)
    if x.ndim != 2 or mu.ndim != 2:
        raise ValueError("x and mu must be 2-D design matrices, got shapes %s and %s"
                         % (x.shape, mu.shape))
    if x.shape[1] != mu.shape[1]:
        raise ValueError("x has %d columns but mu has %d" % (x.shape[1], mu.shape[1]))
    if mu.shape[0] == 0:
        raise ValueError("mu must hold at least one sample")
    return x, mu


def _check_sigmas(sigma):
    """``(float64 1-D array of sigmas, whether a scalar was given)``."""
    scalar = np.ndim(sigma) == 0
    sigmas = np.atleast_1d(np.asarray(sigma, dtype=np.float64))
    if sigmas.ndim != 1 or sigmas.size == 0:
        raise ValueError("sigma must be a number or a non-empty 1-D sequence, got %r" % (sigma,))
    if not np.all(sigmas > 0) or not np.all(np.isfinite(sigmas)):
        raise ValueError("every sigma must be positive and finite, got %r" % (sigma,))
    return sigmas, scalar


# --- the protocol --------------------------------------------------------------------------------

def select_sigma(samples, valid, sigmas=DEFAULT_SIGMAS, progress=None, block_rows=None):
    """``(best_sigma, [(sigma, mean_ll), ...])``: the grid value with the largest mean valid. ll.

    Mirrors ``adversarial/parzen_ll.py :: cross_validate_sigma`` (plain argmax over the grid, first
    on ties; no refinement and no folds). All sigmas share one pass over the distances.
    """
    sigmas, _ = _check_sigmas(np.atleast_1d(sigmas))
    ll = parzen_log_likelihood(valid, samples, sigmas, block_rows=block_rows, progress=progress)
    means = ll.mean(axis=1)
    table = [(float(s), float(m)) for s, m in zip(sigmas, means)]
    return float(sigmas[int(np.argmax(means))]), table


@dataclasses.dataclass
class ParzenResult:
    """One Parzen evaluation: what ``parzen_ll.py`` printed, plus the sigma table and the wall time.

    ``sigma_table`` lists ``(sigma, mean validation ll)`` for the grid (empty when sigma was given).
    """
    sigma: float
    mean: float
    se: float
    n_samples: int
    n_test: int
    sigma_table: list
    seconds: float

    def to_json(self, path=None):
        """The record as JSON text (floats written exactly); also written to ``path`` if given."""
        record = dataclasses.asdict(self)
        record["sigma_table"] = [[float(s), float(m)] for s, m in self.sigma_table]
        text = json.dumps(record, indent=2, sort_keys=True)
        if path is not None:
            with open(path, "w") as handle:
                handle.write(text + "\n")
        return text

    @classmethod
    def from_json(cls, text):
        record = json.loads(text)
        record["sigma_table"] = [tuple(pair) for pair in record["sigma_table"]]
        return cls(**record)


def evaluate(samples, valid, test, sigmas=None, sigma=None, progress=True, block_rows=None):
    """``adversarial/parzen_ll.py :: main`` on arrays: choose sigma, then score the test set.

    sigma is selected on ``valid`` over ``sigmas`` (default ``logspace(-1, 0, 10)``) unless
    ``sigma`` is given (the ``-s`` option; ``valid`` is then unused and may be None). The test mean
    and the standard error ``std(ll) / sqrt(N)`` use numpy's population std (ddof 0), as the
    original did. ``progress=True`` shows a one-line display on stderr for phases that take more
    than a few seconds.
    """
    began = time.perf_counter()
    samples = np.asarray(samples)
    if np.shape(test)[0] == 0:
        raise ValueError("the test set is empty")
    table = []
    if sigma is None:
        grid = DEFAULT_SIGMAS if sigmas is None else sigmas
        with _progress_line("parzen sigma selection", progress) as report:
            sigma, table = select_sigma(samples, valid, grid, progress=report,
                                        block_rows=block_rows)
    with _progress_line("parzen test (sigma=%.4g)" % sigma, progress) as report:
        ll = parzen_log_likelihood(test, samples, float(sigma), block_rows=block_rows,
                                   progress=report)
    return ParzenResult(sigma=float(sigma), mean=float(ll.mean()),
                        se=float(ll.std() / np.sqrt(ll.shape[0])),
                        n_samples=int(samples.shape[0]), n_test=int(ll.shape[0]),
                        sigma_table=table, seconds=time.perf_counter() - began)


def mnist_protocol(samples, data_path=None, sigmas=None, sigma=None, progress=True):
    """``adversarial/parzen_ll.py :: main`` with ``-d mnist``, for ``n x 784`` samples in [0, 1].

    Validation: ``MNIST('train', start=50000, stop=60000).X[:1000]`` (``get_valid`` with the
    default ``-l 1000``); test: ``MNIST('test')``, the 10,000 test images (``get_test``).
    ``data_path`` overrides ``$PYLEARN2_DATA_PATH`` for the duration of the call.
    """
    from gan2014.datasets.mnist import MNIST  # imported late: the dataset code is optional here

    with _data_path(data_path):
        test = MNIST("test").X
        valid = None if sigma is not None else MNIST("train", start=50000, stop=60000).X[:1000]
    return evaluate(samples, valid, test, sigmas=sigmas, sigma=sigma, progress=progress)


TFD_FOLDS = (0, 1, 2, 3, 4)


def tfd_fold_data(fold, sigma_given=False, data_path=None):
    """``(valid, test)`` of one TFD fold, as ``parzen_ll.py -d tfd -f <fold>`` read them.

    Validation: ``TFD('valid', fold=fold, scale=True).X``, the whole split (``get_valid``; the
    ``-l`` limit does not apply to TFD); None when sigma is given. Test: the training set's
    ``get_test_set(fold=fold)`` (``get_test``); every config trains on ``TFD('unlabeled',
    scale=True)``, so that is ``TFD('test', fold=fold, scale=True).X``. float32 in [0, 1].
    """
    from gan2014.datasets.tfd import TFD  # imported late: the dataset code is optional here

    with _data_path(data_path):
        test = TFD("test", fold=fold, scale=True).X
        valid = None if sigma_given else TFD("valid", fold=fold, scale=True).X
    return valid, test


@dataclasses.dataclass
class FoldsResult:
    """The Parzen protocol repeated on several folds (TFD), and the summary across them.

    ``folds`` maps each fold to its :class:`ParzenResult` (sigma chosen on that fold's validation
    split, mean and per-example standard error on its test split). ``mean`` is the mean of the
    folds' test means; ``se`` the standard error across folds, ``std(means) / sqrt(k)`` with numpy's
    population std (ddof 0, the convention ``parzen_ll.py`` used for its per-example se);
    ``se_ddof1`` the same with the sample std (ddof 1), since the paper does not say which it used.
    """
    folds: dict
    mean: float
    se: float
    se_ddof1: float

    def to_record(self):
        folds = {str(fold): dataclasses.asdict(result) for fold, result in self.folds.items()}
        return {"folds": folds,
                "mean_across_folds": self.mean, "se_across_folds": self.se,
                "se_across_folds_ddof1": self.se_ddof1}


def across_folds(results):
    """:class:`FoldsResult` from ``{fold: ParzenResult}`` (the paper's TFD number: "the standard
    error across folds of the dataset, with a different sigma chosen using the validation set of
    each fold")."""
    if not results:
        raise ValueError("no folds to combine")
    means = np.array([results[fold].mean for fold in sorted(results)], dtype=np.float64)
    root_k = np.sqrt(len(means))
    se_ddof1 = float(means.std(ddof=1) / root_k) if len(means) > 1 else float("nan")
    return FoldsResult(folds=dict(sorted(results.items())), mean=float(means.mean()),
                       se=float(means.std() / root_k), se_ddof1=se_ddof1)


def tfd_protocol(samples, folds=TFD_FOLDS, data_path=None, sigmas=None, sigma=None, progress=True):
    """The paper's TFD protocol for ``n x 2304`` samples in [0, 1], on arrays from the TFD file.

    For each fold f: ``adversarial/parzen_ll.py -d tfd -f f`` (:func:`evaluate` on
    :func:`tfd_fold_data`): sigma chosen on fold f's validation split, scored on its test split;
    the same samples serve every fold (the 2014 script re-drew them from the same pickled stream
    state, so they were the same too). Then :func:`across_folds`. ``data_path`` overrides
    ``$PYLEARN2_DATA_PATH`` for the duration of the call.
    """
    results = {}
    for fold in folds:
        valid, test = tfd_fold_data(fold, sigma is not None, data_path)
        results[int(fold)] = evaluate(samples, valid, test, sigmas=sigmas, sigma=sigma,
                                      progress=progress)
    return across_folds(results)


def real_data_sanity_check(data_path=None, progress=True, per_class=None):
    """The MNIST protocol with 10,000 real training images (train[0:10000]) standing in for samples.

    A Parzen score is only meaningful next to what real data gets (Theis, van den Oord & Bethge,
    2016, "A note on the evaluation of generative models"). With ``per_class``, the first
    ``per_class`` images of each digit in train[0:50000] instead, class by class: the real-data
    counterpart of the conditional protocol's samples (1,000 of each class).
    """
    from gan2014.datasets.mnist import MNIST

    with _data_path(data_path):
        if per_class is None:
            samples = MNIST("train", start=0, stop=10000).X
        else:
            train = MNIST("train", start=0, stop=50000)
            samples = train.X[first_rows_of_each_class(train.y, per_class)]
    return mnist_protocol(samples, data_path=data_path, progress=progress)


def first_rows_of_each_class(labels, per_class, num_classes=10, allow_fewer=False):
    """Indices of the first ``per_class`` rows of each class, class 0 first.

    A class with fewer rows is refused by name, or, with ``allow_fewer``, contributes all it has
    (the conditional samples' diversity reference takes validation classes as they come).
    """
    labels = np.asarray(labels).ravel()
    rows = []
    for label in range(num_classes):
        found = np.flatnonzero(labels == label)[:per_class]
        if len(found) < per_class and not allow_fewer:
            raise ValueError(f"class {label} has {len(found)} images, fewer than {per_class}")
        rows.append(found)
    return np.concatenate(rows)


def _data_path(path):
    """Set ``$PYLEARN2_DATA_PATH`` to ``path`` inside the block (untouched if ``path`` is None)."""
    from gan2014.datasets.data_path import DATA_PATH_VARIABLE
    from gan2014.environ import variable_set

    return variable_set(DATA_PATH_VARIABLE, path)


# --- progress display ----------------------------------------------------------------------------

class ProgressLine:
    """One line on ``stream`` rewritten in place: blocks done / total, elapsed time, running mean.

    The callback for :func:`parzen_log_likelihood` (``get_nll`` printed a line every 10 batches
    instead). Nothing is shown before ``delay`` seconds, so fast runs stay silent. For a sigma grid
    the running mean shown is the best over the grid.
    """

    def __init__(self, label, stream=None, delay=PROGRESS_DELAY_S, interval=PROGRESS_INTERVAL_S):
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.delay = delay
        self.interval = interval
        self.began = time.perf_counter()
        self.last_shown = None
        self.width = 0

    def __call__(self, done, total, ll_so_far):
        now = time.perf_counter()
        elapsed = now - self.began
        if self.last_shown is None and elapsed < self.delay:
            return  # silent until the phase has run for `delay` seconds
        if self.last_shown is not None and now - self.last_shown < self.interval and done < total:
            return
        running = np.max(np.mean(np.atleast_2d(ll_so_far), axis=1))
        text = ("%s: block %d/%d, %.1fs, running mean ll %.2f"
                % (self.label, done, total, elapsed, running))
        # Pad with blanks so a shorter line fully covers the previous one.
        self.stream.write("\r" + text.ljust(self.width))
        self.width = len(text)
        self.stream.flush()
        self.last_shown = now

    def close(self):
        if self.last_shown is not None:
            self.stream.write("\n")
            self.stream.flush()


@contextlib.contextmanager
def _progress_line(label, enabled):
    if not enabled:
        yield None
        return
    line = ProgressLine(label)
    try:
        yield line
    finally:
        line.close()


# --- command line --------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m gan2014.parzen",
        description="Parzen-window log-likelihood (adversarial/parzen_ll.py protocol).")
    parser.add_argument("--real-data-check", action="store_true",
                        help="score 10,000 real MNIST training images as the samples")
    parser.add_argument("--per-class", type=int, default=None,
                        help="with --real-data-check: the first N images of each digit in "
                             "train[0:50000] instead of train[0:10000] (the conditional "
                             "protocol's 1,000 per class)")
    parser.add_argument("--data-path", default=None,
                        help="dataset root holding mnist/ (default: $PYLEARN2_DATA_PATH or ./data)")
    parser.add_argument("--json", default=None, help="also write the result record to this file")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    args = parser.parse_args(argv)
    if not args.real_data_check:
        parser.error("nothing to do: pass --real-data-check (model scoring lives in the backends)")
    if args.per_class is not None and args.per_class < 1:
        parser.error(f"--per-class must be a positive number of images, got {args.per_class}")
    try:
        result = real_data_sanity_check(args.data_path, progress=not args.quiet,
                                        per_class=args.per_class)
    except ValueError as error:
        parser.error(f"--per-class {args.per_class}: {error}")
    for sigma, mean in result.sigma_table:
        print("sigma %.4f: mean validation ll %.3f" % (sigma, mean))
    print("Using Sigma: {}".format(result.sigma))
    print("Log-Likelihood of test set = {}, se: {}".format(result.mean, result.se))
    which = ("train[0:10000]" if args.per_class is None
             else f"the first {args.per_class} of each digit in train[0:50000]")
    print("(%d real training images as samples: %s; %d test images, %.1f s)"
          % (result.n_samples, which, result.n_test, result.seconds))
    if args.json:
        result.to_json(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
