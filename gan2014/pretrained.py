"""The pretrained generator of `adversarial.add_layers`: where it is found and how it is rebuilt.

In 2014, ``adversarial/__init__.py :: add_layers(mlp, pretrained, start_layer=0)`` called
``pylearn2/utils/serial.py :: load(pretrained)``: it unpickled the stage-1 model that
``tfd_pretrain/pretrain.yaml`` saved at ``save_path: ${PYLEARN2_TRAIN_FILE_FULL_STEM}.pkl`` and took
``model.generator.mlp.layers``. The path (``"./pretrain.pkl"`` in ``tfd_pretrain/train.yaml``) was
relative to the current directory.

This project never unpickles (unpickling runs whatever code the file names). A run writes data-only
checkpoints instead (:mod:`gan2014.checkpoint`), into ``OUT/checkpoints/epoch_NNNNNN.npz``, where
``OUT`` defaults to ``runs/<config stem>-<backend>`` (:func:`gan2014.cli.default_out_dir`) and each
checkpoint's metadata holds the run's YAML text. :func:`resolve` maps the 2014 file name onto those,
relative to the current directory as in 2014:

1. ``X.npz``: that checkpoint file.
2. A folder ``X``: a run folder; its latest checkpoint (in ``X/checkpoints/``, or in ``X`` itself).
3. ``X.pkl`` that exists as a file: refused, with the reason; nothing else is tried.
4. Otherwise, with ``S`` = ``X`` less its ``.pkl`` and ``N`` = the last part of ``S``, the first of
   these that exists: ``S.npz``; the folder ``S`` (a run made with ``--out S``);
   ``<S's folder>/runs/N-<this backend>``; ``<S's folder>/runs/N-<the other backend>`` (the default
   output folders of ``python -m <backend>.run .../N.yaml``). So ``"./pretrain.pkl"`` finds
   ``runs/pretrain-port_torch/`` after ``python -m port_torch.run
   yaml_experiments/tfd_pretrain/pretrain.yaml`` run from the same directory.
   In a run folder the latest checkpoint is used (:func:`gan2014.checkpoint.latest_checkpoint`).

:func:`load` then rebuilds the pretrained generator's MLP from the checkpoint's own YAML text with
the running backend's registry (so a checkpoint of either backend serves either backend) and hands
its arrays out by parameter name (``G/<layer>_W``, ``G/<layer>_b``). Only the generator's MLP is
built: not the datasets, not the discriminator. A layer's ``init_bias`` given by an ``!obj:`` (the
data-dependent ``init_sigmoid_bias_from_marginals``, which would read the whole training set) is
replaced by 0 for the rebuild, since the checkpoint's bias overwrites it anyway.

Parameter names after add_layers: the appended layers keep their ``layer_name`` (``h0``, ``h1``,
``y``), as in 2014, but their parameters are named with :data:`PREFIX` (``G/pretrained_h0_W``, ...),
because tfd_pretrain/train.yaml's new layers are also called ``h0`` and ``h1`` and checkpoint names
must be unique. Monitoring channels are named after ``layer_name``, so ``gen_h0_*`` and ``gen_h1_*``
of the new layers are overwritten by the pretrained layers' values, as they were in 2014.

Rebuilding a model made by add_layers (``--resume`` of a stage-2 run, its ``parzen``, or a stage-2
checkpoint used as ``pretrained`` in turn) runs add_layers again, so its ``pretrained`` must still
resolve from the current directory; the checkpoint's own values then replace what it loads. Chained,
the prefix repeats (``G/pretrained_pretrained_h0_W``).
"""
from pathlib import Path

import numpy as np

from gan2014 import checkpoint as ckpt

# Prepended to the parameter names of every layer add_layers appends.
PREFIX = "pretrained_"
BACKENDS = ("legacy_aesara", "port_torch")
# The path of the generator's MLP in a 2014 config: Train.model.generator.mlp.
GENERATOR_PATH = (("pylearn2.train.Train", "model"), ("adversarial.AdversaryPair", "generator"),
                  ("adversarial.Generator", "mlp"))


class PretrainedModelError(Exception):
    """The `pretrained` argument of add_layers names nothing usable (the message says why)."""


# --- where the checkpoint is ----------------------------------------------------------------------

