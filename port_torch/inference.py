"""Learned approximate inference for a trained generator (the paper's section 7, extension 2).

    python -m port_torch.inference train CHECKPOINT --out results/inference/ [--steps N --seed S]
    python -m port_torch.inference evaluate CHECKPOINT --encoder ENCODER.npz --out DIR

An encoder E (an MLP x -> z, gan2014/inference.py) is trained to predict z from G(z) for the fixed
generator G of CHECKPOINT (a training checkpoint of either backend or a released generator): every
step draws a fresh batch z from G's own noise law (``Generator.get_noise``: U(-sqrt 3, sqrt 3)^d for
mnist.yaml), makes x = G(z) with G frozen, and takes one Adam step on mean((E(x) - z)^2).

``train`` then measures E (and ``evaluate`` measures a saved E) on MNIST: the per-pixel squared
error of G(E(x)) on the 10,000 test digits (beside two baselines: the mean training image, and the
nearest of G's 10,000 Parzen samples), ||z - E(G(z))|| on fresh draws of G, and three Parzen
log-likelihoods of the test set (gan2014.parzen, sigma chosen on the 1,000 validation images): with
the kernels on G's samples (Table 1's protocol), with the kernels on G(E(x)) of the first 10,000
training digits (G's range reached through E instead of the noise law), and the likelihood that
G's Parzen density gives the reconstructions G(E(x_test)) themselves; and the singular values of
dG/dz at 20 draws (how many directions of z G follows, which bounds what any E can recover). It
writes OUT/inference.json, OUT/reconstructions.png (test digits, each beside G(E(x))),
OUT/sample_reconstructions.png (G(z) beside G(E(G(z)))) and OUT/encoder.npz (the encoder, a
data-only checkpoint).
"""
import argparse
import json
import sys
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan2014 import checkpoint as ckpt
from gan2014 import inference as core
from gan2014 import parzen
from gan2014.cli import positive_number, whole_number
from gan2014.datasets.errors import DatasetError
from gan2014.fileio import sha256_of
from gan2014.progress_line import StepProgress
from port_torch.adversarial import DEFAULT_SEED

EVAL_CHUNK = 1000   # rows per forward pass in the measurements (bounded memory)
JACOBIAN_POINTS = 20
JACOBIAN_RANKS = (1, 2, 5, 10, 20, 50, 100)


class Encoder(nn.Module):
    """E: ReLU hidden layers and a linear output; each layer computes ``x @ W + b`` with W in the
    project's ``in x out`` layout, so its parameters are gan2014.inference's arrays as they are."""

    def __init__(self, params):
        super().__init__()
        self.names = list(params)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.from_numpy(np.array(params[name], np.float32)))
            for name in self.names)

    @classmethod
    def fresh(cls, n_visible, hidden, n_latent, seed):
        return cls(core.init_params(n_visible, hidden, n_latent, seed))

    def layers(self):
        return [(self.weights[i], self.weights[i + 1]) for i in range(0, len(self.names), 2)]

    def forward_with_hidden(self, x):
        """``(code, [hidden activations, first to last])``."""
        hidden, layers = [], self.layers()
        for index, (W, b) in enumerate(layers):
            x = torch.addmm(b, x, W)
            if index + 1 < len(layers):
                x = torch.relu(x)
                hidden.append(x)
        return x, hidden

    def forward(self, x):
        return self.forward_with_hidden(x)[0]

    def param_values(self):
        return OrderedDict((name, p.detach().cpu().numpy().copy())
                           for name, p in zip(self.names, self.weights))

    @property
    def n_latent(self):
        return self.weights[-1].shape[0]


def training_pair(generator, batch_size, stream):
    """One training batch ``(x, z)``: z fresh from G's own noise law, x = G(z) with G frozen."""
    z = generator.get_noise(int(batch_size), stream)
    with torch.no_grad():
        x = generator(z)
    return x, z


def encoder_loss(encoder, x, z):
    """mean over all entries of (E(x) - z)^2."""
    return (encoder(x) - z).square().mean()


