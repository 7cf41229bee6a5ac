"""The torch port's training step, seen where the step-1 parameter tests cannot see it.

G's whole first update is at most ~1e-7 per entry, below what a tolerance of 1e-5 * absmax of the
*parameters* resolves, and the velocity is zero at step 1; so the tests here compare UPDATES with
the update the 2014 rule implies, relative to the update's own scale:

* step 1 (float32, the unmodified mnist.yaml, the default training path): the stored velocity must
  be -lr * g with g the 2014 gradient (fixture), and p1 = p0 + v1;
* steps 2 and 3 (float64, non-zero velocity, a learning rate changed between the steps): the
  update must be mu * v - lr * g(p) with g taken at the OLD parameters of both nets (a simultaneous
  step) by the autograd form of the cost, which is independent of the fused step that trains;
* the noise and dropout masks a real training step draws, by their laws (statistical bounds whose
  false-alarm rate is stated) and structure;
* SGD.train() itself: the 2014 batch order (epoch 1 starts with the fixture's batch, epoch e uses
  the e-th shuffle of ONE persistent RandomState([2012, 10, 5])) and a learning-rate decay per
  batch.
"""
import math

import numpy as np
import pytest
import torch

from gan2014.fingerprints import load_reference
from parity_tests.helpers import (ACCUMULATED_CONSTANTS, EPOCH0_MONITOR_2014, MONITOR_COUNTERS,
                                  REFERENCE_2014, needs_real_mnist, read_monitor_block)
from parity_tests.helpers import build_experiment as build_for

SQRT3 = math.sqrt(3.0)
# Two-sided bound of 6 standard deviations: a false alarm has probability < 2e-9 per check (normal
# approximation; the sample sizes below are >= 1e5, so the approximation is excellent), while every
# mutant law checked below sits hundreds of standard deviations away.
Z = 6.0

pytestmark = needs_real_mnist


@pytest.fixture(scope="module")
def reference():
    return load_reference(REFERENCE_2014)


def build_experiment():
    """The Train object of the unmodified mnist.yaml, built by the torch registry."""
    return build_for("torch")


def step0_inputs(experiment, reference):
    case = reference["step0_nodropout"]
    X = experiment.dataset.X[np.asarray(case["batch_indices"])]
    z = np.random.RandomState(1234).uniform(-SQRT3, SQRT3, (100, 100)).astype(np.float32)
    return X, z


def probes(array, record):
    return np.asarray(array, dtype=np.float64).reshape(-1)[np.asarray(record["idx"])]


def test_step1_velocity_is_minus_lr_times_the_2014_gradient(reference, one_torch_thread):
    """Step 1 on the fixture's batch and z (no dropout), on the path training uses: for every
    parameter the velocity v1 equals -lr * g_2014 at the 64 probes within 1e-5 * absmax(lr * g_2014)
    (D/y_b: lr * 1e-7 absolute), i.e. the tolerance the gradient tests already use, now measured on
    the update's own scale (a halved, doubled or wrong-signed G step is an error of 0.5 - 2 of it);
    its float64 sum of squares within 1e-4 relative of lr^2 * sumsq(g_2014) (float32 rounding of
    ~1e6 terms, each within 1e-5 relative, gives at most ~2e-5); and p1 = p0 + v1 exactly in float32
    (Pylearn2's p <- p + v; no max-norm constraint is set in mnist.yaml)."""
    experiment = build_experiment()
    algorithm = experiment.algorithm
    algorithm.setup(experiment.model, experiment.dataset)
    p0 = {k: v.copy() for k, v in experiment.model.get_param_values().items()}
    lr = algorithm.learning_rate
    X, z = step0_inputs(experiment, reference)
    algorithm.train_batch(X, z=z, masks=None)
    state = algorithm.state_arrays()
    p1 = experiment.model.get_param_values()
    grads = reference["step0_nodropout"]["grad"]
    worst = 0.0
    for name in reference["param_order"]:
        record = grads[name]
        v1 = state[f"velocity/{name}"]
        scale = lr * record["absmax"]
        tol = lr * 1e-7 if name == "D/y_b" else 1e-5 * scale
        expected = -lr * np.asarray(record["val"])
        err = np.abs(probes(v1, record) - expected).max()
        worst = worst if name == "D/y_b" else max(worst, err / scale)
        assert err <= tol, f"{name}: velocity off -lr*g by {err:.3g} (update scale {scale:.3g})"
        if name != "D/y_b":
            sumsq = float((v1.astype(np.float64) ** 2).sum())
            assert sumsq == pytest.approx(lr * lr * record["sumsq"], rel=1e-4), name
        np.testing.assert_array_equal(p1[name], (p0[name] + v1).astype(np.float32), err_msg=name)
    print(f"step-1 velocity vs -lr * g_2014: worst {worst:.2g} of lr * absmax(g) (D/y_b aside)")


