"""Mutation suite: named fidelity bugs a port really makes, each of which the fast tests must catch.

Each mutation is a textual patch (exact search -> replace of a code fragment; a fragment no longer
found is an error, so code drift is noticed) applied to a FRESH copy of the source trees in a
temporary folder (data and the Aesara compile cache are symlinked). pytest then runs in that copy;
the mutation is *killed* when at least one test fails.

    python -m parity_tests.mutations           # full: every mutation against all its candidate
                                               # tests
    python -m parity_tests.mutations --quick   # cheap: every mutation against its recorded
                                               # killer only
    python -m parity_tests.mutations --only NAME [--only NAME ...]   (--jobs N: N runs at a time)

The full form reports, for each mutation, every candidate test that killed it and how long the run
took; its map of killers is what `killers` records (the first, cheapest one is what --quick and the
CI test run). Exit status 0 only if the unmutated copy passes and every mutation is killed.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TREES = ("gan2014", "port_torch", "legacy_aesara", "parity_tests", "tests", "yaml_experiments")
FILES = ("conftest.py", "pytest.ini", "setup.py")
LINKS = ("data", ".aesara_compiledir")

TORCH_UPDATES = "parity_tests/test_torch_updates_and_draws_2014.py"
TORCH_2014 = "parity_tests/test_torch_fingerprints_2014.py"
STEP1 = TORCH_UPDATES + "::test_step1_velocity_is_minus_lr_times_the_2014_gradient"
STEPS23 = TORCH_UPDATES + "::test_steps_2_and_3_follow_pylearn2_momentum_simultaneously"
DRAWS = TORCH_UPDATES + "::test_training_draws_the_2014_noise_and_masks"
ORDER = TORCH_UPDATES + "::test_sgd_train_consumes_the_2014_batch_order_and_decays_lr_per_batch"
INIT = TORCH_2014 + "::test_initial_parameters_are_the_2014_draws"
STEP0 = TORCH_2014 + "::test_step0_without_dropout"
STEP0_MASKS = TORCH_2014 + "::test_step0_with_the_2014_dropout_masks"
FUSED_MASKS = TORCH_2014 + "::test_fused_gradients_with_the_2014_dropout_masks"
SCHEDULES = "tests/test_schedules.py::test_momentum_schedule_includes_the_epoch0_call"
PARZEN = "tests/test_parzen.py::test_evaluate_reports_mean_and_population_standard_error"
TABLE1 = "tests/test_table1_scoring.py"
TIES = "tests/test_maxout_gradient_ties.py"
POOL_TIES = TIES + "::test_torch_max_pool_sends_the_whole_gradient_to_every_tied_pixel"
PIECE_TIES = TIES + "::test_dense_maxout_sends_the_whole_gradient_to_every_tied_piece"

AESARA_UPDATES = "parity_tests/test_aesara_updates_and_draws_2014.py"
AESARA_2014 = "parity_tests/test_aesara_fingerprints_2014.py"
A_STEP1 = AESARA_UPDATES + "::test_step1_velocity_is_minus_lr_times_the_2014_gradient"
A_STEPS23 = AESARA_UPDATES + "::test_steps_2_and_3_follow_pylearn2_momentum_simultaneously"
A_ORDER = AESARA_UPDATES + "::test_sgd_train_consumes_the_2014_batch_order_and_decays_lr_per_batch"
A_MASKS = AESARA_UPDATES + "::test_first_training_step_draws_the_2014_masks_exactly"
A_USES = (AESARA_UPDATES
          + "::test_first_training_step_uses_its_draws_with_the_fake_half_reused_for_g")
A_LAWS = AESARA_UPDATES + "::test_training_draws_follow_the_2014_laws"
A_STEP0 = AESARA_2014 + "::test_step0_without_dropout_matches_2014"
A_STEP0_MASKS = AESARA_2014 + "::test_step0_with_the_2014_dropout_masks_matches_2014"
A_FUSED_MASKS = AESARA_2014 + "::test_fused_gradients_match_2014[2014-masks]"

# The fast tests a full run tries against a mutation of each backend (all of them; a kill by any
# counts); a "shared" mutation (gan2014) is tried against both backends' tests.
COMMON = ("tests/test_schedules.py", "tests/test_parzen.py", TABLE1, "tests/test_dbm.py",
          "tests/test_init_and_iteration.py")
CANDIDATES = {"torch": (TORCH_UPDATES, TORCH_2014, TIES) + COMMON,
              "aesara": (AESARA_UPDATES, AESARA_2014) + COMMON,
              "shared": (TORCH_UPDATES, TORCH_2014, AESARA_UPDATES, AESARA_2014) + COMMON}


class AnchorMissing(RuntimeError):
    """A mutation's search text is no longer in the file it patches (the code moved on)."""


