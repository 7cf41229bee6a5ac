"""Semi-supervised MNIST with the features of a trained GAN (the paper's section 7, extension 4).

    python -m port_torch.semisupervised CHECKPOINT --out results/semisupervised/ \\
        [--encoder results/inference/encoder.npz] [--labels 100,600,1000,3000] [--draws 10]

A linear classifier (gan2014/semisupervised.py: multinomial logistic regression, L2 strength chosen
on a held-out part of the labelled set) is trained on 100, 600, 1,000 and 3,000 labelled digits
drawn from G's training images (rows 0-50,000; balanced, one draw per seed 0 ... draws-1, the same
draws for every feature set) and scored on the 10,000 test digits, for each feature set:

* ``pixels``: the raw 784 pixels, the baseline;
* ``D h1``: the discriminator's last hidden layer (maxout, 240 units), the representation its
  output unit reads -- the most processed one the adversarial game shaped; ``D h0``, the first
  maxout layer, and ``D h0+h1``, both side by side, to show what the depth adds;
* with ``--encoder`` (``python -m port_torch.inference train``): ``E last hidden``, the inference
  net's last ReLU layer, and ``E code``, its output z.

The networks are applied as at test time: no dropout, so no mask and no scale (Pylearn2's dropout
scaled the kept inputs during training so that the plain forward pass is the one to use after).
Writes OUT/semisupervised.json, OUT/table.md and OUT/error_vs_labels.png.
"""
import argparse
import json
import sys
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from gan2014 import checkpoint as ckpt
from gan2014 import inference as inference_core
from gan2014 import semisupervised as ss
from gan2014.cli import whole_number
from gan2014.datasets.errors import DatasetError
from gan2014.fileio import sha256_of
from gan2014.progress_line import StepProgress

DEFAULT_LABELS = (100, 600, 1000, 3000)
POOL_STOP = 50000   # G and D were trained on MNIST train rows 0-50,000: the unlabelled pool


def load_pair(path):
    """``(AdversaryPair, meta)`` of a training checkpoint, rebuilt from its YAML's ``Train.model``
    alone (no dataset is read: an ``init_bias`` computed from data is replaced by 0, then every
    parameter is set from the file)."""
    from gan2014.config.yaml_parse import load, train_file_variables
    from gan2014.pretrained import _SubtreeBuilder
    from port_torch.registry import REGISTRY

    arrays, meta = ckpt.load_checkpoint(path)
    if not meta.get("yaml"):
        raise ckpt.CheckpointError(f"{path} holds no YAML text: cannot rebuild its model")
    if not any(name.startswith("D/") for name in arrays):
        raise ckpt.CheckpointError(f"{path} holds no discriminator parameters (D/...): a released "
                                   "generator has none; give a training checkpoint")
    tree = load(meta["yaml"], REGISTRY, filename=f"{path} (its YAML)", instantiate=False)
    if getattr(tree, "name", None) != "pylearn2.train.Train" or "model" not in tree.kwargs:
        raise ckpt.CheckpointError(f"{path}: its YAML is not a pylearn2.train.Train with a model")
    model = _SubtreeBuilder(path, train_file_variables(str(path))).build(tree.kwargs["model"])
    values = model.get_param_values()
    ckpt.check_parameters_match(path, arrays, {name: v.shape for name, v in values.items()},
                                meta.get("param_names"))
    model.set_param_values({name: arrays[name] for name in values})
    return model.eval(), meta


def hidden_layer_names(mlp):
    return [layer.layer_name for layer in mlp.layers][:-1]


@torch.no_grad()
def discriminator_features(discriminator, x, layer_names):
    """The outputs of D's hidden layers ``layer_names`` for the rows ``x`` (a float32 tensor), in
    the order asked: D's plain forward pass, layer by layer, stopped after the last one needed."""
    hidden = hidden_layer_names(discriminator)
    unknown = [name for name in layer_names if name not in hidden]
    if unknown or not layer_names:
        raise ValueError(f"the discriminator's hidden layers are {hidden}; asked for "
                         f"{list(layer_names)}")
    found = {}
    for layer in discriminator.layers:
        x = layer(x)
        if layer.layer_name in layer_names:
            found[layer.layer_name] = x
        if len(found) == len(set(layer_names)):
            break
    return [found[name] for name in layer_names]


