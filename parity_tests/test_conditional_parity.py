"""Aesara and PyTorch compute the same conditional model (yaml_experiments/mnist_conditional.yaml).

Both backends are built from the YAML, given the same perturbed parameters, labelled batches, noise
and dropout masks -- for D's two halves and for G's hidden layers -- by
parity_tests/conditional_worker.py, and must agree on:

* one step with dropout in G and D: d_obj, g_obj, the samples S, D's outputs and all 16 gradients;
* a trajectory of N_STEPS SGD updates (fed noise, no dropout) with momentum and the per-minibatch
  learning-rate decay, through each backend's own SGD (the path the YAML trains with: in both,
  the hand-written backward of training_algorithms/fused_step.py);
* and, within Aesara, the fused step's gradients of that one step equal those of aesara.grad on
  the cost's graph.

Tolerance: 1e-9 relative to each array's largest value, in float64 on both sides (Aesara in a
child process, since it fixes floatX at import). The two compute the same formulas; what remains
is the order of floating-point sums inside BLAS and reductions (~1e-16 relative per operation),
far below 1e-9 after a few steps, while a wiring difference (a label fed to another layer, the
fake half with other labels, a mask applied elsewhere) changes these numbers at 1e-3 or more.
Float64 rather than float32 keeps the bound tight and independent of BLAS rounding growth.
"""
import numpy as np
import pytest

from parity_tests.children import AesaraChild
from parity_tests.conftest import mnist_or_skip
from parity_tests.helpers import relative_error

N_STEPS = 5
BOUND = 1e-9


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    mnist_or_skip()
    from parity_tests import conditional_worker as worker
    arrays = worker.make_inputs(worker.build("port_torch"), N_STEPS)
    folder = tmp_path_factory.mktemp("conditional_parity")
    in_path, out_path = folder / "inputs.npz", folder / "aesara64.npz"
    np.savez(in_path, **arrays)
    with AesaraChild("conditional_worker", ["legacy_aesara", in_path, out_path, N_STEPS],
                     out_path) as child:
        torch64 = worker.compute("port_torch", arrays, N_STEPS)
        return child.arrays(), torch64, arrays


def test_one_step_with_dropout_in_g_and_d(results, parity_record):
    """Same inputs and masks -> same d_obj, g_obj, S, D outputs and 16 gradients (1e-9 rel.)."""
    a, t, _ = results
    keys = ["d_obj", "g_obj", "S", "D_data", "D_samp"] + sorted(k for k in t if
                                                                 k.startswith("grad/"))
    assert len([k for k in keys if k.startswith("grad/")]) == 16
    assert set(keys) <= set(a)
    for key in keys:
        parity_record(f"conditional {key} (1 step, float64)", "aesara/torch",
                      relative_error(a[key], t[key]), BOUND)


def test_float64_trajectory(results, parity_record):
    """After N_STEPS SGD updates the parameter changes agree within 1e-9 relative (changes, not
    values, so that the small moves of G's parameters are compared sharply)."""
    a, t, inputs = results
    names = [k[len("final/"):] for k in t if k.startswith("final/")]
    assert len(names) == 16
    worst = 0.0
    for name in names:
        start = inputs[f"param/{name}"].astype(np.float64)
        moved = t[f"final/{name}"] - start
        assert np.abs(moved).max() > 0, f"{name} did not move"
        worst = max(worst, relative_error(a[f"final/{name}"] - start, moved))
    parity_record(f"conditional param changes after {N_STEPS} updates (float64)",
                  "aesara/torch", worst, BOUND)


def test_aesara_fused_gradients_equal_its_grad_path(results, parity_record):
    """Within Aesara, the hand-written backward (training_algorithms/fused_step.py: CompositeLayer
    parts, G's dropout masks, [G(z, c) | c] as D's fake rows, maxout ties routed to every tied
    piece) gives the 16 gradients aesara.grad gives on the cost's graph, for the one step with
    dropout in G and D and the label-branch ties of UNPERTURBED. Bound 1e-9 relative, float64:
    the same formulas summed in another order (measured about 1e-15; D's output bias, a
    difference of nearly equal sums, about 3e-13). Checked: G's masks left out of the fused
    step, or D's label part reading columns shifted by one, put gradients 0.8 and 2.3 off."""
    a, _, _ = results
    names = sorted(k[len("grad/"):] for k in a if k.startswith("grad/"))
    assert len(names) == 16 and all(f"fused_grad/{n}" in a for n in names)
    for name in names:
        parity_record(f"conditional {name} gradient (1 step, float64)", "aesara fused/grad",
                      relative_error(a[f"fused_grad/{name}"], a[f"grad/{name}"]), BOUND)
