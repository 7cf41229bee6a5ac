"""Mutation suite: named fidelity bugs a port really makes, each of which the fast tests must catch.

Each mutation is a textual patch (exact search -> replace of a code fragment; a fragment no longer
found is an error, so code drift is noticed) applied to a FRESH copy of the source trees in a
temporary folder (data and the Aesara compile cache are symlinked). pytest then runs in that copy;
the mutation is *killed* when at least one test fails.

    python -m parity_tests.mutations            # full: every mutation against all its candidate tests
    python -m parity_tests.mutations --quick    # cheap: every mutation against its recorded killer only
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

# The fast tests a full run tries against every mutation (all of them; a kill by any counts).
CANDIDATES = (TORCH_UPDATES, TORCH_2014, "tests/test_schedules.py", "tests/test_parzen.py",
              TABLE1, "tests/test_dbm.py", "tests/test_init_and_iteration.py")


class AnchorMissing(RuntimeError):
    """A mutation's search text is no longer in the file it patches (the code moved on)."""


@dataclass(frozen=True)
class Mutation:
    name: str
    backend: str          # which backend it applies to: "torch" or "shared" (gan2014: both)
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
    return (f"    grads = [(Outer(g.left, g.right * {factor}) if isinstance(g, Outer) else g * {factor})\n"
            f"             if i < spec.n_g else g for i, g in enumerate(grads)]\n" + STEP_CORE)