@dataclass(frozen=True)
class Mutation:
    name: str
    backend: str          # which backend it applies to: "torch", "aesara" or "shared" (gan2014)
    edits: tuple          # ((path, search, replace), ...)
    killers: tuple        # the recorded killing tests, cheapest first (measured by the full run)
    description: str

    def patched(self, root):
        """{path: patched text} of the files under `root` this mutation changes; AnchorMissing if
        a fragment is not found exactly once."""
        texts = {}
        for path, search, replace in self.edits:
            text = texts.get(path)
            if text is None:
                text = (Path(root) / path).read_text(encoding="utf-8")
            count = text.count(search)
            if count != 1:
                raise AnchorMissing(f"{self.name}: the fragment to patch occurs {count} times in "
                                    f"{path} (expected once):\n{search}")
            texts[path] = text.replace(search, replace)
        return texts

    def apply(self, root):
        for path, text in self.patched(root).items():
            (Path(root) / path).write_text(text, encoding="utf-8")


FUSED = "port_torch/training_algorithms/fused_step.py"
STEP_CORE = "    momentum_update_(params, velocities, grads, lr, momentum)\n"


def _g_update_times(factor):
    """step_core with G's gradients scaled by `factor` between the gradient and the update."""
    return (f"    grads = [(Outer(g.left, g.right * {factor}) if isinstance(g, Outer) else g * "
            f"{factor})\n             if i < spec.n_g else g for i, g in "
            f"enumerate(grads)]\n" + STEP_CORE)


