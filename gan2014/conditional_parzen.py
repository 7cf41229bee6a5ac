"""Conditional Parzen evaluation of a conditional MNIST checkpoint (Mirza & Osindero 2014, Table 1).

Their protocol: draw 1,000 samples of each of the 10 classes (10,000 in all), fit one Gaussian
Parzen window to them, and report the mean log-likelihood of the MNIST test images (with its
standard error), the window width sigma chosen on validation images. Here sigma is chosen, as in
adversarial/parzen_ll.py, on the first 1,000 images of MNIST train[50000:60000] over
logspace(-1, 0, 10); the estimator is gan2014.parzen's float64 one (gan2014/parzen_cli.py).

The command also writes a class-by-class sample grid: one row per class, `--grid-cols` samples a
row, and measures how much the samples vary (`class_diversity`), beside the same figures for real
validation digits: a generator that ignores its noise, or its label, shows it there at once.

By default G samples as the 2014 parzen_ll.py did (Generator.sample, include probability 1):
deterministically, the plain forward pass, each dropout mask x scale replaced by its expectation 1.
`--generator-dropout` samples with the dropout G was trained with (the run's own training cost:
fresh masks for every sample), and `--same-noise` gives every sample one noise vector; together
they show how much of the samples' variety comes from the dropout masks rather than from z. The
record and figure of such a draw carry the suffix `_gdropout` / `_samez` beside the default ones.

Given a run's checkpoint folder instead of one checkpoint, the command scores every `--every`-th
epoch, keeps the records it already finds in the output folder, writes `scores.csv` (or
`scores_gdropout.csv`, ...) and names the best checkpoint by validation: the paper's stopping
point.
Each backend supplies how its generator turns one-hot labels into samples
(port_torch/conditional.py, legacy_aesara/conditional.py).
"""
import argparse
import functools
import json
import re
import time
from pathlib import Path

import numpy as np

from gan2014 import checkpoint as ckpt
from gan2014 import parzen_cli
from gan2014.datasets.labels_as_features import one_hot
from gan2014.fileio import write_text_atomically
from gan2014.image_grid import save_grid

RESULTS = Path("results") / "conditional"
CLASSES = 10


def class_labels(per_class, num_classes=CLASSES):
    """The integer labels 0 x per_class, 1 x per_class, ... (class-major order)."""
    return np.repeat(np.arange(num_classes), per_class)


