"""The Aesara backend's training step, seen where the step-1 parameter tests cannot see it.

The counterpart of test_torch_updates_and_draws_2014.py, on the unmodified mnist.yaml built by the
legacy_aesara registry (what `python -m legacy_aesara.run` trains):

* updates, not parameters: G's whole first update is ~1e-8 per entry, invisible to a tolerance of
  1e-7 on the parameter, so the stored velocity (the update itself: Pylearn2's p <- p + v) is
  compared with -lr * g_2014 at step 1 (probes, sum, sum of squares and absmax of the fixture) and
  with mu * v - lr * g(p) at steps 2 and 3, g being the 2014 graph's aesara.grad gradient at the
  parameters before the step (a simultaneous step), relative to the update's own scale;
* the draws of a REAL training step (noise and masks drawn by the compiled update function):
  Aesara's MRG_RandomStream is Theano's MRG31k3p, so with the 2014 seeds (D's training graph takes
  the 7th and 8th randint of D's RandomState([2013, 1, 4]), after the objective and monitor graphs)
  the first step must draw exactly the six masks the 2014 run recorded; the laws (noise, keep rates,
  independence, freshness) are checked statistically over 20 steps;
* SGD.train() itself: the 2014 batch order and a learning-rate decay per batch;
* the epoch-0 monitor against the block the 2014 code printed.
"""
import math

import numpy as np
import pytest

import legacy_aesara  # noqa: F401  (Aesara flags first)
from gan2014.fingerprints import load_reference, unpack_mask
from parity_tests.helpers import (ACCUMULATED_CONSTANTS, EPOCH0_MONITOR_2014, MONITOR_COUNTERS,
                                  REFERENCE_2014, needs_real_mnist, read_monitor_block)
from parity_tests.helpers import build_experiment as build_for

SQRT3 = math.sqrt(3.0)
LAYERS = ("h0", "h1", "y")
# D's dropout in mnist.yaml: (include probability, scale) of the inputs of h0, h1 and y.
PLAN_2014 = [(0.8, 1.25), (0.5, 2.0), (0.5, 2.0)]
WIDTHS = (784, 240, 240)
# Two-sided bound of 6 standard deviations: a false alarm has probability < 2e-9 per check (normal
# approximation; every sample below has >= 1e5 draws); the mutant laws sit hundreds of sd away.
Z = 6.0
DRAW_STEPS = 20

pytestmark = [
    needs_real_mnist,
    # Aesara's own import-time deprecation notice (distutils.find_executable), not ours.
    pytest.mark.filterwarnings("ignore:Use shutil.which instead of find_executable"),
]


@pytest.fixture(scope="module")
def reference():
    return load_reference(REFERENCE_2014)


def build_experiment():
    """The Train object of the unmodified mnist.yaml, built by the Aesara registry."""
    return build_for("aesara")


def step0_inputs(experiment, reference):
    """The first 2014 minibatch and the noise z = RandomState(1234).uniform(+-sqrt 3) as float32."""
    X = experiment.dataset.get_design_matrix()[np.asarray(reference["step0_nodropout"]
                                                          ["batch_indices"])]
    z = np.random.RandomState(1234).uniform(-SQRT3, SQRT3, (100, 100)).astype(np.float32)
    return np.ascontiguousarray(X, dtype=np.float32), z


def velocities(algorithm):
    return {name[len("velocity/"):]: value for name, value in algorithm.state_arrays().items()
            if name.startswith("velocity/")}


# ------------------------------------------------------------------------------ updates
@pytest.fixture(scope="module")
def fed_sgd():
    """The model and SGD of mnist.yaml set up without the monitor (it plays no part in an update
    and costs a compilation), and the initial parameters; tests feed z and switch dropout off."""
    experiment = build_experiment()
    algorithm = experiment.algorithm
    algorithm.monitoring_dataset = None
    algorithm.setup(experiment.model, experiment.dataset)
    experiment.fresh_callbacks = [callback.state_dict() for callback in algorithm.update_callbacks]
    return experiment, experiment.model.get_param_values()