MUTATIONS = (
    Mutation("g_learning_rate_halved", "torch", ((FUSED, STEP_CORE, _g_update_times(0.5)),),
             (STEP1, STEPS23), "G's update uses lr / 2 (its gradient is right)"),
    Mutation("g_update_sign_flipped", "torch", ((FUSED, STEP_CORE, _g_update_times(-1.0)),),
             (STEP1, STEPS23), "G's update is +lr * g (its gradient is right)"),
    Mutation("torch_optim_momentum", "torch",
             ((FUSED, "gemm_(outer.left, outer.right, beta=momentum, alpha=-lr)",
               "gemm_(outer.left, outer.right, beta=momentum, alpha=1.0)"),
              (FUSED,
               "    torch._foreach_sub_(update_velocities, "
               "torch._foreach_mul([g for _, g in biases], lr))\n"
               "    torch._foreach_add_(params, velocities)\n",
               "    torch._foreach_add_(update_velocities, [g for _, g in biases])\n"
               "    torch._foreach_add_(params, torch._foreach_mul(velocities, -lr))\n")),
             (STEPS23, STEP1), "torch.optim's buf <- mu buf + g; p <- p - lr buf"),
    Mutation("sequential_d_then_g_update", "torch",
             ((FUSED, "    grads, d_obj, g_obj = gradients(spec, params, X, z, masks, g_flag)\n"
                      "    momentum_update_(params, velocities, grads, lr, momentum)\n",
               "    grads, d_obj, g_obj = gradients(spec, params, X, z, masks, g_flag)\n"
               "    n = spec.n_g\n    momentum_update_(params[n:], velocities[n:], grads[n:], lr, "
               "momentum)\n    grads, _, _ = gradients(spec, params, X, z, masks, g_flag)\n"
               "    momentum_update_(params[:n], velocities[:n], grads[:n], lr, momentum)\n"),),
             (STEPS23,), "D is updated first and G's gradient is taken at the new D"),
    Mutation("maxout_pieces_strided", "torch",
             (("port_torch/models/maxout.py",
               "a.view(*a.shape[:-1], self.num_units, self.num_pieces), dim=-1)",
               "a.view(*a.shape[:-1], self.num_pieces, self.num_units), dim=-2)"),
              (FUSED, "        return a.unflatten(-1, (-1, pieces)).amax(dim=-1)\n",
               "        return a.unflatten(-1, (pieces, -1)).amax(dim=-2)\n"),
              (FUSED, "        below_max = a.unflatten(-1, (-1, pieces)) - out.unsqueeze(-1)\n"
                      "        spread = delta.unsqueeze(-1).expand(below_max.shape).contiguous()\n",
               "        below_max = a.unflatten(-1, (pieces, -1)) - out.unsqueeze(-2)\n"
               "        spread = delta.unsqueeze(-2).expand(below_max.shape).contiguous()\n")),
             (STEP1, STEP0), "maxout takes units k, k+U, k+2U, ... instead of k*P ... k*P+P-1"),
    Mutation("dropout_scale_omitted", "torch",
             ((FUSED,
               "scaled = [None if m is None else m * s for m, (_, s) in zip(masks, "
               "spec.d_settings)]",
               "scaled = [None if m is None else m for m, (_, s) in zip(masks, "
               "spec.d_settings)]"),),
             (FUSED_MASKS,), "the kept units are not scaled by 1/p (1.25, 2, 2)"),
    Mutation("input_keep_rate_half", "torch",
             (("port_torch/random_streams.py",
               "(torch.rand(_mask_shape(width, rows), generator=generator, device=device) < p)",
               "(torch.rand(_mask_shape(width, rows), generator=generator, device=device) "
               "< min(p, .5))"),),
             (DRAWS,), "D's input is kept with probability .5 instead of .8"),
    Mutation("fresh_masks_for_g_obj", "torch",
             (("port_torch/adversarial.py", "        g_obj = cost(1.0, l_samp)\n",
               "        fresh = None if d_masks is None else [\n"
               "            None if m is None else m[torch.randperm(m.shape[0], "
               "generator=torch.Generator().manual_seed(1))[:B]] for m in d_masks]\n"
               "        g_obj = cost(1.0, D.logits(S, _only_dropped(fresh, d_settings),\n"
               "                                   scales=[s for _, s in d_settings]))\n"),),
             (STEP0_MASKS,), "g_obj sees D with other masks than the fake half of d_obj"),
    Mutation("noise_uniform_minus1_1", "torch",
             (("port_torch/random_streams.py",
               "generator=generator, device=device) * (2 * SQRT3) - SQRT3",
               "generator=generator, device=device) * 2.0 - 1.0"),),
             (DRAWS,), "the noise is U(-1, 1) instead of U(-sqrt 3, sqrt 3)"),
    Mutation("max_pool_tie_to_one_pixel", "torch",
             (("port_torch/linear/conv2d_c01b.py",
               "out = MaxPool.apply(c01b.permute(*C01B_TO_BC01), tuple(pool_shape), "
               "tuple(pool_stride))",
               "out = F.max_pool2d(c01b.permute(*C01B_TO_BC01), tuple(pool_shape), "
               "tuple(pool_stride), ceil_mode=True)"),),
             (POOL_TIES,), "the conv maxout's max pooling gives a tied window's gradient to one "
             "pixel (torch's own backward), not to every pixel equal to the maximum"),
    Mutation("maxout_tie_split_evenly", "torch",
             (("port_torch/models/maxout.py", "    return _MaxWithTheanoGradient.apply(x, dim)\n",
               "    return x.amax(dim=dim)\n"),),
             (PIECE_TIES,), "maxout differentiated by torch's amax, which splits a tied unit's "
             "gradient evenly among its equal pieces instead of giving each the whole of it"),
    Mutation("lr_decay_per_epoch", "shared",
             (("gan2014/training_algorithms/sgd_state.py",
               "        for callback in self.update_callbacks:\n",
               "        for callback in (self.update_callbacks if not self.batches_per_epoch\n"
               "                         or self.batches_seen % self.batches_per_epoch == 0"
               " else ()):\n"),),
             (ORDER, A_ORDER),
             "ExponentialDecay applied once per epoch instead of after every batch"),
    Mutation("momentum_saturates_one_epoch_early", "shared",
             (("gan2014/training_algorithms/schedules.py",
               "alpha = (self.count - self.start) / float(self.saturate - self.start)",
               "alpha = (self.count - self.start) / float(self.saturate - 1 - self.start)"),),
             (SCHEDULES,), "MomentumAdjustor reaches .7 at epoch 249 instead of 250"),
    Mutation("sigmoid_bias_without_clip", "shared",
             (("gan2014/models/dbm.py",
               "    mean = np.clip(X.mean(axis=0), MARGIN, 1 - MARGIN)\n",
               "    mean = X.mean(axis=0)\n"),),
             (INIT,), "init_sigmoid_bias_from_marginals without the clip to [1e-7, 1 - 1e-7]"),
    Mutation("parzen_se_ddof1", "shared",
             (("gan2014/parzen.py", "se=float(ll.std() / np.sqrt(ll.shape[0]))",
               "se=float(ll.std(ddof=1) / np.sqrt(ll.shape[0]))"),),
             (PARZEN,), "the Parzen standard error with the sample std (ddof 1)"),
    Mutation("sigma_chosen_on_test_set", "shared",
             (("gan2014/table1/protocol.py",
               "parzen_cli.run_protocol(samples, data.valid[:protocol.limit], scored,",
               "parzen_cli.run_protocol(samples, scored[:protocol.limit], scored,"),),
             (TABLE1,), "Table 1's sigma selected on the images it then scores"),
    Mutation("batch_order_reseeded_every_epoch", "shared",
             (("gan2014/training_algorithms/sgd_state.py",
               "shuffled_sequential_batches(num_examples, self.batch_size, self.rng)",
               "shuffled_sequential_batches(num_examples, self.batch_size,\n"
               "                                              "
               "np.random.RandomState([2012, 10, 5]))"),),
             (ORDER, A_ORDER),
             "every epoch re-seeds the shuffle (the same batch order each epoch)"),
)

