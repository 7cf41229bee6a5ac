"""The torch port's step implementations agree with each other, step for step, on the same seeds.

* "reference" (training_algorithms/reference_step.py) is the step written out in one function;
* "autograd" (adversarial.AdversaryCost2.gradients + torch.autograd) is the same maths through the
  cost's and learning rule's methods: equal to the reference step BIT FOR BIT;
* "fused" (training_algorithms/fused_step.py) is the hand-written backward CPU training uses;
* "graph" (training_algorithms/graph_step.py) is the step a CUDA graph captures, called eagerly
  here;
* the batched path (training_algorithms/batched.py) trains K seeds at once with bmm.

The random draws are identical by construction (same generators, same calls, same order), so the
paths differ only by float32 rounding of a different operation order: after a few steps of the real
mnist.yaml model every parameter agrees within 1e-5 * absmax(parameter) and every velocity within
1e-4 * absmax(velocity) (velocities are differences of nearby numbers), with an absolute floor of
1e-8 for D/y_b, whose gradient (~1e-6) is a near-cancelling difference carrying ~1e-8 of float32
rounding in any implementation (parity_tests/fixtures/README.md) times lr .1; a real discrepancy
(a missed mask, a wrong maxout winner, a skipped update) shows at order 1.
Tolerances are loose next to the measured differences (~1e-7 relative) on purpose: they must hold
on every BLAS.
"""
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "yaml_experiments" / "original" / "mnist.yaml"
CONDITIONAL = REPO / "yaml_experiments" / "mnist_conditional.yaml"
ABS_FLOOR = 1e-8
MNIST = Path(os.environ.get("PYLEARN2_DATA_PATH") or REPO / "data") / "mnist"

pytestmark = pytest.mark.skipif(
    not any((MNIST / name).exists()
            for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz")),
    reason="MNIST is not in $PYLEARN2_DATA_PATH/mnist (or ./data/mnist); "
           "get it with: python -m gan2014.datasets.fetch mnist")


def _cuda_available():
    import torch
    return torch.cuda.is_available()


# Every property also on the GPU, where the graph path really captures a CUDA graph and the batched
# path runs bmm on the device (the eager, graphed and batched-seed paths must agree step for step on
# the same seeds there too); skipped without a CUDA device. On a GPU machine:
#     python -m pytest -q parity_tests/test_torch_paths.py -k cuda
# The tolerances are the same there: with TF32 off (port_torch.run.configure_torch) the paths differ
# by float32 rounding of a different operation order only.
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not _cuda_available(),
                                                                 reason="no CUDA device here"))]


class Subset:
    """The first `rows` training examples, standing in for the dataset to keep the tests short."""

    def __init__(self, dataset, rows):
        self.X = dataset.X[:rows]


def build(path, seed=7, rows=None, device="cpu", config=CONFIG, **cost_options):
    """The Train of ``config`` (mnist.yaml) on ``device``, its streams seeded ``seed``, set up as
    port_torch.run does (model to the device, then the streams seeded, then the algorithm's
    setup)."""
    import torch

    from gan2014.config.yaml_parse import load_path
    from port_torch.registry import REGISTRY
    from port_torch.run import configure_torch

    os.environ.setdefault("PYLEARN2_DATA_PATH", str(REPO / "data"))
    configure_torch(torch.device(device))
    train = load_path(config, REGISTRY)
    for name, value in cost_options.items():
        setattr(train.algorithm.cost, name, value)
    train.model.to_device(torch.device(device))
    train.model.streams.seed(seed)
    dataset = Subset(train.dataset, rows) if rows else train.dataset
    train.algorithm.path = path
    train.algorithm.setup(train.model, dataset)
    train.model.enforce_constraints()
    return train, dataset


def assert_same_state(a, b, what):
    for name, x in a.model.get_param_values().items():
        y = b.model.get_param_values()[name]
        assert np.abs(x - y).max() <= max(1e-5 * np.abs(y).max(), ABS_FLOOR), f"{what}: {name}"
    for va, vb, name in zip(a.algorithm.learning_rule.velocities,
                            b.algorithm.learning_rule.velocities,
                            a.model.param_names()):
        va, vb = va.cpu().numpy(), vb.cpu().numpy()
        assert np.abs(va - vb).max() <= max(1e-4 * np.abs(vb).max(),
                                            ABS_FLOOR), f"{what}: velocity/{name}"


