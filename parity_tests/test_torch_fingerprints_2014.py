"""The torch port against the ORIGINAL 2014 code's own numbers (goodfeli/adversarial mnist.yaml).

The reference is parity_tests/fixtures/original_2014_mnist_fingerprints.json, produced by the 2014
stack (Theano 0.7 + Pylearn2, float32); its format and the tolerances below are explained in
parity_tests/fixtures/README.md (fingerprints: shape, float64 sum / sum of squares / absmax, 64
probed values).

Every test builds the model from the UNMODIFIED yaml_experiments/original/mnist.yaml through the
shared YAML loader and this backend's registry, so what is tested is what `python -m port_torch.run`
trains. Tolerance: |a - b| <= 1e-5 * absmax(reference) per array (an independent float32 or float64
recomputation lands within 1.2e-6 of it; a real bug - wrong maxout grouping, dropout scale, loss
sign - is an error of order 1); D/y_b's gradient, a near-cancelling difference of two ~0.25 terms,
is compared with an absolute 1e-7 instead. The update on its own scale, the momentum rule over steps
with non-zero velocity, the draws and the batch order are tested in
test_torch_updates_and_draws_2014.py.
"""
import math

import numpy as np
import pytest
import torch

from gan2014.fingerprints import compare, load_reference, unpack_mask
from parity_tests.helpers import REFERENCE_2014, needs_real_mnist
from parity_tests.helpers import build_experiment as build_for

REL_TOL = 1e-5
D_Y_B_ABS_TOL = 1e-7

pytestmark = needs_real_mnist


@pytest.fixture(scope="module")
def reference():
    return load_reference(REFERENCE_2014)


def build_experiment():
    """The Train object of the unmodified mnist.yaml, built by the torch registry."""
    return build_for("torch")


@pytest.fixture(scope="module")
def experiment():
    return build_experiment()


@pytest.fixture(scope="module")
def step0_inputs(experiment, reference):
    case = reference["step0_nodropout"]
    X = experiment.dataset.X[np.asarray(case["batch_indices"])]
    z = np.random.RandomState(1234).uniform(-math.sqrt(3), math.sqrt(3),
                                            (100, 100)).astype(np.float32)
    return X, z


def fixed_masks(reference):
    stored = reference["step0_dropout_fixed_masks"]["masks"]
    return {half: [unpack_mask(stored[f"mask_{half}_{layer}"]) for layer in ("h0", "h1", "y")]
            for half in ("data", "samp")}


def assert_close(name, array, record):
    """The 64 probes within the tolerance, and the whole array through its float64 sum of squares
    (within 1e-5 relative) and sum (within 1e-5 * absmax * sqrt(size)), so that an error confined
    to a few units between the probes is seen too. Measured on every step-0 array (S and the 12
    gradients, with and without the 2014 masks; D/y_b excepted, compared absolutely): sum of squares
    <= 1.1e-7 relative, sum <= 5.1e-7 * absmax * sqrt(size); doubling one unit's weights moves
    the sum of squares by ~1e-3 relative."""
    diff = compare(array, record)
    tol = D_Y_B_ABS_TOL if name == "D/y_b" else REL_TOL * diff["absmax_ref"]
    assert diff["max_abs"] <= tol, f"{name}: max |a-b| = {diff['max_abs']:.3g} > {tol:.3g}"
    assert abs(float(np.abs(array).max()) - diff["absmax_ref"]) <= max(tol, 1e-12)
    if name != "D/y_b":
        assert diff["sumsq_diff"] <= REL_TOL * record["sumsq"], f"{name}: sum of squares {diff}"
        assert diff["sum_diff"] <= REL_TOL * diff["absmax_ref"] * math.sqrt(np.size(array)), \
            f"{name}: sum {diff}"


def test_initial_parameters_are_the_2014_draws(experiment, reference):
    """All 12 initial arrays equal the 2014 ones exactly (0 difference at every probe; float64
    sum / sum of squares equal up to summation-order rounding, 1e-12 relative): each MLP's
    RandomState([2013, 1, 4]) drawn in layer order, and G/y_b the clipped logit of the pixel
    means."""
    values = experiment.model.get_param_values()
    assert list(values) == reference["param_order"]
    for name, array in values.items():
        record = reference["init_params"][name]
        assert array.dtype == np.float32 and list(array.shape) == record["shape"]
        diff = compare(array, record)
        assert diff["max_abs"] == 0.0, name
        assert diff["sum_diff"] <= 1e-12 * max(1.0, abs(record["sum"])) + 1e-7, name
        assert diff["sumsq_diff"] <= 1e-12 * max(1.0, record["sumsq"]), name


