"""The command line shared by `python -m legacy_aesara.parzen` and `python -m port_torch.parzen`.

It plays the part of ``adversarial/parzen_ll.py :: main`` for a data-only checkpoint
(``gan2014.checkpoint``): rebuild the model from the YAML text in the checkpoint's metadata with the
backend's registry, set its parameters, let the backend draw the samples from G, then run the
protocol of docs/pylearn2_semantics.md#parzen-protocol (``-d mnist`` or ``-d tfd``, by default
chosen from the samples' width: 784 or 2304 values):

* MNIST: sigma = the value of ``logspace(-1, 0, 10)`` with the largest mean log-likelihood of the
  first ``--limit`` (1,000) images of ``MNIST('train', 50000, 60000)``, unless ``--sigma`` is given;
  the mean and standard error (``std / sqrt(N)``, ddof 0) over the 10,000 MNIST test images.
* TFD: the same on each fold (``--fold F`` for one, as ``parzen_ll.py -f F``; by default all five,
  the paper's protocol): sigma chosen on the fold's whole validation split, mean and se on its test
  split; then the mean over the folds and the standard error across folds
  (``gan2014.parzen.across_folds``). The same samples serve every fold.

Rebuilding a model made with ``adversarial.add_layers`` (TFD stage 2) runs add_layers again, so its
``pretrained`` path must still resolve from the current directory (gan2014/pretrained.py); the
checkpoint's own values then replace the pretrained ones.

The log-likelihoods come from ``gan2014.parzen.parzen_log_likelihood`` (float64, exact, the
reference) unless the backend passes another function with the same contract
``ll_fn(x, mu, sigmas, progress=None) -> (len(sigmas), len(x)) float64`` (the torch
port's GPU form).

Framework-free: what a backend contributes is a registry, a sampler and optionally ``ll_fn``.
"""
import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from gan2014 import checkpoint as ckpt
from gan2014 import parzen, release_generator
from gan2014.exit_codes import EXIT_BAD_INPUT, EXIT_DONE

MNIST_DIM = 784
TFD_DIM = 48 * 48
DATASET_DIMS = {"mnist": MNIST_DIM, "tfd": TFD_DIM}