def freeze(generator):
    """G in eval mode with no parameter asking for gradients: E's training cannot touch it."""
    generator.eval()
    for parameter in generator.parameters():
        parameter.requires_grad_(False)
    return generator


def train_encoder(generator, encoder, steps, batch_size=100, lr=1e-3, seed=0, progress=None):
    """``steps`` Adam steps on fresh batches; returns the per-step losses (a float64 array).

    The batches come from a ``torch.Generator`` seeded ``seed`` on G's device, so a run repeats.
    ``progress(step, running_loss)`` is called after every step.
    """
    freeze(generator)
    device = next(generator.parameters()).device
    stream = torch.Generator(device=device)
    stream.manual_seed(int(seed))
    optimiser = torch.optim.Adam(encoder.parameters(), lr=lr)
    losses = np.empty(int(steps))
    for step in range(int(steps)):
        x, z = training_pair(generator, batch_size, stream)
        loss = encoder_loss(encoder, x, z)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        losses[step] = loss.item()
        if progress is not None:
            progress(step + 1, float(losses[max(0, step - 99):step + 1].mean()))
    return losses


@torch.no_grad()
def apply_in_chunks(function, rows, chunk=EVAL_CHUNK):
    """``function`` over the float32 tensor made of ``rows``, a chunk at a time; numpy float32."""
    parts = []
    for start in range(0, len(rows), chunk):
        block = np.ascontiguousarray(rows[start:start + chunk])
        block = torch.as_tensor(block, dtype=torch.float32)
        parts.append(function(block).cpu().numpy())
    return np.concatenate(parts)


def reconstruct(generator, encoder, images):
    """G(E(x)) for the rows of ``images``."""
    return apply_in_chunks(lambda x: generator(encoder(x)), images)


# --- the measurements ----------------------------------------------------------------------------

def load_mnist(data_path=None):
    """``{"test", "valid", "train_head", "train_mean"}``: the 10,000 test digits, the 1,000
    validation images of the Parzen protocol, training rows 0-10,000 and the mean training image
    (rows 0-50,000, G's training set)."""
    from gan2014.datasets.mnist import MNIST

    with parzen._data_path(data_path):
        train = MNIST("train", start=0, stop=50000).X
        return {"test": MNIST("test").X,
                "valid": MNIST("train", start=50000, stop=60000).X[:1000],
                "train_head": train[:10000], "train_mean": train.mean(axis=0)}


def measure(generator, encoder, data, sample_seed=DEFAULT_SEED, n_samples=10000, progress=True):
    """The record of the measurements the module docstring lists (a JSON-able dict)."""
    began = time.perf_counter()
    test = data["test"]
    z = _noise(generator, n_samples, sample_seed)
    samples = apply_in_chunks(generator, z)
    codes = apply_in_chunks(encoder, samples)
    test_recon = reconstruct(generator, encoder, test)
    nearest, _ = _nearest(test, samples)
    record = OrderedDict()
    record["test_reconstruction"] = core.squared_error_summary(test, test_recon)
    record["test_baseline_mean_image"] = core.squared_error_summary(
        test, np.broadcast_to(data["train_mean"], test.shape))
    record["test_baseline_nearest_sample"] = core.squared_error_summary(test, samples[nearest])
    record["sample_codes"] = core.code_error_summary(z, codes)
    record["sample_reconstruction"] = core.squared_error_summary(
        samples, apply_in_chunks(generator, codes))
    record["parzen"] = _parzen_record(samples, reconstruct(generator, encoder, data["train_head"]),
                                      test_recon, data, progress)
    record["G_jacobian_spectrum"] = jacobian_spectrum(generator, z[:JACOBIAN_POINTS])
    record["n_samples"], record["sample_seed"] = int(n_samples), int(sample_seed)
    record["seconds"] = time.perf_counter() - began
    return record, {"test": test, "test_recon": test_recon, "samples": samples,
                    "sample_recon": apply_in_chunks(generator, codes[:48])}


