"""Command line (mirrors pylearn2/scripts/train.py): `python -m legacy_aesara.run FILE.yaml`.

Options: --max-epochs N, --time-budget S, --out DIR, --resume [CHECKPOINT], --keep-checkpoints K,
--quiet, --path (how the update function gets its gradients; all paths give the same numbers) and
--seed N (the MRG streams' seed, like port_torch.run's; it wins over $GAN2014_MRG_SEED_OFFSET).
The YAML is read with this backend's registry and handed to the shared gan2014.train.Train.
"""
import argparse
import os
import sys

import legacy_aesara  # noqa: F401  (sets AESARA_FLAGS before Aesara is imported)
from gan2014.cli import main
from gan2014.seeds import GENERATOR_NOISE_SEED
from legacy_aesara import random_streams
from legacy_aesara.registry import BACKEND, load_registry
from legacy_aesara.training_algorithms.sgd import PATHS


def add_arguments(parser):
    parser.add_argument("--path", choices=PATHS, default="auto",
                        help="gradients of the training step (same numbers, different speed): "
                             "grad = aesara.grad on the 2014 graph, fused = the hand-written "
                             "backward of training_algorithms/fused_step.py, auto = fused where "
                             "it supports the model, else grad; reference = the whole step "
                             "written out in training_algorithms/reference_step.py")
    parser.add_argument("--seed", type=_seed, default=None,
                        help=f"seed of the run's MRG streams, like port_torch.run --seed: the "
                             f"Generator's noise stream is seeded N and every other MRG seed "
                             f"(the dropout passes) is shifted by N - {GENERATOR_NOISE_SEED}; "
                             f"default {GENERATOR_NOISE_SEED}, the 2014 seeds. Wins over "
                             f"${random_streams.MRG_SEED_OFFSET_VARIABLE} (K there means --seed "
                             f"{GENERATOR_NOISE_SEED}+K). Weight init and batch order come from "
                             "the YAML, as in 2014")


def _seed(text):
    """--seed's value, checked here so that a bad one is a usage error (exit code 2)."""
    try:
        random_streams.seed_offset(int(text))
    except ValueError as error:
        message = str(error) if text.strip().lstrip("-").isdigit() else f"not an integer: {text!r}"
        raise argparse.ArgumentTypeError(message.replace("--seed must", "must")) from None
    return int(text)


def apply_seed(seed):
    """--seed N (None: not given) for every MRG stream built from now on; says so when it
    overrides $GAN2014_MRG_SEED_OFFSET."""
    random_streams.set_run_seed(seed)
    variable = os.environ.get(random_streams.MRG_SEED_OFFSET_VARIABLE, "").strip()
    if seed is not None and variable:
        print(f"Note: --seed {seed} overrides {random_streams.MRG_SEED_OFFSET_VARIABLE}="
              f"{variable}: every MRG seed is shifted by {seed - GENERATOR_NOISE_SEED}.",
              flush=True)


def before_training(train, args):
    if train is None:
        apply_seed(args.seed)   # before the YAML is read: the Generator seeds its stream then
        return
    if not hasattr(train.algorithm, "path"):
        return
    train.algorithm.path = args.path
    if args.path in ("fused", "reference") and train.algorithm.cost is not None:
        # Raises ValueError (-> exit code 2) for a model or cost the chosen path cannot do.
        train.algorithm.uses_fused_gradients(train.model)


def run_main(argv=None):
    return main(sys.argv[1:] if argv is None else argv, BACKEND, load_registry,
                add_arguments=add_arguments, before_training=before_training)


if __name__ == "__main__":
    sys.exit(run_main())
