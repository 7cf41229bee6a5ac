"""Aesara and PyTorch compute the same experiment: the deterministic parity of the two backends.

Both are built from the unmodified mnist.yaml, given the same (perturbed, so not trivially
symmetric) parameters, the same minibatches, noise and dropout masks (parity_tests/trajectory.py),
and must agree:

* one step: d_obj, g_obj, the samples S, D's outputs and all 12 gradients;
* trajectories: the parameters after 1 and after 100 SGD steps with Pylearn2 momentum, the
  per-minibatch learning-rate decay, and a momentum change at an epoch boundary (after step 50).

Tolerances, and why:
* float64 (both backends in float64, Aesara in a child process since it fixes floatX at import):
  1e-9 relative to each array's largest value. Both compute the same formulas; what remains is the
  order of floating-point sums inside BLAS and reductions, ~1e-16 per operation, grown by 100 steps
  of training dynamics to well under 1e-9. A wrong formula shows up at 1e-2 or more.
* float32, one step: 1e-5 relative (per array, to its largest value): float32 rounding (6e-8) summed
  over products of length up to 1200 differs between the two BLAS orders by ~1e-6 relative. The
  exception is D/y_b's gradient, 0.5*(mean(D(x) - 1) + mean(D(G(z)))): two terms of size ~0.25 that
  nearly cancel, so its float32 rounding error is absolute (~1e-8, whichever implementation computes
  it; see parity_tests/fixtures/README.md); it is compared with an absolute 1e-7.
* float32, 100 steps: 5e-4 relative, ten times the 5.0e-5 measured (see TRAJECTORY_F32_BOUND and the
  test's docstring for why float32 differences grow while float64 ones do not).
"""
import numpy as np
import pytest

from parity_tests.children import AesaraChild
from parity_tests.conftest import mnist_or_skip
from parity_tests.trajectory import compute, make_inputs, build
from parity_tests.helpers import relative_error

N_STEPS = 100
MOMENTUM_CHANGE_AT = 50
PARAMS = ("G/h0_W", "G/h0_b", "G/h1_W", "G/h1_b", "G/y_W", "G/y_b",
          "D/h0_W", "D/h0_b", "D/h1_W", "D/h1_b", "D/y_W", "D/y_b")
STEP_ARRAYS = ("S", "D_data", "D_samp") + tuple(f"grad/{p}" for p in PARAMS)
STEP1_F32_BOUND = 1e-5
TRAJECTORY_F32_BOUND = 5e-4   # measured 5.0e-5 (2026-11-23); 10x for BLAS/threading variation
F64_BOUND = 1e-9


def displacement_error(result_a, result_b, inputs, stage):
    """Largest relative difference of the parameter *changes* (final - initial), over all 12 arrays.

    Comparing changes rather than values keeps the test sharp for the generator, whose parameters
    move by only ~1e-5 of their size in 100 steps."""
    worst = 0.0
    for p in PARAMS:
        start = inputs[f"param/{p}"].astype(np.float64)
        worst = max(worst, relative_error(result_a[f"{stage}/{p}"] - start,
                                          result_b[f"{stage}/{p}"] - start))
    return worst


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    mnist_or_skip()
    arrays = make_inputs(build("port_torch"), N_STEPS)
    path = tmp_path_factory.mktemp("parity") / "inputs.npz"
    np.savez(path, **arrays)
    return arrays, path


@pytest.fixture(scope="module")
def aesara64_child(inputs, tmp_path_factory):
    """The float64 Aesara trajectory, started before the float32 work of this module so that its
    compilation (in a child process: floatX is fixed at import) overlaps it on the second CPU."""
    _, in_path = inputs
    out_path = tmp_path_factory.mktemp("parity64") / "aesara64.npz"
    with AesaraChild("trajectory", ["legacy_aesara", in_path, out_path, N_STEPS,
                                    MOMENTUM_CHANGE_AT, "float64"], out_path) as child:
        yield child


