"""The Aesara SGD's step paths train identically (legacy_aesara/training_algorithms/sgd.py).

`reference` (training_algorithms/reference_step.py) is the whole step written out in one function;
`grad` differentiates the 2014 graph with aesara.grad through the cost's and learning rule's
methods; `fused` (training_algorithms/fused_step.py) writes the same gradients out by hand with D
run once on [X; S]. All are trained here on the tiny MNIST config for two epochs with noise and
dropout masks DRAWN from the MRG streams, exactly as in real training, so these tests also prove
that every path draws the same random numbers. The conditional model (CompositeLayers, dropout in
G, labels in both networks) is trained the same way, float32, by the grad and fused paths.
(Against the 2014 numbers, the fused gradients and the fused SGD step are tested in
test_aesara_fingerprints_2014.py.)
"""

import numpy as np
import pytest

from parity_tests.aesara_paths_worker import CONDITIONAL_PATHS, CONDITIONAL_TINY_YAML, PATHS, run
from parity_tests.children import AesaraChild
from parity_tests.helpers import mnist_data_path, write_tiny_mnist

EPOCHS = 2                       # 12 minibatches of 100 (the lr decays after each one)
CONDITIONAL_EPOCHS = 1           # 6 minibatches of 100
CHILD_TIMEOUT = 420              # seconds for the float64 child process
# D/y_b and its velocity are sums of +-0.5 sigmoid(l) / B over the 200 rows of a step: a difference
# of two ~0.25 terms whose value is ~1e-7, so its rounding error is compared absolutely (to the
# terms' size, ~0.25) rather than to its own tiny value. Every other array is compared relatively.
NEAR_CANCELLING = ("D/y_b", "velocity/D/y_b")
BOUNDS = {
    # float32: one float32 step's rounding is ~6e-8 relative; 12 steps of momentum and the
    # different summation order (one 200-row product instead of two 100-row ones) stay far below
    # 1e-5 (measured: 8.0e-7). A wrong mask, row weight or maxout routing is an order-1 error.
    "float32": {"relative": 1e-5, "absolute": 1e-7},
    # float64: measured 2.0e-15 relative (D/y_b 2.3e-17 absolute).
    "float64": {"relative": 1e-12, "absolute": 1e-14},
}


def compare_paths(results, first="grad", second="fused"):
    """(worst relative error, worst absolute error of the near-cancelling arrays, names of the
    arrays whose values must be IDENTICAL and are not) between two paths' results."""
    names = sorted({key.split("/", 1)[1] for key in results if key.startswith(first + "/")})
    relative, absolute, not_identical = 0.0, 0.0, []
    for name in names:
        a = results[f"{first}/{name}"]
        b = results[f"{second}/{name}"]
        if name.startswith("rng/"):
            # MRG stream states and the batch-order RandomState: integers, equal or wrong.
            if not np.array_equal(a, b):
                not_identical.append(name)
            continue
        a, b = a.astype(np.float64), b.astype(np.float64)
        error = float(np.abs(a - b).max())
        if name in NEAR_CANCELLING:
            absolute = max(absolute, error)
        else:
            relative = max(relative, error / (float(np.abs(a).max()) or 1.0))
    return relative, absolute, not_identical


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    root = tmp_path_factory.mktemp("paths_data")
    write_tiny_mnist(root)
    return root


@pytest.fixture(scope="module")
def float64_child(tiny_mnist, tmp_path_factory):
    """The float64 run, started first in a child process so that its Aesara compilation overlaps
    the float32 run's in this process (2 CPUs)."""
    out = tmp_path_factory.mktemp("paths_out") / "float64.npz"
    with AesaraChild("aesara_paths_worker", [tiny_mnist, out, EPOCHS], out) as child:
        yield child


@pytest.fixture(scope="module")
def float32_results(tiny_mnist, float64_child):
    with mnist_data_path(tiny_mnist):
        return run(tiny_mnist, EPOCHS)


@pytest.fixture(scope="module")
def float64_results(float64_child, float32_results):
    return float64_child.arrays(timeout=CHILD_TIMEOUT)


@pytest.fixture(scope="module")
def conditional_results(tiny_mnist, float64_results):
    """The tiny conditional model trained by the grad and the fused path (float32, this process;
    after the float64 child is done, so that the two do not share the CPUs)."""
    with mnist_data_path(tiny_mnist):
        return run(tiny_mnist, CONDITIONAL_EPOCHS, CONDITIONAL_TINY_YAML, CONDITIONAL_PATHS)


