"""The Aesara backend reproduces the numbers of the original 2014 code
(goodfeli/adversarial mnist.yaml).

The reference (parity_tests/fixtures/original_2014_mnist_fingerprints.json, how it was measured, its
format and precision in parity_tests/fixtures/README.md) holds fingerprints of arrays the ORIGINAL
code produced on Theano 0.7 + Pylearn2: the initial parameters, one step's objectives, outputs and
gradients with and without dropout, and the parameters after one SGD + Momentum update.

The model is built from the UNMODIFIED yaml_experiments/original/mnist.yaml through the YAML loader
and this backend's registry, so the test also covers the loader wiring, the weight draws and the
data-dependent bias. Everything is compiled once per module (module-scoped fixtures).
"""
import math
from pathlib import Path

import numpy as np
import pytest

import legacy_aesara  # noqa: F401  (Aesara flags first)
from gan2014.fingerprints import compare, fingerprint, load_reference, unpack_mask

REPO = Path(__file__).resolve().parents[1]
MNIST_YAML = REPO / "yaml_experiments" / "original" / "mnist.yaml"
REFERENCE = REPO / "parity_tests" / "fixtures" / "original_2014_mnist_fingerprints.json"

# |a - b| <= REL_TOL * absmax(reference) per array (fixtures/README.md: an independent float32
# re-computation agrees to <= 1.2e-6 of absmax; a real bug shows as errors of order 1).
REL_TOL = 1e-5
# D/y_b's gradient is a near-cancelling difference of two ~0.25 terms (value ~1.6e-6): its float32
# rounding error is ~1e-8 absolute in any implementation, so it is compared absolutely.
D_Y_B_ABS_TOL = 1e-7
# One momentum step p1 = p0 - 0.1 * g in float32 (fixtures/README.md: <= 1e-7 absolute).
STEP1_ABS_TOL = 1e-7