def build_parser(backend):
    parser = argparse.ArgumentParser(
        prog=f"python -m {backend}.conditional",
        description="Conditional MNIST: Parzen log-likelihood of the test set under samples of "
                    "every class (Mirza & Osindero 2014 protocol), and a class-by-class grid.")
    parser.add_argument("checkpoint", help="a checkpoint (.npz) of mnist_conditional.yaml, or a "
                        "run's folder of them: then every --every-th epoch is scored (those "
                        "already scored in the output folder are kept), and the scores and the "
                        "best checkpoint by validation are reported (the paper's stopping point)")
    parser.add_argument("--every", type=int, default=5,
                        help="with a folder: score the epochs that are multiples of this "
                             "(default 5)")
    parser.add_argument("--per-class", type=int, default=1000,
                        help="samples drawn for each class (default 1000: 10,000 in all)")
    parser.add_argument("-s", "--sigma", type=float, default=None,
                        help="use this sigma instead of selecting it on the validation images")
    parser.add_argument("-l", "--limit", type=int, default=1000,
                        help="validation images used to select sigma (default 1000)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the noise G turns into samples (default: the backend's)")
    parser.add_argument("--out", default=None, help="folder for the record and the figure "
                        f"(default {RESULTS}/<checkpoint's run folder>-<backend>)")
    parser.add_argument("--grid-cols", type=int, default=10,
                        help="samples per class in the figure (default 10)")
    parser.add_argument("--data-path", default=None,
                        help="dataset root holding mnist/ (default: $PYLEARN2_DATA_PATH or ./data)")
    parser.add_argument("--generator-dropout", action="store_true",
                        help="sample with the dropout G was trained with (fresh masks for every "
                             "sample, the run's own include probabilities and scales) instead of "
                             "the deterministic G (no masks)")
    parser.add_argument("--same-noise", action="store_true",
                        help="give every sample the same noise vector (with --generator-dropout, "
                             "only the masks vary)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    return parser


def check_arguments(parser, args):
    for name in ("per_class", "limit", "grid_cols", "every"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.sigma is not None and not args.sigma > 0:
        parser.error("--sigma must be a positive number")
    if args.sigma is not None and Path(args.checkpoint).is_dir():
        parser.error("--sigma: a folder is scored to select by validation, which needs sigma "
                     "chosen on the validation images")


def output_folder(args, backend):
    """--out, else results/conditional/<run folder>-<backend> (the run folder holds checkpoints/;
    a run folder whose name already ends in -<backend> is not suffixed twice)."""
    if args.out:
        return Path(args.out)
    path = Path(args.checkpoint).resolve()
    run = path if path.is_dir() else path.parent
    if run.name == "checkpoints":
        run = run.parent
    return RESULTS / (run.name if run.name.endswith(f"-{backend}") else f"{run.name}-{backend}")


def check_classes(model, parser):
    classes = getattr(model.generator, "num_classes", None)
    if classes != CLASSES:
        parser.exit(2, f"error: the checkpoint's generator is not a conditional MNIST generator "
                       f"(it takes {classes} label columns; {CLASSES} are needed)\n")


def main(argv, backend, load_registry, draw, describe=None):
    """Score one checkpoint, or select among a run's checkpoints (a folder). Returns an exit code.

    draw(model, meta, labels_one_hot, args, cost) -> (n, 784) float array, row i of class
    labels[i]; `cost` is the run's training cost when G samples with its training dropout (else
    None), and draw raises ValueError when that cost applies no dropout in G;
    describe(args) -> backend fields for the record.
    """
    parser = build_parser(backend)
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    folder = output_folder(args, backend)
    score = functools.partial(score_checkpoint, args=args, parser=parser, backend=backend,
                              registry=load_registry(), draw=draw, describe=describe,
                              folder=folder)
    if not Path(args.checkpoint).is_dir():
        score(Path(args.checkpoint))
        return 0
    return select(Path(args.checkpoint), args, parser, backend, folder, score)


def score_checkpoint(path, args, parser, backend, registry, draw, describe, folder):
    """Load, sample per class, score, draw the grid, write the record; returns the record."""
    began = time.perf_counter()
    try:
        built, model, meta = parzen_cli.load_run(path, registry)
    except ckpt.CheckpointError as error:
        parser.exit(2, f"error: {error}\n")
    check_classes(model, parser)
    cost = training_cost(built, args, parser)
    timings = {"load_s": time.perf_counter() - began}
    started = time.perf_counter()
    labels = class_labels(args.per_class)
    try:
        samples = draw(model, meta, one_hot(labels, CLASSES), args, cost=cost)
    except ValueError as error:
        parser.exit(2, f"error: {path}: {error}\n")
    samples = np.asarray(samples, dtype=np.float64)
    timings["sample_s"] = time.perf_counter() - started
    diversity = {"samples": class_diversity(samples, labels),
                 "real_validation": real_diversity(args.per_class, args.data_path)}
    if args.generator_dropout or args.same_noise:
        ways = (["with G's training dropout"] if args.generator_dropout else []) + \
            (["one noise vector for all"] if args.same_noise else [])
        print(f"samples drawn {' and '.join(ways)}")
    print_diversity(diversity, args.per_class)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"epoch{int(meta.get('epoch') or 0):06d}" + draw_suffix(args)
    figure = folder / f"{stem}_class_grid.png"
    save_grid(class_grid(samples, labels, args.grid_cols), figure, cols=args.grid_cols, scale=2)
    print(f"class grid (one row per class 0-9) written to {figure}")
    valid, test = parzen_cli.protocol_data(args.limit, args.sigma is not None, args.data_path)
    result, protocol = parzen_cli.run_protocol(samples, valid, test, sigma=args.sigma,
                                               progress=not args.quiet)
    timings.update(protocol, total_s=time.perf_counter() - began)
    record = {"backend": backend, "checkpoint": str(path), "epoch": meta.get("epoch"),
              "checkpoint_backend": meta.get("backend"), "protocol": "conditional",
              "per_class": args.per_class, "classes": CLASSES, "figure": str(figure),
              "limit": None if valid is None else int(valid.shape[0]), "seed": args.seed,
              "generator_dropout": args.generator_dropout, "same_noise": args.same_noise,
              "diversity": diversity}
    if describe is not None:
        record.update(describe(args))
    return parzen_cli.report(result, timings, record, folder / f"{stem}_parzen.json")


# ------------------------------------------------------------------ selection over a run's folder
SCORE_COLUMNS = ("epoch", "validation_ll", "sigma", "test_ll", "test_se", "within_class_std",
                 "between_class_std")


def select(directory, args, parser, backend, folder, score):
    """Score every --every-th epoch of a run (keeping records already in `folder` that were made
    the same way), write scores<suffix>.csv there and print the best by validation: the
    checkpoint the paper's protocol keeps."""
    wanted = [(epoch, path) for epoch, path in ckpt.epoch_end_checkpoints(directory)
              if epoch % args.every == 0]
    if not wanted:
        parser.exit(2, f"error: {directory} holds no checkpoint of an epoch that is a multiple "
                       f"of {args.every}\n")
    records = scored_records(folder, args, backend, directory)
    todo = [(epoch, path) for epoch, path in wanted if epoch not in records]
    print(f"{len(wanted)} checkpoints of {directory} (every {args.every}th epoch): "
          f"{len(wanted) - len(todo)} scored before in {folder}, {len(todo)} to score")
    for count, (epoch, path) in enumerate(todo, 1):
        print(f"--- [{count}/{len(todo)}] epoch {epoch}: {path}", flush=True)
        records[epoch] = score(path)
    rows = score_rows(records)
    table = folder / f"scores{draw_suffix(args)}.csv"
    write_text_atomically(table, "".join(",".join(str(value) for value in row) + "\n"
                                         for row in [SCORE_COLUMNS, *rows]))
    best = max(rows, key=lambda row: row[1])
    print(f"scores of {len(rows)} checkpoints written to {table}")
    print(f"best by validation: epoch {best[0]} (validation {best[1]:.2f} at sigma "
          f"{best[2]:.4f}); test log-likelihood {best[3]:.2f} +- {best[4]:.2f}")
    return 0


def scored_records(folder, args, backend, directory):
    """{epoch: record} of the records in `folder` of checkpoints in `directory` drawn as `args`
    asks (same backend, samples per class, validation images, seed, dropout and noise choices;
    sigma chosen on validation). Records of other runs or other settings are left out."""
    name = re.compile(r"epoch(\d{6})" + re.escape(draw_suffix(args)) + r"_parzen\.json")
    same = {"backend": backend, "per_class": args.per_class, "limit": args.limit,
            "seed": args.seed, "generator_dropout": args.generator_dropout,
            "same_noise": args.same_noise}
    found = {}
    for path in sorted(Path(folder).glob("epoch*_parzen.json")):
        if not name.fullmatch(path.name):
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        made = {key: record.get(key, False if key in ("generator_dropout", "same_noise")
                                else None) for key in same}
        checkpoint = Path(str(record.get("checkpoint")))
        if made == same and record.get("sigma_table") and \
                checkpoint.resolve().parent == Path(directory).resolve():
            found[int(record["epoch"])] = record
    return found


def score_rows(records):
    """One row of SCORE_COLUMNS per record, by epoch; the validation estimate is the best mean
    log-likelihood of the sigma grid (the value sigma was chosen by)."""
    return [(epoch, max(ll for _, ll in r["sigma_table"]), r["sigma"], r["mean"], r["se"],
             r["diversity"]["samples"]["within_class"],
             r["diversity"]["samples"]["between_classes"])
            for epoch, r in sorted(records.items())]


def training_cost(built, args, parser):
    """The run's training cost when --generator-dropout asks for G's dropout, else None."""
    if not args.generator_dropout:
        return None
    cost = getattr(getattr(built, "algorithm", None), "cost", None)
    if cost is None:
        parser.exit(2, f"error: {args.checkpoint}: its YAML has no training algorithm with a "
                       "cost, so G's training dropout is unknown\n")
    return cost


def draw_suffix(args):
    return ("_gdropout" if args.generator_dropout else "") + ("_samez" if args.same_noise else "")


def class_diversity(images, labels):
    """How much a set of images varies, within and between classes (pixel values in [0, 1]):

    within_class -- the per-pixel standard deviation over the images of one class, averaged over
                    pixels and classes (0 when the noise is ignored: one image per class);
    between_classes -- the per-pixel standard deviation of the 10 class-mean images, averaged over
                    pixels (0 when the label is ignored: the same images for every class).
    """
    images = np.asarray(images, dtype=np.float64)
    members = [images[labels == k] for k in range(CLASSES)]
    if any(len(m) < 2 for m in members):
        raise ValueError("class_diversity needs at least 2 images of each of the 10 classes")
    within = float(np.mean([m.std(axis=0).mean() for m in members]))
    between = float(np.stack([m.mean(axis=0) for m in members]).std(axis=0).mean())
    return {"within_class": within, "between_classes": between}


def real_diversity(per_class, data_path=None):
    """class_diversity of the first `per_class` validation digits (MNIST train[50000:60000]) of
    each class: the reference for the samples' figures."""
    from gan2014 import parzen
    from gan2014.datasets.mnist import MNIST

    with parzen._data_path(data_path):
        valid = MNIST("train", start=50000, stop=60000)
    y = np.asarray(valid.y).ravel()
    rows = parzen.first_rows_of_each_class(y, per_class, CLASSES, allow_fewer=True)
    return class_diversity(valid.X[rows], y[rows])


def print_diversity(diversity, per_class):
    s, r = diversity["samples"], diversity["real_validation"]
    print(f"sample diversity ({per_class} per class; real validation digits in brackets): "
          f"per-pixel std within a class {s['within_class']:.4f} [{r['within_class']:.4f}], "
          f"between the class means {s['between_classes']:.4f} [{r['between_classes']:.4f}]")


def class_grid(samples, labels, cols):
    """The first `cols` samples of each class, class after class (row k of the grid: class k)."""
    return np.concatenate([samples[labels == k][:cols] for k in range(CLASSES)])
