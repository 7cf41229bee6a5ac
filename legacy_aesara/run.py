"""Command line (mirrors pylearn2/scripts/train.py): `python -m legacy_aesara.run FILE.yaml`.

Options: --max-epochs N, --time-budget S, --out DIR, --resume [CHECKPOINT], --keep-checkpoints K,
--quiet, and --path (how the update function gets its gradients; all paths give the same numbers).
The YAML is read with this backend's registry and handed to the shared gan2014.train.Train.
"""
import sys

import legacy_aesara  # noqa: F401  (sets AESARA_FLAGS before Aesara is imported)
from gan2014.cli import main
from legacy_aesara.registry import BACKEND, load_registry
from legacy_aesara.training_algorithms.sgd import PATHS


def add_arguments(parser):
    parser.add_argument("--path", choices=PATHS, default="auto",
                        help="gradients of the training step (same numbers, different speed): "
                             "grad = aesara.grad on the 2014 graph, fused = the hand-written "
                             "backward of training_algorithms/fused_step.py, auto = fused where "
                             "it supports the model, else grad; reference = the whole step "
                             "written out in training_algorithms/reference_step.py")


def before_training(train, args):
    if train is None or not hasattr(train.algorithm, "path"):
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
