"""Side-by-side speed of the original 2014 code and both backends on this machine: one table.

    python -m original_2014.bench [--epochs 1] [--cold] [--no-original]
                                  [--aesara-paths grad,fused] [--torch-paths autograd,fused]
                                  [--profile]

Every row is the real training loop as ``make mnist`` runs it -- the YAML
(``yaml_experiments/original/mnist.yaml``; the original: its own mnist.yaml), Train's set-up
(compilation), the epoch-0 monitor, ``--epochs`` training epochs each followed by a monitoring pass,
the per-batch divergence check included -- in a fresh process per row, the rows one after another.
Columns: set-up (compile) seconds, median training seconds per epoch, median seconds per monitoring
pass (the 173 channels over the 10,000 validation examples), and the ratio of the training epoch to
the original's. The original is included when ``python -m original_2014 build`` has made it.
``--cold`` runs each Aesara/Theano row twice, first on an empty compile cache (its set-up is the
cold figure; minutes each), then on the cache that run filled (the warm figure and the timings).
The original's monitor is compiled on its first pass, so its epoch-0 pass counts as set-up.
The step-only benches are ``python -m legacy_aesara.bench`` and ``python -m port_torch.bench``.
``--profile`` adds where each backend row's time goes, per op (bench_profile.py).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gan2014 import OPENBLAS_CHOICE
from gan2014.cli import name_list
from gan2014.table1 import platform_description
from original_2014 import bench_profile

REPO = Path(__file__).resolve().parents[1]
PROJECT_YAML = REPO / "yaml_experiments" / "original" / "mnist.yaml"


# ------------------------------------------------------------------------------------ the worker
def loop_worker(backend, path, epochs, config=PROJECT_YAML, profile=False):
    """The real Train loop of one backend, timed from outside; prints one JSON line. With
    `profile`, each training epoch and each monitoring pass after the first is profiled per op
    (bench_profile.py) and the line carries the per-phase records instead of meaningful times."""
    if backend == "legacy_aesara":
        import legacy_aesara  # noqa: F401  (Aesara flags first)
        import aesara
        from legacy_aesara.registry import load_registry
        aesara.config.profile = profile
        registry = load_registry()
        blas = None  # described after the run, once the compiled functions have loaded it
        extra = {"cxxflags": " ".join(aesara.config.gcc__cxxflags.split()[:2])}
    else:
        import torch
        from port_torch.registry import REGISTRY as registry
        blas = torch.__config__.show().replace("\n", " ")
        blas = "MKL" if "MKL" in blas else ("OpenBLAS" if "OpenBLAS" in blas else "?")
        extra = {"torch_threads": torch.get_num_threads()}
    from gan2014.config.yaml_parse import load_path

    train = load_path(str(config), registry)
    train.algorithm.path = path
    times = {"setup": [], "train": [], "monitor": []}

    phases = {"train": bench_profile.PhaseProfile(), "monitor": bench_profile.PhaseProfile()}
    profiled_call = _profiled_call(backend) if profile else None

    def timed(function, key):
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            if profiled_call is None or key == "setup" or (key == "monitor" and not times[key]):
                result = function(*args, **kwargs)
            else:
                result, op_seconds, group_of, wall = profiled_call(function, *args, **kwargs)
                phases[key].add(op_seconds, group_of, wall)
            times[key].append(time.perf_counter() - began)
            return result
        return wrapper

    # Train.setup also compiles the monitor for both backends (the epoch-0 pass is timed apart).
    train.setup = timed(train.setup, "setup")
    train.algorithm.train = timed(train.algorithm.train, "train")
    train.algorithm.monitor = timed(train.algorithm.monitor, "monitor")
    with tempfile.TemporaryDirectory() as out:
        train.configure(out_dir=out, max_epochs=epochs, verbose=False)
        train.main_loop()
    if backend == "legacy_aesara":
        blas = aesara_blas(aesara.config.blas__ldflags)
    if profile:
        extra["profile"] = {"training epoch": phases["train"].record(),
                            "monitoring pass": phases["monitor"].record()}
        if backend == "legacy_aesara":
            # Reported here; Aesara would print every function's full profile again at exit.
            aesara.config.profile = False
    print("BENCH " + json.dumps({"times": times, "blas": blas, **extra}), flush=True)
    return 0


def _profiled_call(backend):
    """call(function, *args) -> (result, {op: own seconds}, op -> group, wall seconds of the call
    itself, without the profiler's start and its processing after it) for the backend."""
    if backend == "port_torch":
        from torch.profiler import ProfilerActivity, profile

        def call(function, *args, **kwargs):
            with profile(activities=[ProfilerActivity.CPU]) as profiler:
                began = time.perf_counter()
                result = function(*args, **kwargs)
                wall = time.perf_counter() - began
            return (result, bench_profile.torch_op_seconds(profiler), bench_profile.torch_group,
                    wall)
        return call

    from aesara.compile.profiling import _atexit_print_list as function_profiles

    def call(function, *args, **kwargs):
        before = bench_profile.aesara_op_seconds(function_profiles)
        began = time.perf_counter()
        result = function(*args, **kwargs)
        wall = time.perf_counter() - began
        return (result, bench_profile.aesara_op_seconds(function_profiles, before),
                bench_profile.aesara_group, wall)
    return call


def aesara_blas(ldflags):
    """The BLAS that Aesara's compiled functions link, with the kernels it runs on here."""
    from gan2014.blas import loaded_openblas
    from legacy_aesara.aesara_flags import linked_library

    library = linked_library(ldflags)
    if library is None:
        return ldflags
    loaded = loaded_openblas(library)
    return f"SciPy's {loaded}" if loaded else f"SciPy's OpenBLAS ({os.path.basename(library)})"


# ------------------------------------------------------------------------------------ the parent
def run_row(command, env):
    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}"
                           f"{result.stderr[-3000:]}")
    return result.stdout