def _autograd_grads(model, cost, X, z):
    from port_torch.adversarial import evaluate_step
    return evaluate_step(model, cost, X, z)["grads"]


def test_steps_2_and_3_follow_pylearn2_momentum_simultaneously(reference, one_torch_thread):
    """Three float64 steps of the training path on three batches, the learning rate changed between
    steps (.1, then .03, then .17) and momentum .5: after step 1, every update must equal
    mu * v - lr_t * g(p_{t-1}) (Pylearn2's Momentum: v <- mu v - lr g; p <- p + v), with g the
    autograd gradient of BOTH nets at the parameters before the step (a simultaneous update),
    within 1e-7 * absmax of the update per array plus 4 float64 ulp of the parameter (the rounding
    of p + v: G/y_b's update, ~2e-7, is stored on values ~7). float64 recomputation agrees to ~1e-12
    relative;
    torch.optim's rule (v <- mu v + g; p <- p - lr v) rescales the old velocity by lr_t / lr_{t-1}
    (an error of ~0.5 - 2 of the momentum term), a sequential D-then-G step moves G's gradient by
    the D update (~1e-2 relative), a wrong G step size or sign by 0.5 - 2."""
    experiment = build_experiment()
    model, algorithm = experiment.model, experiment.algorithm
    model.double()
    algorithm.setup(model, experiment.dataset)
    mu = algorithm.learning_rule.momentum
    assert mu == 0.5
    X_all = experiment.dataset.X
    rng = np.random.RandomState(7)
    previous = model.get_param_values()
    velocity = {k: np.zeros_like(v) for k, v in previous.items()}
    worst = 0.0
    for step, lr in enumerate((0.1, 0.03, 0.17)):
        X = X_all[rng.choice(X_all.shape[0], 100, replace=False)].astype(np.float64)
        z = rng.uniform(-SQRT3, SQRT3, (100, 100))
        g = _autograd_grads(model, algorithm.cost, X, z)
        algorithm.learning_rate = lr
        algorithm.train_batch(X, z=z, masks=None)
        now = model.get_param_values()
        for name in previous:
            expected = mu * velocity[name] - lr * g[name]
            got = now[name] - previous[name]
            err = np.abs(got - expected).max()
            # + the rounding of p + v in float64 (4 ulp of the parameter's largest entry)
            tol = (1e-7 * np.abs(expected).max()
                   + 4 * np.finfo(np.float64).eps * np.abs(now[name]).max())
            assert err <= tol, \
                f"step {step + 1}, {name}: update off by {err:.3g} of {np.abs(expected).max():.3g}"
            velocity[name] = got
            worst = max(worst, err / np.abs(expected).max())
        previous = now
    print(f"steps 1-3: worst |update - (mu v - lr g)| = {worst:.2g} of absmax(update)")


def _record_draws(monkeypatch, algorithm, no_draws=False):
    """Replace the fused step core by a recorder of what the real training step drew (with
    `no_draws`, the draws too are skipped: only the batches are of interest)."""
    from port_torch.training_algorithms import fused_step

    seen = []
    if no_draws:
        monkeypatch.setattr(fused_step, "draw", lambda *args: (torch.zeros(()), None))

    def record(spec, params, velocities, X, z, masks, lr, momentum, g_flag):
        seen.append((z.clone(), masks and [None if m is None else m.clone() for m in masks],
                     X.clone()))

    monkeypatch.setattr(fused_step, "step_core", record)
    return seen