def resolve(pretrained, backend, cwd=None):
    """The checkpoint file (a Path) that `pretrained` names, by the rule of the module docstring.

    ``backend`` is the running backend's name (its own run folder is preferred over the other's);
    ``cwd`` is the folder relative paths start from (default: the current directory).
    """
    text = str(pretrained)
    base = Path.cwd() if cwd is None else Path(cwd)
    path = Path(text)
    full = path if path.is_absolute() else base / path
    if path.suffix == ".npz":
        if full.is_file():
            return full
        raise PretrainedModelError(f"pretrained checkpoint {text!r} does not exist (looked for "
                                   f"{full})")
    if full.is_dir():
        return _latest_in_run_folder(full, text)
    if path.suffix == ".pkl" and full.exists():
        raise PretrainedModelError(
            f"pretrained {text!r} is a pickle file ({full}); pickles are never loaded: "
            "unpickling runs whatever code the file names, and this project's checkpoints hold "
            "numbers only. Point `pretrained` at a checkpoint (.npz) or a run folder written by "
            "`python -m legacy_aesara.run` / `python -m port_torch.run`, or move the .pkl away so "
            "that the run folder of the same name is found")
    tried = candidates(text, backend, base)
    for candidate in tried:
        if candidate.suffix == ".npz" and candidate.is_file():
            return candidate
        if candidate.is_dir():
            return _latest_in_run_folder(candidate, text)
    stem = Path(text[:-len(".pkl")] if text.endswith(".pkl") else text).name
    raise PretrainedModelError(
        f"pretrained {text!r}: no checkpoint found. Tried, relative to {base}: "
        + ", ".join(str(c.relative_to(base)) if _is_under(c, base) else str(c) for c in tried)
        + f". Run the first stage first, from this directory: `python -m {backend}.run "
        f"<folder>/{stem}.yaml` (for TFD: yaml_experiments/tfd_pretrain/pretrain.yaml); its "
        f"checkpoints land in runs/{stem}-{backend}/checkpoints/. Or point `pretrained` at a "
        "checkpoint (.npz) or a run folder")


def candidates(pretrained, backend, cwd):
    """The paths rule 4 of the module docstring tries, in order (files end in .npz, folders not)."""
    text = str(pretrained)
    stem = Path(text[:-len(".pkl")] if text.endswith(".pkl") else text)
    stem = stem if stem.is_absolute() else Path(cwd) / stem
    others = [name for name in BACKENDS if name != backend]
    runs = [stem.parent / "runs" / f"{stem.name}-{name}" for name in [backend] + others]
    return [stem.with_name(stem.name + ".npz"), stem] + runs


def _latest_in_run_folder(folder, text):
    for directory in (folder / "checkpoints", folder):
        latest = ckpt.latest_checkpoint(directory) if directory.is_dir() else None
        if latest is not None:
            return latest
    raise PretrainedModelError(f"pretrained {text!r}: the run folder {folder} holds no checkpoint "
                               "(epoch_NNNNNN.npz in checkpoints/): the run saved nothing yet")


def _is_under(path, base):
    try:
        path.relative_to(base)
        return True
    except ValueError:
        return False


# --- what is in it --------------------------------------------------------------------------------

