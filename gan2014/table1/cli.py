"""The Table-1 command line, shared by ``python -m port_torch.table1`` and
``python -m legacy_aesara.table1``: each passes its backend, its default noise seed and its own
options."""
import argparse
import os
import sys
import time
from pathlib import Path

from gan2014 import checkpoint as ckpt
from gan2014 import fileio
from gan2014.cli import positive_number, seconds, whole_number
from gan2014.exit_codes import EXIT_BAD_INPUT, EXIT_DONE, EXIT_FAILED, EXIT_INTERRUPTED
from gan2014.table1.bundles import BUNDLE_PIECE_MIB, pack_bundle, unpack_bundle
from gan2014.table1.driver import train_all
from gan2014.table1.layout import Table1Error
from gan2014.table1.manifest import manifest_record, open_out_dir
from gan2014.table1.protocol import VALID_START, VALID_STOP, Protocol, score_samples
from gan2014.table1.report import build_report, format_report, write_report
from gan2014.table1.validation import TimeBudget


def build_parser(backend_name, default_config, default_noise_seed=None):
    parser = argparse.ArgumentParser(
        prog=f"python -m {backend_name}.table1",
        description="Table 1 (MNIST Parzen): train seeds with periodic validation Parzen, resume "
                    "across calls, and report the test Parzen of each seed's best-by-validation "
                    "checkpoint. See gan2014/table1/ for the protocol.")
    parser.add_argument("--config", default=default_config,
                        help=f"the experiment's YAML (default {default_config}, the faithful "
                             "config); tests pass a tiny one")
    parser.add_argument("--out", required=True,
                        help="output folder (one seed_K/ run folder per seed)")
    parser.add_argument("--seeds", type=whole_number(0), nargs="+", default=None,
                        help="seed numbers to train, one after another (default: 0); with "
                             "--report, the seeds to report (default: every seed_K folder)")
    parser.add_argument("--epochs", type=whole_number(1), default=2500,
                        help="train each seed to this many epochs (default 2500)")
    parser.add_argument("--valid-every", type=whole_number(1), default=50,
                        help="epochs between validation Parzen evaluations (default 50)")
    parser.add_argument("--time-budget", type=seconds, default=None,
                        help="seconds for this command, from its start; it stops cleanly before "
                             "an epoch it could not finish, and exits with status 75")
    parser.add_argument("--n-samples", type=whole_number(1), default=10000,
                        help="samples from G per Parzen evaluation (parzen_ll.py -n; "
                             "default 10000)")
    parser.add_argument("--limit", type=whole_number(1), default=1000,
                        help="validation images that choose sigma (parzen_ll.py -l; default 1000)")
    parser.add_argument("--noise-seed", type=int, default=None,
                        help="seed of the noise G turns into Parzen samples (default "
                             f"{default_noise_seed}, the same for every epoch and seed)")
    parser.add_argument("--keep-checkpoints", type=whole_number(0), default=3,
                        help="epoch checkpoints kept per seed besides best_valid.npz (0 keeps all)")
    parser.add_argument("--save-every", type=whole_number(1), default=None, metavar="N",
                        help="write a checkpoint after every N-th epoch (default: the YAML's "
                             "save_freq, 1 for mnist.yaml); must divide --valid-every. A pause "
                             "still saves the exact epoch it stops at; a kill loses at most N-1 "
                             "epochs. Each mnist.yaml checkpoint is 30 MB")
    parser.add_argument("--monitor-every", type=whole_number(1), default=1, metavar="N",
                        help="compute the monitoring channels after every N-th epoch only (and "
                             "after epoch 0 and the last); training and validation are unchanged. "
                             "Default 1, as Pylearn2; on a GPU the 173 channels of mnist.yaml cost "
                             "more than an epoch of training")
    parser.add_argument("--report", action="store_true",
                        help="do not train: compute the test Parzen of each seed's best "
                             "checkpoint, write table1_summary.json/.md and print the table")
    parser.add_argument("--recompute", action="store_true",
                        help="with --report: compute every test Parzen again, here, instead of "
                             "using the value kept when the seed finished")
    parser.add_argument("--unpack", metavar="DIR", default=None,
                        help="first merge the bundle in DIR (table1_bundle.000, ...) into --out: "
                             "a run moved here from another machine")
    parser.add_argument("--pack", metavar="DIR", default=None,
                        help="last write a bundle of what changed in --out since the last --unpack "
                             "into DIR, to move the run's results to another machine")
    parser.add_argument("--pack-resume", metavar="DIR", default=None,
                        help="last write a bundle of what a fresh machine needs to continue the "
                             "run (copy DIR there and --unpack it)")
    parser.add_argument("--piece-mib", type=positive_number, default=BUNDLE_PIECE_MIB,
                        metavar="MIB",
                        help="size of each bundle piece in MiB (default %(default)g)")
    parser.add_argument("--max-pieces", type=whole_number(1), default=None, metavar="N",
                        help="refuse to write a bundle of more than N pieces (default: no limit)")
    parser.add_argument("--no-train", action="store_true",
                        help="only --unpack / --pack / --report, no training")
    parser.add_argument("--verbose", action="store_true",
                        help="print Pylearn2's monitor block every epoch (default: one line)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no Parzen progress display")
    return parser