def feature_functions(discriminator, encoder=None):
    """OrderedDict name -> function(float32 tensor of images) -> 2-D tensor of features."""
    functions = OrderedDict()
    functions["pixels"] = lambda x: x
    functions["D h0"] = lambda x: discriminator_features(discriminator, x, ["h0"])[0]
    functions["D h1"] = lambda x: discriminator_features(discriminator, x, ["h1"])[0]
    functions["D h0+h1"] = lambda x: torch.cat(discriminator_features(discriminator, x,
                                                                      ["h0", "h1"]), dim=1)
    if encoder is not None:
        functions["E last hidden"] = lambda x: encoder.forward_with_hidden(x)[1][-1]
        functions["E code"] = lambda x: encoder(x)
    return functions


def compute_features(functions, images, chunk=1000):
    """name -> float32 numpy features of ``images``, a chunk of rows at a time."""
    from port_torch.inference import apply_in_chunks

    return OrderedDict((name, apply_in_chunks(function, images, chunk))
                       for name, function in functions.items())


def run_sweep(pool, pool_labels, test, test_labels, label_counts, draws, lambdas,
              progress=None):
    """For every feature set, label count and draw: choose and fit the classifier, score the test
    set. ``pool``/``test`` map a feature-set name to its features. Returns the per-run records."""
    runs = OrderedDict((name, OrderedDict((str(n), []) for n in label_counts)) for name in pool)
    scalers = OrderedDict((name, ss.Standardiser(features)) for name, features in pool.items())
    test = OrderedDict((name, scalers[name](test[name])) for name in pool)   # scaled once
    done, total = 0, len(pool) * len(label_counts) * draws
    for n_labels in label_counts:
        for draw in range(draws):
            chosen = ss.balanced_labels(pool_labels, n_labels, seed=draw)
            for name, features in pool.items():
                began = time.perf_counter()
                X = scalers[name](features[chosen])
                model, record = ss.select_and_fit(X, pool_labels[chosen], lambdas, seed=draw)
                record.update(draw=draw, test_error=model.error(test[name], test_labels),
                              seconds=time.perf_counter() - began)
                runs[name][str(n_labels)].append(record)
                done += 1
                if progress is not None:
                    progress(done, total, name, n_labels, record["test_error"])
    return runs


def summarise_runs(runs):
    return OrderedDict((name, OrderedDict((n, ss.summarise([r["test_error"] for r in records]))
                                          for n, records in by_count.items()))
                       for name, by_count in runs.items())


# --- the command ---------------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m port_torch.semisupervised",
        description="A linear classifier on few MNIST labels, on the features of a trained "
                    "discriminator (and inference net) against raw pixels.")
    parser.add_argument("checkpoint", help="training checkpoint (holds D), .npz")
    parser.add_argument("--out", required=True, help="folder for the JSON record, table, figure")
    parser.add_argument("--encoder", default=None,
                        help="encoder.npz of `python -m port_torch.inference train`: adds E's "
                             "features")
    parser.add_argument("--labels", default=",".join(map(str, DEFAULT_LABELS)),
                        help="label counts, comma-separated multiples of 10 (default "
                             "100,600,1000,3000)")
    parser.add_argument("--draws", type=int, default=10, help="label draws (seeds 0..N-1)")
    parser.add_argument("--lambdas", default=",".join(map(str, ss.DEFAULT_LAMBDAS)),
                        help="grid of L2 strengths chosen from on the held-out labels")
    parser.add_argument("--threads", type=whole_number(1), default=1,
                        help="torch CPU threads (default 1)")
    parser.add_argument("--data-path", default=None, help="overrides $PYLEARN2_DATA_PATH")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    return parser


