"""Speed of the Aesara backend on the real mnist.yaml model: seconds per epoch and compile time.

    python -m legacy_aesara.bench [--steps 300] [--config yaml_experiments/original/mnist.yaml]
                                  [--profile]

Builds the experiment from the YAML (real MNIST), compiles the training function, and times
`--steps` SGD steps (batch 100) fed in the training order; s/epoch = time per step x 500 (50,000
examples / 100). The compile time printed is that of `sgd_update`; run once with an empty
.aesara_compiledir (`make clean-cache`) for the cold figure and again for the warm one.
REPRODUCING.md §5 records the measured figures, the original code's among them.
"""
import argparse
import os
import statistics
import time
from pathlib import Path

import legacy_aesara  # noqa: F401  (Aesara flags first)
from gan2014.cli import name_list, whole_number
from legacy_aesara.training_algorithms.sgd import PATHS

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "yaml_experiments" / "original" / "mnist.yaml"


def build(config):
    from gan2014.config.yaml_parse import load_path
    from legacy_aesara.registry import load_registry

    return load_path(config, load_registry())


def time_steps(algorithm, dataset, steps, warmup=5):
    """Seconds per SGD step over `steps` minibatches of the epoch order (after a short warm-up)."""
    from legacy_aesara.training_algorithms.sgd import design_matrix

    X = design_matrix(dataset)
    batches = algorithm._epoch_batches(X.shape[0])
    batches = [X[index] for index in (batches * (1 + (steps + warmup) // len(batches)))]
    for batch in batches[:warmup]:
        algorithm.train_batch(batch)
    began = time.perf_counter()
    for batch in batches[warmup:warmup + steps]:
        algorithm.train_batch(batch)
    return (time.perf_counter() - began) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m legacy_aesara.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(DEFAULT_CONFIG))
    parser.add_argument("--steps", type=whole_number(1), default=300)
    parser.add_argument("--no-monitor", action="store_true",
                        help="skip building and compiling the monitor (times the training "
                             "function's compilation alone, as on a cold cache)")
    parser.add_argument("--paths", type=name_list(PATHS), default="grad,fused",
                        help="comma-separated gradient paths to time, side by side in this "
                             "process (see training_algorithms/sgd.py: grad, fused, auto)")
    parser.add_argument("--rounds", type=whole_number(1), default=3,
                        help="timing rounds; the paths alternate within each round and the "
                             "median per path is reported")
    parser.add_argument("--profile", action="store_true",
                        help="print Aesara's per-op profile of the training function")
    args = parser.parse_args(argv)

    import aesara

    if args.profile:
        aesara.config.profile = True
    paths = args.paths   # argparse gives the string default to name_list too
    runs = {path: set_up(args.config, path, args.no_monitor) for path in paths}
    timings = {path: [] for path in paths}
    for _round in range(args.rounds):
        # Alternating the paths inside each round spreads the machine's drifts over all of them.
        for path in paths:
            algorithm, dataset, _ = runs[path]
            timings[path].append(time_steps(algorithm, dataset, args.steps))
    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; "
          f"floatX={aesara.config.floatX}; BLAS: {aesara.config.blas__ldflags}")
    medians = {}
    for path in paths:
        algorithm, dataset, setup_seconds = runs[path]
        examples = algorithm.batch_size
        steps_per_epoch = -(-design_matrix_rows(dataset) // examples)
        medians[path] = statistics.median(timings[path])
        rounds = ", ".join(f"{t * 1000:.2f}" for t in timings[path])
        print(f"path {path:5s}: compile sgd_update {algorithm.compile_seconds:.1f} s, monitor "
              f"{algorithm.monitor_compile_seconds:.1f} s, whole setup {setup_seconds:.1f} s; "
              f"{args.steps} steps of batch {examples} x {args.rounds} rounds: median "
              f"{medians[path] * 1000:.2f} ms/step = {medians[path] * steps_per_epoch:.2f} s/epoch "
              f"({steps_per_epoch} steps; rounds {rounds} ms)")
    for path in paths[1:]:
        print(f"ratio {path}/{paths[0]}: {medians[path] / medians[paths[0]]:.3f}")
    if args.profile:
        for path in paths:
            runs[path][0].sgd_update.profile.summary()


def set_up(config, path, no_monitor):
    """(algorithm, dataset, setup seconds) of a fresh experiment whose SGD uses `path`."""
    train = build(config)
    algorithm = train.algorithm
    algorithm.path = path
    if no_monitor:
        algorithm.monitoring_dataset = None
    began = time.perf_counter()
    algorithm.setup(train.model, train.dataset)
    return algorithm, train.dataset, time.perf_counter() - began


def design_matrix_rows(dataset):
    from legacy_aesara.training_algorithms.sgd import design_matrix

    return design_matrix(dataset).shape[0]


if __name__ == "__main__":
    main()
