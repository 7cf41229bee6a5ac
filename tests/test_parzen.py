"""The Parzen-window estimator and protocol of adversarial/parzen_ll.py (gan2014.parzen).

The brute force is checked against hand-computed Gaussian densities; the fast form is checked
against the brute force to 1e-6 nats, including the cases that break naive implementations
(cancellation in |x|^2 - 2x.mu + |mu|^2, exp underflow without the max shift). No real data.
"""
import io
import json
import math
import os

import numpy as np
import pytest

from gan2014 import parzen
from gan2014.parzen import (DEFAULT_SIGMAS, ParzenResult, evaluate, log_mean_exp,
                            parzen_log_likelihood, parzen_log_likelihood_bruteforce,
                            select_sigma)

TOL = 1e-6  # nats
LOG_2PI = math.log(2 * math.pi)


def mnist_like(rng, n, dim=30):
    """Values in [0, 1] with most entries exactly 0, like MNIST pixels."""
    x = rng.random((n, dim)).astype(np.float32)
    x[x < 0.7] = 0
    return x


# --- log_mean_exp --------------------------------------------------------------------------------

def test_log_mean_exp_matches_definition_on_moderate_values():
    """log_mean_exp equals the naive log(mean(exp(a))) along axis 1 and, transposed, along axis 0,
    on values where the naive form is accurate. 1e-12 absolute: two float64 evaluations of the same
    quantity (results below 4) differ only by rounding, ~1e-15."""
    a = np.array([[0.0, 1.0, 2.0], [-3.0, -3.0, 5.0]])
    expected = np.log(np.exp(a).mean(axis=1))
    np.testing.assert_allclose(log_mean_exp(a), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(log_mean_exp(a.T, axis=0), expected, rtol=0, atol=1e-12)


def test_log_mean_exp_survives_underflow():
    """Rows near -1,000 and -5,000, where the naive form underflows to -inf (checked), give the
    hand-computed finite values. 1e-12 absolute: float64 spacing near 1,000 is 1.1e-13, and the
    -5,000 row (equal terms) comes out exact."""
    a = np.array([[-1000.0, -1001.0], [-5000.0, -5000.0]])
    with np.errstate(divide="ignore"):
        assert np.all(np.isinf(np.log(np.exp(a).mean(axis=1))))  # the naive form fails here
    expected = [-1000.0 + math.log((1 + math.exp(-1.0)) / 2), -5000.0]
    np.testing.assert_allclose(log_mean_exp(a), expected, rtol=0, atol=1e-12)


def test_log_mean_exp_all_minus_infinity_row():
    """A row that is entirely -inf gives -inf (exactly; the original gave nan), and a row with one
    -inf term gives log(1/2), to pytest.approx's default relative 1e-6: loose for a result of one
    float64 log."""
    out = log_mean_exp(np.array([[-np.inf, -np.inf], [0.0, -np.inf]]))
    assert out[0] == -np.inf
    assert out[1] == pytest.approx(math.log(0.5))


# --- brute force against hand computation --------------------------------------------------------

@pytest.mark.parametrize("estimator", [parzen_log_likelihood_bruteforce, parzen_log_likelihood])
def test_one_sample_is_the_gaussian_log_density(estimator):
    """Parametrized over the brute force and the fast form: with one sample the estimate is the
    Gaussian log-density, hand-computed for |x - mu|^2 = 25 in two dimensions at sigma 1 and 0.5.
    1e-12 nats: float64 rounding on values of size 14 to 51 is ~1e-14."""
    # |x - mu|^2 = 3^2 + 4^2 = 25, D = 2, sigma = 1.
    ll = estimator(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), 1.0)
    assert ll[0] == pytest.approx(-12.5 - LOG_2PI, abs=1e-12)
    # sigma = 0.5: -25 / (2 * 0.25) - 2 * log(0.5 * sqrt(2 pi)).
    ll = estimator(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), 0.5)
    assert ll[0] == pytest.approx(-50.0 - 2 * math.log(0.5) - LOG_2PI, abs=1e-12)


