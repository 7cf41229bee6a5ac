"""The command line shared by `python -m legacy_aesara.run` and `python -m port_torch.run`.

It plays the part of pylearn2/scripts/train.py: read a YAML file with the backend's registry, then
run the Train object's main loop. Each backend passes its registry and, optionally, extra arguments
(the torch port adds --device and --seed) and a hook to apply them before training.
"""
import argparse
import sys
from pathlib import Path

from gan2014 import checkpoint as ckpt
from gan2014.exit_codes import (EXIT_BAD_INPUT, EXIT_DONE, EXIT_FAILED,
                                EXIT_INTERRUPTED)


def build_parser(backend):
    parser = argparse.ArgumentParser(
        prog=f"python -m {backend}.run",
        description="Train a Pylearn2 YAML experiment (goodfeli/adversarial) with the "
                    f"{backend} backend.")
    parser.add_argument("config",
                        help="the experiment's YAML file, e.g. yaml_experiments/mnist.yaml")
    parser.add_argument("--max-epochs", type=whole_number(0), default=None,
                        help="stop after this many epochs in total (the original MNIST config "
                             "never stops)")
    parser.add_argument("--time-budget", type=seconds, default=None,
                        help="seconds; checked at the start of each epoch, as Pylearn2's "
                             "--time-budget")
    parser.add_argument("--out", default=None,
                        help="output folder for logs and checkpoints (default: runs/<config "
                             "stem>-<backend>)")
    parser.add_argument("--resume", nargs="?", const="latest", default=None, metavar="CHECKPOINT",
                        help="continue a run exactly from a checkpoint (default: the latest in "
                             "--out)")
    parser.add_argument("--keep-checkpoints", type=whole_number(0), default=3,
                        help="how many epoch checkpoints to keep (0 keeps all)")
    parser.add_argument("--monitor-every", type=whole_number(1), default=1, metavar="N",
                        help="compute the monitoring channels after every N-th epoch only (and "
                             "after epoch 0 and the last): training is unchanged (the monitor has "
                             "its own random streams), the log is sparser. Default 1, as Pylearn2")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the one-line progress display, not every channel")
    return parser


def default_out_dir(config, backend):
    return Path("runs") / f"{Path(config).stem}-{backend}"


def resolve_resume(resume, out_dir):
    if resume is None:
        return None
    if resume != "latest":
        return Path(resume)
    latest = ckpt.latest_checkpoint(Path(out_dir) / "checkpoints")
    if latest is None:
        raise ckpt.CheckpointError(f"--resume: no checkpoint in {Path(out_dir) / 'checkpoints'}")
    return latest


def whole_number(minimum):
    """An argparse type: a whole number >= minimum; anything else is refused with the text given."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}")
        return value
    return parse


def _float_within(text, accept, expected):
    """``text`` as a float if ``accept(value)`` holds, else an argparse error saying ``expected``
    (a comparison with nan is false, so nan is refused by every caller's test)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not accept(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def seconds(text):
    """An argparse type: a number of seconds >= 0."""
    return _float_within(text, lambda value: value >= 0, "a number of seconds >= 0")


def positive_number(text):
    """An argparse type: a finite number > 0 (a step size, a width of a kernel)."""
    return _float_within(text, lambda value: 0 < value < float("inf"), "a number > 0")


def name_list(allowed):
    """An argparse type: comma-separated names, each one of ``allowed``, in the order given (empty
    segments are skipped, so "" names none)."""
    def parse(text):
        names = [name for name in text.split(",") if name]
        unknown = [name for name in names if name not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(map(repr, unknown))}; choose "
                                             f"from {', '.join(allowed)}")
        return names
    return parse


def main(argv, backend, load_registry, add_arguments=None, before_training=None):
    """Parse arguments, build the experiment from YAML, train. Returns a process exit code.

    Every expected failure ends in one `error: ...` line on stderr and an exit code, never a
    traceback; a Ctrl-C ends in one line naming the checkpoint --resume continues from.
    """
    try:
        return _main(argv, backend, load_registry, add_arguments, before_training)
    except KeyboardInterrupt as interrupt:
        # TrainingInterrupted carries the message; a bare KeyboardInterrupt came before training.
        message = (str(interrupt)
                   or "Interrupted (Ctrl-C) before training started; nothing was saved.")
        print(f"\n{message}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


def _main(argv, backend, load_registry, add_arguments, before_training):
    from gan2014.config.checks import ExperimentSetupError
    from gan2014.config.yaml_parse import YAMLConfigError, load_path
    from gan2014.train import RunFolderInUse, TrainingDivergedError

    parser = build_parser(backend)
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    if before_training is not None:
        before_training(None, args)  # backend-wide settings (device, threads) before building
    out_dir = Path(args.out) if args.out else default_out_dir(args.config, backend)
    try:
        train = load_path(args.config, load_registry())
    except (YAMLConfigError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not hasattr(train, "main_loop"):
        print(f"error: {args.config} does not describe a pylearn2.train.Train object",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    train.configure(out_dir=out_dir, max_epochs=args.max_epochs,
                    keep_checkpoints=args.keep_checkpoints,
                    yaml_text=Path(args.config).read_text(encoding="utf-8"), backend=backend,
                    verbose=not args.quiet, monitor_every=args.monitor_every)
    if before_training is not None:
        try:
            before_training(train, args)
        except ValueError as error:    # an option the backend cannot apply to this experiment
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        resume_from = resolve_resume(args.resume, out_dir)
        train.main_loop(time_budget=args.time_budget, resume_from=resume_from)
    except TrainingDivergedError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except ckpt.CheckpointWriteError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (ckpt.CheckpointError, RunFolderInUse) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ExperimentSetupError as error:
        print(f"error: {args.config}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Done: {train.epochs_seen} epochs; logs and checkpoints in {out_dir}")
    return EXIT_DONE
