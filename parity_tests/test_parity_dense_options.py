"""The dense-layer options of the TFD and CIFAR-10 FC configs: both backends agree.

One small model (parity_tests/dense_options_worker.py) has what those configs use and MNIST does
not: a Linear output layer (cifar10_fully_connected.yaml's G `y`), sparse_init (tfd_pretrain's G
`y`; here also on a Maxout), a constant init_bias, max_col_norm on every layer (TFD's 1.9365) and
the learning-rate scalers W_lr_scale / b_lr_scale. Each backend builds it from the same YAML text
with its own registry, and:

* initial parameters: identical (tolerance 0). Both backends make the same numpy draws in the same
  order (gan2014.models.init), and the draw itself follows Pylearn2's Linear.set_input_space loop
  (checked against a transcription of that loop);
* `enforce_constraints()` (Train.setup's projection before epoch 0,
  docs/pylearn2_semantics.md#norm-constraints) on
  the same starting values: the columns over their limit end on it, the others are untouched up to
  the n/(n + 1e-7) factor, and the backends agree;
* N_STEPS SGD + momentum updates with the noise and the dropout masks fed, each followed by the
  projection (Linear/Maxout._modify_updates): the backends agree after every update, and the
  projection demonstrably acts (columns that moved end exactly on their limit).

Tolerances, and why:
* float32: 1e-5 relative to each array's largest value. Measured 3.1e-7 at worst after 3 updates:
  the two BLAS libraries sum the products in different orders (~1e-7 relative), and the projection
  adds about one rounding of its own (the n / (n + 1e-7) factor, ~6e-8). Skipping the projection
  after an update, or applying it to the wrong axis, changes the constrained columns by ~1e-2
  relative (measured: 1.0e-2 with the torch projection switched off after the first pass; each
  update here moves every weight matrix by 1.6 % of its largest value or more).
* float64 (Aesara in a GAN2014_FLOATX=float64 child process): 1e-10; measured 1.4e-15: the same
  formulas, summed in a different order. Five orders of margin, eight below a formula error.
The torch port's own two steps (the fused step CPU training uses, and the autograd step, which alone
takes learning-rate scalers) are compared in float32 with the same 1e-5.
"""
import numpy as np
import pytest

from parity_tests.children import AesaraChild
from parity_tests.dense_options_worker import N_STEPS, compute, make_inputs
from parity_tests.helpers import relative_error

F32_BOUND = 1e-5
F64_BOUND = 1e-10
STAGES = ("constrained",) + tuple(f"step{k}" for k in range(1, N_STEPS + 1))
# (parameter, its max_col_norm) of the layers whose limit binds in this model.
BINDING = (("G/y_W", 1.5), ("D/h0_W", 1.9365), ("D/h1_W", 1.0))
AESARA = "dense_options/default"
TORCH = "dense_options/autograd"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The shared inputs, and the float64 Aesara child already started on them: it compiles while
    this process computes the float32 side (the `float64` fixture collects it)."""
    arrays = make_inputs()
    folder = tmp_path_factory.mktemp("dense")
    np.savez(folder / "inputs.npz", **arrays)
    out_path = folder / "aesara64.npz"
    with AesaraChild("dense_options_worker", [folder / "inputs.npz", out_path],
                     out_path) as child:
        yield arrays, child


@pytest.fixture(scope="module")
def float32(inputs):
    import legacy_aesara  # noqa: F401  (Aesara's flags before Aesara)

    arrays = inputs[0]
    return {"legacy_aesara": compute("legacy_aesara", arrays),
            "port_torch": compute("port_torch", arrays)}


@pytest.fixture(scope="module")
def float64(inputs):
    arrays, child = inputs
    torch64 = compute("port_torch", arrays, "float64")
    return {"legacy_aesara": child.arrays(), "port_torch": torch64}


def param_names(values, prefix):
    return [key[len(prefix) + len("/init/"):] for key in values
            if key.startswith(prefix + "/init/")]


def column_norms(W):
    return np.sqrt(np.square(np.asarray(W, np.float64)).sum(axis=0))


def pylearn2_sparse_draw(rng, n_in, n_out, k):
    """Linear.set_input_space's sparse_init loop, transcribed from pylearn2/models/mlp.py (feca8e9):
    column by column, k times: a row index, redrawn while that entry is already set, then one
    N(0, 1) value; randint and randn interleaved on the MLP's RandomState."""
    W = np.zeros((n_in, n_out))
    for i in range(n_out):
        for _ in range(k):
            idx = rng.randint(0, n_in)
            while W[idx, i] != 0:
                idx = rng.randint(0, n_in)
            W[idx, i] = rng.randn()
    return W


