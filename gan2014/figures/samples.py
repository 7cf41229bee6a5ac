"""Figures 2 and 3 of the paper from a data-only checkpoint or a released generator: samples
beside their nearest training examples, and walks along straight lines in z space.

    python -m port_torch.figures CHECKPOINT --out figures/
    python -m legacy_aesara.figures CHECKPOINT --out figures/

* Figure 2a (``<prefix>_samples_epochE.png``): a ``--rows`` x ``--cols`` grid, by default 4 x 6 as
  ``adversarial/show_samples_mnist_paper.py`` laid it out (``rows = 4``, ``sample_cols = 5``, plus
  one column). The first ``cols - 1`` columns are random samples of G; the rightmost column, set
  apart by a gap and outlined in yellow as in the paper, is the training example nearest to the
  sample beside it (the last of its row), "to demonstrate that the model has not memorized the
  training set". As in that script, "nearest" is the argmin of the squared Euclidean distance over
  the model's training set: ``dataset.X`` of the checkpoint's YAML (MNIST train[0:50000] for
  mnist.yaml, TFD's unlabeled set for the TFD configs, CIFAR-10 train with GCN for the CIFAR
  ones), with G's output first put in that set's design-matrix layout (a convolutional G's c01b
  batch through ``dataset.get_design_matrix``, as ``show_samples_cifar_conv_paper.py`` did).
* Figure 3 (``<prefix>_interpolation_epochE.png``): each of ``--pairs`` rows holds G((1 - t) z0 +
  t z1) for ``--steps`` values of t evenly spaced from 0 to 1, for a pair (z0, z1) drawn from the
  model's noise law; the first and last images are G(z0) and G(z1) exactly.

The image shape, colour and display range come from that dataset (``image_format``): MNIST and
TFD (scale=True) are grey levels, 0 black and 1 white, as G makes them; CIFAR-10 is RGB, and its
GCN'd values are divided by the largest magnitude among the figure's samples and mapped from
[-1, 1] to [0, 1] (``CIFAR10.adjust_to_be_viewed_with``, the scale of
``show_samples_cifar_*_paper.py``; the neighbours share the samples' scale). Each pixel is
enlarged ``--scale`` times without smoothing, so the PNG holds those values rounded to 8 bits. This
module is framework-free: the backend loads the checkpoint, draws noise and applies G
(``port_torch.figures``, ``legacy_aesara.figures``).
"""
import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from gan2014 import checkpoint as ckpt