def jacobian_spectrum(generator, z):
    """How many directions of the noise G's output follows near each row of ``z``: the singular
    values of the Jacobian dG/dz (pixels x noise dims), largest first, their median over the rows
    at the ranks ``JACOBIAN_RANKS``, and the median count above 1% of the largest. A direction G
    ignores cannot be recovered by any E: it bounds how small ||z - E(G(z))|| can be."""
    values = []
    for row in torch.as_tensor(np.asarray(z), dtype=torch.float32):
        jacobian = torch.autograd.functional.jacobian(lambda v: generator(v[None])[0], row,
                                                      vectorize=True)
        values.append(torch.linalg.svdvals(jacobian.double()).numpy())
    values = np.array(values)
    ranks = [r for r in JACOBIAN_RANKS if r <= values.shape[1]]
    median = np.median(values, axis=0)
    return {"points": int(len(values)),
            "median_singular_value_at_rank": {str(r): float(median[r - 1]) for r in ranks},
            "median_count_above_1pc_of_largest": float(np.median(
                np.sum(values > 0.01 * values[:, :1], axis=1)))}


def _noise(generator, n, seed):
    stream = torch.Generator(device=next(generator.parameters()).device)
    stream.manual_seed(int(seed))
    return generator.get_noise(int(n), stream).cpu().numpy()


def _nearest(test, samples):
    from gan2014.figures.samples import nearest_neighbours

    return nearest_neighbours(test, samples)


def _parzen_record(samples, train_recon, test_recon, data, progress):
    """Table 1's protocol with kernels on G's samples and on G(E(x_train)); then G's density at the
    test digits' reconstructions (its sigma)."""
    on_samples = parzen.evaluate(samples, data["valid"], data["test"], progress=progress)
    on_recon = parzen.evaluate(train_recon, data["valid"], data["test"], progress=progress)
    ll = parzen.parzen_log_likelihood(test_recon, samples, on_samples.sigma)
    return {"kernels_on_G_samples": _parzen_json(on_samples),
            "kernels_on_G_E_train": _parzen_json(on_recon),
            "G_density_at_test_reconstructions": {
                "sigma": on_samples.sigma, "mean": float(ll.mean()),
                "se": float(ll.std() / np.sqrt(len(ll))), "n_test": int(len(ll))}}


def _parzen_json(result):
    return json.loads(result.to_json())


def save_figures(out, images):
    core.save_pairs_grid(images["test"][:48], images["test_recon"][:48],
                         Path(out) / "reconstructions.png")
    core.save_pairs_grid(images["samples"][:48], images["sample_recon"][:48],
                         Path(out) / "sample_reconstructions.png")


# --- the command ---------------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m port_torch.inference",
        description="Train an inference net z = E(x) for a trained generator, and measure it.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train E for CHECKPOINT's G, then measure it")
    train.add_argument("checkpoint", help="training checkpoint or released generator (.npz)")
    train.add_argument("--steps", type=whole_number(1), default=4000,
                       help="Adam steps (default 4000)")
    train.add_argument("--batch-size", type=whole_number(1), default=100)
    train.add_argument("--lr", type=positive_number, default=1e-3, help="Adam's step size")
    train.add_argument("--hidden", default=",".join(map(str, core.DEFAULT_HIDDEN)),
                       help="hidden widths, comma-separated (default 1200,1200)")
    train.add_argument("--seed", type=int, default=0,
                       help="seeds E's initial weights and the stream of training noise")
    evaluate = commands.add_parser("evaluate", help="measure a saved encoder")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--encoder", required=True, help="an encoder.npz written by train")
    for sub in (train, evaluate):
        sub.add_argument("--out", required=True, help="folder for the JSON record and figures")
        sub.add_argument("--n-samples", type=whole_number(1), default=10000)
        sub.add_argument("--sample-seed", type=int, default=DEFAULT_SEED,
                         help="seed of G's samples for the Parzen estimates (default 10097)")
        sub.add_argument("--threads", type=whole_number(1), default=1,
                         help="torch CPU threads (default 1)")
        sub.add_argument("--data-path", default=None, help="overrides $PYLEARN2_DATA_PATH")
        sub.add_argument("--quiet", action="store_true", help="no progress display")
    return parser