def test_training_draws_the_2014_noise_and_masks(reference, monkeypatch, one_torch_thread):
    """What 20 real training steps draw (train_batch without z or masks, the default path):

    * noise z: (100, 100) float32 in [-sqrt 3, sqrt 3] (exact), reaching within .01 of both ends
      (missing it by chance: < exp(-500)), mean within 6 sd of 0 and mean of z^2 within 6 sd of 1
      (U(-sqrt 3, sqrt 3) has variance 1; U(-1, 1) would be 1/3, 330 sd away);
    * D's masks: 0/1 of shape (200, width) per layer input (real then fake half), keep rates .8,
      .5, .5 within 6 binomial sd (sd 2.3e-4 - 1e-3; false alarm < 2e-9 per layer);
    * independence: the agreement of the real and fake halves, and of the same layer's masks on
      consecutive steps, within 6 sd of p^2 + (1 - p)^2 (a reused mask agrees 100 %);
    * the per-layer scales applied with them are 1.25, 2, 2 (the yaml's input_scales).
    A false alarm of the whole test: < 1e-7."""
    experiment = build_experiment()
    algorithm = experiment.algorithm
    algorithm.setup(experiment.model, experiment.dataset)
    seen = _record_draws(monkeypatch, algorithm)
    X = experiment.dataset.X[:100]
    for _ in range(20):
        algorithm.train_batch(X)
    assert len(seen) == 20
    assert [s for _, s in algorithm.spec.d_settings] == [1.25, 2.0, 2.0]
    z = torch.stack([s[0] for s in seen]).double().numpy()
    assert seen[0][0].shape == (100, 100) and seen[0][0].dtype == torch.float32
    assert z.min() >= -SQRT3 - 1e-6 and z.max() <= SQRT3 + 1e-6
    assert z.min() < -SQRT3 + 0.01 and z.max() > SQRT3 - 0.01
    n = z.size
    assert abs(z.mean()) <= Z * math.sqrt(1.0 / n)
    assert abs((z ** 2).mean() - 1.0) <= Z * math.sqrt(0.8 / n)   # var(z^2) = 9/5 - 1
    for layer, (p, width) in enumerate(zip((0.8, 0.5, 0.5), (784, 240, 240))):
        masks = torch.stack([s[1][layer] for s in seen]).double().numpy()  # (20, 200, width)
        assert masks.shape == (20, 200, width)
        assert set(np.unique(masks)) <= {0.0, 1.0}
        k = masks.size
        assert abs(masks.mean() - p) <= Z * math.sqrt(p * (1 - p) / k), (layer, masks.mean())
        agree = p * p + (1 - p) ** 2
        sd = math.sqrt(agree * (1 - agree) / (k / 2))
        halves = (masks[:, :100] == masks[:, 100:]).mean()
        assert abs(halves - agree) <= Z * sd, (layer, halves)
        steps = (masks[1:] == masks[:-1]).mean()
        assert abs(steps - agree) <= Z * math.sqrt(agree * (1 - agree) / masks[1:].size), \
            (layer, steps)
    # The fresh noise also differs from step to step.
    assert not torch.equal(seen[0][0], seen[1][0])


def test_sgd_train_consumes_the_2014_batch_order_and_decays_lr_per_batch(reference, monkeypatch,
                                                                          one_torch_thread):
    """SGD.train() on the unmodified mnist.yaml (the step itself replaced by a recorder): epoch 1's
    first batch is exactly the fixture's 2014 batch (rows of X equal, 0 tolerance); epoch e's
    batches are the e-th shuffle of ONE RandomState([2012, 10, 5]) (epochs 1 and 2 equal the first
    two shuffles of the shared iterator, and differ from each other); and after every batch the
    learning rate is set to lr0 / 1.000004^count (Pylearn2's ExponentialDecay, an update callback,
    float64 arithmetic rounded to float32): after the 500 batches of epoch 1 it equals
    float32(0.1 / 1.000004^500) exactly (one decay per epoch would leave 0.1 / 1.000004)."""
    from gan2014.iteration import shuffled_sequential_batches

    experiment = build_experiment()
    algorithm, data = experiment.algorithm, experiment.dataset
    algorithm.setup(experiment.model, data)
    seen = _record_draws(monkeypatch, algorithm, no_draws=True)
    lr0 = algorithm.learning_rate
    algorithm.train(data)
    epoch1 = [s[2].numpy() for s in seen]
    assert len(epoch1) == 500
    assert algorithm.learning_rate == float(np.float32(float(np.float32(lr0)) / 1.000004 ** 500))
    first = np.asarray(reference["step0_nodropout"]["batch_indices"])
    np.testing.assert_array_equal(epoch1[0], data.X[first])
    seen.clear()
    algorithm.train(data)
    epoch2 = [s[2].numpy() for s in seen]
    rng = np.random.RandomState([2012, 10, 5])
    for epoch in (epoch1, epoch2):
        order = shuffled_sequential_batches(data.X.shape[0], 100, rng)
        for j in (0, 1, 250, 499):
            np.testing.assert_array_equal(epoch[j], data.X[order[j]])
    assert not np.array_equal(epoch1[0], epoch2[0])


