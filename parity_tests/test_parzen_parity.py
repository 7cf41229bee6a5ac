"""Every Parzen implementation of the project gives the same per-example log-likelihoods.

The estimator (adversarial :: theano_parzen, docs/pylearn2_semantics.md#parzen-helpers and
docs/pylearn2_semantics.md#parzen-protocol):
``ll_i = logmeanexp_j(-1/2 |(x_i - mu_j) / sigma|^2) - D log(sigma sqrt(2 pi))``.

Implementations, all fed the same float32 points and samples:

* reference: gan2014.parzen.parzen_log_likelihood_bruteforce (the original formula term by term,
  float64);
* gan2014.parzen.parzen_log_likelihood (fast exact product form, float64, what the Parzen commands
  use);
* port_torch.parzen.parzen_log_likelihood_torch (the same product form in torch float64, the CUDA
  path of `python -m port_torch.parzen`), on the CPU, and on CUDA when there is one;
* port_torch.adversarial.parzen_log_likelihood (the gen_ll monitoring channel, original formula);
* legacy_aesara.parzen.theano_parzen: the ORIGINAL Aesara graph (parzen_ll.py's compiled
  theano_parzen over adversarial.theano_parzen, full difference tensor, strided get_nll batches).
  Its float64 form runs in a child process started with GAN2014_FLOATX=float64, since Aesara fixes
  floatX at import (as parity_tests/trajectory.py does).

Sizes: 200 test points against 500 samples of 784 MNIST-like values (points: mostly exact 0 and
1 as MNIST pixels; samples: sigmoid outputs as a generator makes), at sigma = 0.1 (the grid's
smallest, where every exp() underflows without the max shift), 0.2 (the gen_ll channel's), 0.2783
(the sigma the MNIST runs select) and 1.0. Values range from about -5,800 to -400 nats.

Tolerances, and why:
* float64, F64_BOUND = 1e-9 nats (absolute): the formulas are the same; what differs is summation
  order (BLAS products vs. explicit squared differences), ~1e-16 relative on sums of ~1e4 nats, i.e.
  ~1e-12. A wrong normaliser, weight (log n) or shift shows up at 1e-3 or more.
  Measured (2026-11-23): 1.6e-11 at most (the Aesara graph), 6e-12 (gan2014 fast form).
* float32 (the 2014 graph as it ran, and the torch gen_ll channel) against the float64 reference,
  F32_RELATIVE_BOUND = 1e-6 of |ll|: the squared differences and their 784-term sums are rounded to
  float32 (unit roundoff 6e-8), so the error scales with the value itself: a float32 number of
  size 5,000 is only resolved to 2.4e-4. Measured relative errors: Aesara graph 1.2e-7, torch
  2.2e-7 (one or two float32 ulps); in nats, 5.1e-4 (Aesara) and 8.9e-4 (torch) at sigma = 0.1
  where |ll| ~ 5,000, and 5.9e-5 / 1.0e-4 at sigma = 0.2783 (|ll| ~ 500), the MNIST runs' sigma.
  The bound is about five times the measured worst case. Each test records the relative error.

The two commands (`python -m legacy_aesara.parzen`, `python -m port_torch.parzen`) are checked end
to end on a small checkpoint: their record equals gan2014.parzen.evaluate run on the samples their
backend's G draws from the same seed (1e-9 nats), so the plumbing (checkpoint -> YAML -> model ->
parameters -> seeded samples -> protocol data -> sigma choice) adds nothing.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gan2014.parzen import parzen_log_likelihood, parzen_log_likelihood_bruteforce
from parity_tests.conftest import REPO

N_TEST, N_SAMPLES, DIM = 200, 500, 784
SIGMAS = (0.1, 0.2, 0.2782559402207124, 1.0)
F64_BOUND = 1e-9
F32_RELATIVE_BOUND = 1e-6
# Rows per get_nll batch of the Aesara graph: 25 x 500 x 784 float64 = 78 MB per temporary.
AESARA_BATCH = 25


def mnist_like_points(rng, n):
    """MNIST-like pixels: ~80% exactly 0, ~8% exactly 1, the rest in between (float32)."""
    u = rng.random((n, DIM))
    x = np.where(u < 0.8, 0.0, np.where(u > 0.92, 1.0, rng.random((n, DIM))))
    return x.astype(np.float32)


def generator_like_samples(rng, n):
    """Sigmoid outputs biased towards 0, as G's output layer makes (float32, in (0, 1))."""
    return (1.0 / (1.0 + np.exp(-rng.normal(-3.0, 3.0, (n, DIM))))).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(2014)
    return mnist_like_points(rng, N_TEST), generator_like_samples(rng, N_SAMPLES)


@pytest.fixture(scope="module")
def reference(data):
    x, mu = data
    return np.stack([parzen_log_likelihood_bruteforce(x, mu, s) for s in SIGMAS])


def max_error(values, reference):
    """Largest absolute difference, in nats."""
    return float(np.max(np.abs(np.asarray(values, np.float64) - reference)))