@pytest.mark.parametrize("estimator", [parzen_log_likelihood_bruteforce, parzen_log_likelihood])
def test_two_samples_average_the_densities(estimator):
    """Parametrized over both estimators: with two samples a point gets the log of the mean of the
    two kernel densities (hand-computed in one dimension, at distances 0 and 2, and 1 and 1). 1e-12
    nats: float64 rounding on values near -1.5 is ~1e-15."""
    x = np.array([[0.0], [1.0]])
    mu = np.array([[0.0], [2.0]])
    # x = 0: distances 0 and 4 -> log((1 + e^-2) / 2) - log(sqrt(2 pi)); x = 1: both distances 1.
    expected = [math.log((1 + math.exp(-2.0)) / 2) - 0.5 * LOG_2PI, -0.5 - 0.5 * LOG_2PI]
    np.testing.assert_allclose(estimator(x, mu, 1.0), expected, rtol=0, atol=1e-12)


def test_bruteforce_chunking_does_not_change_the_result(monkeypatch):
    """Cutting the brute force into chunks of 3 samples x 1 row (BRUTE_FORCE_BYTES set to 120) gives
    the values of the unchunked run. 1e-12 nats: each squared distance is the same float64 sum
    either way; the bound only leaves room for rounding."""
    rng = np.random.default_rng(0)
    x, mu = rng.random((9, 5)), rng.random((11, 5))
    whole = parzen_log_likelihood_bruteforce(x, mu, 0.3)
    monkeypatch.setattr(parzen, "BRUTE_FORCE_BYTES", 8 * 5 * 3)  # 3 samples x 1 row per chunk
    np.testing.assert_allclose(parzen_log_likelihood_bruteforce(x, mu, 0.3), whole,
                               rtol=0, atol=1e-12)


# --- fast form against the brute force -----------------------------------------------------------

@pytest.mark.parametrize("sigma", [0.1, 0.2154, 1.0])
@pytest.mark.parametrize("block_rows", [None, 1, 7])
def test_fast_equals_bruteforce_on_random_data(sigma, block_rows):
    """The fast form equals the brute force on MNIST-like data (40 points, 300 samples, 30 columns)
    for sigma 0.1, 0.2154 and 1.0, in one default block, 1-row blocks and 7-row blocks (last one
    short). TOL = 1e-6 nats: the forms differ only by float64 rounding (~1e-11 nats on MNIST); a
    wrong normaliser, weight or distance is off by far more."""
    rng = np.random.default_rng(1)
    x, mu = mnist_like(rng, 40), mnist_like(rng, 300)
    fast = parzen_log_likelihood(x, mu, sigma, block_rows=block_rows)
    np.testing.assert_allclose(fast, parzen_log_likelihood_bruteforce(x, mu, sigma),
                               rtol=0, atol=TOL)


def test_fast_equals_bruteforce_with_duplicates_and_near_duplicates():
    """Points equal to a sample or 1e-7 from one, with norms made large (offset 10) so the product
    form cancels badly and sigma 0.1 scales its error by 50: the fast form stays within TOL = 1e-6
    nats of the brute force, and no near-duplicate scores above one kernel's peak share (+ TOL)."""
    # sigma = 0.1 scales squared-distance errors by 1/(2 sigma^2) = 50, and large norms (offset 10)
    # make |x|^2 - 2x.mu + |mu|^2 cancel badly for (near-)duplicates, whose true distance is 0 or
    # ~1e-14.
    rng = np.random.default_rng(2)
    mu = 10.0 + rng.random((200, 30))
    mu[100:110] = mu[:10]  # duplicated samples
    x = np.concatenate([mu[:20], mu[50:70] + 1e-7 * rng.standard_normal((20, 30)),
                        10.0 + rng.random((5, 30))])
    fast = parzen_log_likelihood(x, mu, 0.1)
    np.testing.assert_allclose(fast, parzen_log_likelihood_bruteforce(x, mu, 0.1),
                               rtol=0, atol=TOL)
    # A point on top of a sample can do no better than that sample's kernel peak (share 1/n).
    peak = -30 * math.log(0.1 * math.sqrt(2 * math.pi)) - math.log(200)
    assert np.all(fast[20:40] <= peak + TOL)