def restart(experiment, initial, lr=0.1, momentum=0.5):
    """Initial parameters, zero velocities, the given learning rate and momentum, and the update
    callbacks (the learning-rate decay) as they were before the first batch."""
    algorithm = experiment.algorithm
    experiment.model.set_param_values(initial)
    for callback, state in zip(algorithm.update_callbacks, experiment.fresh_callbacks):
        callback.load_state_dict(state)
    for velocity in algorithm.learning_rule.velocities.values():
        velocity.set_value(np.zeros_like(velocity.get_value()))
    algorithm.learning_rate.set_value(np.float32(lr))
    algorithm.learning_rule.momentum.set_value(np.float32(momentum))


def test_step1_velocity_is_minus_lr_times_the_2014_gradient(reference, fed_sgd):
    """Step 1 on the fixture's batch and z (no dropout), on the path training uses: for every
    parameter the velocity v1 equals -lr * g_2014 at the 64 probes within 1e-5 * lr * absmax(g_2014)
    (D/y_b: lr * 1e-7 absolute), the gradient tolerance of test_aesara_fingerprints_2014.py on the
    update's own scale (a halved, doubled or wrong-signed G step is an error of 0.5 - 2 of it);
    the whole array through the fixture's float64 sums: absmax within 1e-5 relative, sum of squares
    within 1e-4 relative (float32 rounding of ~1e6 terms each within 1e-5 relative gives at most
    ~2e-5), sum within 1e-5 * lr * absmax * sqrt(size) (an error between the probes); and
    p1 = p0 + v1 exactly in float32 (Pylearn2's p <- p + v; mnist.yaml sets no max-norm
    constraint)."""
    experiment, initial = fed_sgd
    restart(experiment, initial)
    algorithm = experiment.algorithm
    lr = float(np.float32(reference["step1_nodropout_params"]["lr"]))
    X, z = step0_inputs(experiment, reference)
    algorithm.train_batch(X, z=z, masks=None)
    v1 = velocities(algorithm)
    p1 = experiment.model.get_param_values()
    worst = 0.0
    for name, record in reference["step0_nodropout"]["grad"].items():
        v = v1[name].astype(np.float64)
        scale = lr * record["absmax"]
        tol = lr * 1e-7 if name == "D/y_b" else 1e-5 * scale
        err = float(np.abs(v.reshape(-1)[np.asarray(record["idx"])]
                           + lr * np.asarray(record["val"])).max())
        assert err <= tol, f"{name}: velocity off -lr*g_2014 by {err:.3g} (scale {scale:.3g})"
        if name != "D/y_b":
            worst = max(worst, err / scale)
            assert float(np.abs(v).max()) == pytest.approx(scale, rel=1e-5), name
            assert float((v ** 2).sum()) == pytest.approx(lr * lr * record["sumsq"], rel=1e-4), name
            assert abs(float(v.sum()) + lr * record["sum"]) <= tol * math.sqrt(v.size), name
        np.testing.assert_array_equal(p1[name], (initial[name] + v1[name]).astype(np.float32),
                                      err_msg=name)
    print(f"step-1 velocity vs -lr * g_2014: worst {worst:.2g} of lr * absmax(g) (D/y_b aside)")