def test_both_paths_ran_and_trained(float32_results):
    """Property: the comparison is not vacuous: each of the three paths (grad, fused, reference)
    produced the same array names, among them 12 velocities, the parameter of each, and the D
    dropout and G noise MRG states, and training moved the parameters (non-zero velocities).
    Exact: the keys present and the count of 12 velocity arrays per path; 'moved' is any non-zero
    entry, as how closely the paths agree is bounded by the comparison tests."""
    assert PATHS == ("grad", "fused", "reference")
    names = {}
    for path in PATHS:
        keys = [key for key in float32_results if key.startswith(path + "/")]
        names[path] = sorted(key.split("/", 1)[1] for key in keys)
        assert any(key.startswith(f"{path}/rng/D/dropout") for key in keys), path
        assert any(key.startswith(f"{path}/rng/G/noise") for key in keys), path
        velocities = [float32_results[key] for key in keys if "/velocity/" in key]
        assert len(velocities) == 12 and all(np.abs(v).max() > 0 for v in velocities), path
        for key in keys:
            if "/velocity/" in key:
                assert key.replace("/velocity/", "/", 1) in float32_results, key
    assert names["grad"] == names["fused"] == names["reference"]


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_fused_and_grad_paths_draw_the_same_random_numbers(floatx, float32_results,
                                                           float64_results, parity_record):
    """Property: after two epochs with drawn noise and masks, every MRG stream state (noise, each
    dropout pass's streams) and the batch-order RandomState are IDENTICAL between the paths.
    Tolerance: exact. Why: the fused graph must take its seeds from the MLPs' RandomStates in the
    2014 order and draw blocks of the same shapes from each stream; any difference there changes
    the stream states, and then every later mask."""
    results = float32_results if floatx == "float32" else float64_results
    _relative, _absolute, not_identical = compare_paths(results)
    assert not not_identical, f"{floatx}: RNG states differ between paths: {not_identical}"
    parity_record(f"Aesara grad vs fused path: MRG and batch-order states after 12 steps "
                  f"({floatx})", "aesara grad / aesara fused", 0.0, 0.0)


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_fused_and_grad_paths_train_to_the_same_parameters(floatx, float32_results,
                                                            float64_results, parity_record):
    """Property: the parameters and momentum velocities after two epochs (12 steps, drawn noise
    and masks, per-step learning-rate decay) agree between the two gradient paths.
    Tolerance: see BOUNDS (float32 1e-5 relative, float64 1e-12; the near-cancelling D/y_b
    absolutely). Why: the paths compute the same formulas in a different order, so only rounding
    separates them."""
    results = float32_results if floatx == "float32" else float64_results
    relative, absolute, _not_identical = compare_paths(results)
    bounds = BOUNDS[floatx]
    parity_record(f"Aesara grad vs fused path: params and velocities after 12 steps ({floatx})",
                  "aesara grad / aesara fused", relative, bounds["relative"])
    assert relative <= bounds["relative"], f"{floatx}: relative error {relative:.3e}"
    assert absolute <= bounds["absolute"], f"{floatx}: D/y_b absolute error {absolute:.3e}"


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_reference_step_and_grad_path_are_identical(floatx, float32_results, float64_results,
                                                    parity_record):
    """Property: after two epochs (12 steps, drawn noise and masks) every parameter, velocity, MRG
    stream state and the batch-order RandomState of the step written out in reference_step.py
    is IDENTICAL to the grad path's. Tolerance: exact. Why: the reference builds the same
    expressions with the same calls in the same order (hence the same seeds), so Aesara compiles
    the same arithmetic; any difference is a difference in the maths or in the draws."""
    results = float32_results if floatx == "float32" else float64_results
    names = sorted(key.split("/", 1)[1] for key in results if key.startswith("grad/"))
    assert names == sorted(key.split("/", 1)[1] for key in results
                           if key.startswith("reference/"))
    different = [name for name in names
                 if not np.array_equal(results[f"grad/{name}"], results[f"reference/{name}"])]
    assert not different, f"{floatx}: reference and grad differ in {different}"
    parity_record(f"Aesara reference step vs grad path: everything after 12 steps ({floatx})",
                  "aesara reference / aesara grad", 0.0, 0.0)


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_fused_path_trains_to_the_reference_step(floatx, float32_results, float64_results,
                                                 parity_record):
    """Property: after two epochs the fused path's parameters and velocities agree with the
    reference step's, and its RNG states are identical. Tolerance: BOUNDS, as fused vs grad
    (float32 1e-5 relative, float64 1e-12; D/y_b absolutely). Why: the same formulas in a
    different order, so only rounding separates them."""
    results = float32_results if floatx == "float32" else float64_results
    relative, absolute, not_identical = compare_paths(results, "reference", "fused")
    bounds = BOUNDS[floatx]
    parity_record(f"Aesara reference step vs fused path: params and velocities after 12 steps "
                  f"({floatx})", "aesara reference / aesara fused", relative, bounds["relative"])
    assert not not_identical, f"{floatx}: RNG states differ: {not_identical}"
    assert relative <= bounds["relative"], f"{floatx}: relative error {relative:.3e}"
    assert absolute <= bounds["absolute"], f"{floatx}: D/y_b absolute error {absolute:.3e}"


def test_fused_path_trains_the_conditional_model_as_the_grad_path(conditional_results,
                                                                  parity_record):
    """Property: the conditional model, trained one epoch (6 steps) with drawn noise and masks --
    z, then G's masks from one fresh stream of G's RandomState, then D's two halves' -- ends with
    IDENTICAL MRG stream states on both paths (G's dropout stream among them) and parameters and
    velocities within float32 BOUNDS (1e-5 relative; D/y_b absolutely). Why: the fused step takes
    its seeds in the cost's order and draws the same blocks, and computes the same gradients
    through the CompositeLayer parts and G's masks in another order. Path 'fused' refuses a model
    it cannot run, so the comparison is not of grad with itself."""
    results = conditional_results
    keys = [key for key in results if key.startswith("fused/")]
    assert any(key.startswith("fused/rng/G/dropout") for key in keys)
    velocities = [results[key] for key in keys if "/velocity/" in key]
    assert len(velocities) == 16 and all(np.abs(v).max() > 0 for v in velocities)
    relative, absolute, not_identical = compare_paths(results)
    bounds = BOUNDS["float32"]
    parity_record("Aesara grad vs fused path, conditional model: params and velocities after 6 "
                  "steps (float32)", "aesara grad / aesara fused", relative, bounds["relative"])
    assert not not_identical, f"RNG states differ between paths: {not_identical}"
    assert absolute <= bounds["absolute"], f"D/y_b absolute error {absolute:.3e}"