def test_fast_equals_bruteforce_when_exp_underflows_without_the_shift():
    """Points and samples so far apart (values up to 50, sigma 0.1) that every kernel value exp() is
    exactly 0 in float64 (checked): the fast form, thanks to its max shift, stays finite and within
    TOL = 1e-6 nats of the brute force (the bound of every fast-vs-brute-force test here)."""
    rng = np.random.default_rng(3)
    x, mu = 50.0 * rng.random((10, 20)), 50.0 * rng.random((60, 20))
    # Every kernel value exp(-d / (2 sigma^2)) is exactly 0 in float64 here.
    sq = ((x[:, None, :] - mu[None]) ** 2).sum(axis=2)
    assert np.all(np.exp(-sq / (2 * 0.1 ** 2)) == 0)
    fast = parzen_log_likelihood(x, mu, 0.1)
    assert np.all(np.isfinite(fast))
    np.testing.assert_allclose(fast, parzen_log_likelihood_bruteforce(x, mu, 0.1),
                               rtol=0, atol=TOL)


def test_fast_equals_bruteforce_when_columns_of_x_are_blank():
    """With 12 of 30 columns 0 in every point, the fast form drops them from the product (checked)
    yet still counts the samples' values there through |mu|^2: it equals the brute force at sigma
    0.1 and 0.5, in 10-row blocks, to TOL = 1e-6 nats (as above)."""
    # Columns that are 0 in every test point (MNIST's borders) are left out of the product; the
    # samples' values there must still count, through |mu|^2.
    rng = np.random.default_rng(14)
    x, mu = mnist_like(rng, 25), rng.random((80, 30))
    x[:, :12] = 0
    assert parzen._active_columns(x) is not None
    for sigma in (0.1, 0.5):
        np.testing.assert_allclose(parzen_log_likelihood(x, mu, sigma, block_rows=10),
                                   parzen_log_likelihood_bruteforce(x, mu, sigma),
                                   rtol=0, atol=TOL)


def test_cancellation_never_gives_negative_distances():
    """For points on a sample or 1e-9 from it (norms near 3,300), _excess_distances gives row minima
    in [0, 1e-9) and excess distances >= 0 with each row's minimum exactly 0. The signs are exact;
    1e-9 because the true minima are 0 and 3e-17, the rest being float64 cancellation."""
    rng = np.random.default_rng(15)
    mu = 10.0 + rng.random((50, 30))
    x = np.concatenate([mu, mu + 1e-9])  # every point on (or next to) a sample
    x_aug = np.concatenate([x, np.ones((100, 1))], axis=1)
    excess = np.empty((100, 50))
    min_sq = parzen._excess_distances(x_aug, parzen._augmented_centres(mu), excess)
    assert np.all(min_sq >= 0) and np.all(min_sq < 1e-9)
    assert np.all(excess >= 0) and np.all(excess.min(axis=1) == 0)


def test_fast_accepts_float32_and_sequences():
    """The fast form takes x as a nested list (of float32 values) and mu as a float32 array, and
    gives the brute force's float64 result on the same values, to TOL = 1e-6 nats (as above)."""
    rng = np.random.default_rng(4)
    x, mu = mnist_like(rng, 5), mnist_like(rng, 8)
    expected = parzen_log_likelihood_bruteforce(x.astype(np.float64), mu.astype(np.float64), 0.2)
    np.testing.assert_allclose(parzen_log_likelihood(x.tolist(), mu, 0.2), expected,
                               rtol=0, atol=TOL)


# --- several sigmas at once ----------------------------------------------------------------------

def test_sigma_grid_equals_one_sigma_at_a_time():
    """The 10-sigma default grid at once (33-row blocks) gives a (10, 70) table whose rows equal
    single-sigma calls (one 70-row block). 1e-12 nats: the same float64 formula, only blocked
    differently, so at most the BLAS summation order differs."""
    rng = np.random.default_rng(5)
    x, mu = mnist_like(rng, 70), mnist_like(rng, 150)
    grid = parzen_log_likelihood(x, mu, DEFAULT_SIGMAS, block_rows=33)
    assert grid.shape == (10, 70)
    for row, sigma in zip(grid, DEFAULT_SIGMAS):
        np.testing.assert_allclose(row, parzen_log_likelihood(x, mu, sigma), rtol=0, atol=1e-12)