def test_steps_2_and_3_follow_pylearn2_momentum_simultaneously(fed_sgd):
    """Three float32 steps of the training path on three batches, the learning rate changed between
    steps (.1, then .03, then .17) and momentum .5: every stored velocity must equal
    mu * v_prev - lr_t * g(p_prev) (Pylearn2's Momentum: v <- mu v - lr g; p <- p + v), with g the
    gradient for BOTH nets at the parameters before the step (a simultaneous update), computed by
    the gradient graph the training path compiles (fused_step.evaluate_gradients for the fused
    path, aesara.grad of the 2014 graph otherwise), within 2e-5 * absmax of the expected update per
    array (D/y_b: plus lr * 1e-7 absolute, its gradient's float32 rounding): the same graph gives
    the same gradient, and the update adds float32 rounding of ~1e-7; and the new parameters
    p = p_prev + v within 1 float32 ulp of the parameter (the compiled update may fuse the
    multiply-adds). The gradient of the other path is not the yardstick here: the fused path runs
    D once on the stacked 200-row batch, and a BLAS whose products round a row differently in a
    200-row product than in a 100-row one can flip a maxout near-tie at initialisation, moving a
    few entries by ~1e-3 of absmax (parity_tests/test_aesara_paths.py compares the two paths).
    torch.optim's rule (v <- mu v + g; p <- p - lr v) stores a velocity 1/lr times too large, a
    sequential D-then-G step moves G's gradient by D's update (~1e-2 relative), a wrong G step
    size or sign is an error of 0.5 - 2."""
    from legacy_aesara.adversarial import evaluate_step
    from legacy_aesara.training_algorithms.fused_step import evaluate_gradients

    experiment, initial = fed_sgd
    restart(experiment, initial)
    model, algorithm = experiment.model, experiment.algorithm
    mu = float(algorithm.learning_rule.momentum.get_value())
    assert mu == 0.5
    X_all = experiment.dataset.get_design_matrix()
    rng = np.random.RandomState(7)
    previous = model.get_param_values()
    velocity = {name: np.zeros_like(value) for name, value in previous.items()}
    worst = 0.0
    for step, lr in enumerate((0.1, 0.03, 0.17)):
        X = X_all[rng.choice(X_all.shape[0], 100, replace=False)].astype(np.float32)
        z = rng.uniform(-SQRT3, SQRT3, (100, 100)).astype(np.float32)
        g = (evaluate_gradients(model, algorithm.cost, X, z, masks=None)
             if algorithm.uses_fused_gradients(model)
             else evaluate_step(model, algorithm.cost, X, z, masks=None)["grads"])
        algorithm.learning_rate.set_value(np.float32(lr))
        lr32 = float(np.float32(lr))
        algorithm.train_batch(X, z=z, masks=None)
        now, stored = model.get_param_values(), velocities(algorithm)
        for name in previous:
            expected = mu * velocity[name].astype(np.float64) - lr32 * g[name].astype(np.float64)
            scale = float(np.abs(expected).max())
            err = float(np.abs(stored[name] - expected).max())
            tol = 2e-5 * scale + (lr32 * 1e-7 if name == "D/y_b" else 0.0)
            assert err <= tol, f"step {step + 1}, {name}: velocity off by {err:.3g} of {scale:.3g}"
            sum32 = (previous[name] + stored[name]).astype(np.float32)
            ulp = np.spacing(np.abs(now[name])).max()
            assert np.abs(now[name].astype(np.float64) - sum32).max() <= ulp, name
            if name != "D/y_b":
                worst = max(worst, err / scale)
        previous, velocity = now, stored
    print(f"steps 1-3: worst |v - (mu v_prev - lr g)| = {worst:.2g} of absmax(update)")


def test_sgd_train_consumes_the_2014_batch_order_and_decays_lr_per_batch(reference, fed_sgd,
                                                                          monkeypatch):
    """SGD.train() on the unmodified mnist.yaml (the compiled update replaced by a recorder of its
    batch): epoch 1's first batch is exactly the fixture's 2014 batch (rows equal, 0 tolerance);
    epoch e's batches are the e-th shuffle of ONE RandomState([2012, 10, 5]) (epochs 1 and 2 equal
    the first two shuffles of one iterator at batches 0, 1, 250, 499 and differ from each other);
    and after every batch the learning rate is lr0 / 1.000004^count (Pylearn2's ExponentialDecay,
    an update callback, float64 arithmetic on the float32 base rounded to float32): after the 500
    batches of epoch 1 it equals float32(float32(0.1) / 1.000004^500) exactly (one decay per epoch
    would leave 0.1 / 1.000004)."""
    from gan2014.iteration import shuffled_sequential_batches

    experiment, initial = fed_sgd
    restart(experiment, initial)
    algorithm, data = experiment.algorithm, experiment.dataset
    seen = []
    monkeypatch.setattr(algorithm, "sgd_update", lambda X: seen.append(np.array(X)))
    X = data.get_design_matrix()
    algorithm.train(data)
    epoch1 = list(seen)
    assert len(epoch1) == 500
    expected = float(np.float32(float(np.float32(0.1)) / 1.000004 ** 500))
    assert float(algorithm.learning_rate.get_value()) == expected
    np.testing.assert_array_equal(epoch1[0], X[np.asarray(reference["step0_nodropout"]
                                                           ["batch_indices"])])
    seen.clear()
    algorithm.train(data)
    epoch2 = list(seen)
    rng = np.random.RandomState([2012, 10, 5])
    for epoch in (epoch1, epoch2):
        order = shuffled_sequential_batches(X.shape[0], 100, rng)
        for j in (0, 1, 250, 499):
            np.testing.assert_array_equal(epoch[j], X[order[j]])
    assert not np.array_equal(epoch1[0], epoch2[0])


