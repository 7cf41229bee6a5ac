"""Seed-epochs per hour of the real training loop under each CPU set-up of a long campaign.

    python -m port_torch.bench_setups [--epochs 4] [--config yaml_experiments/mnist.yaml]

    python -m port_torch.bench_setups --check [--threads 2]

A campaign of several seeds can run them one at a time with every core, or side by side with one
thread each. Which is faster depends on the machine (how well the BLAS scales, memory bandwidth),
so it is measured: each set-up runs the real loop (``SGD.train``, the step path ``auto`` picks,
with the per-batch divergence check) for ``--epochs`` epochs in fresh processes, and the median
epoch time of each process gives the throughput. Monitoring and validation are not included
(the campaign runs them rarely); a warm-up epoch is not counted.

``--check`` times only the SGD's per-batch NaN/Inf check on mnist.yaml's twelve parameters, 600
times (an epoch's batches), in its two forms: ``isfinite(p).all()`` per parameter, and the sum
screen the SGD uses (port_torch/training_algorithms/sgd.py :: SGD._watch_step).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from gan2014.cli import whole_number
from gan2014.seeds import GENERATOR_NOISE_SEED
from gan2014.table1 import platform_description

DEFAULT_CONFIG = os.path.join("yaml_experiments", "mnist.yaml")


def worker(config, epochs, threads, seed):
    """Train `epochs` + 1 epochs in this process; print the epoch times (the first is warm-up)."""
    import torch

    from gan2014.config.yaml_parse import load_path
    from port_torch.registry import REGISTRY

    torch.set_num_threads(threads)
    train = load_path(config, REGISTRY)
    train.model.streams.seed(seed)
    train.algorithm.setup(train.model, train.dataset)
    train.model.enforce_constraints()
    times = []
    for _ in range(epochs + 1):
        began = time.perf_counter()
        train.algorithm.train(train.dataset)
        times.append(time.perf_counter() - began)
    print(json.dumps({"threads": threads, "seed": seed, "epoch_seconds": times[1:],
                      "path": train.algorithm.path_used}), flush=True)


def time_checks(config, threads, repeats=600, rounds=3):
    """Seconds for `repeats` checks of both forms, the median of `rounds` (a dict)."""
    import torch

    from gan2014.config.yaml_parse import load_path
    from port_torch.registry import REGISTRY

    torch.set_num_threads(threads)
    params = [p.data for _, p in load_path(config, REGISTRY).model.named_params()]

    def isfinite_each():
        return bool(torch.stack([torch.isfinite(p).all() for p in params]).all())

    def sum_screen():
        return bool(torch.isfinite(torch.stack([p.sum() for p in params]).sum()))

    timings = {}
    for name, check in (("isfinite per parameter", isfinite_each), ("sum screen", sum_screen)):
        assert check()
        runs = []
        for _ in range(rounds):
            began = time.perf_counter()
            for _ in range(repeats):
                check()
            runs.append(time.perf_counter() - began)
        timings[name] = statistics.median(runs)
    return timings


def run_setup(config, epochs, processes, threads):
    """`processes` workers side by side, `threads` each; their results."""
    command = [sys.executable, "-m", "port_torch.bench_setups", "--worker", "--config", config,
               "--epochs", str(epochs), "--threads", str(threads)]
    children = [subprocess.Popen(command + ["--seed", str(GENERATOR_NOISE_SEED + k)],
                                 stdout=subprocess.PIPE, text=True) for k in range(processes)]
    results = []
    for child in children:
        out, _ = child.communicate()
        if child.returncode:
            raise SystemExit(f"a worker of the {processes} x {threads}-thread set-up failed "
                             f"(exit {child.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m port_torch.bench_setups",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs per process")
    parser.add_argument("--cores", type=whole_number(1), default=os.cpu_count(),
                        help="cores to share out (default: all)")
    parser.add_argument("--check", action="store_true",
                        help="time only the per-batch NaN/Inf check, both forms")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=whole_number(1), default=None,
                        help="torch threads for --check (default: all cores)")
    parser.add_argument("--seed", type=int, default=GENERATOR_NOISE_SEED,
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.worker:
        worker(args.config, args.epochs, args.threads or 1, args.seed)
        return 0
    if args.check:
        threads = args.threads or args.cores
        print(f"CPU: {platform_description()}; {threads} torch thread(s); 600 checks (one epoch), "
              "median of 3", flush=True)
        for name, seconds in time_checks(args.config, threads).items():
            print(f"{name:>24}: {seconds:.3f} s per 600 checks", flush=True)
        return 0
    print(f"CPU: {platform_description()}; {args.epochs} timed epochs per process "
          f"(+1 warm-up), {args.config}", flush=True)
    setups = [(1, args.cores)] + ([(args.cores, 1)] if args.cores > 1 else [])
    print("| set-up | median s/epoch per process (each) | seed-epochs per hour |")
    print("| --- | --- | --- |")
    for processes, threads in setups:
        results = run_setup(args.config, args.epochs, processes, threads)
        medians = [statistics.median(r["epoch_seconds"]) for r in results]
        per_hour = sum(3600.0 / m for m in medians)
        label = f"{processes} seed{'s' if processes > 1 else ''} x {threads} thread" + \
            ("s" if threads > 1 else "")
        print(f"| {label} ({results[0]['path']}) | "
              f"{' / '.join(f'{m:.2f}' for m in medians)} | {per_hour:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