def run_batches(train, steps, rows_from=0):
    X = train.dataset.X
    for step in range(steps):
        start = rows_from + 100 * step
        train.algorithm.train_batch(X[start:start + 100])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("options", [
    {},                                        # mnist.yaml as written (scale_grads 0, dropout on)
    {"scale_grads": True},                     # AdversaryCost2's default
    {"blend_obj": True, "minimax_coeff": 0.5},
    {"alternate_g": True},
])
def test_fused_step_equals_autograd_step(options, device):
    """Four steps with drawn noise and masks: the hand-written backward gives the autograd
    parameters and velocities (1e-5 / 1e-4 * absmax) for the config and each cost option it
    supports."""
    eager, _ = build("autograd", device=device, **options)
    fused, _ = build("fused", device=device, **options)
    run_batches(eager, 4)
    run_batches(fused, 4)
    assert_same_state(fused, eager, f"fused vs autograd {options}")
    assert eager.algorithm.learning_rate == fused.algorithm.learning_rate
    assert eager.algorithm.cost.now_train_generator == fused.algorithm.cost.now_train_generator


def test_fused_step_equals_autograd_step_on_the_conditional_model():
    """yaml_experiments/mnist_conditional.yaml, four steps from its initial state with drawn noise
    and masks: the fused step, which "auto" now chooses for it (CompositeLayers, G's dropout,
    [z | c] and [G(z, c) | c]), gives the autograd parameters and velocities within the module
    docstring's tolerances (the cost options' branches are shared with the unconditional step and
    tested above). From the initial state on purpose: D's label-branch biases are 0 there
    and its pieces tie wherever dropout removed a row's label, where both paths must follow
    Theano's max gradient (the whole gradient to every tied piece); torch's own amax rule differs
    there at order 1 (D/h0_y_b)."""
    eager, _ = build("autograd", config=CONDITIONAL)
    fused, _ = build("auto", config=CONDITIONAL)
    assert fused.algorithm.path_used == "fused"
    run_batches(eager, 4)
    run_batches(fused, 4)
    assert_same_state(fused, eager, "conditional fused vs autograd")
    assert eager.algorithm.cost.now_train_generator == fused.algorithm.cost.now_train_generator


def assert_identical_state(a, b, what):
    for name, x in a.model.get_param_values().items():
        assert np.array_equal(x, b.model.get_param_values()[name]), f"{what}: {name}"
    for va, vb, name in zip(a.algorithm.learning_rule.velocities,
                            b.algorithm.learning_rule.velocities,
                            a.model.param_names()):
        assert torch_equal(va, vb), f"{what}: velocity/{name}"


def torch_equal(x, y):
    import torch
    return bool(torch.equal(x, y))


# mnist.yaml as written; then every cost option the step has a branch for (three builds, not six:
# the options of the second case act on different lines and combine freely).
REFERENCE_OPTIONS = [{},
                     {"scale_grads": True, "alternate_g": True, "generator_objective": "minimax"},
                     {"blend_obj": True, "minimax_coeff": 0.5}]


@pytest.mark.parametrize("options", REFERENCE_OPTIONS)
def test_reference_step_equals_autograd_step_bitwise(options):
    """Four steps with drawn noise and masks: the step written out in reference_step.py and the
    autograd path (AdversaryCost2.gradients + learning_rule.update_ + enforce_constraints) give
    IDENTICAL parameters, velocities and learning rate. Tolerance: none. Why: they make the same
    draws and the same floating-point operations in the same order, only arranged differently in
    the source, so any difference is a difference in the maths (a missed switch, a mask, an
    update order)."""
    reference, _ = build("reference", **options)
    eager, _ = build("autograd", **options)
    run_batches(reference, 4)
    run_batches(eager, 4)
    assert reference.algorithm.path_used == "reference"
    assert_identical_state(reference, eager, f"reference vs autograd {options}")
    assert reference.algorithm.learning_rate == eager.algorithm.learning_rate
    assert reference.algorithm.cost.now_train_generator == eager.algorithm.cost.now_train_generator