# ------------------------------------------------------------------------------ draws
def _record_training_draws(experiment):
    """Set up the SGD exactly as training does (the monitor's graphs are built, so every MRG seed
    is drawn in the 2014 order; compiling the monitor is skipped, it has no effect on seeds) while
    recording every mask and noise variable built; keep those the compiled update function draws.
    Returns (X, [masks of D's real-batch stream], [masks of its generated-batch stream], noise)."""
    from aesara.compile.sharedvalue import SharedVariable
    from aesara.graph.basic import Constant, graph_inputs

    from legacy_aesara.models.mlp import quiet_mrg
    from legacy_aesara.monitor import Monitor
    with quiet_mrg():
        from aesara.sandbox.rng_mrg import MRG_RandomStream

    model, algorithm = experiment.model, experiment.algorithm
    masks, noises = [], []
    binomial, get_noise = MRG_RandomStream.binomial, model.generator.get_noise

    def recording_binomial(stream, *args, **kwargs):
        masks.append((stream, binomial(stream, *args, **kwargs)))
        return masks[-1][1]

    def recording_noise(*args, **kwargs):
        noises.append(get_noise(*args, **kwargs))
        return noises[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MRG_RandomStream, "binomial", recording_binomial)
        patch.setattr(model.generator, "get_noise", recording_noise)
        patch.setattr(Monitor, "compile", lambda monitor: None)
        algorithm.setup(model, experiment.dataset)
    streams = model.discriminator.dropout_streams
    # The MRG states (one shared variable per sampling call) that the update function advances.
    states = {item.variable for item in algorithm.sgd_update.maker.inputs} & {
        update[0] for stream in streams + [model.generator.theano_rng]
        for update in stream.state_updates}

    def drawn_by_update(variable):
        return any(v in states for v in graph_inputs([variable]))

    used = [(streams.index(s), i, m) for i, (s, m) in enumerate(masks) if drawn_by_update(m)]
    keys = sorted({index for index, _, _ in used})
    assert len(keys) == 2, f"the update draws masks from {len(keys)} of D's streams, not 2"
    halves = [[m for index, _, m in sorted(used) if index == key] for key in keys]
    noise = [n for n in noises if drawn_by_update(n)]
    assert len(noise) == 1, f"the update draws {len(noise)} noise matrices, not 1"
    inputs = {v for m in halves[0] + halves[1] + noise for v in graph_inputs([m])
              if not isinstance(v, (SharedVariable, Constant))}
    assert len(inputs) == 1, inputs
    return inputs.pop(), halves[0], halves[1], noise[0]


@pytest.fixture(scope="module")
def training_draws(reference):
    """What the first DRAW_STEPS real training steps (train_batch(X): noise and masks drawn by the
    compiled update) draw, read before each step by a function of the same random variables that
    leaves the streams' states alone; plus the parameters and velocities around step 1."""
    import aesara

    experiment = build_experiment()
    X_var, data, samp, noise = _record_training_draws(experiment)
    peek = aesara.function([X_var], data + samp + [noise], no_default_updates=True,
                           name="peek_training_draws")
    X, _z = step0_inputs(experiment, reference)
    algorithm = experiment.algorithm
    steps, p0 = [], experiment.model.get_param_values()
    lr = float(algorithm.learning_rate.get_value())
    for step in range(DRAW_STEPS):
        values = [np.asarray(v) for v in peek(X)]
        steps.append({"data": values[:3], "samp": values[3:6], "z": values[6]})
        algorithm.train_batch(X)
        if step == 0:
            v1 = velocities(algorithm)
    return {"experiment": experiment, "steps": steps, "X": X, "p0": p0, "v1": v1, "lr": lr}


def test_first_training_step_draws_the_2014_masks_exactly(reference, training_draws):
    """The six masks the first real training step draws (D's inputs of h0, h1, y for the real batch
    and for the generated one, from the MRG streams seeded by D's RandomState in the 2014 graph
    order) equal the masks the 2014 run recorded, bit for bit (Aesara's MRG_RandomStream is
    Theano's MRG31k3p; the fixture stores the masks whole): tolerance 0. A shifted seed (one graph
    more or fewer built before the update, or a seed taken from the wrong RandomState) gives masks
    that agree on ~68 % (p .8) or ~50 % (p .5) of entries only."""
    stored = reference["step0_dropout_fixed_masks"]["masks"]
    first = training_draws["steps"][0]
    for half in ("data", "samp"):
        for layer, mask in zip(LAYERS, first[half]):
            expected = unpack_mask(stored[f"mask_{half}_{layer}"])
            assert mask.shape == expected.shape, (half, layer, mask.shape)
            agree = float((mask == expected).mean())
            assert agree == 1.0, f"mask_{half}_{layer}: agrees with 2014 on {agree:.1%} only"