def max_relative_error(values, reference):
    """Largest ``|value - reference| / |reference|`` (the references are all far from 0)."""
    return float(np.max(np.abs(np.asarray(values, np.float64) - reference) / np.abs(reference)))


# --- float64 -------------------------------------------------------------------------------------

def test_gan2014_fast_form_matches_bruteforce(data, reference, parity_record):
    """The protocol's fast product form equals the original formula (float64, 1e-9 nats)."""
    x, mu = data
    parity_record("parzen ll, float64", "gan2014 fast vs brute force",
                  max_error(parzen_log_likelihood(x, mu, SIGMAS), reference), F64_BOUND)


def test_torch_product_form_matches_bruteforce(data, reference, parity_record):
    """port_torch.parzen's blocked float64 product form on the CPU (1e-9 nats); small blocks so
    that several are exercised."""
    from port_torch.parzen import parzen_log_likelihood_torch

    x, mu = data
    ll = parzen_log_likelihood_torch(x, mu, SIGMAS, device="cpu", block_rows=64)
    parity_record("parzen ll, float64", "torch product form (cpu) vs brute force",
                  max_error(ll, reference), F64_BOUND)


def test_torch_product_form_on_cuda_matches_bruteforce(data, reference, parity_record):
    """The same on CUDA (float64 on the GPU, TF32 irrelevant to float64): 1e-9 nats."""
    import torch
    from port_torch.parzen import parzen_log_likelihood_torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    x, mu = data
    ll = parzen_log_likelihood_torch(x, mu, SIGMAS, device="cuda", block_rows=64)
    parity_record("parzen ll, float64", "torch product form (cuda) vs brute force",
                  max_error(ll, reference), F64_BOUND)


def test_torch_gen_ll_channel_matches_bruteforce_float64(data, reference, parity_record):
    """port_torch.adversarial.parzen_log_likelihood (the gen_ll channel's original formula) in
    float64: 1e-9 nats."""
    import torch
    from port_torch.adversarial import parzen_log_likelihood as channel_ll

    x, mu = (torch.from_numpy(a).double() for a in data)
    ll = np.stack([np.concatenate([channel_ll(x[i:i + 50], mu, s).numpy()
                                   for i in range(0, N_TEST, 50)]) for s in SIGMAS])
    parity_record("parzen ll, float64", "torch gen_ll formula vs brute force",
                  max_error(ll, reference), F64_BOUND)


def aesara_graph_values(x, mu, floatx):
    """Per-sigma values of legacy_aesara.parzen.theano_parzen, computed in a child process with
    GAN2014_FLOATX=floatx (Aesara's float type is fixed when it is imported)."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        inputs, output = os.path.join(scratch, "in.npz"), os.path.join(scratch, "out.npy")
        np.savez(inputs, x=x, mu=mu, sigmas=np.asarray(SIGMAS))
        env = dict(os.environ, GAN2014_FLOATX=floatx)
        env.pop("AESARA_FLAGS", None)
        done = subprocess.run([sys.executable, "-m", "parity_tests.test_parzen_parity", inputs,
                               output], cwd=REPO, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        return np.load(output)


def test_aesara_original_graph_float64_matches_bruteforce(data, reference, parity_record):
    """The original Aesara graph in float64 (child process): 1e-9 nats."""
    parity_record("parzen ll, float64", "aesara theano_parzen graph vs brute force",
                  max_error(aesara_graph_values(*data, "float64"), reference), F64_BOUND)


# --- float32 -------------------------------------------------------------------------------------

def test_aesara_original_graph_float32_bound(data, reference, parity_record):
    """The original Aesara graph in float32 (as 2014 ran it) vs. the float64 reference: within
    1e-6 of |ll| (measured 1.2e-7, i.e. 5.1e-4 nats at |ll| ~ 5,000)."""
    parity_record("parzen ll, float32 vs float64 ref (relative)",
                  "aesara theano_parzen graph (float32)",
                  max_relative_error(aesara_graph_values(*data, "float32"), reference),
                  F32_RELATIVE_BOUND)


def test_torch_gen_ll_channel_float32_bound(data, reference, parity_record):
    """The torch gen_ll formula in float32 vs. the float64 reference: within 1e-6 of |ll|
    (measured 2.2e-7, i.e. 8.9e-4 nats at |ll| ~ 5,000)."""
    import torch
    from port_torch.adversarial import parzen_log_likelihood as channel_ll

    x, mu = (torch.from_numpy(a) for a in data)
    ll = np.stack([np.concatenate([channel_ll(x[i:i + 50], mu, s).numpy()
                                   for i in range(0, N_TEST, 50)]) for s in SIGMAS])
    parity_record("parzen ll, float32 vs float64 ref (relative)", "torch gen_ll formula (float32)",
                  max_relative_error(ll, reference), F32_RELATIVE_BOUND)


def test_torch_gen_ll_channel_blocks_change_no_bit(data):
    """The gen_ll channel computes its distances on blocks of rows, in place, for speed: the
    values are bit for bit those of the one-block computation (every distance is the same
    sequence of float32 operations; only memory use differs), for a block size that divides the
    rows and one that does not. Exact, since nothing is reordered."""
    import torch
    from port_torch.adversarial import parzen_log_likelihood as channel_ll

    x, mu = (torch.from_numpy(a[:100]) for a in data)
    whole = channel_ll(x, mu, 0.2, rows_per_block=x.shape[0])
    for rows in (4, 7, 1):
        assert torch.equal(channel_ll(x, mu, 0.2, rows_per_block=rows), whole), rows


# --- the commands --------------------------------------------------------------------------------

CLI_SAMPLES, CLI_LIMIT, CLI_SEED = 300, 100, 7


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A data-only checkpoint of the untrained mnist.yaml model (parameters perturbed, so that G
    is not at its initial values), as gan2014.train writes one."""
    from gan2014 import checkpoint as ckpt
    from parity_tests.conftest import mnist_or_skip
    from parity_tests.trajectory import MNIST_YAML, build

    mnist_or_skip()
    train = build("port_torch")
    rng = np.random.RandomState(0)
    values = {name: value + 0.01 * rng.standard_normal(value.shape).astype(value.dtype)
              for name, value in train.model.get_param_values().items()}
    path = tmp_path_factory.mktemp("parzen_cli") / "epoch_000001.npz"
    ckpt.save_checkpoint(path, values, {"backend": "test", "epoch": 1,
                                        "yaml": MNIST_YAML.read_text(encoding="utf-8")})
    return path, values