def backend_row(backend, path, epochs, cold, config=PROJECT_YAML):
    """One row; with `cold`, first a run on an empty compile cache (its set-up is the cold
    compile), then the timed run on the cache it filled (warm)."""
    command = [sys.executable, "-m", "original_2014.bench", "--worker", backend, "--path", path,
               "--epochs", str(epochs), "--config", str(config)]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(dir=REPO / "build") as cache:
        cold_setup = None
        if cold and backend == "legacy_aesara":
            env["AESARA_FLAGS"] = ",".join(filter(None, [f"compiledir={cache}",
                                                         env.get("AESARA_FLAGS")]))
            cold_setup = _record(run_row(command, env))["times"]["setup"][0]
        record = _record(run_row(command, env))
    times = record["times"]
    return {"cold": cold_setup, "setup": times["setup"][0],
            "train": statistics.median(times["train"]),
            "monitor": statistics.median(times["monitor"][1:] or times["monitor"]),
            "blas": record["blas"],
            "note": record.get("cxxflags") or f"{record.get('torch_threads')} threads"}


def profile_row(backend, path, epochs, config=PROJECT_YAML):
    """The per-op profile of one backend row (a separate, profiled run on the warm cache):
    {phase: record}, bench_profile.PhaseProfile.record's."""
    command = [sys.executable, "-m", "original_2014.bench", "--worker", backend, "--path", path,
               "--epochs", str(epochs), "--config", str(config), "--profile"]
    return _record(run_row(command, dict(os.environ)))["profile"]


def _record(out):
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    return json.loads(line[len("BENCH "):])


def original_row(epochs, cold):
    from original_2014.__main__ import (DEFAULT_DIR, StackError, environment, load_stack,
                                        run_command)
    try:
        facts = load_stack(DEFAULT_DIR)
    except StackError:
        return None
    env = environment(facts)
    folder = Path(facts["folder"])
    command = run_command(facts, folder / "src" / "adversarial" / "mnist.yaml", epochs,
                          folder / "runs" / "bench")
    with tempfile.TemporaryDirectory(dir=REPO / "build") as cache:
        cold_setup = None
        if cold:
            env["THEANO_FLAGS"] += f",compiledir={cache}"
            cold_setup = _original_times(command, env)[0]
        setup, train, monitor = _original_times(command, env)
    return {"cold": cold_setup, "setup": setup, "train": statistics.median(train),
            "monitor": statistics.median(monitor[1:] or monitor),
            "blas": f"Debian's OpenBLAS (-lopenblas; kernels: "
                    f"{env.get('OPENBLAS_CORETYPE') or 'its own detection'})",
            "note": "Theano 0.7, Python 2.7"}