def test_first_training_step_uses_its_draws_with_the_fake_half_reused_for_g(training_draws):
    """The first real training step's update is -lr * g, g the aesara.grad gradient of the 2014
    graph (D on the real and the generated batch with their own masks; g_obj on the SAME generated
    half, masks included) evaluated with the noise and masks read before that step: within
    1e-5 * lr * absmax(g) per array (the training path's fused gradients agree with aesara.grad to
    ~1e-6 of absmax; D/y_b: plus lr * 1e-7 absolute). So the peeked draws are what the step used;
    masks swapped between the halves, shared by them, or fresh masks for G's objective are errors
    of order 1 in D's or G's update."""
    from legacy_aesara.adversarial import evaluate_step

    experiment = training_draws["experiment"]
    first, lr = training_draws["steps"][0], training_draws["lr"]
    experiment.model.set_param_values(training_draws["p0"])
    grads = evaluate_step(experiment.model, experiment.algorithm.cost, training_draws["X"],
                          first["z"], masks={"data": first["data"], "samp": first["samp"]})["grads"]
    worst = 0.0
    for name, g in grads.items():
        g = g.astype(np.float64)
        scale = lr * float(np.abs(g).max())
        err = float(np.abs(training_draws["v1"][name] + lr * g).max())
        tol = 1e-5 * scale + (lr * 1e-7 if name == "D/y_b" else 0.0)
        assert err <= tol, f"{name}: step-1 velocity off -lr*g by {err:.3g} of {scale:.3g}"
        worst = worst if name == "D/y_b" else max(worst, err / scale)
    print(f"real step 1 vs -lr * g(peeked draws): worst {worst:.2g} of the update (D/y_b aside)")


def test_training_draws_follow_the_2014_laws(training_draws):
    """What 20 real training steps draw (train_batch without z or masks, the default path):

    * noise z: (100, 100) float32 in [-sqrt 3, sqrt 3] (exact), reaching within .01 of both ends
      (missing it by chance: < exp(-500)), mean within 6 sd of 0 and mean of z^2 within 6 sd of 1
      (U(-sqrt 3, sqrt 3) has variance 1; U(-1, 1) would be 1/3, 330 sd away);
    * D's masks: 0/1 float32 of shape (100, width) per layer input and half, keep rates .8, .5, .5
      within 6 binomial sd (sd 2.0e-4 - 7.2e-4; false alarm < 2e-9 per layer), with the scales
      1.25, 2, 2 of the cost's plan;
    * independence: the agreement of the real and fake halves, and of the same layer's masks on
      consecutive steps, within 6 sd of p^2 + (1 - p)^2 (a reused mask agrees 100 %); fresh noise
      every step.
    A false alarm of the whole test: < 1e-7."""
    experiment, steps = training_draws["experiment"], training_draws["steps"]
    cost, d = experiment.algorithm.cost, experiment.model.discriminator
    assert [tuple(map(float, entry)) for entry in cost.discriminator_plan(d)] == PLAN_2014
    z = np.stack([s["z"] for s in steps]).astype(np.float64)
    assert steps[0]["z"].shape == (100, 100) and steps[0]["z"].dtype == np.float32
    assert z.min() >= -SQRT3 - 1e-6 and z.max() <= SQRT3 + 1e-6
    assert z.min() < -SQRT3 + 0.01 and z.max() > SQRT3 - 0.01
    assert abs(z.mean()) <= Z * math.sqrt(1.0 / z.size)
    assert abs((z ** 2).mean() - 1.0) <= Z * math.sqrt(0.8 / z.size)   # var(z^2) = 9/5 - 1
    assert all(not np.array_equal(a["z"], b["z"]) for a, b in zip(steps, steps[1:]))
    for layer, ((p, _scale), width) in enumerate(zip(PLAN_2014, WIDTHS)):
        masks = np.stack([np.concatenate([s["data"][layer], s["samp"][layer]]) for s in steps])
        assert masks.shape == (DRAW_STEPS, 200, width) and masks.dtype == np.float32
        assert set(np.unique(masks)) <= {0.0, 1.0}
        k = masks.size
        assert abs(masks.mean() - p) <= Z * math.sqrt(p * (1 - p) / k), (layer, masks.mean())
        agree = p * p + (1 - p) ** 2
        halves = (masks[:, :100] == masks[:, 100:]).mean()
        assert abs(halves - agree) <= Z * math.sqrt(agree * (1 - agree) / (k / 2)), (layer, halves)
        consecutive = (masks[1:] == masks[:-1]).mean()
        sd = math.sqrt(agree * (1 - agree) / masks[1:].size)
        assert abs(consecutive - agree) <= Z * sd, (layer, consecutive)



