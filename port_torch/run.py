"""pylearn2/scripts/train.py for the torch port: `python -m port_torch.run FILE.yaml [options]`.

Thin on purpose: gan2014.cli reads the YAML through this backend's registry and runs
gan2014.train.Train; this file only adds the torch settings (device, seed, step path, threads).
"""
import sys

import torch

from gan2014 import cli
from port_torch.training_algorithms.sgd import PATHS


def configure_torch(device, threads=None):
    """Process-wide torch settings for reproducible float32 numbers."""
    if threads:
        torch.set_num_threads(threads)
    if device.type == "cuda":
        # TF32 matmuls round inputs to 10 mantissa bits and visibly shift Parzen values.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def add_arguments(parser):
    parser.add_argument("--device", default="cpu", help="cpu or cuda (or cuda:N)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the run's torch generators (noise, dropout, monitoring); "
                             "default 10097, the 2014 Generator's stream seed. Weight init and "
                             "batch order come from the YAML, as in 2014")
    parser.add_argument("--path", choices=PATHS, default="auto",
                        help="training step implementation (all give the same numbers): auto = "
                             "graph on CUDA, fused on CPU, autograd where fused is unsupported; "
                             "reference = the step written out in one function "
                             "(training_algorithms/reference_step.py)")
    parser.add_argument("--threads", type=cli.whole_number(1), default=None,
                        help="torch CPU threads")


def before_training(train, args):
    device = torch.device(args.device)
    if train is None:
        if device.type == "cuda" and not torch.cuda.is_available():
            raise SystemExit("error: --device cuda, but torch sees no CUDA device")
        configure_torch(device, args.threads)
        return
    train.model.to_device(device)
    if args.seed is not None:
        train.model.streams.seed(args.seed)
    train.algorithm.path = args.path


def load_registry():
    from port_torch.registry import REGISTRY
    return REGISTRY


def main(argv=None):
    return cli.main(sys.argv[1:] if argv is None else argv, "port_torch", load_registry,
                    add_arguments=add_arguments, before_training=before_training)


if __name__ == "__main__":
    sys.exit(main())
