"""Does this machine train a seed the way another one did? A hash of the float32 parameters.

    python -m port_torch.numerics_fingerprint [--config yaml_experiments/mnist.yaml] [--steps 30]
                                              [--threads 1] [--seed 10097] [--json]

A run is reproducible bit for bit on one machine (same code, versions, seeds, thread count), but
two CPUs can compute the same float32 matrix product with different roundings: the math library
picks its code path by CPU. A difference in the last bit of one step grows, over a few epochs of a
GAN, into another training. This command builds the YAML's model (weights from the YAML's seeds),
trains ``--steps`` minibatches of the training set in order with the torch generators seeded
``--seed``, and prints the sha256 of all parameters before and after, with what decides the
numbers: CPU, torch version, torch's kernel level, oneMKL's reproducibility setting (``MKL_CBWR``),
threads. Two machines that print the same hashes train these steps identically; different "after"
hashes mean the same seed will not retrace the other machine's run there.
"""
import argparse
import hashlib
import json
import os

import torch

from gan2014.cli import whole_number
from gan2014.config.yaml_parse import YAMLConfigError, load_path
from gan2014.seeds import GENERATOR_NOISE_SEED
from gan2014.table1 import platform_description

DEFAULT_CONFIG = os.path.join("yaml_experiments", "mnist.yaml")


def parameter_hash(model):
    """sha256 of every parameter's float32 bytes, in the model's parameter order."""
    digest = hashlib.sha256()
    for name, param in model.named_params():
        digest.update(name.encode())
        digest.update(param.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def fingerprint(config=DEFAULT_CONFIG, steps=30, threads=1, seed=GENERATOR_NOISE_SEED):
    """The facts and the two hashes (a dict); trains on the CPU in this process, with `threads`
    torch threads (the process's own count is restored afterwards)."""
    outer = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _fingerprint(config, steps, threads, seed)
    finally:
        torch.set_num_threads(outer)


def _fingerprint(config, steps, threads, seed):
    from port_torch.registry import REGISTRY

    train = load_path(config, REGISTRY)
    train.model.streams.seed(seed)
    algorithm = train.algorithm
    algorithm.setup(train.model, train.dataset)
    train.model.enforce_constraints()
    before = parameter_hash(train.model)
    size = algorithm.batch_size
    rows = train.dataset.X
    if steps * size > len(rows):
        raise SystemExit(f"--steps {steps}: the training set of {config} has {len(rows)} rows, "
                         f"enough for {len(rows) // size} minibatches of {size}")
    for step in range(steps):
        algorithm.train_batch(torch.from_numpy(rows[step * size:(step + 1) * size]))
    return {
        "config": config, "steps": steps, "batch_size": size, "seed": seed, "threads": threads,
        "step_path": algorithm.path_used, "cpu": platform_description(),
        "torch": torch.__version__, "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "MKL_CBWR": os.environ.get("MKL_CBWR", "(unset)"),
        "ATEN_CPU_CAPABILITY": os.environ.get("ATEN_CPU_CAPABILITY", "(unset)"),
        "parameters_before": before, "parameters_after": parameter_hash(train.model),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m port_torch.numerics_fingerprint",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.add_argument("--steps", type=int, default=30, help="minibatches to train (default 30)")
    parser.add_argument("--threads", type=whole_number(1), default=1,
                        help="torch threads (default 1, as each of the campaign's seeds 0 and 1)")
    parser.add_argument("--seed", type=int, default=GENERATOR_NOISE_SEED,
                        help="seed of the torch generators (default 10097)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    try:
        facts = fingerprint(args.config, args.steps, args.threads, args.seed)
    except (YAMLConfigError, OSError) as error:   # the message names the file and what is wrong
        parser.exit(2, f"error: {error}\n")
    if args.json:
        print(json.dumps(facts, sort_keys=True))
    else:
        width = max(len(key) for key in facts)
        for key, value in facts.items():
            print(f"{key:>{width}}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
