"""The inference net E (gan2014/inference.py, port_torch/inference.py): its loss and gradients, what
it is trained on, and that training it leaves G alone.

No checkpoint and no dataset: G is the generator of yaml_experiments/smoke/mnist_tiny.yaml (10-d
uniform noise, 32-32 ReLU, 784 sigmoid outputs) built from its YAML with fresh random weights.
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from gan2014 import checkpoint as ckpt
from gan2014 import inference as core
from port_torch import inference as inf

REPO = Path(__file__).resolve().parents[1]
TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"
SQRT3 = np.sqrt(3.0)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_generator(irange=".5"):
    """G of the tiny config. Its weights are drawn with irange .5 instead of .05 so that G(z)
    varies visibly with z (with .05 every output sits near its sigmoid's midpoint): an E trained
    for a few hundred steps then recovers most of z, which the learning checks below rely on."""
    from gan2014 import release_generator
    from port_torch.registry import REGISTRY

    text = TINY_YAML.read_text().replace("irange: .05", f"irange: {irange}")
    return inf.freeze(release_generator.build_generator(text, REGISTRY, "mnist_tiny.yaml"))


def random_problem(seed=0, n=7, sizes=(20, 16, 12, 5)):
    rng = np.random.RandomState(seed)
    params = core.init_params(sizes[0], sizes[1:-1], sizes[-1], seed)
    for name in params:   # non-zero biases, so the bias gradients are exercised through ReLUs
        if name.endswith("_b"):
            params[name] = rng.uniform(-.3, .3, params[name].shape).astype(np.float32)
    x = rng.uniform(0, 1, (n, sizes[0])).astype(np.float32)
    z = rng.uniform(-SQRT3, SQRT3, (n, sizes[-1])).astype(np.float32)
    return params, x, z


def torch_loss_and_grads(params, x, z, dtype):
    encoder = inf.Encoder(params).to(dtype)
    loss = inf.encoder_loss(encoder, torch.as_tensor(x, dtype=dtype),
                            torch.as_tensor(z, dtype=dtype))
    loss.backward()
    return loss.item(), {name: p.grad.numpy().astype(np.float64)
                         for name, p in zip(encoder.names, encoder.weights)}


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-10), (torch.float32, 2e-5)])
def test_torch_loss_and_gradients_equal_the_float64_reference(dtype, rtol):
    """E's loss and its gradients by torch.autograd equal the hand-written float64 numpy reference
    for fixed weights and inputs. Tolerance: in float64 the two differ only in summation order
    (~1e-16 relative per operation, a few hundred operations), so 1e-10 relative; in float32 the
    torch side rounds every product and sum to 24 bits (6e-8 relative) over sums of up to 20 terms
    and three layers, so 2e-5 relative to the largest entry of each gradient. A wrong formula (a
    missing factor 2, the mean over rows only, a ReLU derivative on the wrong side) is off by O(1).
    """
    params, x, z = random_problem()
    loss_ref, grads_ref = core.reference_loss_and_grads(params, x, z)
    loss, grads = torch_loss_and_grads(params, x, z, dtype)
    assert loss == pytest.approx(loss_ref, rel=rtol)
    for name, expected in grads_ref.items():
        scale = np.max(np.abs(expected))
        assert scale > 0, name
        np.testing.assert_allclose(grads[name], expected, rtol=0, atol=rtol * scale, err_msg=name)


def test_the_reference_comparison_detects_a_wrong_target():
    """The parity check above is not blind to the target: the loss against x's first columns or
    against z of another draw differs from the loss against z by far more than the tolerance."""
    params, x, z = random_problem()
    loss_ref, grads_ref = core.reference_loss_and_grads(params, x, z)
    other_z = random_problem(seed=1)[2]
    for wrong in (x[:, :z.shape[1]], other_z):
        loss, grads = torch_loss_and_grads(params, x, wrong, torch.float64)
        assert abs(loss - loss_ref) > 1e-3 * loss_ref
        assert max(np.max(np.abs(grads[k] - grads_ref[k])) for k in grads) > 1e-3


def test_the_reference_refuses_a_code_of_the_wrong_size():
    """The float64 reference given codes of 3 dimensions for an E of 5 outputs is a ValueError
    about the codes' dimension, not a broadcast. Exact: the error type and message."""
    params, x, z = random_problem()
    with pytest.raises(ValueError, match="dimensional codes"):
        core.reference_loss_and_grads(params, x, z[:, :3])


def test_a_training_batch_is_G_of_a_fresh_draw_of_G_own_noise():
    """``training_pair`` gives z from G's noise law (the same numbers as ``G.get_noise`` on an
    equally seeded stream: U(-sqrt 3, sqrt 3) for this config) and x = G(z) exactly; the next
    call gives a new draw. Exact equality: the same operations on the same numbers."""
    G = tiny_generator()
    stream, twin = torch.Generator(), torch.Generator()
    stream.manual_seed(5)
    twin.manual_seed(5)
    x, z = inf.training_pair(G, 64, stream)
    assert torch.equal(z, G.get_noise(64, twin))
    assert float(z.min()) >= -SQRT3 and float(z.max()) <= SQRT3 and z.shape == (64, 10)
    with torch.no_grad():
        assert torch.equal(x, G(z))
    x2, z2 = inf.training_pair(G, 64, stream)
    assert not torch.equal(z, z2)


def code_error_after_training(G, steps=200, seed=0):
    """Train a small E on G with ``inf.training_pair`` as it is, then its per-dimension squared
    error ||z - E(G(z))||^2 / d on 1,000 fresh draws of another stream."""
    encoder = inf.Encoder.fresh(G.mlp.output_dim, (64,), G.noise_dim, seed=seed)
    inf.train_encoder(G, encoder, steps, batch_size=64, lr=3e-3, seed=seed)
    stream = torch.Generator()
    stream.manual_seed(1234)
    z = G.get_noise(1000, stream)
    with torch.no_grad():
        codes = encoder(G(z))
    return core.code_error_summary(z.numpy(), codes.numpy())["per_dim"]["mse"]


def assert_learns_the_inverse(G):
    """The learning check: E's per-dimension error must be under 0.6, where E = 0 (the noise law's
    mean) scores 1.0 (the variance of U(-sqrt 3, sqrt 3)). The right training reaches about 0.35
    in 200 steps; a target that carries no information about x stays at 1 or above."""
    error = code_error_after_training(G)
    assert error < 0.6, f"E did not learn to invert G: per-dimension error {error:.3f}"


def test_E_learns_to_predict_z_from_G_of_z():
    """An E trained 200 steps on the tiny G's (G(z), z) pairs predicts z with a per-dimension
    squared error under 0.6 on fresh draws: E = 0 scores 1.0 (the noise's variance) and the right
    training about 0.35, so the bound separates learning from none (assert_learns_the_inverse)."""
    assert_learns_the_inverse(tiny_generator())


def _other_draw(original):
    def pair(generator, batch_size, stream):
        x, _ = original(generator, batch_size, stream)
        return x, generator.get_noise(batch_size, stream)   # z of a different draw
    return pair


def _shuffled(original):
    def pair(generator, batch_size, stream):
        x, z = original(generator, batch_size, stream)
        return x, z.roll(1, dims=0)   # each x paired with its neighbour's z
    return pair


def _predict_x(original):
    def pair(generator, batch_size, stream):
        x, _ = original(generator, batch_size, stream)
        return x, x   # E trained to reproduce x, not z
    return pair


@pytest.mark.parametrize("mutant", [_other_draw, _shuffled, _predict_x])
def test_the_learning_check_fails_for_a_wrong_training_target(mutant, monkeypatch):
    """The check of the test above does not pass when E is trained on the wrong target: z of
    another draw, z's of the batch paired with the wrong x, or x itself (E's output then does not
    even have z's size: the loss cannot be formed, or E learns nothing about z). Bound: the 0.6 of
    assert_learns_the_inverse, which each wrong target must fail (AssertionError, or RuntimeError
    where the loss cannot be formed); E = 0 already scores 1.0."""
    G = tiny_generator()
    monkeypatch.setattr(inf, "training_pair", mutant(inf.training_pair))
    with pytest.raises((AssertionError, RuntimeError)):
        assert_learns_the_inverse(G)


def test_training_E_leaves_G_unchanged():
    """G's parameters are bit-for-bit the same after E's training, none of them has a gradient,
    and none asks for one; E's own parameters did change."""
    G = tiny_generator()
    before = {name: p.detach().clone() for name, p in G.named_parameters()}
    encoder = inf.Encoder.fresh(784, (16,), G.noise_dim, seed=0)
    initial = [p.detach().clone() for p in encoder.parameters()]
    inf.train_encoder(G, encoder, 20, batch_size=16, seed=0)
    for name, p in G.named_parameters():
        assert torch.equal(p, before[name]), name
        assert p.grad is None and not p.requires_grad, name
    assert not G.training
    assert all(not torch.equal(a, b) for a, b in zip(initial, encoder.parameters()))


def test_training_is_repeatable_with_a_seed():
    """Two trainings with the same seed give the same losses and weights (float32, one thread:
    the same operations in the same order). Exact: losses and weights bit for bit
    (assert_array_equal), which that determinism allows."""
    G = tiny_generator()
    runs = []
    for _ in range(2):
        encoder = inf.Encoder.fresh(784, (16,), G.noise_dim, seed=3)
        losses = inf.train_encoder(G, encoder, 10, batch_size=16, seed=3)
        runs.append((losses, encoder.param_values()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    for name in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][name], runs[1][1][name])


def test_encoder_file_round_trip_and_refusals(tmp_path):
    """An encoder file loads back with its parameter names in order, its arrays and its metadata; a
    checkpoint of another kind is a CheckpointError saying it is not an encoder file. Exact: the
    arrays are stored bit for bit, and the message is the user's only guide."""
    params = core.init_params(784, (8,), 10, seed=0)
    path = core.save_encoder(tmp_path / "encoder.npz", params, {"steps": 3})
    loaded, meta = core.load_encoder(path)
    assert list(loaded) == list(params) and meta["steps"] == 3
    for name in params:
        np.testing.assert_array_equal(loaded[name], params[name])
    ckpt.save_checkpoint(tmp_path / "other.npz", {"G/h0_W": np.zeros((2, 2))}, {"yaml": "x"})
    with pytest.raises(ckpt.CheckpointError, match="not an encoder file"):
        core.load_encoder(tmp_path / "other.npz")


def test_error_summaries():
    """Hand-computed values: per-row means first, then the mean and its standard error. Tolerance:
    pytest.approx's default 1e-6 relative for float64 results of a few operations on small exact
    numbers; the zero baseline (5.0) and row count exactly; the error's type and message."""
    target = np.array([[0., 0.], [1., 1.]])
    estimate = np.array([[1., 1.], [1., 3.]])
    summary = core.squared_error_summary(target, estimate)
    assert summary["mse"] == pytest.approx(1.5) and summary["rows"] == 2
    assert summary["se"] == pytest.approx(0.5 / np.sqrt(2))
    codes = core.code_error_summary(np.array([[3., 4.]]), np.array([[0., 0.]]))
    assert codes["mean_l2"] == pytest.approx(5.0) and codes["baseline_zero_mean_l2"] == 5.0
    with pytest.raises(ValueError, match="must be equal"):
        core.squared_error_summary(target, estimate[:1])


def test_pairs_grid_puts_each_image_beside_its_reconstruction():
    """With three black left images and three white right ones, the six 28 x 28 tiles of the row (2
    pixels apart) alternate black, white: each image sits directly before its reconstruction.
    Exact: uint8 pixels of constant images."""
    left = np.zeros((3, 784))
    right = np.ones((3, 784))
    grid = core.pairs_grid(left, right, pairs_per_row=3, scale=1)
    tiles = [grid[2:30, 2 + k * 30:30 + k * 30] for k in range(6)]
    assert [int(t.max()) for t in tiles] == [0, 255, 0, 255, 0, 255]


def test_the_command_refuses_bad_hidden_widths(capsys):
    """A --hidden value that is not a list of positive integers ("12,x", "", "12,0", "-4") is a
    usage error: exit status 2 and a message naming the option and the value given. Exact: the
    status and the message."""
    for text in ("12,x", "", "12,0", "-4"):
        with pytest.raises(SystemExit) as stopped:
            inf.parse_hidden(inf.build_parser(), text)
        assert stopped.value.code == 2, text
        assert inf.parse_hidden(inf.build_parser(), "12,7") == (12, 7)
    message = capsys.readouterr().err
    assert "--hidden: expected positive comma-separated widths, got '-4'" in message


def test_jacobian_spectrum_of_a_known_linear_map():
    """For G(z) = z A with A of singular values 5, 2, 0.04, 0 (a 4-d noise, 6 outputs), the
    median spectrum is exactly A's (to float32 rounding, 1e-5) and the count above 1% of the
    largest is 2 (0.04 < 0.05): the measurement counts the directions G follows."""
    rng = np.random.RandomState(0)
    left, _ = np.linalg.qr(rng.randn(6, 4))
    right, _ = np.linalg.qr(rng.randn(4, 4))
    A = torch.tensor((right @ np.diag([5., 2., .04, 0.]) @ left.T), dtype=torch.float32)
    spectrum = inf.jacobian_spectrum(lambda z: z @ A, rng.randn(3, 4))
    values = spectrum["median_singular_value_at_rank"]
    assert list(values) == ["1", "2"] and spectrum["points"] == 3
    assert values["1"] == pytest.approx(5.0, abs=1e-5)
    assert values["2"] == pytest.approx(2.0, abs=1e-5)
    assert spectrum["median_count_above_1pc_of_largest"] == 2


def test_the_command_names_a_missing_checkpoint(tmp_path, capsys):
    """`train` on a checkpoint that does not exist exits with status 2 and names the file on
    stderr, not a traceback. Exact: the exit code and the path in the message."""
    missing = tmp_path / "missing.npz"
    assert inf.main(["train", str(missing), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert str(missing) in capsys.readouterr().err