def test_scalar_sigma_gives_one_row_and_a_sequence_gives_a_table():
    """A scalar sigma gives shape (N,) and a one-element sequence gives shape (1, N). Exact: shapes
    are integers."""
    rng = np.random.default_rng(6)
    x, mu = rng.random((4, 3)), rng.random((5, 3))
    assert parzen_log_likelihood(x, mu, 0.5).shape == (4,)
    assert parzen_log_likelihood(x, mu, [0.5]).shape == (1, 4)


@pytest.mark.parametrize("sigma", [0.0, -1.0, np.nan, [0.1, 0.0], []])
def test_bad_sigma_is_refused(sigma):
    """Parametrized over 0, a negative sigma, nan, a sequence holding 0 and an empty sequence: each
    raises ValueError. Exact (error type): each would otherwise give nan, inf or an empty table
    without a word."""
    with pytest.raises(ValueError):
        parzen_log_likelihood(np.zeros((2, 3)), np.zeros((4, 3)), sigma)


def test_mismatched_dimensions_are_refused():
    """x and mu with different numbers of columns are refused by the fast form with a message about
    the columns, and a 1-D x by the brute force. Exact (error type and message): the message is the
    user's only guide."""
    with pytest.raises(ValueError, match="columns"):
        parzen_log_likelihood(np.zeros((2, 3)), np.zeros((4, 5)), 0.2)
    with pytest.raises(ValueError):
        parzen_log_likelihood_bruteforce(np.zeros(3), np.zeros((4, 3)), 0.2)


# --- protocol ------------------------------------------------------------------------------------

def test_select_sigma_picks_the_argmax_of_the_validation_means():
    """select_sigma's table lists the default grid in order, each mean within TOL = 1e-6 nats of the
    brute force's, and the chosen sigma is the argmax of those means (here strictly inside the
    grid). Sigmas and choice are compared exactly: they are copied from the grid, not computed."""
    rng = np.random.default_rng(7)
    samples, valid = mnist_like(rng, 200), mnist_like(rng, 30)
    best, table = select_sigma(samples, valid)
    assert [s for s, _ in table] == pytest.approx(list(DEFAULT_SIGMAS), abs=0)
    means = [m for _, m in table]
    assert best == table[int(np.argmax(means))][0]
    for sigma, mean in table:
        assert mean == pytest.approx(parzen_log_likelihood_bruteforce(valid, samples, sigma).mean(),
                                     abs=TOL)
    # The grid spans both sides of the optimum here, so the choice is not just an end point.
    assert DEFAULT_SIGMAS[0] < best < DEFAULT_SIGMAS[-1]


def test_evaluate_reports_mean_and_population_standard_error():
    """evaluate's mean is the brute-force test mean (TOL = 1e-6 nats) and its se is std(ddof=0) /
    sqrt(N) to relative 1e-9 (the same float64 statistic), more than 1e-3 away from the ddof=1 value
    (4.4% apart at N = 12); counts, the chosen sigma and the 10-row table are exact."""
    rng = np.random.default_rng(8)
    samples, valid, test = mnist_like(rng, 200), mnist_like(rng, 30), mnist_like(rng, 12)
    result = evaluate(samples, valid, test, progress=False)
    ll = parzen_log_likelihood_bruteforce(test, samples, result.sigma)
    assert result.mean == pytest.approx(ll.mean(), abs=TOL)
    assert result.se == pytest.approx(ll.std(ddof=0) / math.sqrt(12), rel=1e-9)
    assert result.se != pytest.approx(ll.std(ddof=1) / math.sqrt(12), rel=1e-3)
    assert (result.n_samples, result.n_test) == (200, 12)
    assert result.sigma == select_sigma(samples, valid)[0]
    assert len(result.sigma_table) == 10 and result.seconds > 0


def test_evaluate_with_given_sigma_skips_selection():
    """Given sigma=0.25 and no validation set, evaluate uses that sigma (exactly), leaves the sigma
    table empty, and reports the brute-force test mean to TOL = 1e-6 nats (as above)."""
    rng = np.random.default_rng(9)
    samples, test = mnist_like(rng, 50), mnist_like(rng, 6)
    result = evaluate(samples, None, test, sigma=0.25, progress=False)
    assert result.sigma == 0.25 and result.sigma_table == []
    assert result.mean == pytest.approx(
        parzen_log_likelihood_bruteforce(test, samples, 0.25).mean(), abs=TOL)