def _numbers(parser, option, text, kind):
    try:
        values = tuple(kind(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) <= 0:
        parser.error(f"{option}: expected positive comma-separated numbers, got {text!r}")
    return values


def _load_data(data_path):
    from gan2014 import parzen
    from gan2014.datasets.mnist import MNIST

    with parzen._data_path(data_path):
        pool, test = MNIST("train", start=0, stop=POOL_STOP), MNIST("test")
    return pool.X, pool.y.reshape(-1).astype(np.int64), test.X, test.y.reshape(-1).astype(np.int64)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    label_counts = _numbers(parser, "--labels", args.labels, int)
    lambdas = _numbers(parser, "--lambdas", args.lambdas, float)
    if args.draws < 2:
        parser.error("--draws must be at least 2 (the table reports the spread between draws)")
    if any(n % ss.N_CLASSES for n in label_counts):
        parser.error(f"--labels: each count must be a multiple of {ss.N_CLASSES} (balanced "
                     f"classes), got {args.labels!r}")
    torch.set_num_threads(args.threads)
    began = time.perf_counter()
    try:
        model, meta = load_pair(args.checkpoint)
        encoder, encoder_meta = _encoder(args)
        pool_x, pool_y, test_x, test_y = _load_data(args.data_path)
    except (ckpt.CheckpointError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for n in label_counts:   # before the features: a count the pool cannot give fails at once
        try:
            ss.balanced_labels(pool_y, n, seed=0)
        except ValueError as error:
            print(f"error: --labels {n}: {error}", file=sys.stderr)
            return 2
    functions = feature_functions(model.discriminator, encoder)
    pool, test = compute_features(functions, pool_x), compute_features(functions, test_x)
    features_seconds = time.perf_counter() - began
    line = StepProgress("classifiers", len(functions) * len(label_counts) * args.draws,
                        enabled=not args.quiet)
    runs = run_sweep(pool, pool_y, test, test_y, label_counts, args.draws, lambdas,
                     progress=lambda done, total, name, n, error: line.update(
                         done, features=name, labels=n, test_error=error))
    line.close()
    summary = summarise_runs(runs)
    out = Path(args.out)
    record = OrderedDict(
        checkpoint={"file": Path(args.checkpoint).name,
                    "sha256": sha256_of(args.checkpoint),
                    "epoch": meta.get("epoch"), "backend": meta.get("backend")},
        encoder=encoder_meta, label_counts=list(label_counts), draws=args.draws,
        lambdas=list(lambdas), holdout_fraction=ss.HOLDOUT_FRACTION,
        feature_dims={name: int(values.shape[1]) for name, values in pool.items()},
        summary=summary, runs=runs,
        seconds={"features": features_seconds, "total": time.perf_counter() - began})
    _write(out, record, summary, label_counts, list(functions))
    return 0


def _encoder(args):
    if args.encoder is None:
        return None, None
    from port_torch.inference import Encoder

    params, meta = inference_core.load_encoder(args.encoder)
    width = next(iter(params.values())).shape[0]
    if width != 784:
        raise ckpt.CheckpointError(f"{args.encoder}: the encoder reads {width} values, not "
                                   "MNIST's 784")
    return Encoder(params).eval(), {"file": Path(args.encoder).name,
                                    "sha256": sha256_of(args.encoder),
                                    "steps": meta.get("steps"), "hidden": meta.get("hidden")}


def _write(out, record, summary, label_counts, names):
    out.mkdir(parents=True, exist_ok=True)
    (out / "semisupervised.json").write_text(json.dumps(record, indent=2) + "\n")
    table = ss.markdown_table(summary, label_counts, names)
    (out / "table.md").write_text("Test error (%) on the 10,000 MNIST test digits, mean ± sd over "
                                  f"{record['draws']} label draws\n\n{table}\n")
    ss.plot_errors(summary, list(label_counts), names, out / "error_vs_labels.png")
    print(table)
    print(f"written: {out / 'semisupervised.json'}, {out / 'table.md'}, "
          f"{out / 'error_vs_labels.png'}")


if __name__ == "__main__":
    sys.exit(main())
