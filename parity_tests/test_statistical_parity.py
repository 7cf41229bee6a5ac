"""Statistical parity of whole training runs (slow; `make parity-slow`).

Property: yaml_experiments/mnist.yaml trained for E epochs by legacy_aesara and by port_torch, K
seeds each (noise and dropout seeds; weight init and batch order as the YAML says), gives Parzen
log-likelihoods (the full protocol of adversarial/parzen_ll.py) whose backend means differ by no
more than seed-to-seed noise: Welch's two-sided t-test at alpha = 0.01 does not reject. The runs,
the seeds and the statistics are those of parity_tests/statistical_parity.py (its docstring).

Why a statistical test: the backends draw their noise and masks from different generators (MRG31k3p
vs. torch's Philox/MT), so individual runs cannot match number for number; step-level and trajectory
equality with fed randomness is tested in test_parity_backends.py. What remains to show is that the
distribution of outcomes is the same.

The measure recorded for `make parity`'s table is |difference of means| against the critical
difference of the test (t_{1 - alpha/2, df} x standard error): the test rejects exactly when the
first exceeds the second. The power (the smallest true difference detected with 80% probability)
is printed with the summary; with K = 4 it is about 3.5 seed-to-seed standard deviations.

What it can and cannot see (the run with E = 5, K = 4, its command and its figures are in
REPRODUCING.md §2, "Statistical parity of training"): the Parzen score after 5 epochs is in GAN
training's erratic start, where the seed-to-seed spread is tens of nats, so the test detects only
large differences. It catches a backend that diverges or trains grossly differently, not a subtle
bias: that is the job of the deterministic parity (test_parity_backends.py), which is exact to
rounding.

Settings: GAN2014_STAT_EPOCHS (default 5), GAN2014_STAT_SEEDS (default 4), GAN2014_STAT_JOBS (2),
GAN2014_STAT_THREADS (1), GAN2014_STAT_OUT (a folder to keep the runs in; finished runs found there
are reused). REPRODUCING.md §2 gives how long the default run took.
"""
import math
import os

import pytest

from parity_tests.conftest import mnist_or_skip
from parity_tests.statistical_parity import ALPHA, print_summary, study

EPOCHS = int(os.environ.get("GAN2014_STAT_EPOCHS", "5"))
SEEDS = int(os.environ.get("GAN2014_STAT_SEEDS", "4"))
JOBS = int(os.environ.get("GAN2014_STAT_JOBS", "2"))
THREADS = int(os.environ.get("GAN2014_STAT_THREADS", "1"))


@pytest.mark.slow
def test_backends_reach_the_same_parzen_score(tmp_path, parity_record):
    """Welch's t-test at alpha = 0.01 finds no difference between the backends' Parzen means.
    Tolerance: the test's two-sided significance level ALPHA = 0.01, so backends that do not
    differ fail by chance once in 100 studies and a failure is a real alarm; |difference of
    means| is recorded against the critical difference t_{1 - ALPHA/2, df} x standard error, which
    it exceeds exactly when the test rejects. Each run's mean and SE must be finite."""
    from scipy import stats

    mnist_or_skip()
    out = os.environ.get("GAN2014_STAT_OUT") or tmp_path
    summary = study(EPOCHS, SEEDS, out, jobs=JOBS, threads=THREADS)
    print_summary(summary)
    for run in summary["runs"]:
        assert math.isfinite(run["mean"]) and math.isfinite(run["se"]), run
    welch = summary["welch"]
    a, t = summary["per_backend"]["legacy_aesara"], summary["per_backend"]["port_torch"]
    standard_error = math.sqrt(a["std"] ** 2 / a["n"] + t["std"] ** 2 / t["n"])
    critical = stats.t.ppf(1 - ALPHA / 2, welch["df"]) * standard_error
    parity_record(f"Parzen mean after {EPOCHS} epochs, {SEEDS} seeds (Welch, alpha {ALPHA})",
                  "legacy_aesara vs port_torch: |diff of means| vs critical diff",
                  abs(welch["difference"]), critical)
    assert not welch["reject"], (f"p = {welch['p_value']:.4g} < {ALPHA}: the backends' Parzen "
                                 f"means differ by {welch['difference']:.3f} nats")


def test_aesara_seed_offset_shifts_every_mrg_stream(monkeypatch):
    """$GAN2014_MRG_SEED_OFFSET (what the study varies for legacy_aesara) shifts the seed of each
    MRG stream, and unset leaves the 2014 seed (10097 for the generator's noise) unchanged.
    Exact: integer seeds, and a ValueError naming the variable for -1."""
    from legacy_aesara.models.mlp import MRG_SEED_OFFSET_VARIABLE, new_mrg_stream

    monkeypatch.delenv(MRG_SEED_OFFSET_VARIABLE, raising=False)
    assert list(new_mrg_stream(10097).rstate) == [10097] * 6
    monkeypatch.setenv(MRG_SEED_OFFSET_VARIABLE, "3000")
    assert list(new_mrg_stream(10097).rstate) == [13097] * 6
    monkeypatch.setenv(MRG_SEED_OFFSET_VARIABLE, "-1")
    with pytest.raises(ValueError, match=MRG_SEED_OFFSET_VARIABLE):
        new_mrg_stream(10097)