def test_step0_without_dropout(experiment, reference, step0_inputs):
    """Step 0, dropout off: z is regenerated bit-exactly (RandomState(1234), checked against its
    fingerprint); d_obj and g_obj within 1e-6 absolute (float32 of ~0.69); S, D outputs and all 12
    gradients (dd_obj/dtheta_D, dg_obj/dtheta_G) within 1e-5 * absmax, D/y_b within 1e-7."""
    from port_torch.adversarial import evaluate_step

    case = reference["step0_nodropout"]
    X, z = step0_inputs
    assert compare(z, case["z"])["max_abs"] == 0.0
    out = evaluate_step(experiment.model, experiment.algorithm.cost, X, z)
    assert abs(out["d_obj"] - case["d_obj"]) <= 1e-6
    assert abs(out["g_obj"] - case["g_obj"]) <= 1e-6
    for key in ("S", "D_data", "D_samp"):
        assert_close(key, out[key], case[key])
    for name, grad in out["grads"].items():
        assert_close(name, grad, case["grad"][name])


def test_step1_momentum_update(reference, step0_inputs):
    """One SGD + Momentum update (lr .1, momentum .5, zero velocity) on the step-0 batch and z, no
    dropout, reproduces the 2014 parameters after step 1 within 1e-5 * absmax per array (and the
    sums). This bound is coarser than G's whole first update (<= 1.2e-7 per entry), and the
    velocity is zero at step 1: the update itself, the momentum rule and the simultaneous step are
    tested in test_torch_updates_and_draws_2014.py."""
    experiment = build_experiment()
    algorithm = experiment.algorithm
    algorithm.setup(experiment.model, experiment.dataset)
    case = reference["step1_nodropout_params"]
    assert algorithm.learning_rate == pytest.approx(case["lr"], rel=1e-7)
    assert algorithm.learning_rule.momentum == case["momentum"]
    X, z = step0_inputs
    algorithm.train_batch(X, z=z, masks=None)
    for name, array in experiment.model.get_param_values().items():
        assert_close(name, array, case["params"][name])


def test_fused_gradients_with_the_2014_dropout_masks(experiment, reference, step0_inputs):
    """The hand-written backward of the fast step, fed the 2014 masks: d_obj, g_obj within 1e-6 and
    all 12 gradients within 1e-5 * absmax (D/y_b 1e-7), like the autograd form above."""
    from port_torch.training_algorithms import fused_step

    case = reference["step0_dropout_fixed_masks"]
    model, cost = experiment.model, experiment.algorithm.cost
    X, z = (torch.from_numpy(a) for a in step0_inputs)
    masks = [m for m in cost.stack_masks(fixed_masks(reference))]
    params = [p.detach() for _, p in model.named_params()]
    spec = fused_step.FusedSpec(model, cost)
    grads, d_obj, g_obj = fused_step.gradients(spec, params, X, z, masks, torch.tensor(1.0))
    assert abs(float(d_obj) - case["d_obj"]) <= 1e-6
    assert abs(float(g_obj) - case["g_obj"]) <= 1e-6
    for name, grad in zip(model.param_names(), grads):
        grad = grad.materialize() if isinstance(grad, fused_step.Outer) else grad
        assert_close(name, grad.numpy(), case["grad"][name])


def test_step0_with_the_2014_dropout_masks(experiment, reference, step0_inputs):
    """Step 0 with mnist.yaml's dropout (input kept with .8 and scaled 1.25, hidden inputs .5 and
    x2) using the masks the 2014 run drew: d_obj, g_obj within 1e-6 and all 12 gradients within
    1e-5 * absmax (D/y_b 1e-7). This pins where each mask goes, the per-layer scales, the
    independence of the real and fake halves, and that g_obj reuses the fake half's masks."""
    from port_torch.adversarial import evaluate_step

    case = reference["step0_dropout_fixed_masks"]
    X, z = step0_inputs
    assert compare(z, case["z"])["max_abs"] == 0.0
    out = evaluate_step(experiment.model, experiment.algorithm.cost, X, z, fixed_masks(reference))
    assert abs(out["d_obj"] - case["d_obj"]) <= 1e-6
    assert abs(out["g_obj"] - case["g_obj"]) <= 1e-6
    assert_close("S", out["S"], case["S"])
    for name, grad in out["grads"].items():
        assert_close(name, grad, case["grad"][name])


def test_fused_step_reproduces_the_2014_update(reference, step0_inputs):
    """The fast step (hand-written backward, the one CPU training and the CUDA graph run) gives the
    2014 step-1 parameters to the same 1e-5 * absmax, from the same batch and z."""
    experiment = build_experiment()
    algorithm = experiment.algorithm
    algorithm.path = "fused"
    algorithm.setup(experiment.model, experiment.dataset)
    X, z = step0_inputs
    algorithm.train_batch(X, z=z, masks=None)
    for name, array in experiment.model.get_param_values().items():
        assert_close(name, array, reference["step1_nodropout_params"]["params"][name])