@pytest.fixture(scope="module")
def float32(inputs, aesara64_child):
    arrays, _ = inputs
    return {backend: compute(backend, arrays, N_STEPS, MOMENTUM_CHANGE_AT)
            for backend in ("legacy_aesara", "port_torch")}


@pytest.fixture(scope="module")
def float64(inputs, aesara64_child):
    arrays, _ = inputs
    torch64 = compute("port_torch", arrays, N_STEPS, MOMENTUM_CHANGE_AT, "float64")
    return {"legacy_aesara": aesara64_child.arrays(), "port_torch": torch64}


def test_float32_one_step_objectives_samples_and_gradients(float32, parity_record):
    """Same inputs -> same d_obj, g_obj, S, D outputs and 12 gradients, within 1e-5 relative."""
    a, t = float32["legacy_aesara"], float32["port_torch"]
    for key in ("d_obj", "g_obj"):
        parity_record(f"{key} (1 step, float32)", "aesara/torch", relative_error(a[key], t[key]),
                      1e-5)
    for key in STEP_ARRAYS:
        if key == "grad/D/y_b":
            error = float(np.abs(np.asarray(a[key], np.float64)
                                 - np.asarray(t[key], np.float64)).max())
            parity_record(f"{key} (1 step, float32, absolute)", "aesara/torch", error, 1e-7)
        else:
            parity_record(f"{key} (1 step, float32)", "aesara/torch",
                          relative_error(a[key], t[key]),
                          1e-5)


def test_float32_parameters_after_one_update(float32, parity_record):
    """One SGD + momentum update from equal parameters lands on equal parameters (1e-5 relative to
    each array's largest value). In float32 the values, not the changes, are compared: a change
    smaller than the parameter's float32 resolution is rounded away differently on each side."""
    a, t = float32["legacy_aesara"], float32["port_torch"]
    worst = max(relative_error(a[f"step1/{p}"], t[f"step1/{p}"]) for p in PARAMS)
    parity_record("params after 1 update (float32)", "aesara/torch", worst, STEP1_F32_BOUND)


def test_float32_trajectory_of_100_updates(float32, parity_record):
    """After 100 updates (lr decay every step, momentum change after step 50) the parameters agree
    within TRAJECTORY_F32_BOUND relative.

    Why not 1e-5: a GAN's two-player dynamics amplify differences. Each step adds float32 rounding
    differences of ~1e-7 relative (different summation orders in the two BLAS libraries), and the
    discriminator's maxout makes them grow: where two pieces are nearly tied, a rounding difference
    flips which piece wins and the gradient for that unit jumps. The bound was measured (see the
    closing note of the parity issue) at 5.0e-5 and given a factor 10 for BLAS threading and library
    variation; float64 shows the math itself agrees, to 4e-12 on the changes after 100 steps.
    """
    a, t = float32["legacy_aesara"], float32["port_torch"]
    worst = max(relative_error(a[f"final/{p}"], t[f"final/{p}"]) for p in PARAMS)
    parity_record(f"params after {N_STEPS} updates (float32)", "aesara/torch", worst,
                  TRAJECTORY_F32_BOUND)


def test_float64_step_and_trajectory(float64, inputs, parity_record):
    """In float64 the two backends agree to 1e-9 relative, for the step and after 100 updates."""
    a, t = float64["legacy_aesara"], float64["port_torch"]
    assert a["S"].dtype == np.float64 and t["S"].dtype == np.float64
    for key in ("d_obj", "g_obj") + STEP_ARRAYS:
        parity_record(f"{key} (1 step, float64)", "aesara/torch", relative_error(a[key], t[key]),
                      F64_BOUND)
    parity_record(f"param changes after {N_STEPS} updates (float64)", "aesara/torch",
                  displacement_error(a, t, inputs[0], "final"), F64_BOUND)