# The Aesara backend (legacy_aesara): the same named bugs where they apply to its code.
A_SGD = "legacy_aesara/training_algorithms/sgd.py"
A_RULE = "legacy_aesara/training_algorithms/learning_rule.py"
A_FUSED = "legacy_aesara/training_algorithms/fused_step.py"
A_ADV = "legacy_aesara/adversarial.py"
A_MLP = "legacy_aesara/models/mlp.py"
A_SCALERS = "updates.update(self.learning_rule.get_updates(self.learning_rate, grads, lr_scalers))"


def _a_g_lr_times(factor):
    """SGD's learning-rule call with G's parameters given an lr scaler of `factor`: the step of
    G is factor * lr * g (its gradient is right)."""
    return A_SCALERS.replace("lr_scalers))", "{**lr_scalers, **{p: %r for p in "
                             "model.generator.get_params()}}))" % factor)


A_MOMENTUM = ("            updated_inc = self.momentum * inc - learning_rate"
              " * lr_scalers.get(param, 1.) * grad\n"
              "            updates[inc] = updated_inc\n"
              "            updates[param] = param + updated_inc\n")
A_TORCH_MOMENTUM = ("            updated_inc = self.momentum * inc"
                    " + lr_scalers.get(param, 1.) * grad\n"
                    "            updates[inc] = updated_inc\n"
                    "            updates[param] = param - learning_rate * updated_inc\n")
A_RETURN_UPDATES = "        model.modify_updates(updates)\n        return updates\n"
# G's new velocity and value recomputed with D's parameters replaced by their updated values.
A_SEQUENTIAL = ("        d_new = {p: updates[p] for p in model.discriminator.get_params()}\n"
                "        g_side = list(model.generator.get_params())\n"
                "        g_side += [self.learning_rule.velocities[p] for p in g_side]\n"
                "        for key in g_side:\n"
                "            updates[key] = aesara.clone_replace(updates[key], replace=d_new)\n"
                + A_RETURN_UPDATES)
