"""Live trajectory comparison: the original 2014 code's real first epoch against legacy_aesara's.

    python -m original_2014.compare [--steps 500] [--paths grad,fused] [--contract fast,off]
                                    [--original-dump DIR] [--keep] [--json OUT.json]

1. The original (built by ``python -m original_2014 build``) runs the unmodified mnist.yaml for one
   epoch -- the epoch-0 monitor, then training with its real MRG noise and dropout -- and writes its
   parameters after each of the first ``--steps`` SGD steps (``--original-dump DIR`` reuses such a
   folder instead of running it again).
2. For each compile build of legacy_aesara (``--contract``: ``fast`` = FMA contraction, the default
   build; ``off`` = ``-ffp-contract=off``, the build the bitwise parity tests use) and each step
   path (``--paths``), a fresh process runs ``yaml_experiments/original/mnist.yaml`` through the
   project's Train loop for one epoch and after every step compares its parameters with the
   original's.

The error of a step is the largest ``max|a - b| / max|b|`` over all parameter arrays but D/y_b (a
scalar whose gradient nearly cancels; its relative error is meaningless). The table gives, per build
and path, the first step whose error exceeds 1e-6, 1e-5, 1e-3 and 1e-1 ("-" = none in the steps
compared), and at the first step over 1e-6 the array that dominates and how many of its entries
differ at all.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT_YAML = REPO / "yaml_experiments" / "original" / "mnist.yaml"
THRESHOLDS = (1e-6, 1e-5, 1e-3, 1e-1)
EXCLUDED = ("D/y_b",)


def step_errors(ours, theirs):
    """{array: max|a-b| / max|b|} and {array: entries that differ} for every array but D/y_b."""
    import numpy as np

    if set(ours) != set(theirs):
        raise ValueError(f"parameter names differ: {sorted(set(ours) ^ set(theirs))}")
    errors, counts = {}, {}
    for name in sorted(theirs):
        a, b = np.asarray(ours[name]), np.asarray(theirs[name])
        if a.shape != b.shape:
            raise ValueError(f"{name}: shape {a.shape} here, {b.shape} in the original")
        if name in EXCLUDED:
            continue
        scale = float(np.abs(b).max()) or 1.0
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        errors[name] = float(diff.max()) / scale
        counts[name] = int(np.count_nonzero(diff))
    return errors, counts


def summarise(series):
    """First step over each threshold and, at the first step over the smallest, the worst array."""
    firsts = {}
    for threshold in THRESHOLDS:
        firsts[threshold] = next((row["step"] for row in series if row["error"] > threshold), None)
    cause = None
    if firsts[THRESHOLDS[0]] is not None:
        row = series[firsts[THRESHOLDS[0]] - series[0]["step"]]
        cause = (f"{row['worst']} (error {row['error']:.1e}; {row['differing']} of its entries "
                 f"differ)")
    return firsts, cause


# ------------------------------------------------------------------------------------ the worker
def worker(args):
    """Runs in a fresh process whose GAN2014_FP_CONTRACT was set by the parent."""
    import numpy as np

    import legacy_aesara  # noqa: F401  (Aesara flags first)
    import aesara
    from gan2014.config.yaml_parse import load_path
    from legacy_aesara.registry import load_registry

    dump = Path(args.dump)
    train = load_path(str(PROJECT_YAML), load_registry())
    train.algorithm.path = args.path
    series = []

    class Done(Exception):
        """Raised after the last step compared: the rest of the epoch is not needed."""

    def compare(algorithm):
        step = len(series) + 1
        with np.load(dump / f"step_{step}.npz") as original:
            theirs = {name: original[name] for name in original.files}
        errors, counts = step_errors(train.model.get_param_values(), theirs)
        worst = max(errors, key=errors.get)
        series.append({"step": step, "error": errors[worst], "worst": worst,
                       "differing": counts[worst]})
        if step == args.steps:
            raise Done

    train.algorithm.update_callbacks.append(compare)
    with tempfile.TemporaryDirectory() as out:
        train.configure(out_dir=out, max_epochs=1, verbose=False)
        train.save_freq = 0
        try:
            train.main_loop()
        except Done:
            pass
    Path(args.json).write_text(json.dumps({
        "contract": os.environ.get("GAN2014_FP_CONTRACT"), "path": args.path,
        "cxxflags": aesara.config.gcc__cxxflags.split()[:2], "series": series}))
    return 0


# ------------------------------------------------------------------------------------ the parent
def run_original(steps, dump, threads=None):
    from original_2014.__main__ import environment, load_stack, run_command, DEFAULT_DIR

    facts = load_stack(DEFAULT_DIR)
    yaml_file = Path(facts["folder"]) / "src" / "adversarial" / "mnist.yaml"
    out = Path(facts["folder"]) / "runs" / "compare"
    out.mkdir(parents=True, exist_ok=True)
    command = run_command(facts, yaml_file, 1, out, f"1-{steps}", dump)
    began = time.time()
    result = subprocess.run(command, env=environment(facts, threads=threads), capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise RuntimeError(f"the original failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    for line in result.stdout.splitlines():
        if line.startswith("original:"):
            print(line)
    print(f"(original: {time.time() - began:.0f} s)", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m original_2014.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=500, help="steps to compare (epoch 1: 500)")
    parser.add_argument("--paths", default="grad,fused")
    parser.add_argument("--contract", default="fast,off",
                        help="legacy_aesara builds: fast (the default, FMA) and/or off")
    parser.add_argument("--original-dump", default=None,
                        help="a folder of step_<k>.npz from `python -m original_2014 run "
                             "--dump-steps`; default: run the original now into a temporary one")
    parser.add_argument("--keep", action="store_true", help="keep the original's dump")
    parser.add_argument("--json", default=None, help="write every step's error here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.steps <= 500:
        parser.error("--steps must be 1 to 500 (the steps of epoch 1)")
    if args.worker:
        return worker(args)
    paths = [p for p in args.paths.split(",") if p]
    builds = [c for c in args.contract.split(",") if c]
    for build in builds:
        if build not in ("fast", "off"):
            parser.error(f"--contract: unknown build {build!r} (fast, off)")
    for path in paths:
        if path not in ("grad", "fused"):
            parser.error(f"--paths: unknown path {path!r} (grad, fused)")

    made_dump = args.original_dump is None
    dump = Path(args.original_dump or tempfile.mkdtemp(prefix="original_dump_",
                                                       dir=REPO / "build"))
    if not made_dump:
        missing = [k for k in range(1, args.steps + 1) if not (dump / f"step_{k}.npz").is_file()]
        if missing:
            parser.error(f"{dump} lacks step_{missing[0]}.npz (and {len(missing) - 1} more)")
    results = []
    try:
        if made_dump:
            run_original(args.steps, dump)
        for build in builds:
            for path in paths:
                with tempfile.NamedTemporaryFile(suffix=".json") as out:
                    began = time.time()
                    env = dict(os.environ, GAN2014_FP_CONTRACT=build)
                    command = [sys.executable, "-m", "original_2014.compare", "--worker",
                               "--path", path, "--dump", str(dump), "--json", out.name,
                               "--steps", str(args.steps)]
                    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True,
                                            text=True)
                    if result.returncode != 0:
                        raise RuntimeError(f"legacy_aesara ({build}, {path}) failed:\n"
                                           f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
                    record = json.loads(Path(out.name).read_text())
                    print(f"(legacy_aesara -ffp-contract={build}, {path}: "
                          f"{time.time() - began:.0f} s)", flush=True)
                    results.append(record)
    finally:
        if made_dump and not args.keep:
            shutil.rmtree(dump, ignore_errors=True)
        elif made_dump:
            print(f"original's parameters kept in {dump}")

    print(f"\nlegacy_aesara against the original's real run, {args.steps} steps of epoch 1 "
          "(error: max |a - b| / max |b| over all arrays but D/y_b)\n")
    header = "| build | path | " + " | ".join(f"first step > {t:.0e}" for t in THRESHOLDS)
    print(header + " | at the first step > 1e-06 |")
    print("|" + " --- |" * (len(THRESHOLDS) + 3))
    for record in results:
        firsts, cause = summarise(record["series"])
        cells = " | ".join("-" if firsts[t] is None else str(firsts[t]) for t in THRESHOLDS)
        print(f"| -ffp-contract={record['contract']} | {record['path']} | {cells} | "
              f"{cause or 'no step over 1e-06'} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