def run_command(module, checkpoint, tmp_path, *extra):
    """Run ``module.main`` on the checkpoint (small sizes); return its JSON record."""
    out = tmp_path / "record.json"
    argv = [str(checkpoint), "-n", str(CLI_SAMPLES), "--limit", str(CLI_LIMIT),
            "--seed", str(CLI_SEED), "--json", str(out), "--quiet", *extra]
    assert module.main(argv) == 0
    return json.loads(out.read_text())


def protocol_on(samples):
    """gan2014.parzen.evaluate on the command's data: the reference the command must reproduce."""
    from gan2014.parzen_cli import protocol_data
    from gan2014.parzen import evaluate

    valid, test = protocol_data(CLI_LIMIT, sigma_given=False)
    return evaluate(samples, valid, test, progress=False)


def assert_same_result(record, expected):
    assert record["sigma"] == expected.sigma
    assert record["n_samples"] == CLI_SAMPLES and record["n_test"] == 10000
    assert record["limit"] == CLI_LIMIT
    assert abs(record["mean"] - expected.mean) <= F64_BOUND
    assert abs(record["se"] - expected.se) <= F64_BOUND


def test_torch_command_reproduces_the_reference_protocol(checkpoint, tmp_path):
    """`python -m port_torch.parzen` (both --parzen forms) = gan2014.parzen.evaluate on the samples
    that G makes from a torch.Generator seeded --seed, with the checkpoint's parameters (1e-9)."""
    import torch
    from port_torch import parzen as torch_parzen
    from parity_tests.trajectory import build

    path, values = checkpoint
    model = build("port_torch").model
    model.set_param_values(values)
    samples = model.generator.sample(CLI_SAMPLES, torch.Generator().manual_seed(CLI_SEED)).numpy()
    expected = protocol_on(samples)
    for form in ("numpy", "torch"):
        record = run_command(torch_parzen, path, tmp_path, "--device", "cpu", "--parzen", form)
        assert_same_result(record, expected)
        assert record["seed"] == CLI_SEED and record["epoch"] == 1


def test_aesara_command_reproduces_the_reference_protocol(checkpoint, tmp_path):
    """`python -m legacy_aesara.parzen` = gan2014.parzen.evaluate on the samples of G's MRG stream
    reseeded to --seed, with the checkpoint's parameters (1e-9)."""
    from legacy_aesara import parzen as aesara_parzen
    from parity_tests.trajectory import build

    path, values = checkpoint
    model = build("legacy_aesara").model
    model.set_param_values(values)
    aesara_parzen.prepare_noise_stream(model.generator, {}, CLI_SEED)
    expected = protocol_on(aesara_parzen.draw_samples(model, CLI_SAMPLES))
    record = run_command(aesara_parzen, path, tmp_path)
    assert_same_result(record, expected)
    assert record["noise_source"] == f"MRG seed {CLI_SEED}"


# --- the child process ---------------------------------------------------------------------------

def _child(in_path, out_path):
    """Compute the Aesara graph's values in this process's floatX and save them (float64)."""
    from legacy_aesara.parzen import get_nll, theano_parzen

    with np.load(in_path) as archive:
        x, mu, sigmas = archive["x"], archive["mu"], archive["sigmas"]
    values = [get_nll(x, theano_parzen(mu, float(s)), batch_size=AESARA_BATCH) for s in sigmas]
    np.save(out_path, np.stack(values).astype(np.float64))
    import aesara
    print(json.dumps({"floatX": aesara.config.floatX, "written": out_path}))


if __name__ == "__main__":
    _child(*sys.argv[1:3])