def check_arguments(parser, args):
    """What no single option's type can see: how options relate (each alone is checked by its
    argparse type while parsing)."""
    if args.save_every is not None and args.valid_every % args.save_every:
        parser.error("--save-every must divide --valid-every (every validated epoch needs its "
                     "checkpoint)")
    if args.limit > VALID_STOP - VALID_START:
        parser.error(f"--limit must be <= {VALID_STOP - VALID_START} (the validation images)")
    if args.seeds is not None and len(set(args.seeds)) != len(args.seeds):
        parser.error("--seeds must be distinct")


def main(argv, backend_name, make_backend, default_noise_seed, add_arguments=None,
         default_config=os.path.join("yaml_experiments", "mnist.yaml"), budget=None,
         scorer=score_samples):
    """Parse, then train (default) or report. Returns a process exit status.

    ``make_backend(args)`` -> a :class:`Backend`; ``budget`` replaces the ``--time-budget`` clock
    (tests pass one that pauses at chosen epochs); ``scorer`` replaces :func:`score_samples`.
    """
    from gan2014.config.checks import ExperimentSetupError
    from gan2014.config.yaml_parse import YAMLConfigError
    from gan2014.datasets import DatasetError
    from gan2014.train import RunFolderInUse

    began = time.monotonic()
    parser = build_parser(backend_name, default_config, default_noise_seed)
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    noise_seed = default_noise_seed if args.noise_seed is None else args.noise_seed
    try:
        backend = make_backend(args)
        backend.configure()
        if args.unpack:
            unpack_bundle(args.out, args.unpack)
        status = EXIT_DONE
        if args.report:
            summary = build_report(args.out, backend, seeds=args.seeds, progress=not args.quiet,
                                   recompute=args.recompute, scorer=scorer)
            print(format_report(summary))
            for path in write_report(args.out, summary):
                print(f"written: {path}")
        elif not args.no_train:
            status = _train_command(args, backend, noise_seed, budget, began, scorer)
        if args.pack:
            pack_bundle(args.out, args.pack, "changed", args.piece_mib, args.max_pieces)
        if args.pack_resume:
            pack_bundle(args.out, args.pack_resume, "resume", args.piece_mib, args.max_pieces)
        return status
    except KeyboardInterrupt as interrupt:
        message = str(interrupt) or "Interrupted (Ctrl-C)."
        print(f"\n{message} Run the same command again to continue.", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except (Table1Error, YAMLConfigError, ExperimentSetupError, ckpt.CheckpointError,
            RunFolderInUse, DatasetError, fileio.JSONLError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return EXIT_FAILED if isinstance(error, ckpt.CheckpointWriteError) else EXIT_BAD_INPUT
    except OSError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return EXIT_FAILED


def _train_command(args, backend, noise_seed, budget, began, scorer):
    config = Path(args.config)
    if not config.is_file():
        raise Table1Error(f"--config {config} does not exist")
    protocol = Protocol(valid_every=args.valid_every, n_samples=args.n_samples, limit=args.limit,
                        noise_seed=noise_seed)
    manifest = open_out_dir(args.out, manifest_record(
        config, config.read_text(encoding="utf-8"), backend.name, protocol))
    if budget is None:
        budget = TimeBudget(args.time_budget)
        if budget.deadline is not None:
            budget.deadline = began + args.time_budget  # from the command's start
    return train_all(args.out, manifest, args.seeds or [0], backend, protocol, args.epochs, budget,
                     keep_checkpoints=args.keep_checkpoints, monitor_every=args.monitor_every,
                     save_every=args.save_every, verbose=args.verbose, progress=not args.quiet,
                     scorer=scorer)
