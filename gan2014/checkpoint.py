"""Data-only checkpoints: arrays plus JSON metadata in one .npz file, written atomically.

Pylearn2 pickled the whole model (pylearn2/train.py :: Train.save -> serial.save), so loading a
checkpoint could run arbitrary code, and the optimiser state was not saved at all. Here a checkpoint
holds numbers only: parameters and velocities under their backend-independent names, RNG states, and
a JSON document (`__meta__`) with schedules, counters and the YAML text of the run. numpy reads it
with allow_pickle=False, so opening one never executes anything.

Writes go to a temporary file in the same directory, are fsynced, then renamed over the target, so a
crash or a full disk leaves the previous checkpoint intact. A process killed while writing leaves
its temporary file behind; the next run in that folder removes it (`remove_stale_temp_files`).

File names: `epoch_NNNNNN.npz` holds the state after NNNNNN complete epochs; a run stopped by Ctrl-C
inside an epoch writes `epoch_NNNNNN_batch_BBBBBB.npz`, the state after NNNNNN epochs and BBBBBB
batches of the next one (the SGD records its place in that epoch's batch order, so --resume
continues exactly).
"""
import json
import os
import re
from pathlib import Path

import numpy as np

from gan2014 import fileio

FORMAT_VERSION = 1
META_KEY = "__meta__"
FORMAT_NAME = "gan2014-checkpoint"


class CheckpointError(Exception):
    """A checkpoint that cannot be written, read, or used with this model."""


class CheckpointWriteError(CheckpointError):
    """Writing a checkpoint failed (e.g. a full disk); nothing on disk was replaced."""


# `save_checkpoint`'s temporary files (gan2014.fileio): "<target name>.<random part>.tmp".
_CHECKPOINT_NAME = re.compile(r"epoch_(\d+)(?:_batch_(\d+))?\.npz")
_TEMP_NAME = re.compile(r"epoch_\d+(?:_batch_\d+)?\.npz\.[A-Za-z0-9_]+\.tmp")


def save_checkpoint(path, arrays, meta):
    """Atomically write `arrays` (name -> numpy array) and `meta` (JSON-able dict) to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = dict(meta, format=FORMAT_NAME, format_version=FORMAT_VERSION)
    payload = {name: np.ascontiguousarray(value) for name, value in arrays.items()}
    if META_KEY in payload:
        raise CheckpointError(f"array name {META_KEY!r} is reserved")
    payload[META_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    try:
        # 0o600, the mode checkpoints have always been written with.
        with fileio.atomic_writer(path, permissions=0o600) as tmp:
            np.savez(tmp, **payload)
    except OSError as error:
        raise CheckpointWriteError(f"could not write checkpoint {path}: {error}; nothing was "
                                   "replaced: the previous checkpoint, if any, is unchanged"
                                   ) from error
    return path


def load_checkpoint(path):
    """Return (arrays, meta) from a checkpoint file, refusing anything that is not one of ours."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:  # noqa: BLE001
        # A truncated or damaged file fails in many ways (zipfile.BadZipFile, zlib.error, EOFError,
        # ValueError, OSError ...); each means the same thing to the user.
        raise CheckpointError(f"{path} is not a readable checkpoint (.npz), it may be truncated or "
                              f"damaged: {type(error).__name__}: {error}") from error
    if META_KEY not in arrays:
        raise CheckpointError(f"{path} has no {META_KEY} record: not a gan2014 checkpoint")
    try:
        meta = json.loads(arrays.pop(META_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: corrupt metadata: {error}") from error
    _check_format(path, meta)
    return arrays, meta


def check_parameters_match(path, arrays, expected_shapes, saved_names=None):
    """Refuse a checkpoint whose parameters differ from the model's (names or shapes).

    `saved_names` (the checkpoint's `param_names`) also catches parameters the model does not have.
    Velocities (`velocity/<name>`) present in the checkpoint must have their parameter's shape.
    """
    missing = [name for name in expected_shapes if name not in arrays]
    if missing:
        raise CheckpointError(f"{path} lacks parameters {missing}: it comes from another model")
    extra = [name for name in (saved_names or []) if name not in expected_shapes]
    if extra:
        raise CheckpointError(f"{path} has parameters this model lacks: {extra}: it comes from "
                              "another model")
    for name, shape in expected_shapes.items():
        for key in (name, "velocity/" + name):
            if key in arrays and tuple(arrays[key].shape) != tuple(shape):
                what = "parameter" if key == name else "velocity of parameter"
                raise CheckpointError(f"{path}: {what} {name} has shape "
                                      f"{tuple(arrays[key].shape)}, "
                                      f"the model expects {tuple(shape)}: it comes from another "
                                      "model")


def remove_stale_temp_files(directory):
    """Delete temporary files left in `directory` by a checkpoint write that never finished (a
    process killed while saving); returns their paths. Only names `save_checkpoint` makes are
    touched. The caller must be the only writer of `directory` (Train holds a lock on its run
    folder)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    for path in sorted(directory.iterdir()):
        if _TEMP_NAME.fullmatch(path.name) and path.is_file():
            _remove_quietly(path)
            removed.append(path)
    return removed


def checkpoint_path(directory, epoch, batch=0):
    """`epoch_NNNNNN.npz`, or `epoch_NNNNNN_batch_BBBBBB.npz` for a stop `batch` batches into the
    epoch after `epoch`."""
    if batch:
        return Path(directory) / f"epoch_{epoch:06d}_batch_{batch:06d}.npz"
    return Path(directory) / f"epoch_{epoch:06d}.npz"


def list_checkpoints(directory):
    """Checkpoints in `directory`, oldest first, as (epoch, path); a checkpoint taken inside an
    epoch sorts after its epoch's (`epoch_000002` < `epoch_000002_batch_000003` <
    `epoch_000003`)."""
    found = []
    for path in Path(directory).glob("epoch_*.npz"):
        match = _CHECKPOINT_NAME.fullmatch(path.name)
        if match:
            found.append(((int(match.group(1)), int(match.group(2) or 0)), path))
    return [(key[0], path) for key, path in sorted(found)]


def epoch_end_checkpoints(directory):
    """(epoch, path) of the checkpoints taken at the end of an epoch (`epoch_NNNNNN.npz`, not a stop
    inside the next one), oldest first."""
    return [(epoch, path) for epoch, path in list_checkpoints(directory)
            if path.name == checkpoint_path(directory, epoch).name]


def latest_checkpoint(directory):
    found = list_checkpoints(directory)
    return found[-1][1] if found else None


def rotate_checkpoints(directory, keep):
    """Delete the oldest checkpoints so that at most `keep` remain (keep <= 0 keeps all)."""
    if keep <= 0:
        return
    for _, path in list_checkpoints(directory)[:-keep]:
        _remove_quietly(path)


def numpy_rng_state(rng):
    """A RandomState's full state (or a state tuple from its get_state()) as JSON-able data."""
    algorithm, keys, pos, has_gauss, cached = rng if isinstance(rng, tuple) else rng.get_state()
    return {"algorithm": algorithm, "keys": [int(k) for k in keys], "pos": int(pos),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def set_numpy_rng_state(rng, state):
    rng.set_state((state["algorithm"], np.asarray(state["keys"], dtype=np.uint32), state["pos"],
                   state["has_gauss"], state["cached_gaussian"]))


def _check_format(path, meta):
    if meta.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{path} is not a gan2014 checkpoint (format {meta.get('format')!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format version {version}, newer than this "
                              f"code's {FORMAT_VERSION}: update the project to read it")


def _remove_quietly(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
