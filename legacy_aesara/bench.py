"""Speed of the Aesara backend on the real mnist.yaml model: seconds per epoch and compile time.

    python -m legacy_aesara.bench [--steps 300] [--config yaml_experiments/original/mnist.yaml]
                                  [--profile]

Builds the experiment from the YAML (real MNIST), compiles the training function, and times
`--steps` SGD steps (batch 100) fed in the training order; s/epoch = time per step x 500 (50,000
examples / 100). The compile time printed is that of `sgd_update`; run once with an empty
.aesara_compiledir (`make clean-cache`) for the cold figure and again for the warm one.
For reference, on a 2-core CPU the original code took 12.7-13.1 s/epoch (19.3 s on a cold cache).
"""
import argparse
import os
import time
from pathlib import Path

import legacy_aesara  # noqa: F401  (Aesara flags first)

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
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--no-monitor", action="store_true",
                        help="skip building and compiling the monitor (times the training "
                             "function's compilation alone, as on a cold cache)")
    parser.add_argument("--profile", action="store_true",
                        help="print Aesara's per-op profile of the training function")
    args = parser.parse_args(argv)

    import aesara

    if args.profile:
        aesara.config.profile = True
    train = build(args.config)
    algorithm = train.algorithm
    if args.no_monitor:
        algorithm.monitoring_dataset = None
    began = time.perf_counter()
    algorithm.setup(train.model, train.dataset)
    setup_seconds = time.perf_counter() - began
    per_step = time_steps(algorithm, train.dataset, args.steps)
    examples = algorithm.batch_size
    steps_per_epoch = -(-train.dataset.get_design_matrix().shape[0] // examples)
    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; "
          f"floatX={aesara.config.floatX}")
    print(f"compile sgd_update: {algorithm.compile_seconds:.1f} s; compile monitor: "
          f"{algorithm.monitor_compile_seconds:.1f} s; whole setup: {setup_seconds:.1f} s")
    print(f"{args.steps} steps of batch {examples}: {per_step * 1000:.2f} ms/step = "
          f"{per_step * steps_per_epoch:.2f} s/epoch ({steps_per_epoch} steps)")
    if args.profile:
        algorithm.sgd_update.profile.summary()


if __name__ == "__main__":
    main()