class PretrainedGenerator:
    """A stage-1 checkpoint, read: its path, metadata, YAML tree and generator arrays."""

    def __init__(self, path, arrays, meta, tree, registry):
        self.path = Path(path)
        self.arrays = arrays
        self.meta = meta
        self.tree = tree
        self.registry = registry

    def describe(self):
        batch = self.meta.get("batches_into_epoch") or 0
        where = f"epoch {self.meta.get('epoch')}" + (f" + {batch} batches" if batch else "")
        backend = self.meta.get("backend") or "an unknown backend"
        return f"{self.path} ({where}, written by {backend})"

    def build_generator_mlp(self):
        """The generator's MLP as the checkpoint's YAML describes it, built with the registry
        (weights freshly drawn: the caller overwrites them with :meth:`value`)."""
        from gan2014.config.yaml_parse import train_file_variables

        proxy = self.tree
        for name, key in GENERATOR_PATH:
            if getattr(proxy, "name", None) != name or key not in proxy.kwargs:
                raise PretrainedModelError(
                    f"{self.path}: its YAML does not describe a generator at "
                    "Train.model.generator.mlp (a pylearn2.train.Train of an adversarial."
                    "AdversaryPair with an adversarial.Generator), so it has no pretrained "
                    "generator to take layers from")
            proxy = proxy.kwargs[key]
        builder = _SubtreeBuilder(self.path, train_file_variables(str(self.path)))
        return builder.build(proxy)

    def value(self, name, shape):
        """The checkpoint's array for generator parameter `name` (without `G/`), shape checked."""
        key = "G/" + name
        if key not in self.arrays:
            raise PretrainedModelError(f"{self.path} has no parameter {key} although its YAML "
                                       "describes the layer: the file is not the run's own")
        array = self.arrays[key]
        if tuple(array.shape) != tuple(shape):
            raise PretrainedModelError(f"{self.path}: parameter {key} has shape "
                                       f"{tuple(array.shape)}, but the generator its YAML "
                                       f"describes needs {tuple(shape)}: the file is not the "
                                       "run's own")
        return array


def load(pretrained, registry, backend, cwd=None):
    """Resolve `pretrained` and read the checkpoint; a :class:`PretrainedGenerator`."""
    from gan2014.config.yaml_parse import load as load_yaml

    path = resolve(pretrained, backend, cwd)
    arrays, meta = ckpt.load_checkpoint(path)
    text = meta.get("yaml")
    if not text:
        raise PretrainedModelError(f"{path} holds no YAML text, so the layers of its generator "
                                   "cannot be rebuilt")
    tree = load_yaml(text, registry, filename=f"{path} (its YAML)", instantiate=False)
    return PretrainedGenerator(path, arrays, meta, tree, registry)


def check_start_layer(start_layer, n_layers, path):
    """Pylearn2 indexed the layer list with start_layer; only 0 <= start_layer < n makes sense."""
    if isinstance(start_layer, bool) or not isinstance(start_layer, (int, np.integer)) \
            or not 0 <= start_layer < n_layers:
        raise PretrainedModelError("add_layers: start_layer must be an integer in "
                                   f"0..{n_layers - 1} "
                                   f"(the pretrained generator in {path} has {n_layers} layers), "
                                   f"got {start_layer!r}")
    return int(start_layer)


def space_mismatch(path, start_layer, needed, given):
    """The error for add_layers's assertion that the pretrained part fits after the new layers."""
    return PretrainedModelError(
        f"add_layers: layer {start_layer} of the pretrained generator in {path} takes {needed}, "
        f"but the new MLP's last layer gives {given}; they must be equal (in "
        "tfd_pretrain/train.yaml the new h1 has dim 100, the pretrained generator's nvis)")


class _SubtreeBuilder:
    """Builds one parsed YAML subtree (ObjectProxy, dict, list, scalars), as the loader would.

    Anchored values are built once (memo by identity). ``init_bias`` given by an ``!obj:`` is
    replaced by 0 (see the module docstring). ``!pkl:`` cannot occur: the tree was parsed with
    pickles refused.
    """

    def __init__(self, path, environ):
        self.path = path
        self.environ = environ
        self.memo = {}

    def build(self, value):
        from gan2014.config.yaml_parse import ObjectProxy, preprocess

        if isinstance(value, ObjectProxy):
            return self.build_proxy(value)
        if isinstance(value, dict):
            return {key: self.build(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.build(item) for item in value]
        if isinstance(value, str):
            return preprocess(value, self.environ)
        return value

    def build_proxy(self, proxy):
        from gan2014.config.yaml_parse import ObjectProxy

        if id(proxy) in self.memo:
            return self.memo[id(proxy)]
        kwargs = {key: 0.0 if key == "init_bias" and isinstance(item, ObjectProxy)
                  else self.build(item) for key, item in proxy.kwargs.items()}
        try:
            result = proxy.target(**kwargs)
        except PretrainedModelError:
            raise
        except Exception as error:
            raise PretrainedModelError(f"rebuilding the pretrained generator of {self.path}: "
                                       f"!obj:{proxy.name} (line {proxy.line} of its YAML) failed: "
                                       f"{type(error).__name__}: {error}") from error
        self.memo[id(proxy)] = result
        return result