def test_sparse_init_follows_pylearn2_draw_order(float32):
    """G/y_W (Linear, sparse_init 6, after two irange layers) and D/h0_W (Maxout, sparse_init 5, the
    first layer) equal the transcribed Pylearn2 loop run on RandomState([2013, 1, 4]) at the same
    stream position, exactly (tolerance 0: the same numpy calls give the same doubles, then one
    cast to float32)."""
    rng = np.random.RandomState([2013, 1, 4])
    for shape in ((8, 24), (24, 24)):  # G/h0 and G/h1: irange draws values, then the keep mask
        rng.uniform(-.05, .05, shape)
        rng.uniform(0., 1., shape)
    expected_g = pylearn2_sparse_draw(rng, 24, 40, 6).astype(np.float32)
    expected_d = pylearn2_sparse_draw(np.random.RandomState([2013, 1, 4]), 40, 24, 5) \
        .astype(np.float32)
    for backend, prefix in (("legacy_aesara", AESARA), ("port_torch", TORCH)):
        values = float32[backend]
        np.testing.assert_array_equal(values[f"{prefix}/init/G/y_W"], expected_g, err_msg=backend)
        np.testing.assert_array_equal(values[f"{prefix}/init/D/h0_W"], expected_d, err_msg=backend)
        assert ((values[f"{prefix}/init/G/y_W"] != 0).sum(axis=0) == 6).all()


def test_initial_parameters_identical(float32, parity_record):
    """Every initial array (irange, sparse_init, init_bias -2 / -1, biases per maxout piece) is the
    same in both backends: tolerance 0."""
    a, t = float32["legacy_aesara"], float32["port_torch"]
    names = param_names(a, AESARA)
    assert names == param_names(t, TORCH)
    worst = max(float(np.abs(a[f"{AESARA}/init/{n}"].astype(np.float64)
                             - t[f"{TORCH}/init/{n}"]).max()) for n in names)
    parity_record("dense options: initial parameters (float32)", "aesara/torch", worst, 0.0)
    np.testing.assert_array_equal(a[f"{AESARA}/init/G/h1_b"], np.full(24, -2.0, np.float32))
    np.testing.assert_array_equal(a[f"{AESARA}/init/G/y_b"], np.full(40, -1.0, np.float32))


def test_enforce_constraints_clips_columns_identically(float32, inputs, parity_record):
    """After enforce_constraints: each column over max_col_norm has norm max_col_norm (to float32
    rounding, 1e-6), each column under it keeps its values up to the n / (n + 1e-7) factor (1e-6),
    on both backends, which agree within 1e-5 relative (float32 rounding of the projection)."""
    arrays = inputs[0]
    a, t = float32["legacy_aesara"], float32["port_torch"]
    for name, limit in BINDING:
        before = arrays[f"param/{name}"]
        over = column_norms(before) > limit
        assert over.any(), f"{name}: no column starts over its limit, the test would be vacuous"
        for values, prefix in ((a, AESARA), (t, TORCH)):
            after = values[f"{prefix}/constrained/{name}"]
            np.testing.assert_allclose(column_norms(after)[over], limit, rtol=1e-6)
            np.testing.assert_allclose(after[:, ~over], before[:, ~over], rtol=1e-6, atol=0)
    worst = max(relative_error(a[f"{AESARA}/constrained/{n}"], t[f"{TORCH}/constrained/{n}"])
                for n in param_names(a, AESARA))
    parity_record("dense options: parameters after enforce_constraints (float32)", "aesara/torch",
                  worst, F32_BOUND)