# ------------------------------------------------------------------------------ monitor
# A gradient norm that is zero in exact arithmetic (D's cost with its own output as the target):
# what 2014 printed and what is computed here are float32 rounding residue (~1.7e-11).
ROUNDING_RESIDUE = "valid_sample_grad_norm"
# The spread of D's output (max - min of sigmoids ~0.5, whose float32 spacing is 6e-8) is ~3e-6:
# one ulp in one batch's max moves the 100-batch average by 6e-10 (2e-4 of it). Bounded absolutely
# by one ulp of 0.5 (as if every batch were one ulp off); wrong weights move it by its own size.
D_OUTPUT_SPREAD = ("valid_dis_on_data_y_range_x_", "valid_dis_on_samp_y_range_x_")
SPREAD_TOL = 2.0 ** -24


def test_epoch0_monitor_equals_the_2014_printout():
    """The epoch-0 monitoring of the unmodified mnist.yaml (the SGD set up as training sets it up,
    so the monitor's noise and G's samples come from the 2014 MRG seeds) against the block the 2014
    code printed (parity_tests/fixtures/original_2014_mnist_epoch0_monitor.txt), channel by channel:

    * every channel of the 2014 block exists here and no other (the counters and timers aside);
    * every channel, those of generated samples included (Aesara's MRG streams are Theano's, so
      the noise is the same), within 5e-6 relative of the printed digits: the printout has 8
      significant digits and the monitor averages 100 float32 batch values whose summation order
      (BLAS) differs; a wrong weight, maxout grouping, noise law or seed is an error > 1e-3;
    * learning_rate, momentum and now_train_generator exactly as printed (float32): the monitor
      averages them as Pylearn2 did, 100 equal float32 values, and gets 2014's 0.100000024,
      0.49999967 and 0.99999934, a few ulp off .1, .5 and 1;
    * the one exception, valid_sample_grad_norm, is zero in exact arithmetic (D's cost with its own
      output as the target) and both values are float32 residue of ~1.7e-11: within 5 % relative
      of the printed value (a real gradient would be orders of magnitude larger); and the spread of
      D's output (range_x of D/y, ~3e-6, a difference of two float32 values near .5) within 2^-24
      absolute, one float32 ulp of .5 (measured: one ulp in one of the 100 batches, 6e-10)."""
    experiment = build_experiment()
    algorithm = experiment.algorithm
    algorithm.setup(experiment.model, experiment.dataset)
    ours = algorithm.monitor(experiment.model)
    printed = {k: v for k, v in read_monitor_block(EPOCH0_MONITOR_2014).items()
               if k not in MONITOR_COUNTERS}
    assert sorted(ours) == sorted(printed), set(ours) ^ set(printed)
    worst = (0.0, None)
    for name, value in printed.items():
        if name in ACCUMULATED_CONSTANTS:
            assert np.float32(ours[name]) == np.float32(value), (name, ours[name], value)
        elif name == ROUNDING_RESIDUE:
            assert ours[name] == pytest.approx(value, rel=0.05), (name, ours[name], value)
        elif name.startswith(D_OUTPUT_SPREAD):
            assert abs(ours[name] - value) <= SPREAD_TOL, (name, ours[name], value)
        else:
            assert ours[name] == pytest.approx(value, rel=5e-6), (name, ours[name], value)
            worst = max(worst, (abs(ours[name] - value) / abs(value) if value else 0.0, name))
    print(f"epoch-0 monitor vs 2014: largest relative difference {worst[0]:.2g} ({worst[1]}); "
          f"{ROUNDING_RESIDUE} {ours[ROUNDING_RESIDUE]:.5g} vs {printed[ROUNDING_RESIDUE]:.5g}")