def _mnist_available():
    from gan2014.datasets.data_path import data_path

    folder = Path(data_path()) / "mnist"
    return all((folder / name).exists() or (folder / (name + ".gz")).exists()
               for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"))


pytestmark = [
    pytest.mark.skipif(
        not _mnist_available(),
        reason="real MNIST is needed (the 2014 batch and G/y_b's marginals come from it): create "
               "data/mnist with `python -m gan2014.datasets.fetch mnist` or set "
               "PYLEARN2_DATA_PATH"),
    # Aesara's own import-time deprecation notice (distutils.find_executable), not ours.
    pytest.mark.filterwarnings("ignore:Use shutil.which instead of find_executable"),
]


@pytest.fixture(scope="module")
def reference():
    return load_reference(REFERENCE)


@pytest.fixture(scope="module")
def experiment():
    """The Train object of the unmodified mnist.yaml, with the model as the YAML built it."""
    from gan2014.config.yaml_parse import load_path
    from legacy_aesara.registry import load_registry

    return load_path(MNIST_YAML, load_registry())


@pytest.fixture(scope="module")
def initial_params(experiment):
    return experiment.model.get_param_values()


@pytest.fixture(scope="module")
def step0_inputs(experiment, reference):
    """The first 2014 minibatch and the regenerated noise z (checked against its fingerprint)."""
    case = reference["step0_nodropout"]
    X = experiment.dataset.get_design_matrix()[np.asarray(case["batch_indices"])]
    z = np.random.RandomState(1234).uniform(-math.sqrt(3), math.sqrt(3), (100, 100))
    z = z.astype(np.float32)
    return np.ascontiguousarray(X, dtype=np.float32), z


def _worst(array, record):
    return compare(array, record)["max_abs"]


def _assert_close(name, array, record, rel_tol=REL_TOL, abs_tol=None):
    result = compare(array, record)
    bound = abs_tol if abs_tol is not None else rel_tol * result["absmax_ref"]
    assert result["max_abs"] <= bound, (
        f"{name}: max |a - ref| = {result['max_abs']:.3e} > {bound:.3e} (absmax_ref "
        f"{result['absmax_ref']:.3e}, sum diff {result['sum_diff']:.3e})")


def _assert_grads(grads, records):
    for name, record in records.items():
        abs_tol = D_Y_B_ABS_TOL if name == "D/y_b" else None
        _assert_close(f"grad {name}", grads[name], record, abs_tol=abs_tol)


def _assert_identical(name, array, record):
    result = compare(array, record)
    assert array.dtype == np.float32, name
    assert result["max_abs"] == 0.0, f"{name}: probed values differ by {result['max_abs']}"
    assert result["absmax_diff"] == 0.0, name
    # float64 sums over identical float32 values can differ only by summation order (~1e-14).
    assert result["sum_diff"] <= 1e-12 * max(1.0, abs(record["sum"])), (name, result)
    assert result["sumsq_diff"] <= 1e-12 * max(1.0, record["sumsq"]), (name, result)


def test_initial_weights_and_zero_biases_equal_2014_exactly(initial_params, reference):
    """Property: the 11 initial arrays drawn by the MLPs (weights from RandomState([2013,1,4]) per
    MLP in layer order, zero biases) equal the 2014 ones.
    Tolerance: exactly 0 at every probed value and for absmax; sum and sum of squares to 1e-12
    relative. Why: the draws are deterministic numpy calls, so the values must be identical; the
    float64 sums over ~10^6 identical values may still differ by summation order (~1e-14)."""
    assert list(initial_params) == reference["param_order"]
    for name, record in reference["init_params"].items():
        if name != "G/y_b":
            _assert_identical(name, initial_params[name], record)


def test_generator_output_bias_equals_2014_exactly(initial_params, reference):
    """Property: G/y_b = logit(clip(mean of MNIST train[0:50000], 1e-7, 1 - 1e-7)), computed by the
    shared gan2014.models.dbm from the data the YAML loaded, equals the 2014 array.
    Tolerance: as above (exact values; sums to 1e-12 relative). Why: same data, same float32
    arithmetic; only the float32 log's last-bit rounding could differ between C libraries."""
    _assert_identical("G/y_b", initial_params["G/y_b"], reference["init_params"]["G/y_b"])


def test_regenerated_noise_matches_2014_fingerprint(step0_inputs, reference):
    """Property: z = RandomState(1234).uniform(-sqrt 3, sqrt 3, (100, 100)) as float32 is the noise
    the 2014 step used. Tolerance: exact (same numpy draws). Why: every step-0 test feeds this z."""
    _X, z = step0_inputs
    assert _worst(z, reference["step0_nodropout"]["z"]) == 0.0
    assert fingerprint(z)["sum"] == reference["step0_nodropout"]["z"]["sum"]


def test_step0_without_dropout_matches_2014(experiment, initial_params, step0_inputs, reference):
    """Property: with dropout off, d_obj, g_obj, S = G(z), D's outputs and all 12 gradients
    (dd_obj/dtheta_D, dg_obj/dtheta_G) equal the 2014 values at the initial parameters.
    Tolerance: |a - b| <= 1e-5 * absmax per array (objectives 1e-6 absolute); D/y_b's gradient by
    1e-7 absolute. Why: float32 summation order differs between BLAS builds (fixtures/README.md: an
    independent re-computation agrees to <= 1.2e-6 relative); bugs show as errors of order 1."""
    from legacy_aesara.adversarial import evaluate_step

    case = reference["step0_nodropout"]
    X, z = step0_inputs
    experiment.model.set_param_values(initial_params)
    result = evaluate_step(experiment.model, experiment.algorithm.cost, X, z, masks=None)
    assert abs(result["d_obj"] - case["d_obj"]) <= 1e-6
    assert abs(result["g_obj"] - case["g_obj"]) <= 1e-6
    _assert_close("S", result["S"], case["S"])
    _assert_close("D_data", result["D_data"], case["D_data"])
    _assert_close("D_samp", result["D_samp"], case["D_samp"])
    _assert_grads(result["grads"], case["grad"])


@pytest.mark.parametrize("with_masks", [False, True], ids=["no-dropout", "2014-masks"])
def test_fused_gradients_match_2014(experiment, initial_params, step0_inputs, reference,
                                    with_masks):
    """Property: the hand-written backward of training_algorithms/fused_step.py (D run once on
    [X; S], one backward pass through D for both objectives) gives the 2014 step-0 gradients, with
    dropout off and with the masks the original drew.
    Tolerance: as for the aesara.grad graph (1e-5 * absmax per array, D/y_b 1e-7 absolute). Why:
    the same float32 arithmetic in another order; a wrong row weight, mask or maxout routing shows
    as errors of order 1."""
    from legacy_aesara.training_algorithms.fused_step import evaluate_gradients

    key = "step0_dropout_fixed_masks" if with_masks else "step0_nodropout"
    case = reference[key]
    X, z = step0_inputs
    masks = None
    if with_masks:
        records = case["masks"]
        masks = {half: [unpack_mask(records[f"mask_{half}_{layer}"]) for layer in ("h0", "h1", "y")]
                 for half in ("data", "samp")}
    experiment.model.set_param_values(initial_params)
    grads = evaluate_gradients(experiment.model, experiment.algorithm.cost, X, z, masks=masks)
    _assert_grads(grads, case["grad"])


def test_step0_with_the_2014_dropout_masks_matches_2014(experiment, initial_params, step0_inputs,
                                                         reference):
    """Property: with the masks the original drew (D's input kept with p .8 scaled x1.25, the
    inputs of h1 and y with p .5 scaled x2; independent masks for the real and generated halves;
    the same masks for d_obj and g_obj), d_obj, g_obj and all 12 gradients equal the 2014 values.
    Tolerance and why: as for the step without dropout."""
    from legacy_aesara.adversarial import evaluate_step

    case = reference["step0_dropout_fixed_masks"]
    X, z = step0_inputs
    records = case["masks"]
    masks = {key: [unpack_mask(records[f"mask_{key}_{layer}"]) for layer in ("h0", "h1", "y")]
             for key in ("data", "samp")}
    experiment.model.set_param_values(initial_params)
    result = evaluate_step(experiment.model, experiment.algorithm.cost, X, z, masks=masks)
    assert abs(result["d_obj"] - case["d_obj"]) <= 1e-6
    assert abs(result["g_obj"] - case["g_obj"]) <= 1e-6
    _assert_close("S", result["S"], case["S"])
    _assert_grads(result["grads"], case["grad"])


@pytest.mark.parametrize("path", ["grad", "fused"])
def test_one_sgd_momentum_step_matches_2014(experiment, initial_params, step0_inputs, reference,
                                            path):
    """Property: one update of the SGD built from the YAML (Momentum .5, lr .1, velocities 0, no
    dropout, the step-0 batch and z) gives the 2014 step-1 parameters, p1 = p0 - 0.1 * grad, with
    the gradients of either path (sgd.py PATHS: aesara.grad on the 2014 graph, or fused_step.py).
    Tolerance: 1e-7 absolute per probed value (README). Why: |0.1 * grad| <= ~1e-2 and float32
    spacing there is < 1e-9; the rest is the gradient's own rounding scaled by 0.1. That bound is
    larger than G's whole first update (<= 1.2e-7), so the update is also checked on its own
    scale: the velocity equals -lr * g_2014 within 1e-5 * lr * absmax(g_2014) (the gradient
    tolerance times lr; D/y_b lr * 1e-7), and p1 = p0 + v1 exactly (a halved, doubled or
    wrong-signed G step is an error of 0.5-2 of the update). At step 1 the velocity was zero, so
    this cannot tell momentum rules apart; the torch test of steps 2-3 does
    (test_torch_updates_and_draws_2014.py)."""
    case = reference["step1_nodropout_params"]
    algorithm = experiment.algorithm
    if not hasattr(algorithm, "sgd_update"):
        # The monitor plays no part in an update; skipping it saves its compilation.
        algorithm.monitoring_dataset = None
        algorithm.setup(experiment.model, experiment.dataset)
    algorithm.path = path
    X, z = step0_inputs
    experiment.model.set_param_values(initial_params)
    for velocity in algorithm.learning_rule.velocities.values():
        velocity.set_value(np.zeros_like(velocity.get_value()))
    algorithm.learning_rate.set_value(np.float32(case["lr"]))
    algorithm.learning_rule.momentum.set_value(np.float32(case["momentum"]))
    algorithm.train_batch(X, z=z, masks=None)
    updated = experiment.model.get_param_values()
    for name, record in case["params"].items():
        _assert_close(f"step-1 {name}", updated[name], record, abs_tol=STEP1_ABS_TOL)
    # The update itself, on its own scale (G's whole step is <= ~1e-7, invisible above): the
    # velocity is -lr * g_2014 within 1e-5 of lr * absmax(g_2014) (D/y_b: lr * 1e-7, as for the
    # gradients), and p1 = p0 + v1 exactly in float32 (Pylearn2's p <- p + v).
    lr = float(np.float32(case["lr"]))
    state = algorithm.state_arrays()
    for name, record in reference["step0_nodropout"]["grad"].items():
        velocity = state[f"velocity/{name}"]
        bound = lr * (D_Y_B_ABS_TOL if name == "D/y_b" else REL_TOL * record["absmax"])
        got = velocity.reshape(-1)[np.asarray(record["idx"])].astype(np.float64)
        err = float(np.abs(got + lr * np.asarray(record["val"])).max())
        assert err <= bound, f"velocity {name}: off -lr*g_2014 by {err:.3e} > {bound:.3e}"
        np.testing.assert_array_equal(updated[name], (initial_params[name] + velocity)
                                      .astype(np.float32), err_msg=name)