def parse_hidden(parser, text):
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        widths = ()
    if not widths or min(widths) <= 0:
        parser.error(f"--hidden: expected positive comma-separated widths, got {text!r}")
    return widths


def _train(args, parser, generator, out):
    hidden = parse_hidden(parser, args.hidden)
    encoder = Encoder.fresh(generator.mlp.output_dim, hidden, generator.noise_dim, args.seed)
    progress = StepProgress("training E", args.steps, enabled=not args.quiet)
    began = time.perf_counter()
    losses = train_encoder(generator, encoder, args.steps, args.batch_size, args.lr, args.seed,
                           progress=lambda step, loss: progress.update(step, loss=loss))
    progress.close()
    seconds = time.perf_counter() - began
    settings = {"steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
                "hidden": list(hidden), "seed": args.seed, "optimiser": "Adam",
                "loss": "mean squared error on z", "train_seconds": seconds,
                "final_loss_mean_last_100": float(losses[-100:].mean()),
                "loss_every_500": [float(losses[max(0, i - 100):i].mean())
                                   for i in range(500, len(losses) + 1, 500)]}
    core.save_encoder(out / "encoder.npz", encoder.param_values(),
                      dict(settings, generator=_source(args.checkpoint, generator)))
    return encoder, settings


def _source(path, generator):
    meta = getattr(generator, "checkpoint_meta", {})
    return {"file": Path(path).name, "sha256": sha256_of(path), "epoch": meta.get("epoch"),
            "backend": meta.get("backend")}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from port_torch.api import load_generator

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    try:
        generator = freeze(load_generator(args.checkpoint))
        data = load_mnist(args.data_path)   # before training: a missing dataset fails at once
        if args.command == "train":
            encoder, settings = _train(args, parser, generator, out)
        else:
            params, settings = core.load_encoder(args.encoder)
            encoder = Encoder(params)
        _check_sizes(generator, encoder, args)
        record, images = measure(generator, encoder.eval(), data, args.sample_seed,
                                 args.n_samples, progress=not args.quiet)
    except (ckpt.CheckpointError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    record = OrderedDict(generator=_source(args.checkpoint, generator), encoder=settings,
                         **record)
    save_figures(out, images)
    (out / "inference.json").write_text(json.dumps(record, indent=2) + "\n")
    print_summary(record)
    print(f"written: {out / 'inference.json'}, {out / 'reconstructions.png'}, "
          f"{out / 'sample_reconstructions.png'}" + (f", {out / 'encoder.npz'}"
                                                      if args.command == "train" else ""))
    return 0


def _check_sizes(generator, encoder, args):
    if encoder.n_latent != generator.noise_dim:
        raise ckpt.CheckpointError(f"{args.checkpoint}: G takes {generator.noise_dim}-d noise, the "
                                   f"encoder makes {encoder.n_latent}-d codes")


def print_summary(record):
    recon, codes = record["test_reconstruction"], record["sample_codes"]
    print(f"test digits, per-pixel MSE of G(E(x)): {recon['mse']:.5f} +- {recon['se']:.5f} "
          f"(mean image {record['test_baseline_mean_image']['mse']:.5f}, nearest of "
          f"{record['n_samples']} samples {record['test_baseline_nearest_sample']['mse']:.5f})")
    print(f"G's samples: mean ||z - E(G(z))|| {codes['mean_l2']:.3f} (E = 0: "
          f"{codes['baseline_zero_mean_l2']:.3f}); per-dim MSE {codes['per_dim']['mse']:.4f}; "
          f"pixel MSE of G(E(G(z))) {record['sample_reconstruction']['mse']:.5f}")
    spectrum = record["G_jacobian_spectrum"]
    print(f"dG/dz at {spectrum['points']} draws: median number of singular values above 1% of "
          f"the largest {spectrum['median_count_above_1pc_of_largest']:.0f}")
    for name, result in record["parzen"].items():
        print(f"Parzen, {name}: {result['mean']:.2f} +- {result['se']:.2f} "
              f"(sigma {result['sigma']:.4f})")


if __name__ == "__main__":
    sys.exit(main())