def test_evaluate_with_own_grid():
    """A caller's grid [0.05, 0.3] replaces the default: the table lists exactly those sigmas and
    the choice is one of them. Exact: the sigmas are copied, not computed."""
    rng = np.random.default_rng(10)
    samples, valid, test = mnist_like(rng, 50), mnist_like(rng, 10), mnist_like(rng, 6)
    result = evaluate(samples, valid, test, sigmas=[0.05, 0.3], progress=False)
    assert [s for s, _ in result.sigma_table] == [0.05, 0.3]
    assert result.sigma in (0.05, 0.3)


def test_result_json_round_trip(tmp_path):
    """A ParzenResult written as JSON (returned, and saved to a file) reads back equal, with the
    sigma table stored as [sigma, mean] pairs. Exact: JSON writes floats in shortest round-trip
    form, so float64 values come back bit for bit."""
    result = ParzenResult(sigma=0.17782794100389226, mean=225.1234567890123, se=2.0123456789,
                          n_samples=10000, n_test=10000,
                          sigma_table=[(0.1, -12.5), (0.17782794100389226, 3.25)], seconds=4.5)
    text = result.to_json(tmp_path / "parzen.json")
    assert ParzenResult.from_json(text) == result
    assert ParzenResult.from_json((tmp_path / "parzen.json").read_text()) == result
    assert json.loads(text)["sigma_table"][1] == [0.17782794100389226, 3.25]


# --- progress ------------------------------------------------------------------------------------

def test_progress_callback_sees_every_block():
    """10 rows in blocks of 4: the callback gets (done, total) = (1, 3), (2, 3), (3, 3) with 4, 8
    and 10 values, each the start of the final result. Exact: the callback is shown the very values
    that are returned."""
    rng = np.random.default_rng(11)
    x, mu = rng.random((10, 4)), rng.random((6, 4))
    calls, parts = [], []

    def progress(done, total, part):
        calls.append((done, total, part.shape))
        parts.append(part.copy())

    ll = parzen_log_likelihood(x, mu, 0.3, block_rows=4, progress=progress)
    assert calls == [(1, 3, (4,)), (2, 3, (8,)), (3, 3, (10,))]
    # What the display averages is already the final, normalised log-likelihood.
    for part in parts:
        np.testing.assert_array_equal(part, ll[:part.shape[0]])


def test_progress_line_writes_one_updating_line():
    """With no delay or interval, ProgressLine rewrites one line (a carriage return per update),
    ends it with a newline on close, and shows the block count and running mean (3.00 for 1, 3, 5).
    Exact (text): this is what the user sees."""
    stream = io.StringIO()
    line = parzen.ProgressLine("parzen test", stream=stream, delay=0.0, interval=0.0)
    line(1, 2, np.array([1.0, 3.0]))
    line(2, 2, np.array([1.0, 3.0, 5.0]))
    line.close()
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "block 2/2" in text and "running mean ll 3.00" in text


def test_progress_line_is_silent_for_short_runs():
    """A run that ends before the 60 s delay writes nothing, not even the closing newline. Exact
    (empty output): fast runs stay silent by design."""
    stream = io.StringIO()
    line = parzen.ProgressLine("parzen test", stream=stream, delay=60.0)
    line(1, 1, np.array([1.0]))
    line.close()
    assert stream.getvalue() == ""


