"""Data-only checkpoints: arrays plus JSON metadata in one .npz file, written atomically.

Pylearn2 pickled the whole model (pylearn2/train.py :: Train.save -> serial.save), so loading a
checkpoint could run arbitrary code, and the optimiser state was not saved at all. Here a checkpoint
holds numbers only: parameters and velocities under their backend-independent names, RNG states, and a
JSON document (`__meta__`) with schedules, counters and the YAML text of the run. numpy reads it with
allow_pickle=False, so opening one never executes anything.

Writes go to a temporary file in the same directory, are fsynced, then renamed over the target, so a
crash or a full disk leaves the previous checkpoint intact.
"""
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
META_KEY = "__meta__"
FORMAT_NAME = "gan2014-checkpoint"


class CheckpointError(Exception):
    """A checkpoint that cannot be written, read, or used with this model."""


def save_checkpoint(path, arrays, meta):
    """Atomically write `arrays` (name -> numpy array) and `meta` (JSON-able dict) to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = dict(meta, format=FORMAT_NAME, format_version=FORMAT_VERSION)
    payload = {name: np.ascontiguousarray(value) for name, value in arrays.items()}
    if META_KEY in payload:
        raise CheckpointError(f"array name {META_KEY!r} is reserved")
    payload[META_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    handle, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as tmp:
            np.savez(tmp, **payload)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException as error:
        _remove_quietly(tmp_name)
        if isinstance(error, OSError):
            raise CheckpointError(f"could not write checkpoint {path}: {error}; "
                                  "the previous checkpoint, if any, is unchanged") from error
        raise
    _fsync_directory(path.parent)
    return path


def load_checkpoint(path):
    """Return (arrays, meta) from a checkpoint file, refusing anything that is not one of ours."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError) as error:
        raise CheckpointError(f"{path} is not a readable checkpoint (.npz): {error}") from error
    if META_KEY not in arrays:
        raise CheckpointError(f"{path} has no {META_KEY} record: not a gan2014 checkpoint")
    try:
        meta = json.loads(arrays.pop(META_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: corrupt metadata: {error}") from error
    _check_format(path, meta)
    return arrays, meta


def check_parameters_match(path, arrays, expected_shapes):
    """Refuse a checkpoint whose parameters differ from the model's (names or shapes)."""
    missing = [name for name in expected_shapes if name not in arrays]
    if missing:
        raise CheckpointError(f"{path} lacks parameters {missing}: it comes from another model")
    for name, shape in expected_shapes.items():
        if tuple(arrays[name].shape) != tuple(shape):
            raise CheckpointError(f"{path}: parameter {name} has shape {tuple(arrays[name].shape)}, "
                                  f"the model expects {tuple(shape)}: it comes from another model")


def checkpoint_path(directory, epoch):
    return Path(directory) / f"epoch_{epoch:06d}.npz"


def list_checkpoints(directory):
    """Checkpoints in `directory`, oldest first, as (epoch, path)."""
    found = []
    for path in Path(directory).glob("epoch_*.npz"):
        match = re.fullmatch(r"epoch_(\d+)\.npz", path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


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
    """A RandomState's full state as JSON-able data."""
    algorithm, keys, pos, has_gauss, cached = rng.get_state()
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


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