def build_parser(backend):
    parser = argparse.ArgumentParser(
        prog=f"python -m {backend}.parzen",
        description="Parzen-window log-likelihood of a checkpoint's generator on MNIST or TFD "
                    "(adversarial/parzen_ll.py protocol, float64).")
    parser.add_argument("checkpoint",
                        help="a data-only checkpoint (.npz) written by either backend")
    parser.add_argument("-n", "--n-samples", type=int, default=10000,
                        help="samples drawn from G (parzen_ll.py -n; default 10000)")
    parser.add_argument("-s", "--sigma", type=float, default=None,
                        help="use this sigma instead of selecting it on the validation images")
    parser.add_argument("-d", "--dataset", choices=sorted(DATASET_DIMS), default=None,
                        help="the protocol's data (parzen_ll.py -d); default: from the samples' "
                             "width (784: mnist, 2304: tfd)")
    parser.add_argument("-f", "--fold", type=int, default=None,
                        help="TFD: evaluate this fold only (parzen_ll.py -f); default: all five "
                             "folds, then the mean and standard error across them (the paper's "
                             "protocol)")
    parser.add_argument("-l", "--limit", type=int, default=1000,
                        help="MNIST validation images used to select sigma (parzen_ll.py -l; "
                             "default 1000; TFD uses its whole validation split, as parzen_ll.py)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the noise that G turns "
                        "into samples (the backend's help says what the default is)")
    parser.add_argument("--json", default=None, help="write the result record to this file")
    parser.add_argument("--data-path", default=None,
                        help="dataset root holding mnist/ or faces/TFD/ (default: "
                             "$PYLEARN2_DATA_PATH or ./data)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    return parser


def check_arguments(parser, args):
    if args.n_samples < 1:
        parser.error("--n-samples must be >= 1")
    if args.limit < 1:
        parser.error("--limit must be >= 1")
    if args.sigma is not None and not (args.sigma > 0 and math.isfinite(args.sigma)):
        parser.error("--sigma must be a positive number")
    if args.fold is not None and args.fold not in parzen.TFD_FOLDS:
        parser.error(f"--fold must be one of {list(parzen.TFD_FOLDS)} (TFD has five folds)")
    if args.fold is not None and args.dataset == "mnist":
        parser.error("--fold is for TFD; MNIST has no folds")


def choose_dataset(requested, width):
    """The protocol's dataset: `requested` (-d), checked against the samples' width, or the one
    whose images have `width` values. Raises ValueError with the reason."""
    if requested is not None:
        if DATASET_DIMS[requested] != width:
            raise ValueError(f"the generator makes {width}-dimensional samples, but {requested} "
                             f"images have {DATASET_DIMS[requested]} values")
        return requested
    for name, dim in DATASET_DIMS.items():
        if dim == width:
            return name
    raise ValueError(f"the generator makes {width}-dimensional samples; the Parzen protocol is "
                     f"implemented for MNIST ({MNIST_DIM} pixels) and TFD ({TFD_DIM} pixels)")


def load_model(path, registry):
    """``(model, meta)``: the checkpoint's YAML rebuilt with ``registry``, parameters set from it.

    The YAML text is the run's own (``meta["yaml"]``); ``${PYLEARN2_TRAIN_FILE_*}`` variables are
    derived from the checkpoint's path. Building it also builds the training datasets (a second
    for MNIST), as unpickling the 2014 model did not; that is the price of data-only checkpoints.
    """
    _, model, meta = load_run(path, registry)
    return model, meta


def load_run(path, registry):
    """``(built, model, meta)``: as ``load_model``, plus the object the YAML built (a ``Train``,
    whose ``dataset`` is the training set, for a run's YAML).

    ``path`` may also be a released generator (``gan2014.release_generator``: G's parameters
    only). Its model is the whole pair the YAML describes, G set from the file and D left as the
    YAML drew it: what reads such a file (the Parzen protocol, the figures) applies G alone."""
    from gan2014.config.yaml_parse import load, train_file_variables

    arrays, meta = ckpt.load_checkpoint(path)
    text = meta.get("yaml")
    if not text:
        raise ckpt.CheckpointError(f"{path} holds no YAML text: cannot rebuild its model")
    built = load(text, registry, filename=f"{path} (meta yaml)",
                 environ=train_file_variables(str(path)))
    model = getattr(built, "model", built)
    values = model.get_param_values()
    stored = [name for name in values
              if meta.get("kind") != release_generator.KIND or name.startswith("G/")]
    ckpt.check_parameters_match(path, arrays, {name: values[name].shape for name in stored})
    values.update({name: arrays[name] for name in stored})
    model.set_param_values(values)
    return built, model, meta


def protocol_data(limit, sigma_given, data_path=None):
    """``(valid, test)``: ``MNIST('train', 50000, 60000).X[:limit]`` (None when sigma is given) and
    ``MNIST('test').X``, float32 in [0, 1]."""
    from gan2014.datasets.mnist import MNIST

    with parzen._data_path(data_path):
        test = MNIST("test").X
        valid = None if sigma_given else MNIST("train", start=50000, stop=60000).X[:limit]
    return valid, test


def run_protocol(samples, valid, test, sigma=None, ll_fn=None, progress=True):
    """``(ParzenResult, timings)``: sigma selection (unless given), then the test mean and se.

    Same arithmetic as ``gan2014.parzen.evaluate`` (argmax over the grid, first on ties; population
    std), with the two phases timed separately and ``ll_fn`` pluggable.
    """
    ll_fn = parzen.parzen_log_likelihood if ll_fn is None else ll_fn
    began = time.perf_counter()
    timings, table = {}, []
    if sigma is None:
        with parzen._progress_line("parzen sigma selection", progress) as report:
            ll = ll_fn(valid, samples, parzen.DEFAULT_SIGMAS, progress=report)
        means = ll.mean(axis=1)
        table = [(float(s), float(m)) for s, m in zip(parzen.DEFAULT_SIGMAS, means)]
        sigma = float(parzen.DEFAULT_SIGMAS[int(np.argmax(means))])
        timings["sigma_selection_s"] = time.perf_counter() - began
    started = time.perf_counter()
    with parzen._progress_line("parzen test (sigma=%.4g)" % sigma, progress) as report:
        ll = ll_fn(test, samples, np.array([float(sigma)]), progress=report)[0]
    timings["test_s"] = time.perf_counter() - started
    result = parzen.ParzenResult(sigma=float(sigma), mean=float(ll.mean()),
                                 se=float(ll.std() / np.sqrt(ll.shape[0])),
                                 n_samples=int(samples.shape[0]), n_test=int(ll.shape[0]),
                                 sigma_table=table, seconds=time.perf_counter() - began)
    return result, timings


def print_result(result):
    """What parzen_ll.py printed for one evaluation, after the sigma table."""
    for sigma, mean in result.sigma_table:
        print("sigma %.4f: mean validation ll %.3f" % (sigma, mean))
    print("Using Sigma: {}".format(result.sigma))
    print("Log-Likelihood of test set = {}, se: {}".format(result.mean, result.se))


def report(result, timings, record, json_path=None):
    """Print what parzen_ll.py printed plus the sigma table and timings; write the JSON record."""
    print_result(result)
    print("timings: " + ", ".join("%s %.2f s" % (k[:-2], v) for k, v in timings.items()))
    full = dict(json.loads(result.to_json()), **record, timings=timings)
    write_record(full, json_path)
    return full


def report_folds(results, timings, record, json_path=None):
    """The TFD output: each fold as parzen_ll.py -f printed it, then the summary across folds."""
    for fold, result in results.items():
        print(f"--- TFD fold {fold} ({result.n_test} test images)")
        print_result(result)
    full = dict(record, timings=timings)
    if len(results) > 1:
        summary = parzen.across_folds(results)
        print("TFD, folds {}: mean test log-likelihood = {}, se across folds: {} (ddof 0; ddof 1: "
              "{})".format(", ".join(str(f) for f in results), summary.mean, summary.se,
                           summary.se_ddof1))
        full.update(summary.to_record())
    else:
        full["folds"] = {str(f): json.loads(r.to_json()) for f, r in results.items()}
    print("timings: " + ", ".join("%s %.2f s" % (k[:-2], v) for k, v in timings.items()))
    write_record(full, json_path)
    return full


def write_record(record, json_path):
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        print(f"record written to {json_path}")


def main(argv, backend, load_registry, draw_samples, add_arguments=None, ll_function=None,
         describe=None):
    """Parse, load, sample, evaluate, report. Returns a process exit code.

    draw_samples(model, meta, args) -> ``(n, D)`` array of samples (float32 from the model);
    ll_function(args) -> an ``ll_fn`` for :func:`run_protocol`, or None for the numpy reference;
    describe(args) -> dict of backend-specific fields for the record (device, seed used, ...).
    """
    parser = build_parser(backend)
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    timings = {}
    began = time.perf_counter()
    try:
        model, meta = load_model(Path(args.checkpoint), load_registry())
    except ckpt.CheckpointError as error:
        parser.exit(EXIT_BAD_INPUT, f"error: {error}\n")
    timings["load_s"] = time.perf_counter() - began
    started = time.perf_counter()
    samples = draw_samples(model, meta, args)
    timings["sample_s"] = time.perf_counter() - started
    try:
        dataset = choose_dataset(args.dataset, samples.shape[1])
    except ValueError as error:
        parser.exit(EXIT_BAD_INPUT, f"error: {error}\n")
    ll_fn = ll_function(args) if ll_function is not None else None
    record = {"backend": backend, "checkpoint": str(args.checkpoint),
              "checkpoint_backend": meta.get("backend"), "epoch": meta.get("epoch"),
              "dataset": dataset, "sigma_given": args.sigma is not None}
    if describe is not None:
        record.update(describe(args))
    if dataset == "tfd":
        folds = parzen.TFD_FOLDS if args.fold is None else (args.fold,)
        results = {}
        for fold in folds:
            valid, test = parzen.tfd_fold_data(fold, args.sigma is not None, args.data_path)
            results[fold], fold_timings = run_protocol(samples, valid, test, sigma=args.sigma,
                                                       ll_fn=ll_fn, progress=not args.quiet)
            timings.update({f"fold{fold}_{key}": value for key, value in fold_timings.items()})
        timings["total_s"] = time.perf_counter() - began
        report_folds(results, timings, record, args.json)
        return EXIT_DONE
    valid, test = protocol_data(args.limit, args.sigma is not None, args.data_path)
    result, protocol_timings = run_protocol(samples, valid, test, sigma=args.sigma, ll_fn=ll_fn,
                                            progress=not args.quiet)
    timings.update(protocol_timings)
    timings["total_s"] = time.perf_counter() - began
    record["limit"] = None if args.sigma is not None else int(valid.shape[0])
    report(result, timings, record, args.json)
    return EXIT_DONE