MUTATIONS = (
    Mutation("g_learning_rate_halved", "torch", ((FUSED, STEP_CORE, _g_update_times(0.5)),),
             (STEP1, STEPS23), "G's update uses lr / 2 (its gradient is right)"),
    Mutation("g_update_sign_flipped", "torch", ((FUSED, STEP_CORE, _g_update_times(-1.0)),),
             (STEP1, STEPS23), "G's update is +lr * g (its gradient is right)"),
    Mutation("torch_optim_momentum", "torch",
             ((FUSED, "gemm_(outer.left, outer.right, beta=momentum, alpha=-lr)",
               "gemm_(outer.left, outer.right, beta=momentum, alpha=1.0)"),
              (FUSED, "    torch._foreach_sub_(update_velocities, torch._foreach_mul([g for _, g in biases], lr))\n"
                      "    torch._foreach_add_(params, velocities)\n",
               "    torch._foreach_add_(update_velocities, [g for _, g in biases])\n"
               "    torch._foreach_add_(params, torch._foreach_mul(velocities, -lr))\n")),
             (STEPS23, STEP1), "torch.optim's buf <- mu buf + g; p <- p - lr buf"),
    Mutation("sequential_d_then_g_update", "torch",
             ((FUSED, "    grads, d_obj, g_obj = gradients(spec, params, X, z, masks, g_flag)\n"
                      "    momentum_update_(params, velocities, grads, lr, momentum)\n",
               "    grads, d_obj, g_obj = gradients(spec, params, X, z, masks, g_flag)\n"
               "    n = spec.n_g\n"
               "    momentum_update_(params[n:], velocities[n:], grads[n:], lr, momentum)\n"
               "    grads, _, _ = gradients(spec, params, X, z, masks, g_flag)\n"
               "    momentum_update_(params[:n], velocities[:n], grads[:n], lr, momentum)\n"),),
             (STEPS23,), "D is updated first and G's gradient is taken at the new D"),
    Mutation("maxout_pieces_strided", "torch",
             (("port_torch/models/maxout.py",
               "a.view(*a.shape[:-1], self.num_units, self.num_pieces).amax(dim=-1)",
               "a.view(*a.shape[:-1], self.num_pieces, self.num_units).amax(dim=-2)"),
              (FUSED, "        return a.unflatten(-1, (-1, pieces)).amax(dim=-1)\n",
               "        return a.unflatten(-1, (pieces, -1)).amax(dim=-2)\n"),
              (FUSED, "        winners = a.unflatten(-1, (-1, pieces)) == out.unsqueeze(-1)\n"
                      "        return torch.where(winners, delta.unsqueeze(-1), 0.0).flatten(-2)\n",
               "        winners = a.unflatten(-1, (pieces, -1)) == out.unsqueeze(-2)\n"
               "        return torch.where(winners, delta.unsqueeze(-2), 0.0).flatten(-2)\n")),
             (STEP1, STEP0), "maxout takes units k, k+U, k+2U, ... instead of k*P ... k*P+P-1"),
    Mutation("dropout_scale_omitted", "torch",
             ((FUSED, "scaled = [None if m is None else m * s for m, (_, s) in zip(masks, spec.d_settings)]",
               "scaled = [None if m is None else m for m, (_, s) in zip(masks, spec.d_settings)]"),),
             (FUSED_MASKS,), "the kept units are not scaled by 1/p (1.25, 2, 2)"),
    Mutation("input_keep_rate_half", "torch",
             (("port_torch/random_streams.py",
               "(torch.rand(_mask_shape(width, rows), generator=generator, device=device) < p)",
               "(torch.rand(_mask_shape(width, rows), generator=generator, device=device) < min(p, .5))"),),
             (DRAWS,), "D's input is kept with probability .5 instead of .8"),
    Mutation("fresh_masks_for_g_obj", "torch",
             (("port_torch/adversarial.py", "        g_obj = cost(1.0, l_samp)\n",
               "        fresh = None if d_masks is None else [\n"
               "            None if m is None else m[torch.randperm(m.shape[0], generator=torch.Generator()"
               ".manual_seed(1))[:B]] for m in d_masks]\n"
               "        g_obj = cost(1.0, D.logits(S, _only_dropped(fresh, d_settings),\n"
               "                                   scales=[s for _, s in d_settings]))\n"),),
             (STEP0_MASKS,), "g_obj sees D with other masks than the fake half of d_obj"),
    Mutation("noise_uniform_minus1_1", "torch",
             (("port_torch/random_streams.py",
               "generator=generator, device=device) * (2 * SQRT3) - SQRT3",
               "generator=generator, device=device) * 2.0 - 1.0"),),
             (DRAWS,), "the noise is U(-1, 1) instead of U(-sqrt 3, sqrt 3)"),
    Mutation("lr_decay_per_epoch", "torch",
             (("port_torch/training_algorithms/sgd.py",
               "        for callback in self.update_callbacks:\n",
               "        for callback in (self.update_callbacks\n"
               "                         if self.examples_seen % self.data.shape[0] == 0 else ()):\n"),),
             (ORDER,), "ExponentialDecay applied once per epoch instead of after every batch"),
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
    Mutation("batch_order_reseeded_every_epoch", "torch",
             (("port_torch/training_algorithms/sgd.py",
               "batches = shuffled_sequential_batches(self.data.shape[0], self.batch_size, self.rng)",
               "batches = shuffled_sequential_batches(self.data.shape[0], self.batch_size,\n"
               "                                              np.random.RandomState([2012, 10, 5]))"),),
             (ORDER,), "every epoch re-seeds the shuffle (the same batch order each epoch)"),
)


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
        tests = [mutation.killers[0]] if quick else list(CANDIDATES)
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
                tests = sorted({m.killers[0] for m in mutations}) if quick else list(CANDIDATES)
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
                    raise RuntimeError(f"the unmutated copy fails {failed}: kills would mean nothing")
            rows = []
            for future in futures:
                row = future.result()
                rows.append(row)
                shown = ", ".join(_short(f) for f in row["killed_by"]) or "-"
                print(f"{'KILLED ' if row['killed'] else 'SURVIVED'} {row['name']:36s} "
                      f"{row['backend']:6s} {row['seconds']:6.1f} s  {shown}", file=stream, flush=True)
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
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--markdown", action="store_true", help="also print the table as markdown")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per pytest run")
    parser.add_argument("--jobs", type=int, default=2, help="pytest runs at a time (default 2)")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    unknown = set(args.only) - {m.name for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown mutation(s): {sorted(unknown)}")
    if args.list:
        for m in chosen:
            print(f"{m.name:36s} {m.backend:6s} {m.description}")
        return 0
    began = time.perf_counter()
    rows = run(chosen, quick=args.quick, timeout=args.timeout, jobs=args.jobs)
    print(f"mutation score: {score(rows):.0f} % ({sum(r['killed'] for r in rows)} of {len(rows)} "
          f"killed; {'recorded killers only' if args.quick else 'all candidate tests'}; "
          f"{time.perf_counter() - began:.0f} s)")
    if args.markdown:
        print(markdown(rows))
    return 0 if rows and all(r["killed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
