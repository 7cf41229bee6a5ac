"""Learned approximate inference for a trained generator: the framework-free parts.

The paper's section 7 (extension 2): "learned approximate inference can be performed by training an
auxiliary network to predict z given x", for a fixed generator after it has finished training. The
inference net (encoder) E here is an MLP ``x -> z``: ReLU hidden layers and a linear output, trained
to minimise the mean squared error ``mean((E(G(z)) - z)^2)`` over fresh draws ``z`` of G's own noise
law, G frozen (``port_torch.inference`` trains it).

This module holds what does not depend on a framework:

* the encoder's parameters (names ``E/<layer>_W``, ``E/<layer>_b``; weights in the project's
  ``in x out`` layout, a layer computes ``x @ W + b``) and their initial draw;
* a float64 numpy reference of the loss and its gradients, written out by hand: the torch encoder
  is tested against it;
* the encoder file (the data-only checkpoint format of :mod:`gan2014.checkpoint`);
* the measurements (reconstruction errors) and the figure of digits beside their reconstructions.
"""
from collections import OrderedDict
from pathlib import Path

import numpy as np

from gan2014 import checkpoint as ckpt
from gan2014.image_grid import tile

KIND = "inference-encoder"
DEFAULT_HIDDEN = (1200, 1200)   # G's own widths (100 -> 1200 -> 1200 -> 784), mirrored


def layer_names(n_hidden):
    """``h0 ... h{n-1}`` for the hidden layers, then ``y`` for the output (the MLPs' naming)."""
    return [f"h{i}" for i in range(n_hidden)] + ["y"]


def param_shapes(n_visible, hidden, n_latent):
    """OrderedDict ``E/<layer>_W`` -> (in, out), ``E/<layer>_b`` -> (out,), in layer order."""
    sizes = [int(n_visible)] + [int(h) for h in hidden] + [int(n_latent)]
    if any(size <= 0 for size in sizes):
        raise ValueError(f"encoder layer sizes must be positive, got {sizes}")
    shapes = OrderedDict()
    for name, (fan_in, fan_out) in zip(layer_names(len(hidden)), zip(sizes[:-1], sizes[1:])):
        shapes[f"E/{name}_W"] = (fan_in, fan_out)
        shapes[f"E/{name}_b"] = (fan_out,)
    return shapes


