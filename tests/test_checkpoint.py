"""Data-only checkpoints: atomic, rotated, refusing what is not theirs."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from gan2014 import checkpoint as ckpt


def sample_arrays():
    return {"G/h0_W": np.arange(6, dtype=np.float32).reshape(2, 3),
            "velocity/G/h0_W": np.ones((2, 3))}


def test_round_trip_keeps_arrays_and_meta(tmp_path):
    """A saved checkpoint loads back with its metadata (epoch, YAML text, format_version 1) and its
    float32 array, dtype included. Exact: .npz stores arrays bit for bit."""
    path = ckpt.save_checkpoint(tmp_path / "a.npz", sample_arrays(), {"epoch": 3, "yaml": "x: 1"})
    arrays, meta = ckpt.load_checkpoint(path)
    assert meta["epoch"] == 3 and meta["yaml"] == "x: 1" and meta["format_version"] == 1
    assert np.array_equal(arrays["G/h0_W"], sample_arrays()["G/h0_W"])
    assert arrays["G/h0_W"].dtype == np.float32


def test_rng_state_survives_json(tmp_path):
    """A numpy RandomState's state, cached Gaussian included, goes through JSON and, set on another
    generator, gives the same next 5 draws. Exact: the state is integers, so a resumed run draws
    the same numbers."""
    rng = np.random.RandomState([2012, 10, 5])
    rng.shuffle(np.arange(10))
    rng.randn()  # leaves a cached Gaussian in the state
    state = json.loads(json.dumps(ckpt.numpy_rng_state(rng)))
    other = np.random.RandomState(0)
    ckpt.set_numpy_rng_state(other, state)
    assert np.array_equal(rng.randn(5), other.randn(5))


def test_failed_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    """A write that fails midway (here: the disk 'fills up' inside np.savez) leaves the old file
    byte-identical and no temporary file behind."""
    path = ckpt.save_checkpoint(tmp_path / "c.npz", sample_arrays(), {"epoch": 1})
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(ckpt.CheckpointError, match="previous checkpoint"):
        ckpt.save_checkpoint(path, sample_arrays(), {"epoch": 2})
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["c.npz"]


def test_refuses_foreign_corrupt_and_newer_files(tmp_path):
    """Loading a plain .npz, a file that is not a zip, a checkpoint of a newer format_version and a
    missing file each raise CheckpointError saying which. Exact: the error type and message, the
    user's only guide."""
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(ckpt.CheckpointError, match="not a gan2014 checkpoint"):
        ckpt.load_checkpoint(tmp_path / "plain.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ckpt.CheckpointError, match="not a readable checkpoint"):
        ckpt.load_checkpoint(tmp_path / "junk.npz")
    path = ckpt.save_checkpoint(tmp_path / "new.npz", sample_arrays(), {})
    arrays, meta = ckpt.load_checkpoint(path)
    meta["format_version"] = ckpt.FORMAT_VERSION + 1
    arrays[ckpt.META_KEY] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(tmp_path / "newer.npz", **arrays)
    with pytest.raises(ckpt.CheckpointError, match="newer than this code"):
        ckpt.load_checkpoint(tmp_path / "newer.npz")
    with pytest.raises(ckpt.CheckpointError, match="does not exist"):
        ckpt.load_checkpoint(tmp_path / "missing.npz")


def test_object_arrays_are_never_unpickled(tmp_path):
    """An .npz carrying a pickled object array is rejected, not executed. Exact: the error type,
    from a load with allow_pickle=False that never unpickles."""
    np.savez(tmp_path / "evil.npz", __meta__=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(ckpt.CheckpointError):
        ckpt.load_checkpoint(tmp_path / "evil.npz")


def test_parameter_mismatch_names_the_parameter(tmp_path):
    """check_parameters_match names a parameter whose shape differs (G/h0_W) and says when the file
    lacks a parameter the model has. Exact: the error type and message."""
    with pytest.raises(ckpt.CheckpointError, match="G/h0_W has shape"):
        ckpt.check_parameters_match("f.npz", sample_arrays(), {"G/h0_W": (3, 2)})
    with pytest.raises(ckpt.CheckpointError, match="lacks parameters"):
        ckpt.check_parameters_match("f.npz", sample_arrays(), {"D/y_b": (1,)})


def test_rotation_keeps_the_newest(tmp_path):
    """Rotating with keep=2 after each of epochs 1-5 leaves epochs 4 and 5, and the latest
    checkpoint is epoch_000005.npz. Exact: integer epochs and file names."""
    for epoch in range(1, 6):
        ckpt.save_checkpoint(ckpt.checkpoint_path(tmp_path, epoch), sample_arrays(),
                             {"epoch": epoch})
        ckpt.rotate_checkpoints(tmp_path, keep=2)
    assert [e for e, _ in ckpt.list_checkpoints(tmp_path)] == [4, 5]
    assert ckpt.latest_checkpoint(tmp_path) == Path(tmp_path) / "epoch_000005.npz"