A_G_OBJ = "        else:\n            g_obj = d.layers[-1].cost(y1, y_hat0)\n"
A_G_OBJ_FRESH = ("        else:\n"
                 "            g_obj = d.layers[-1].cost(y1, y_hat0 if dropout_masks is NO_DROPOUT"
                 " else\n                d.dropout_fprop(S,"
                 " self.discriminator_default_input_include_prob,\n"
                 "                                self.discriminator_input_include_probs,\n"
                 "                                self.discriminator_default_input_scale,\n"
                 "                                self.discriminator_input_scales))\n")

AESARA_MUTATIONS = (
    Mutation("aesara_g_learning_rate_halved", "aesara", ((A_SGD, A_SCALERS, _a_g_lr_times(0.5)),),
             (A_STEP1, A_STEPS23), "G's update uses lr / 2 (its gradient is right)"),
    Mutation("aesara_g_update_sign_flipped", "aesara", ((A_SGD, A_SCALERS, _a_g_lr_times(-1.0)),),
             (A_STEP1, A_STEPS23), "G's update is +lr * g (its gradient is right)"),
    Mutation("aesara_torch_optim_momentum", "aesara", ((A_RULE, A_MOMENTUM, A_TORCH_MOMENTUM),),
             (A_STEP1, A_STEPS23), "torch.optim's buf <- mu buf + g; p <- p - lr buf"),
    Mutation("aesara_sequential_d_then_g_update", "aesara",
             ((A_SGD, A_RETURN_UPDATES, A_SEQUENTIAL),),
             (A_STEPS23, A_STEP1), "D is updated first and G's gradient is taken at the new D"),
    Mutation("aesara_maxout_pieces_strided", "aesara",
             (("legacy_aesara/models/maxout.py",
               "            cur = z[:, piece:last_start + piece + 1:self.pool_stride]\n",
               "            cur = z[:, piece * self.num_units:(piece + 1) * self.num_units]\n"),
              (A_FUSED, "    pieces = [a[:, piece::k] for piece in range(k)]\n",
               "    pieces = [a[:, piece * layer.num_units:(piece + 1) * layer.num_units]\n"
               "              for piece in range(k)]\n"),
              (A_FUSED, "routed = at.set_subtensor(routed[:, index::k],",
               "routed = at.set_subtensor(routed[:, index * layer.num_units:"
               "(index + 1) * layer.num_units],")),
             (A_STEP1, A_STEP0), "maxout takes units k, k+U, k+2U, ... instead of k*P ... k*P+P-1"),
    Mutation("aesara_dropout_scale_omitted", "aesara",
             ((A_MLP, "            rval = state * mask * scale\n",
               "            rval = state * mask\n"),
              (A_FUSED, "        scaled.append(at.cast(mask * scale, X.dtype))\n",
               "        scaled.append(at.cast(mask, X.dtype))\n")),
             (A_STEP0_MASKS, A_FUSED_MASKS, A_USES), "the kept units are not scaled by 1/p"),
    Mutation("aesara_input_keep_rate_half", "aesara",
             ((A_MLP, "mask = stream.binomial(p=include_prob, size=size,",
               "mask = stream.binomial(p=min(include_prob, .5), size=size,"),
              (A_FUSED, "return stream.binomial(p=include_prob, size=shape,",
               "return stream.binomial(p=min(include_prob, .5), size=shape,")),
             (A_MASKS, A_LAWS), "D's input is kept with probability .5 instead of .8"),
    Mutation("aesara_fresh_masks_for_g_obj", "aesara",
             ((A_ADV, A_G_OBJ, A_G_OBJ_FRESH),
              (A_FUSED, "        delta_S = delta_S * scaled[0][B:]\n",
               "        delta_S = delta_S * scaled[0][B:][::-1]\n")),
             (A_STEP0_MASKS, A_FUSED_MASKS, A_USES, A_MASKS),
             "g_obj sees D with other masks than the fake half of d_obj (2014 graph and fused)"),
    Mutation("aesara_noise_uniform_minus1_1", "aesara",
             ((A_ADV, "uniform(low=-np.sqrt(3), high=np.sqrt(3), size=size,",
               "uniform(low=-1., high=1., size=size,"),),
             (A_LAWS,), "the noise is U(-1, 1) instead of U(-sqrt 3, sqrt 3)"),
    Mutation("aesara_halves_share_masks", "aesara",
             ((A_FUSED, "        mask = at.concatenate(halves, axis=0)\n",
               "        mask = at.concatenate([halves[0], halves[0]], axis=0)\n"),),
             (A_USES, A_FUSED_MASKS), "the real and the generated half get the same masks"),
    Mutation("aesara_draws_frozen_across_steps", "aesara",
             ((A_SGD, 'aesara.function([X], [], updates=updates, name="sgd_update",',
               'aesara.function([X], [], updates=updates, no_default_updates=True, '
               'name="sgd_update",'),),
             (A_LAWS,), "the update does not advance the MRG streams (same noise and masks)"),
)
MUTATIONS = MUTATIONS + AESARA_MUTATIONS
BACKENDS = ("torch", "shared", "aesara")