def test_evaluate_without_progress_prints_nothing(capsys):
    """evaluate(progress=False) writes nothing to stdout or stderr. Exact (empty output): quiet
    means nothing at all."""
    rng = np.random.default_rng(12)
    evaluate(rng.random((20, 3)), rng.random((5, 3)), rng.random((5, 3)), progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# --- MNIST wiring (a stand-in dataset; no files) -------------------------------------------------

class FakeMNIST:
    """Row i of a set is a deterministic function of (which_set, i); records each construction."""
    calls = []

    def __init__(self, which_set, start=None, stop=None):
        FakeMNIST.calls.append((which_set, start, stop, os.environ.get("PYLEARN2_DATA_PATH")))
        size = {"train": 60000, "test": 10000}[which_set]
        index = np.arange(0 if start is None else start, size if stop is None else stop)
        offset = 0.0 if which_set == "train" else 0.5
        self.X = np.stack([np.sin(index + offset), np.cos(0.7 * index)], axis=1).astype(np.float32)
        self.y = (index % 10).reshape(-1, 1).astype(np.uint8)


@pytest.fixture
def fake_mnist(monkeypatch):
    import gan2014.datasets.mnist as mnist_module
    FakeMNIST.calls = []
    monkeypatch.setattr(mnist_module, "MNIST", FakeMNIST)
    monkeypatch.setenv("PYLEARN2_DATA_PATH", "/original")
    return FakeMNIST


def test_mnist_protocol_uses_the_first_1000_held_out_images_and_the_test_set(fake_mnist):
    """With a stand-in MNIST: mnist_protocol reads train[50000:60000] (validating on its first
    1,000) and the whole test set under the given data path, restores $PYLEARN2_DATA_PATH, and
    reports evaluate's result on those arrays. Reads, paths and sigma exact; the mean to 1e-9 nats,
    the same float64 evaluation of the same values."""
    samples = np.random.default_rng(13).random((40, 2))
    result = parzen.mnist_protocol(samples, data_path="/elsewhere", progress=False)
    assert {call[:3] for call in fake_mnist.calls} == {("train", 50000, 60000),
                                                       ("test", None, None)}
    assert {call[3] for call in fake_mnist.calls} == {"/elsewhere"}
    assert os.environ["PYLEARN2_DATA_PATH"] == "/original"
    valid = FakeMNIST("train", start=50000, stop=51000).X
    expected = evaluate(samples, valid, FakeMNIST("test").X, progress=False)
    assert (result.sigma, result.n_test) == (expected.sigma, 10000)
    assert result.mean == pytest.approx(expected.mean, abs=1e-9)


def test_real_data_sanity_check_scores_the_first_10000_training_images(fake_mnist, monkeypatch):
    """real_data_sanity_check hands train[0:10000] (a stand-in MNIST) to the MNIST protocol as the
    samples, with the data path it was given. Exact: arrays and a path passed along."""
    seen = {}

    def fake_protocol(samples, data_path=None, progress=True):
        seen.update(samples=samples, data_path=data_path)
        return "result"

    monkeypatch.setattr(parzen, "mnist_protocol", fake_protocol)
    assert parzen.real_data_sanity_check(data_path="/d", progress=False) == "result"
    assert fake_mnist.calls[0][:3] == ("train", 0, 10000)
    np.testing.assert_array_equal(seen["samples"], FakeMNIST("train", start=0, stop=10000).X)
    assert seen["data_path"] == "/d"


def test_real_data_check_per_class_takes_the_first_images_of_each_digit(fake_mnist, monkeypatch):
    """With per_class, the samples are the first per_class images of digit 0 in train[0:50000],
    then of digit 1, ... (the stand-in's label is the index mod 10); a class with too few images
    is a ValueError naming it. Exact: rows and the message."""
    seen = {}
    monkeypatch.setattr(parzen, "mnist_protocol",
                        lambda samples, data_path=None, progress=True: seen.update(s=samples))
    parzen.real_data_sanity_check(progress=False, per_class=3)
    assert fake_mnist.calls[0][:3] == ("train", 0, 50000)
    rows = [digit + 10 * k for digit in range(10) for k in range(3)]
    np.testing.assert_array_equal(seen["s"], FakeMNIST("train", 0, 50000).X[rows])
    labels = np.array([0, 1, 1, 2] * 3)
    with pytest.raises(ValueError, match="class 3 has 0 images, fewer than 1"):
        parzen.first_rows_of_each_class(labels, 1, num_classes=4)


def test_first_rows_of_each_class_with_fewer_allowed_takes_what_a_class_has():
    """allow_fewer (the conditional samples' diversity reference) keeps a short class's rows and
    an empty class's none, class after class, in order of appearance. Exact indices."""
    labels = np.array([2, 0, 1, 0, 2, 0, 3, 0])
    rows = parzen.first_rows_of_each_class(labels, 3, num_classes=5, allow_fewer=True)
    np.testing.assert_array_equal(rows, [1, 3, 5, 2, 0, 4, 6])
    with pytest.raises(ValueError, match="class 1 has 1 images, fewer than 3"):
        parzen.first_rows_of_each_class(labels, 3, num_classes=5)