def _original_times(command, env):
    """(set-up seconds, training epochs, monitoring passes) of one run of the original. Theano
    compiles the monitor on its first pass, so set-up is the whole run less the epochs and the
    passes after them (YAML, the training function's and the monitor's compilation)."""
    began = time.perf_counter()
    out = run_row(command, env)
    total = time.perf_counter() - began
    seconds = {label: [float(x.split(":")[-1].split()[0]) for x in out.splitlines()
                       if x.startswith(f"original: {label}")]
               for label in ("training epoch", "monitoring pass")}
    train, monitor = seconds["training epoch"], seconds["monitoring pass"]
    return total - sum(train) - sum(monitor[1:]), train, monitor


# Each backend's step paths (its training_algorithms/sgd.py PATHS; a test keeps them equal), named
# here so that a mistyped path is refused before any row runs, without importing either framework.
STEP_PATHS = {"legacy_aesara": ("auto", "grad", "fused", "reference"),
              "port_torch": ("auto", "autograd", "fused", "graph", "reference")}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m original_2014.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1, help="training epochs per row")
    parser.add_argument("--cold", action="store_true", help="empty compile caches")
    parser.add_argument("--no-original", action="store_true")
    # Comma-separated step paths; an empty list: no row of that backend.
    parser.add_argument("--aesara-paths", type=name_list(STEP_PATHS["legacy_aesara"]),
                        default="grad,fused")
    parser.add_argument("--torch-paths", type=name_list(STEP_PATHS["port_torch"]),
                        default="autograd,fused")
    parser.add_argument("--config", default=str(PROJECT_YAML),
                        help="the backends' YAML (default: the unmodified mnist.yaml; the original "
                             "always runs its own mnist.yaml)")
    parser.add_argument("--profile", action="store_true",
                        help="after the table, run each backend row once more under a per-op "
                             "profiler and print where its training epoch and monitoring pass "
                             "spend their time (matrix products, random numbers, other ops)")
    parser.add_argument("--worker", choices=("legacy_aesara", "port_torch"), help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.worker:
        return loop_worker(args.worker, args.path, args.epochs, args.config, args.profile)
    (REPO / "build").mkdir(exist_ok=True)
    # One choice of OpenBLAS kernels for every row (gan2014/blas.py, made when gan2014 was
    # imported), inherited by the workers.
    coretype, chooser = OPENBLAS_CHOICE
    coretype = coretype or "OpenBLAS's detection"
    rows = []
    if not args.no_original:
        row = original_row(args.epochs, args.cold)
        if row is None:
            print("(the original is not built: `python -m original_2014 build` adds its row)")
        else:
            rows.append(("original 2014", "Theano graph", row))
    for backend, paths in (("legacy_aesara", args.aesara_paths), ("port_torch", args.torch_paths)):
        for path in paths:
            rows.append((backend, path, backend_row(backend, path, args.epochs, args.cold,
                                                    args.config)))
            print(f"({backend} {path} done)", flush=True)
    reference = rows[0][2]["train"] if rows and rows[0][0] == "original 2014" else None
    print(f"\nCPU: {platform_description()}; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS')} OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}; OpenBLAS kernels: {coretype} ({chooser}); "
          f"compile caches "
          f"{'cold (empty)' if args.cold else 'as found (warm after a first run)'}; "
          f"{args.epochs} epoch(s) per row, the real training loop "
          f"({os.path.relpath(args.config, REPO)})\n")
    print("| code | step path | set-up s, cold cache | set-up s, warm | training s/epoch | "
          "monitoring pass s | epoch / original's | BLAS | build |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, path, row in rows:
        ratio = f"{row['train'] / reference:.2f}" if reference else "-"
        cold = "-" if row["cold"] is None else f"{row['cold']:.1f}"
        print(f"| {name} | {path} | {cold} | {row['setup']:.1f} | {row['train']:.2f} | "
              f"{row['monitor']:.2f} | {ratio} | {row['blas']} | {row['note']} |")
    if args.profile:
        print_profiles(rows, args.epochs, args.config)
    return 0


def print_profiles(rows, epochs, config):
    """The backend rows again, each under its per-op profiler (the original is not profiled)."""
    print("\nWhere the time goes (a second run of each backend row under a per-op profiler, which "
          "slows it: shares, not timings; per training epoch and per monitoring pass after the "
          "first):\n")
    print(bench_profile.HEADER)
    for name, path, _row in rows:
        if name == "original 2014":
            continue
        for line in bench_profile.format_rows(f"{name} {path}",
                                              profile_row(name, path, epochs, config)):
            print(line)


if __name__ == "__main__":
    sys.exit(main())
