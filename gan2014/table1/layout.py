"""The Table-1 output folder: its file names, its seed folders and the records kept in them.

``OUT/`` holds the manifest ``table1.json`` (:mod:`gan2014.table1.manifest`), ``driver_log.jsonl``
(one row per seed per command), the report ``table1_summary.json``/``.md`` and one ordinary run
folder of :class:`gan2014.train.Train` per seed, ``seed_K/``, to which the driver adds
``valid_parzen.jsonl``, ``best_valid.npz``, ``status.json``, ``test_parzen.json`` and
``test_parzen_final.json``. Folders written by earlier versions of the driver use these names;
changing one would orphan them.
"""
import json
import os
from pathlib import Path

from gan2014 import checkpoint as ckpt

MANIFEST = "table1.json"
HISTORY = "valid_parzen.jsonl"
BEST = "best_valid.npz"
STATUS = "status.json"
TEST_PARZEN = "test_parzen.json"
FINAL_TEST_PARZEN = "test_parzen_final.json"
DRIVER_LOG = "driver_log.jsonl"
SUMMARY = "table1_summary.json"


class Table1Error(Exception):
    """Bad input: arguments, a folder made by another configuration, files that do not fit."""


def seed_dir(out, seed):
    return Path(out) / f"seed_{seed}"


def seed_numbers(out):
    """Seed numbers that have a folder in ``out``, in order."""
    found = []
    for path in Path(out).glob("seed_*"):
        suffix = path.name[len("seed_"):]
        if path.is_dir() and suffix.isdigit():
            found.append(int(suffix))
    return sorted(found)


def latest_epoch(folder):
    """(epoch, path) of the newest checkpoint in ``folder/checkpoints``, or (0, None)."""
    found = ckpt.list_checkpoints(Path(folder) / "checkpoints")
    return found[-1] if found else (0, None)


def read_status(folder):
    path = Path(folder) / STATUS
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def keep_previous(path):
    """Move an existing ``path`` to ``<stem>.previous-N<suffix>`` (the first free N); returns it."""
    path = Path(path)
    if not path.exists():
        return None
    number = 1
    while True:
        kept = path.with_name(f"{path.stem}.previous-{number}{path.suffix}")
        if not kept.exists():
            os.replace(path, kept)
            return kept
        number += 1


def save_parameters_of(checkpoint, target):
    """Write the parameters of ``checkpoint`` (no velocities, no RNG states) with its metadata to
    ``target``, atomically (gan2014.checkpoint writes a temporary file and renames it).

    Half the size of the checkpoint (15 MB for mnist.yaml); enough for Parzen and figures, not for
    resuming.
    """
    arrays, meta = ckpt.load_checkpoint(checkpoint)
    names = meta.get("param_names") or [n for n in arrays
                                        if not n.startswith(("velocity/", "rng/"))]
    meta = dict(meta, parameters_only=True, copied_from=Path(checkpoint).name)
    ckpt.save_checkpoint(target, {name: arrays[name] for name in names}, meta)