def test_updates_with_max_col_norm_agree_float32(float32, parity_record):
    """After each of 3 SGD + momentum updates (lr .5, lr scalers .5 / 2 / .5, dropout masks fed),
    all 12 arrays agree within 1e-5 relative (float32 BLAS summation order; measured 3.1e-7). The
    projection binds at every step: columns of G/y_W, D/h0_W, D/h1_W end exactly on their limit
    although the update moved them."""
    a, t = float32["legacy_aesara"], float32["port_torch"]
    names = param_names(a, AESARA)
    for stage in STAGES[1:]:
        worst = max(relative_error(a[f"{AESARA}/{stage}/{n}"], t[f"{TORCH}/{stage}/{n}"])
                    for n in names)
        parity_record(f"dense options: parameters after update {stage[4:]} (float32)",
                      "aesara/torch", worst, F32_BOUND)
    for previous, stage in zip(STAGES, STAGES[1:]):
        for name, limit in BINDING:
            old, new = a[f"{AESARA}/{previous}/{name}"], a[f"{AESARA}/{stage}/{name}"]
            on_limit = np.abs(column_norms(new) - limit) < 1e-6 * limit
            moved = np.abs(new - old).max(axis=0) > 1e-3 * np.abs(old).max()
            assert (on_limit & moved).any(), f"{name} {stage}: the projection did not act"


def test_torch_fused_and_autograd_steps_agree_with_constraints(float32, parity_record):
    """The torch port's fused step (CPU training's; it projects in
    training_algorithms/fused_step.py) and its autograd step (Linear.constrain_), on the model
    without lr scalers: within 1e-5 relative after every update (float32 rounding of a different
    operation order; measured 3.1e-7)."""
    t = float32["port_torch"]
    assert str(t["no_lr_scalers/fused/path_used"]) == "fused"
    assert str(t["dense_options/autograd/path_used"]) == "autograd"
    names = param_names(t, "no_lr_scalers/fused")
    worst = max(relative_error(t[f"no_lr_scalers/fused/{stage}/{n}"],
                               t[f"no_lr_scalers/autograd/{stage}/{n}"])
                for stage in STAGES for n in names)
    parity_record("dense options: torch fused vs autograd step (float32)", "torch/torch", worst,
                  F32_BOUND)


def test_float64_constraints_and_updates_agree(float64, parity_record):
    """float64 (Aesara in a GAN2014_FLOATX=float64 child): after enforce_constraints and after each
    update every array agrees within 1e-10 relative (measured 1.4e-15: summation order only)."""
    a, t = float64["legacy_aesara"], float64["port_torch"]
    assert a[f"{AESARA}/step1/G/y_W"].dtype == np.float64 == t[f"{TORCH}/step1/G/y_W"].dtype
    names = param_names(a, AESARA)
    for stage in STAGES:
        worst = max(relative_error(a[f"{AESARA}/{stage}/{n}"], t[f"{TORCH}/{stage}/{n}"])
                    for n in names)
        what = "enforce_constraints" if stage == "constrained" else f"update {stage[4:]}"
        parity_record(f"dense options: parameters after {what} (float64)", "aesara/torch", worst,
                      F64_BOUND)


def test_batched_torch_path_refuses_constrained_models():
    """The K-models-at-once path (training_algorithms/batched.py) has no Train.setup and so would
    skip the projection before epoch 0: it refuses a model with max_col_norm, naming the layers.
    Exact: the error type and the message naming the layers."""
    from parity_tests.dense_options_worker import build
    from port_torch.training_algorithms.batched import BatchedModels

    model, algorithm = build("port_torch", "no_lr_scalers")
    with pytest.raises(NotImplementedError, match=r"norm constraints .*'h0', 'h1', 'y'"):
        BatchedModels(model, algorithm.cost, seeds=[1, 2])