def init_params(n_visible, hidden, n_latent, seed):
    """float32 parameters: W ~ U(-r, r) with Glorot's r = sqrt(6 / (in + out)), b = 0.

    One RandomState(seed), drawn in layer order, so the draw is the same on every machine.
    """
    rng = np.random.RandomState(int(seed))
    params = OrderedDict()
    for name, shape in param_shapes(n_visible, hidden, n_latent).items():
        if name.endswith("_W"):
            bound = np.sqrt(6.0 / (shape[0] + shape[1]))
            params[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
        else:
            params[name] = np.zeros(shape, np.float32)
    return params


def _layers(params):
    """[(W, b), ...] in layer order from a parameter dict."""
    names = [name[2:-2] for name in params if name.endswith("_W")]
    return [(params[f"E/{name}_W"], params[f"E/{name}_b"]) for name in names]


# --- the float64 reference -----------------------------------------------------------------------

def reference_forward(params, x):
    """``(output, hidden activations)`` of the encoder in float64 (ReLU hidden, linear out)."""
    h = np.asarray(x, np.float64)
    hidden = []
    layers = _layers(params)
    for index, (W, b) in enumerate(layers):
        a = h @ np.asarray(W, np.float64) + np.asarray(b, np.float64)
        if index + 1 < len(layers):
            h = np.maximum(a, 0.0)
            hidden.append(h)
        else:
            h = a
    return h, hidden


def reference_loss_and_grads(params, x, z):
    """``(loss, OrderedDict name -> gradient)`` in float64, by hand (no autodiff).

    ``loss = mean over all N x d entries of (E(x) - z)^2``; back-propagation: ``dL/dout =
    2 (E(x) - z) / (N d)``, through each layer ``dW = h_in^T delta``, ``db = sum delta``,
    ``delta_in = (delta W^T) * [a > 0]`` (the ReLU's derivative; 0 at exactly 0, as torch's).
    """
    x = np.asarray(x, np.float64)
    z = np.asarray(z, np.float64)
    out, hidden = reference_forward(params, x)
    if out.shape != z.shape:
        raise ValueError(f"the encoder makes {out.shape[1:]}-dimensional codes, the targets z have "
                         f"shape {z.shape[1:]}")
    residual = out - z
    loss = float(np.mean(residual ** 2))
    delta = 2.0 * residual / residual.size
    inputs = [x] + hidden
    names = [name[2:-2] for name in params if name.endswith("_W")]
    grads = {}
    for index in reversed(range(len(names))):
        W = np.asarray(params[f"E/{names[index]}_W"], np.float64)
        grads[f"E/{names[index]}_W"] = inputs[index].T @ delta
        grads[f"E/{names[index]}_b"] = delta.sum(axis=0)
        if index:
            delta = (delta @ W.T) * (inputs[index] > 0)
    return loss, OrderedDict((name, grads[name]) for name in params)


# --- the encoder file ----------------------------------------------------------------------------

def save_encoder(path, params, meta):
    """Write the encoder's parameters and ``meta`` (JSON-able) as a data-only checkpoint."""
    record = dict(meta, kind=KIND, param_names=list(params),
                  shapes={name: list(value.shape) for name, value in params.items()})
    return ckpt.save_checkpoint(path, params, record)


def load_encoder(path):
    """``(params, meta)`` of an encoder file; refuses any other checkpoint, naming what is wrong."""
    arrays, meta = ckpt.load_checkpoint(path)
    if meta.get("kind") != KIND:
        raise ckpt.CheckpointError(f"{path} is not an encoder file (kind {meta.get('kind')!r}, "
                                   f"expected {KIND!r}); train one with "
                                   "`python -m port_torch.inference train`")
    names = meta.get("param_names") or []
    missing = [name for name in names if name not in arrays]
    if not names or missing:
        raise ckpt.CheckpointError(f"{path}: encoder parameters missing: {missing or 'all'}")
    for name in names:
        if list(arrays[name].shape) != list(meta["shapes"][name]):
            raise ckpt.CheckpointError(f"{path}: {name} has shape {arrays[name].shape}, its "
                                       f"metadata says {meta['shapes'][name]}")
    return OrderedDict((name, arrays[name]) for name in names), meta


# --- measurements --------------------------------------------------------------------------------

def squared_error_summary(target, estimate):
    """Mean squared error per entry, with the standard error over rows (each row's mean first).

    ``{"mse": ..., "se": ..., "rows": N}`` in float64: for images the per-pixel error of each
    image, averaged over images; for codes the per-dimension error of each code.
    """
    target = np.asarray(target, np.float64)
    estimate = np.asarray(estimate, np.float64)
    if target.shape != estimate.shape or target.ndim != 2:
        raise ValueError(f"squared_error_summary: shapes {target.shape} and {estimate.shape} "
                         "must be equal and 2-D")
    per_row = np.mean((target - estimate) ** 2, axis=1)
    return {"mse": float(per_row.mean()), "se": float(per_row.std() / np.sqrt(len(per_row))),
            "rows": int(len(per_row))}


def code_error_summary(z, z_hat):
    """``||z - E(G(z))||``: its mean over rows, the mean squared error per dimension, and the
    same for the trivial estimate E = 0 (the noise law's mean), to read the first against."""
    z = np.asarray(z, np.float64)
    z_hat = np.asarray(z_hat, np.float64)
    norms = np.sqrt(np.sum((z - z_hat) ** 2, axis=1))
    return {"mean_l2": float(norms.mean()), "mean_l2_se": float(norms.std() / np.sqrt(len(z))),
            "per_dim": squared_error_summary(z, z_hat),
            "baseline_zero_mean_l2": float(np.sqrt(np.sum(z ** 2, axis=1)).mean()),
            "baseline_zero_per_dim_mse": float(np.mean(z ** 2))}


def pairs_grid(left, right, pairs_per_row=6, scale=2):
    """A uint8 image: each ``left`` image directly followed by its ``right`` counterpart, row by
    row (``x`` beside ``G(E(x))``); images are rows of 784 values in [0, 1]."""
    left, right = np.asarray(left), np.asarray(right)
    if left.shape != right.shape or left.ndim != 2:
        raise ValueError(f"pairs_grid: shapes {left.shape} and {right.shape} must be equal, 2-D")
    interleaved = np.empty((2 * len(left), left.shape[1]), np.float64)
    interleaved[0::2], interleaved[1::2] = left, right
    return tile(interleaved, cols=2 * int(pairs_per_row), scale=scale)


def save_pairs_grid(left, right, path, pairs_per_row=6, scale=2):
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pairs_grid(left, right, pairs_per_row, scale)).save(path)
    return path
