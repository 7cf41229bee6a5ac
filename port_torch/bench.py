"""Seconds per training epoch of each step path: `python -m port_torch.bench --device cpu|cuda`.

Builds the model from the YAML (default: the unmodified mnist.yaml), then for each path times
`--steps` minibatch updates after a warm-up and prints the extrapolation to a full epoch
(500 steps of 100 for MNIST). The batched path reports seconds per epoch per model.
Monitoring is not included (the 2014 "Time this epoch" excluded it too).
"""
import argparse
import os
import time

import numpy as np
import torch

from gan2014.cli import name_list, whole_number
from gan2014.iteration import shuffled_sequential_batches
from port_torch.run import configure_torch
from port_torch.training_algorithms.sgd import PATHS

DEFAULT_CONFIG = os.path.join("yaml_experiments", "original", "mnist.yaml")
# Every step path of SGD but "auto" (which is one of them, chosen), and K models at once.
BENCH_PATHS = tuple(path for path in PATHS if path != "auto") + ("batched",)


def build(config, device, path):
    from gan2014.config.yaml_parse import load_path
    from port_torch.registry import REGISTRY

    train = load_path(config, REGISTRY)
    train.model.to_device(device)
    train.algorithm.path = path
    train.algorithm.setup(train.model, train.dataset)
    train.model.enforce_constraints()
    return train


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_path(config, device, path, steps, warmup):
    """Seconds per epoch of `path` ('autograd', 'fused', 'graph'), from `steps` timed updates."""
    train = build(config, device, path)
    algorithm = train.algorithm
    n = algorithm.data.shape[0]
    per_epoch = -(-n // algorithm.batch_size)
    batches = shuffled_sequential_batches(n, algorithm.batch_size, np.random.RandomState(0))
    batches = [b for b in batches if len(b) == algorithm.batch_size]

    def run(count):
        chosen = np.stack([batches[i % len(batches)] for i in range(count)])
        if path == "graph":
            if algorithm.graph_step is None:
                from port_torch.training_algorithms.graph_step import GraphStep
                algorithm.graph_step = GraphStep(algorithm.spec, algorithm.params,
                                                 algorithm.learning_rule.velocities,
                                                 train.model.streams, algorithm.data,
                                                 algorithm.batch_size, algorithm.g_flag)
            algorithm.graph_step.run(chosen, [algorithm.learning_rate] * count,
                                     algorithm.learning_rule.momentum)
        else:
            for index in chosen:
                algorithm.train_batch(algorithm.data[torch.as_tensor(index, device=device)])

    run(warmup)
    sync(device)
    began = time.perf_counter()
    run(steps)
    sync(device)
    return (time.perf_counter() - began) / steps * per_epoch


def time_batched(config, device, k, steps, warmup):
    """Seconds per epoch per model of K seeds trained together."""
    from port_torch.training_algorithms.batched import BatchedModels

    train = build(config, device, "fused")
    algorithm = train.algorithm
    batched = BatchedModels(train.model, algorithm.cost, list(range(k)), device)
    n, B = algorithm.data.shape[0], algorithm.batch_size
    per_epoch = -(-n // B)
    index = torch.arange(B, device=device)

    def run(count):
        for i in range(count):
            batched.step(algorithm.data[(index + i * B) % n], algorithm.learning_rate,
                         algorithm.learning_rule.momentum)

    run(warmup)
    sync(device)
    began = time.perf_counter()
    run(steps)
    sync(device)
    return (time.perf_counter() - began) / steps * per_epoch / k


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m port_torch.bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("config", nargs="?", default=DEFAULT_CONFIG)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--paths", type=name_list(BENCH_PATHS), default=None,
                        help="comma-separated subset of autograd,fused,graph,batched "
                             "(default: all; graph and batched only on cuda)")
    parser.add_argument("--steps", type=whole_number(1), default=100,
                        help="timed updates per path")
    parser.add_argument("--warmup", type=whole_number(0), default=10)
    parser.add_argument("--k", type=whole_number(1), default=8, help="models in the batched path")
    parser.add_argument("--threads", type=whole_number(1), default=None,
                        help="torch CPU threads (default: all cores, 2 on the reference machine)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    configure_torch(device, args.threads or os.cpu_count())
    default = "autograd,fused,graph,batched" if device.type == "cuda" else "autograd,fused"
    paths = args.paths or default.split(",")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"cpu, {torch.get_num_threads()} threads"
    print(f"port_torch.bench: {args.config} on {name}, torch {torch.__version__}, "
          f"{args.steps} timed steps per path", flush=True)
    for path in paths:
        if path == "batched":
            seconds = time_batched(args.config, device, args.k, args.steps, args.warmup)
            print(f"  batched K={args.k:<3d} {seconds:8.3f} s/epoch per model", flush=True)
        else:
            seconds = time_path(args.config, device, path, args.steps, args.warmup)
            print(f"  {path:<12s} {seconds:8.3f} s/epoch", flush=True)


if __name__ == "__main__":
    main()