@pytest.mark.parametrize("device", DEVICES)
def test_fused_step_equals_reference_step(device):
    """Four steps of mnist.yaml with drawn noise and masks: the hand-written backward
    (fused_step.py) gives the reference step's parameters and velocities within 1e-5 / 1e-4 *
    absmax (the module docstring's tolerances: only float32 rounding of a different operation
    order separates them). The cost options are covered through the autograd path: fused vs
    autograd above, autograd == reference bit for bit."""
    reference, _ = build("reference", device=device)
    fused, _ = build("fused", device=device)
    run_batches(reference, 4)
    run_batches(fused, 4)
    assert fused.algorithm.path_used == "fused"
    assert_same_state(fused, reference, "fused vs reference")
    assert reference.algorithm.cost.now_train_generator == fused.algorithm.cost.now_train_generator


@pytest.mark.parametrize("device", DEVICES)
def test_graph_step_epoch_equals_reference_epoch(device):
    """One epoch of 1050 examples through the graph-capturable step (10 full batches, then a
    partial one) equals the reference step's epoch within the module docstring's tolerances,
    with the same learning rate and batch counters."""
    reference, data = build("reference", rows=1050, device=device)
    graph, _ = build("graph", rows=1050, device=device)
    reference.algorithm.train(data)
    graph.algorithm.train(data)
    assert graph.algorithm.graph_step is not None
    assert graph.algorithm.batches_seen == reference.algorithm.batches_seen == 11
    assert graph.algorithm.learning_rate == reference.algorithm.learning_rate
    assert_same_state(graph, reference, "graph vs reference")


@pytest.mark.parametrize("device", DEVICES)
def test_graph_step_epoch_equals_fused_epoch(device):
    """One epoch of 1050 examples (10 full batches through the graph-capturable step, driven by its
    step counter, batch-index and learning-rate tables: called eagerly on the CPU, replayed from one
    captured CUDA graph on the GPU; then a partial batch of 50 eagerly) equals the fused loop's
    epoch, including the learning rate and the batch counters."""
    fused, data = build("fused", rows=1050, device=device)
    graph, _ = build("graph", rows=1050, device=device)
    fused.algorithm.train(data)
    graph.algorithm.train(data)
    assert graph.algorithm.graph_step is not None
    assert graph.algorithm.batches_seen == fused.algorithm.batches_seen == 11
    assert graph.algorithm.examples_seen == 1050
    assert graph.algorithm.learning_rate == fused.algorithm.learning_rate
    assert_same_state(graph, fused, "graph vs fused")


@pytest.mark.parametrize("device", DEVICES)
def test_batched_seeds_equal_single_runs(device):
    """K = 2 models trained together (bmm) for an epoch of 300 examples equal two one-model runs
    with --seed 3 and --seed 11: each model's draws come from its own generators in the one-model
    order."""
    from port_torch.training_algorithms.batched import BatchedModels, train_epochs

    seeds = [3, 11]
    train, _ = build("fused", rows=300, device=device)
    batched = BatchedModels(train.model, train.algorithm.cost, seeds, device=device)
    train_epochs(batched, train.algorithm.data, train.algorithm, train.extensions, epochs=1)
    for k, seed in enumerate(seeds):
        single, single_data = build("fused", seed=seed, rows=300, device=device)
        for extension in single.extensions:
            extension.on_monitor(None, None, single.algorithm)
        single.algorithm.train(single_data)
        for name, value in single.model.get_param_values().items():
            other = batched.param_values(k)[name]
            assert np.abs(other - value).max() <= max(1e-5 * np.abs(value).max(), ABS_FLOOR), \
                (seed, name)
        assert single.algorithm.learning_rate == train.algorithm.learning_rate


def test_checkpoint_state_resumes_exactly(tmp_path):
    """state_arrays / state_meta / load_state restore velocities, counters, the batch-order RNG,
    the learning-rate schedule and the torch generators: training on from a restored copy gives
    bit-identical parameters to training on without interruption."""
    a, data = build("fused", rows=400)
    a.algorithm.train(data)
    params, arrays, meta = (a.model.get_param_values(), a.algorithm.state_arrays(),
                            a.algorithm.state_meta())
    b, _ = build("fused", rows=400, seed=99)
    b.model.set_param_values(params)
    b.algorithm.load_state(arrays, meta)
    a.algorithm.train(data)
    b.algorithm.train(data)
    for name, value in a.model.get_param_values().items():
        assert np.array_equal(value, b.model.get_param_values()[name]), name
    assert a.algorithm.batches_seen == b.algorithm.batches_seen == 8