def of_backends(backends):
    """The mutations of the named backends, in list order. `make test` (test_mutations.py) runs
    the torch and shared ones; each Aesara killer builds and compiles the full mnist.yaml graphs of
    its mutated copy in a fresh process (about a minute each), so CI runs those after `make test`
    (`make mutations-aesara`, see .ci/run)."""
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ValueError(f"unknown backend(s) {sorted(unknown)}; choose from {BACKENDS}")
    return [m for m in MUTATIONS if m.backend in backends]


def candidates(mutation):
    """The fast tests a full run tries against `mutation`."""
    return list(CANDIDATES[mutation.backend])


def make_copy(dest):
    """A fresh copy of the source trees under `dest`, with data and the compile cache linked."""
    dest = Path(dest)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "results")
    for tree in TREES:
        shutil.copytree(REPO / tree, dest / tree, ignore=ignore)
    for name in FILES:
        shutil.copy2(REPO / name, dest / name)
    for name in LINKS:
        source = REPO / name
        if source.exists():
            os.symlink(source.resolve(), dest / name)
    return dest


def run_tests(root, tests, timeout, stop_first=False):
    """pytest in `root` on `tests`; returns (killed, failed test ids, seconds, return code)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYLEARN2_DATA_PATH", str(Path(root) / "data"))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
               *(["-x"] if stop_first else []), *tests]
    began = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return True, ["(timeout)"], time.perf_counter() - began, None
    seconds = time.perf_counter() - began
    failed = sorted(set(re.findall(r"^(?:FAILED|ERROR) (\S+?)(?: - .*)?$", done.stdout, re.M)))
    if done.returncode not in (0, 1) and not failed:
        failed = [f"(pytest exit {done.returncode})"]
    skipped = re.search(r"(\d+) skipped", done.stdout)
    if done.returncode == 0 and skipped and not re.search(r"(\d+) passed", done.stdout):
        raise RuntimeError(f"every test in {tests} was skipped (is MNIST there?):\n{done.stdout}")
    return done.returncode != 0, failed, seconds, done.returncode


def check_copy_is_imported(root):
    """The copy's packages, not the installed checkout, must be what the tests import."""
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", "import gan2014, port_torch; "
                          "print(gan2014.__file__); print(port_torch.__file__)"],
                         cwd=root, env=env, capture_output=True, text=True, check=True).stdout
    for line in out.split():
        if not Path(line).resolve().is_relative_to(Path(root).resolve()):
            raise RuntimeError(f"the mutated copy is not what Python imports: {line}")


def _run_one(scratch, index, mutation, quick, timeout):
    root = make_copy(Path(scratch) / f"m{index:02d}")
    try:
        mutation.apply(root)
        tests = [mutation.killers[0]] if quick else candidates(mutation)
        killed, failed, seconds, _ = run_tests(root, tests, timeout, stop_first=quick)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"name": mutation.name, "backend": mutation.backend, "killed": killed,
            "killed_by": failed, "seconds": seconds, "tests": tests}


