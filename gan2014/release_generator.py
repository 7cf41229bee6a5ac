"""Released generators: G alone, in the data-only checkpoint format, rebuilt without any dataset.

``python -m gan2014.release_generator CHECKPOINT OUT.npz [--seed K]`` writes, from a training
checkpoint of either backend (``epoch_NNNNNN.npz``, ``best_valid.npz``), a file of the
:mod:`gan2014.checkpoint` format that holds

* only the generator's parameters, under their checkpoint names (``G/h0_W``, ``G/h0_b``, ...),
  float32 as trained; no discriminator, no velocities, no random-stream states;
* metadata (the checkpoint's JSON header): ``kind: "released-generator"``, the run's ``yaml`` text
  (the generator is rebuilt from its ``Train.model.generator`` part), ``epoch``, ``seed`` (the
  Table-1 seed K, from ``--seed`` or a ``seed_K`` folder in the checkpoint's path; null if unknown),
  ``backend`` (the one that trained it), ``param_names``, ``source`` (the checkpoint's file name)
  and ``source_sha256`` (of the checkpoint file's bytes).

For mnist.yaml that is G's 2,503,984 float32 values, a 10.0 MB file (a training checkpoint of it,
with D, the velocities and the random-stream states: 29.9 MB from the torch port, 41.0 MB from the
Aesara backend).

Rebuilding G needs no dataset: :func:`build_generator` builds only the YAML's
``Train.model.generator`` subtree. A layer's ``init_bias`` given by an ``!obj:`` (mnist.yaml's
``init_sigmoid_bias_from_marginals``, which reads the training set) is replaced by 0, because the
stored parameters overwrite every value anyway (:func:`set_generator_parameters` refuses a file that
lacks one). A generator made by ``adversarial.add_layers`` (TFD stage 2) still needs its stage-1
run, as everywhere else (gan2014/pretrained.py).

The backends' ``api`` modules (``port_torch.api``, ``legacy_aesara.api``) load either kind of file,
and so do the Parzen and figure commands (``python -m port_torch.parzen generator.npz``,
``python -m port_torch.figures generator.npz``; ``gan2014.parzen_cli.load_run``), which rebuild the
whole YAML, datasets included, and apply G alone.
"""
import argparse
import re
import sys
from pathlib import Path

from gan2014 import checkpoint as ckpt
from gan2014.exit_codes import EXIT_BAD_INPUT, EXIT_DONE
from gan2014.fileio import sha256_of

KIND = "released-generator"
# Train.model.generator of a 2014 config.
GENERATOR_PATH = (("pylearn2.train.Train", "model"), ("adversarial.AdversaryPair", "generator"))


def seed_from_path(path):
    """K of the nearest ``seed_K`` folder above ``path`` (the Table-1 driver's layout), or None."""
    for part in reversed(Path(path).resolve().parent.parts):
        match = re.fullmatch(r"seed_(\d+)", part)
        if match:
            return int(match.group(1))
    return None


def release(checkpoint, out, seed=None):
    """Write the released generator of ``checkpoint`` to ``out``; returns ``(out, meta)``."""
    arrays, meta = ckpt.load_checkpoint(checkpoint)
    if not meta.get("yaml"):
        raise ckpt.CheckpointError(f"{checkpoint} holds no YAML text: its generator could not be "
                                   "rebuilt from the released file")
    names = [name for name in (meta.get("param_names") or sorted(arrays)) if name.startswith("G/")]
    missing = [name for name in names if name not in arrays]
    if not names or missing:
        raise ckpt.CheckpointError(f"{checkpoint}: no generator parameters (G/...) to release"
                                   + (f"; missing {missing}" if missing else ""))
    seed = seed_from_path(checkpoint) if seed is None else int(seed)
    released = {
        "kind": KIND,
        "yaml": meta["yaml"],
        "epoch": meta.get("epoch"),
        "seed": seed,
        "backend": meta.get("backend"),
        "param_names": names,
        "source": Path(checkpoint).name,
        "source_sha256": sha256_of(checkpoint),
    }
    ckpt.save_checkpoint(out, {name: arrays[name] for name in names}, released)
    return Path(out), released


def read(path):
    """``(arrays, meta)`` of a training checkpoint or a released generator (``G/`` arrays only)."""
    arrays, meta = ckpt.load_checkpoint(path)
    if not meta.get("yaml"):
        raise ckpt.CheckpointError(f"{path} holds no YAML text: cannot rebuild its generator")
    return {name: value for name, value in arrays.items() if name.startswith("G/")}, meta


def generator_node(tree, path):
    """The parsed ``Train.model.generator`` of a config (an unbuilt ObjectProxy)."""
    node = tree
    for name, key in GENERATOR_PATH:
        if getattr(node, "name", None) != name or key not in node.kwargs:
            raise ckpt.CheckpointError(
                f"{path}: its YAML does not describe a generator at Train.model.generator (a "
                "pylearn2.train.Train of an adversarial.AdversaryPair)")
        node = node.kwargs[key]
    return node


def build_generator(yaml_text, registry, path):
    """The backend's Generator that ``yaml_text`` describes, built with ``registry`` alone (no
    dataset, no discriminator; weights freshly drawn: set them with
    :func:`set_generator_parameters`)."""
    from gan2014.config.yaml_parse import load, train_file_variables
    from gan2014.pretrained import PretrainedModelError, _SubtreeBuilder

    tree = load(yaml_text, registry, filename=f"{path} (its YAML)", instantiate=False)
    builder = _SubtreeBuilder(path, train_file_variables(str(path)))
    try:
        return builder.build(generator_node(tree, path))
    except PretrainedModelError as error:  # the builder words its messages for add_layers
        raise ckpt.CheckpointError(str(error).replace("the pretrained generator", "the generator",
                                                      1)) from error


def check_generator_parameters(path, arrays, shapes):
    """Refuse ``arrays`` unless they hold exactly the generator's parameters, with its shapes."""
    expected = {f"G/{name}": tuple(shape) for name, shape in shapes.items()}
    missing = sorted(set(expected) - set(arrays))
    extra = sorted(set(arrays) - set(expected))
    if missing or extra:
        raise ckpt.CheckpointError(f"{path}: its generator parameters do not match the generator "
                                   f"its YAML describes (missing {missing}, unknown {extra})")
    for name, shape in expected.items():
        if tuple(arrays[name].shape) != shape:
            raise ckpt.CheckpointError(f"{path}: {name} has shape {tuple(arrays[name].shape)}, "
                                       f"the generator needs {shape}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m gan2014.release_generator",
        description="Write a released generator (G's parameters and the metadata to rebuild it, "
                    "no dataset needed) from a training checkpoint of either backend.")
    parser.add_argument("checkpoint", help="a training checkpoint (.npz): epoch_NNNNNN.npz, "
                                           "best_valid.npz")
    parser.add_argument("out", help="the file to write (.npz)")
    parser.add_argument("--seed", type=int, default=None,
                        help="the run's seed, recorded in the metadata (default: K of a seed_K "
                             "folder in the checkpoint's path, else none)")
    args = parser.parse_args(argv)
    try:
        out, meta = release(args.checkpoint, args.out, args.seed)
    except ckpt.CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    size = out.stat().st_size / 1e6
    print(f"wrote {out} ({size:.1f} MB): {len(meta['param_names'])} generator arrays, epoch "
          f"{meta['epoch']}, seed {meta['seed']}, trained by {meta['backend']}, "
          f"from {meta['source']} (sha256 {meta['source_sha256'][:12]}...)")
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(main())