IMAGE_SHAPE = (28, 28)  # MNIST's, the default tile shape
BACKGROUND = (90, 90, 90)
YELLOW = (255, 215, 0)


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where each tile of a ``rows`` x ``cols`` grid lies, in pixels. ``gap_before`` (a column
    index, or None) adds ``gap`` pixels before that column, to set it apart."""
    rows: int
    cols: int
    scale: int = 3
    pad: int = 4
    gap_before: int = None
    gap: int = 8
    image_shape: tuple = IMAGE_SHAPE

    @property
    def tile(self):
        return self.image_shape[0] * self.scale, self.image_shape[1] * self.scale

    def tile_box(self, row, col):
        """(left, top, right, bottom) of tile (row, col), right and bottom exclusive."""
        height, width = self.tile
        left = self.pad + col * (width + self.pad)
        if self.gap_before is not None and col >= self.gap_before:
            left += self.gap
        top = self.pad + row * (height + self.pad)
        return left, top, left + width, top + height

    @property
    def size(self):
        right = self.tile_box(0, self.cols - 1)[2] + self.pad
        bottom = self.tile_box(self.rows - 1, 0)[3] + self.pad
        return right, bottom


def to_grey_levels(images):
    """``(..., 784)`` or ``(..., 28, 28)`` values in [0, 1] -> uint8 grey levels, ``(..., 28, 28)``.
    """
    images = np.asarray(images, dtype=np.float64)
    images = images.reshape(images.shape[:-1] + IMAGE_SHAPE) if images.shape[-1] == 784 else images
    return np.rint(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class ImageFormat:
    """How a training set's design rows are drawn: ``name`` (the default file prefix), the
    ``shape`` of an image, its ``channels`` (1 grey, 3 RGB stored planar: all red values, then
    green, then blue, as CIFAR-10's rows), and ``dataset`` when the display range is the
    dataset's (``adjust_to_be_viewed_with``); without it, values are shown as they are in [0, 1]."""
    name: str
    shape: tuple
    channels: int = 1
    dataset: object = None

    @property
    def width(self):
        return self.shape[0] * self.shape[1] * self.channels

    def levels(self, rows, reference):
        """uint8 ``(..., h, w)`` grey or ``(..., h, w, 3)`` RGB levels of design ``rows``, the
        display range fixed by ``reference`` (the figure's samples)."""
        rows = np.asarray(rows, dtype=np.float64)
        if self.dataset is not None:
            reference = np.asarray(reference, dtype=np.float64)
            rows = (self.dataset.adjust_to_be_viewed_with(rows, reference) + 1.0) / 2.0
        if self.channels == 1:
            images = rows.reshape(rows.shape[:-1] + tuple(self.shape))
        else:
            planar = rows.reshape(rows.shape[:-1] + (self.channels,) + tuple(self.shape))
            images = np.moveaxis(planar, -3, -1)
        return np.rint(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def image_format(dataset):
    """The ``ImageFormat`` of a training set built by a config (MNIST, TFD or CIFAR10)."""
    from gan2014.datasets.cifar10 import CIFAR10
    from gan2014.datasets.mnist import MNIST
    from gan2014.datasets.tfd import TFD

    if isinstance(dataset, MNIST):
        return ImageFormat("mnist", IMAGE_SHAPE)
    if isinstance(dataset, TFD):
        # The TFD configs read it with scale=True: G's sigmoid and the data are both in [0, 1],
        # drawn as they are (show_samples_tfd_paper.py: x * 2 - 1 into a [-1, 1] viewer).
        size = int(dataset.args["image_size"])
        if not dataset.args.get("scale") or dataset.args.get("center"):
            raise ValueError("the figures draw TFD read with scale: True and no center (values "
                             f"in [0, 1]); this config has {dataset.args}")
        return ImageFormat("tfd", (size, size))
    if isinstance(dataset, CIFAR10):
        return ImageFormat("cifar10", (32, 32), channels=3, dataset=dataset)
    raise ValueError(f"the figures know MNIST, TFD and CIFAR10 training sets; the checkpoint's "
                     f"YAML trains on a {type(dataset).__name__}")


def describe_dataset(dataset):
    """``"MNIST train[0:50000]"``: which rows the neighbour search ran over, for the record."""
    name = type(dataset).__name__
    args = getattr(dataset, "args", None)
    if name == "TFD":  # TFD keeps its arguments
        return f"{name} {args['which_set']} fold {args['fold']} (scale={args['scale']})"
    which = getattr(dataset, "which_set", "?")
    start, stop = getattr(dataset, "start", None), getattr(dataset, "stop", None)
    rows = f"[{0 if start is None else start}:{len(dataset.X) if stop is None else stop}]"
    gcn = getattr(dataset, "gcn", None)
    return f"{name} {which}{rows}" + (f" (gcn={gcn})" if gcn is not None else "")


def design_rows(batch, dataset, width):
    """G's output as design rows of ``dataset``: a matrix as it is; a 4-D batch (a convolutional
    G's, e.g. c01b) through ``dataset.get_design_matrix``, which reads it in ``dataset.axes``."""
    batch = np.asarray(batch)
    if batch.ndim == 4:
        expected = dataset.get_topological_view(np.zeros((1, width), np.float32)).shape
        batch_axis = list(dataset.axes).index("b")
        if [n for i, n in enumerate(batch.shape) if i != batch_axis] != \
                [n for i, n in enumerate(expected) if i != batch_axis]:
            raise ValueError(f"the generator makes a {batch.shape} batch; the training set's "
                             f"images are {expected} in axes {tuple(dataset.axes)}")
        batch = dataset.get_design_matrix(batch)
    if batch.ndim != 2 or batch.shape[1] != width:
        raise ValueError(f"the generator makes samples of shape {batch.shape[1:]}; the training "
                         f"set's rows have {width} values")
    return batch


def draw_grid(tiles, layout, outlined_cols=()):
    """An RGB image of ``tiles`` (``rows x cols x h x w`` grey or ``rows x cols x h x w x 3`` RGB
    uint8) placed by ``layout``; the tiles of ``outlined_cols`` get a yellow frame in the padding
    around them."""
    image = Image.new("RGB", layout.size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    for row in range(layout.rows):
        for col in range(layout.cols):
            left, top, right, bottom = layout.tile_box(row, col)
            if col in outlined_cols:
                width = max(1, layout.pad - 1)
                draw.rectangle((left - width, top - width, right - 1 + width, bottom - 1 + width),
                               outline=YELLOW, width=width)
            tile = Image.fromarray(tiles[row, col], mode="L" if tiles.ndim == 4 else "RGB")
            tile = tile.resize((right - left, bottom - top), Image.NEAREST).convert("RGB")
            image.paste(tile, (left, top))
    return image


def nearest_neighbours(samples, train, block_rows=512):
    """``(indices, distances)``: for each sample, the row of ``train`` nearest to it (Euclidean).

    Squared distances ``|s|^2 - 2 s.t + |t|^2`` in float64, a block of samples at a time (exact
    enough to rank: float64 keeps 1e-13 of the terms, below 784 for MNIST, ~3e3 for GCN'd CIFAR).
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    train = np.asarray(train, dtype=np.float64).reshape(len(train), -1)
    if samples.shape[1] != train.shape[1]:
        raise ValueError(f"samples have {samples.shape[1]} values, training images "
                         f"{train.shape[1]}")
    train_sq = np.einsum("ij,ij->i", train, train)
    indices = np.empty(len(samples), dtype=np.int64)
    distances = np.empty(len(samples))
    for start in range(0, len(samples), block_rows):
        block = samples[start:start + block_rows]
        squared = train_sq[None, :] - 2.0 * block @ train.T
        squared += np.einsum("ij,ij->i", block, block)[:, None]
        best = np.argmin(squared, axis=1)
        indices[start:start + len(block)] = best
        distances[start:start + len(block)] = np.sqrt(np.maximum(
            squared[np.arange(len(block)), best], 0.0))
    return indices, distances


def interpolate(z0, z1, steps):
    """``(pairs, steps, dim)`` float32: ``(1 - t) z0 + t z1`` for t = 0, 1/(steps-1), ..., 1. The
    ends are z0 and z1 exactly (0 * z is 0, and 1 * z is z, in floating point)."""
    z0 = np.asarray(z0, dtype=np.float64)[:, None, :]
    z1 = np.asarray(z1, dtype=np.float64)[:, None, :]
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    return ((1.0 - t) * z0 + t * z1).astype(np.float32)


def samples_figure(samples, train, rows, cols, scale=3, fmt=None):
    """Figure 2a: ``(image, neighbour indices, distances, layout)`` for ``rows * (cols - 1)``
    design-row ``samples`` (``fmt`` default: 28 x 28 grey)."""
    fmt = ImageFormat("mnist", IMAGE_SHAPE) if fmt is None else fmt
    shown = np.asarray(samples)[:rows * (cols - 1)]
    grid = fmt.levels(shown, shown)
    grid = grid.reshape((rows, cols - 1) + grid.shape[1:])
    beside = shown.reshape(rows, cols - 1, -1)[:, -1]
    indices, distances = nearest_neighbours(beside, train)
    neighbours = fmt.levels(np.asarray(train)[indices], shown)[:, None]
    tiles = np.concatenate([grid, neighbours], axis=1)
    layout = Layout(rows, cols, scale=scale, gap_before=cols - 1, image_shape=tuple(fmt.shape))
    return draw_grid(tiles, layout, outlined_cols=(cols - 1,)), indices, distances, layout


def interpolation_figure(images, scale=3, fmt=None):
    """Figure 3: ``(image, layout)`` for design rows ``images``, shaped ``(pairs, steps, width)``.
    """
    fmt = ImageFormat("mnist", IMAGE_SHAPE) if fmt is None else fmt
    pairs, steps = images.shape[:2]
    layout = Layout(pairs, steps, scale=scale, image_shape=tuple(fmt.shape))
    return draw_grid(fmt.levels(images, images), layout), layout


# ------------------------------------------------------------------------------------- command
class FigureBackend:
    """What a backend supplies: the model from a checkpoint, noise, and G applied to given noise."""

    name = None
    default_seed = None

    def load_run(self, path):
        """``(model, meta, training set)`` from a data-only checkpoint (its YAML's ``dataset``)."""
        raise NotImplementedError

    def load_model(self, path):
        """``(model, meta)`` from a data-only checkpoint."""
        model, meta, _ = self.load_run(path)
        return model, meta

    def noise(self, model, meta, n, seed):
        """``(n, noise_dim)`` float32 numpy noise of the model's law, from a stream seeded
        ``seed``."""
        raise NotImplementedError

    def generate(self, model, z):
        """G(z) as a float32 numpy array: ``(len(z), width)`` rows, or a 4-D batch for a
        convolutional G (in its output space's axes)."""
        raise NotImplementedError


def make_figures(backend, checkpoint, train=None, rows=4, cols=6, pairs=6, steps=10, seed=None,
                 scale=3):
    """Both figures for ``checkpoint``; returns a dict of the images and the numbers behind them.

    The neighbours are searched in ``train`` (design rows) if given, else in the training set of
    the checkpoint's YAML; that set also fixes the image format."""
    model, meta, dataset = backend.load_run(checkpoint)
    if dataset is None:
        raise ValueError(f"{checkpoint}: its YAML builds no training dataset to draw against")
    fmt = image_format(dataset)
    train = dataset.X if train is None else train
    seed = backend.default_seed if seed is None else seed
    shown = rows * (cols - 1)
    z = backend.noise(model, meta, shown + 2 * pairs, seed)
    try:
        samples = design_rows(backend.generate(model, z[:shown]), dataset, fmt.width)
    except ValueError as error:
        raise ValueError(f"{checkpoint}: {error}") from None
    fig2, indices, distances, layout2 = samples_figure(samples, train, rows, cols, scale, fmt)
    z0, z1 = z[shown:shown + pairs], z[shown + pairs:]
    path = interpolate(z0, z1, steps)
    walks = design_rows(backend.generate(model, path.reshape(pairs * steps, -1)), dataset,
                        fmt.width).reshape(pairs, steps, -1)
    fig3, layout3 = interpolation_figure(walks, scale, fmt)
    return {"epoch": int(meta.get("epoch", 0)), "samples_image": fig2, "samples": samples,
            "format": fmt, "neighbours_searched": describe_dataset(dataset),
            "neighbour_indices": indices, "neighbour_distances": distances,
            "samples_layout": layout2, "interpolation_image": fig3, "z0": z0, "z1": z1,
            "interpolations": walks, "interpolation_layout": layout3, "seed": seed,
            "checkpoint_backend": meta.get("backend")}


def build_parser(backend_name):
    parser = argparse.ArgumentParser(
        prog=f"python -m {backend_name}.figures",
        description="Figures 2a and 3 of the paper (samples with nearest training examples; "
                    "z-space interpolations) from a data-only checkpoint.")
    parser.add_argument("checkpoint", help="a checkpoint (.npz) written by either backend")
    parser.add_argument("--out", default="figures",
                        help="folder for the PNG files (default figures)")
    parser.add_argument("--prefix", default=None, help="file name prefix (default: the training "
                        "set of the checkpoint's YAML: mnist, tfd or cifar10)")
    parser.add_argument("--rows", type=int, default=4, help="rows of Figure 2a (default 4, as "
                        "show_samples_mnist_paper.py)")
    parser.add_argument("--cols", type=int, default=6,
                        help="columns of Figure 2a, the last one the nearest neighbours "
                             "(default 6: 5 samples and a neighbour, as "
                             "show_samples_mnist_paper.py)")
    parser.add_argument("--pairs", type=int, default=6, help="rows of Figure 3 (default 6)")
    parser.add_argument("--steps", type=int, default=10,
                        help="images per row of Figure 3 (default 10)")
    parser.add_argument("--scale", type=int, default=3, help="screen pixels per image pixel")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the noise (the backend's help says the default)")
    parser.add_argument("--data-path", default=None,
                        help="dataset root holding mnist/, faces/TFD/ or cifar10/ (default: "
                             "$PYLEARN2_DATA_PATH or ./data)")
    return parser


def main(argv, backend):
    """Parse, draw, write the two PNGs and a JSON record beside them. Returns an exit status."""
    from gan2014.config.yaml_parse import YAMLConfigError
    from gan2014.datasets import DatasetError
    from gan2014.parzen import _data_path

    parser = build_parser(backend.name)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.cols < 2 or args.pairs < 1 or args.steps < 2 or args.scale < 1:
        parser.error("need --rows >= 1, --cols >= 2, --pairs >= 1, --steps >= 2, --scale >= 1")
    try:
        with _data_path(args.data_path):  # the YAML's datasets are read while it is rebuilt
            figures = make_figures(backend, args.checkpoint, None, args.rows, args.cols,
                                   args.pairs, args.steps, args.seed, args.scale)
    except (ckpt.CheckpointError, DatasetError, YAMLConfigError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    prefix = figures["format"].name if args.prefix is None else args.prefix
    stem = f"{prefix}_%s_epoch{figures['epoch']}"
    samples_path = out / (stem % "samples" + ".png")
    walk_path = out / (stem % "interpolation" + ".png")
    figures["samples_image"].save(samples_path, "PNG")
    figures["interpolation_image"].save(walk_path, "PNG")
    record = {"checkpoint": os.fspath(args.checkpoint), "epoch": figures["epoch"],
              "checkpoint_backend": figures["checkpoint_backend"], "drawn_by": backend.name,
              "seed": figures["seed"], "rows": args.rows, "cols": args.cols, "pairs": args.pairs,
              "steps": args.steps,
              "neighbours_searched": figures["neighbours_searched"],
              "neighbour_indices": [int(i) for i in figures["neighbour_indices"]],
              "neighbour_distances": [float(d) for d in figures["neighbour_distances"]]}
    record_path = out / (stem % "samples" + ".json")
    record_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    distances = figures["neighbour_distances"]
    print(f"Figure 2a: {samples_path} ({args.rows} x {args.cols - 1} samples of epoch "
          f"{figures['epoch']}; nearest training distances {distances.min():.2f}-"
          f"{distances.max():.2f}; indices in {record_path})")
    print(f"Figure 3:  {walk_path} ({args.pairs} interpolations of {args.steps} steps)")
    return 0