def run(mutations, quick=False, timeout=900, control=True, jobs=1, stream=sys.stdout):
    """Apply each mutation to a fresh copy and run its tests (`jobs` at a time); returns the
    result rows in the order of `mutations`. The unmutated copy must pass the same tests."""
    with tempfile.TemporaryDirectory(prefix="gan2014-mutants-") as scratch:
        for mutation in mutations:   # every anchor first: code drift fails at once
            mutation.patched(REPO)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            if control:
                root = make_copy(Path(scratch) / "control")
                check_copy_is_imported(root)
                tests = sorted({m.killers[0] for m in mutations} if quick else
                               {test for m in mutations for test in candidates(m)})
                control_run = pool.submit(run_tests, root, tests, timeout)
            futures = [pool.submit(_run_one, scratch, i, m, quick, timeout)
                       for i, m in enumerate(mutations)]
            if control:
                killed, failed, seconds, _ = control_run.result()
                print(f"unmutated copy: {'FAILS ' + ' '.join(failed) if killed else 'passes'} "
                      f"({seconds:.1f} s)", file=stream, flush=True)
                if killed:
                    for future in futures:
                        future.cancel()
                    raise RuntimeError(f"the unmutated copy fails {failed}: kills would mean "
                                       "nothing")
            rows = []
            for future in futures:
                row = future.result()
                rows.append(row)
                shown = ", ".join(_short(f) for f in row["killed_by"]) or "-"
                print(f"{'KILLED ' if row['killed'] else 'SURVIVED'} {row['name']:36s} "
                      f"{row['backend']:6s} {row['seconds']:6.1f} s  {shown}", file=stream,
                      flush=True)
    return rows


def _short(test_id):
    return test_id.replace("parity_tests/", "").replace("tests/", "")


def score(rows):
    return 100.0 * sum(r["killed"] for r in rows) / len(rows) if rows else 0.0


def markdown(rows):
    lines = ["| mutation | backend | killed by | seconds |", "| --- | --- | --- | --- |"]
    for r in rows:
        killers = "<br>".join(f"`{_short(f)}`" for f in r["killed_by"]) or "**survived**"
        lines.append(f"| {r['name']} | {r['backend']} | {killers} | {r['seconds']:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m parity_tests.mutations", description=(
        "Apply each named fidelity bug to a fresh copy of the code and run the fast tests on it; "
        "print which tests killed it and the mutation score."))
    parser.add_argument("--quick", action="store_true",
                        help="run only each mutation's recorded (cheapest) killer")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only the named mutation (repeatable)")
    parser.add_argument("--backend", action="append", default=[], choices=BACKENDS,
                        help="run only the mutations of this backend (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--markdown", action="store_true", help="also print the table as markdown")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per pytest run")
    parser.add_argument("--jobs", type=int, default=2, help="pytest runs at a time (default 2)")
    parser.add_argument("--no-control", action="store_true",
                        help="skip the unmutated copy's run (only when its tests are known to "
                             "pass)")
    args = parser.parse_args(argv)
    chosen = [m for m in of_backends(args.backend or BACKENDS)
              if not args.only or m.name in args.only]
    unknown = set(args.only) - {m.name for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown mutation(s): {sorted(unknown)}")
    if args.list:
        for m in chosen:
            print(f"{m.name:36s} {m.backend:6s} {m.description}")
        return 0
    began = time.perf_counter()
    rows = run(chosen, quick=args.quick, timeout=args.timeout, jobs=args.jobs,
               control=not args.no_control)
    print(f"mutation score: {score(rows):.0f} % ({sum(r['killed'] for r in rows)} of {len(rows)} "
          f"killed; {'recorded killers only' if args.quick else 'all candidate tests'}; "
          f"{time.perf_counter() - began:.0f} s)")
    if args.markdown:
        print(markdown(rows))
    return 0 if rows and all(r["killed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