# The channels that depend only on the initial parameters and the validation data: weight norms,
# and D on the data (dis_on_samp_* by the 2014 name swap; false negatives). All others depend on the
# noise drawn for monitoring (G's samples): 2014 drew it from Theano's MRG streams, this port from
# torch.Generators, so those agree only in distribution.
def deterministic(name):
    return "norms" in name or name.startswith(("valid_dis_on_samp_", "valid_false_negatives"))


NOT_CHANNELS = MONITOR_COUNTERS


def test_epoch0_monitor_equals_the_2014_printout(one_torch_thread):
    """The epoch-0 monitoring of the unmodified mnist.yaml against the block the 2014 code printed
    (parity_tests/fixtures/original_2014_mnist_epoch0_monitor.txt), channel by channel:

    * every channel of the 2014 block exists here (the epoch counters and timers excepted);
    * every channel that depends only on the initial parameters and the validation data (weight
      norms; the discriminator's statistics on the data, named dis_on_samp_* by the 2014 name swap)
      within 5e-6 relative of the printed digits: the printout has 8 significant digits and the
      monitor averages 100 float32 batch values, whose summation order differs (measured: at most
      1.4e-6 relative); a wrong weight, maxout grouping or data scaling is an error > 1e-3;
    * learning_rate, momentum and now_train_generator are exactly float32 .1, .5 and 1 here; 2014
      printed them within 1e-6 relative of those (its float32 average of 100 equal values);
    * the channels of generated samples (noise from another generator here) within 5 % relative
      of 2014's objectives (both ~ln 2 at initialisation) and the printed mean sample channels
      within 1 % (means over 10,000 samples; measured 3e-4 at most) -- distribution-level checks.
    """
    reference = read_monitor_block(EPOCH0_MONITOR_2014)
    experiment = build_experiment()
    algorithm = experiment.algorithm
    algorithm.setup(experiment.model, experiment.dataset)
    ours = algorithm.monitor(experiment.model)
    missing = [k for k in reference if k not in ours and k not in NOT_CHANNELS]
    assert not missing, missing
    checked, worst = 0, {"deterministic": 0.0, "objectives": 0.0, "sample means": 0.0}
    for name, printed in reference.items():
        if name in NOT_CHANNELS:
            continue
        value = float(ours[name])
        rel = abs(value - printed) / abs(printed) if printed else abs(value)
        kind = "deterministic" if deterministic(name) else \
            "objectives" if name.startswith("valid_objective") else \
            "sample means" if name.endswith("mean_u") and "gen_y" in name else None
        if kind and name not in ACCUMULATED_CONSTANTS:
            worst[kind] = max(worst[kind], rel)
        if name in ACCUMULATED_CONSTANTS:
            assert value == float(np.float32(ACCUMULATED_CONSTANTS[name])), name
            assert printed == pytest.approx(value, rel=1e-6)
        elif not deterministic(name):
            if name in ("valid_objective", "valid_objective_d", "valid_objective_g"):
                assert value == pytest.approx(printed, rel=0.05), name
            elif name.endswith("mean_u") and "gen_y" in name:
                assert value == pytest.approx(printed, rel=0.01), name
        else:
            assert value == pytest.approx(printed, rel=5e-6), (name, value, printed)
            checked += 1
    assert checked == 91  # the deterministic channels of the 2014 block
    print("epoch-0 monitor vs 2014, largest relative difference: "
          + ", ".join(f"{k} {v:.2g}" for k, v in worst.items()))
