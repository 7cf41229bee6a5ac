"""A run that moves between a CPU and a GPU: the torch generators' states cannot follow it.

(Without the reseeding, torch 2.13's CPU generator refuses the 16 bytes: "RuntimeError: Expected a
CPUGeneratorImplState of size 5056 but found the input RNG state size to be 16".)

A CPU generator's state (Mersenne Twister, 5,056 bytes) cannot set a CUDA generator (Philox, 16
bytes), nor the reverse, so a Table-1 seed moved to a GPU and back would stop at the resume with a
RuntimeError. The port instead seeds the generators from the saved states, and
`python -m port_torch.move_streams` rewrites a checkpoint into the states that reseeding reaches,
for code that cannot reseed. No GPU is needed to test it: a 16-byte state is what a CUDA checkpoint
holds, and it does not fit a CPU generator either. Properties (all exact: integer states and
identical float operations):

* states of this device kind are restored as they are; foreign ones reseed, deterministically,
  and differently for different states;
* resuming the rewritten checkpoint equals resuming the foreign one, and both resume (with a note);
* the rewrite changes the generator states and nothing else.
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from gan2014 import checkpoint as ckpt
from parity_tests.helpers import mnist_data_path, write_tiny_mnist
from port_torch import move_streams
from port_torch.random_streams import CHECKPOINT_PREFIX, RandomStreams, states_for_device

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def draws(streams):
    return [torch.rand(5, generator=streams[name]).tolist() for name in RandomStreams.NAMES]


def cuda_like(seed):
    """Generator states as a CUDA checkpoint holds them: 16 bytes each (seed and offset)."""
    rng = np.random.RandomState(seed)
    return {CHECKPOINT_PREFIX + name: rng.randint(0, 256, 16).astype(np.uint8)
            for name in RandomStreams.NAMES}


def test_states_of_this_device_are_restored_exactly():
    source = RandomStreams(seed=3)
    torch.rand(7, generator=source["noise"])
    saved = source.checkpoint_arrays()
    target = RandomStreams(seed=99)
    assert target.restore_checkpoint_arrays(saved) == "restored"
    assert draws(target) == draws(source)


def test_foreign_states_reseed_deterministically_and_differently_per_state():
    first, again, other = RandomStreams(seed=3), RandomStreams(seed=3), RandomStreams(seed=3)
    assert first.restore_checkpoint_arrays(cuda_like(0)) == "reseeded"
    again.restore_checkpoint_arrays(cuda_like(0))
    other.restore_checkpoint_arrays(cuda_like(1))
    assert draws(first) == draws(again)
    assert draws(first) != draws(other) and draws(first) != draws(RandomStreams(seed=3))
    assert first.seed_value == 3                       # the run's seed, as its records name it
    assert RandomStreams().restore_checkpoint_arrays({}) == "absent"   # an Aesara checkpoint


def test_rewritten_states_restore_to_what_reseeding_reaches():
    arrays = dict(cuda_like(4), **{"velocity/G/h0_W": np.ones(3, np.float32)})
    converted, changed = states_for_device(arrays, "cpu")
    assert changed and converted["velocity/G/h0_W"] is arrays["velocity/G/h0_W"]
    reseeded, restored = RandomStreams(), RandomStreams()
    assert reseeded.restore_checkpoint_arrays(arrays) == "reseeded"
    assert restored.restore_checkpoint_arrays(converted) == "restored"
    assert draws(reseeded) == draws(restored)
    assert states_for_device(converted, "cpu") == (converted, False)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One epoch of the tiny config (port_torch), its checkpoint, and the data to resume it."""
    from port_torch import run

    root = tmp_path_factory.mktemp("move")
    write_tiny_mnist(root / "data")
    config = Path(__file__).resolve().parents[1] / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"
    with mnist_data_path(root / "data"):
        assert run.main([str(config), "--max-epochs", "1", "--out", str(root / "run"),
                         "--threads", "1", "--quiet"]) == 0
        yield root, config, root / "run" / "checkpoints" / "epoch_000001.npz"


def resume_to_epoch_2(root, config, checkpoint, name):
    from port_torch import run

    out = root / name
    assert run.main([str(config), "--max-epochs", "2", "--out", str(out), "--threads", "1",
                     "--resume", str(checkpoint), "--quiet"]) == 0
    return ckpt.load_checkpoint(out / "checkpoints" / "epoch_000002.npz")[0]


def test_a_gpu_checkpoint_resumes_on_the_cpu_as_its_rewritten_copy(tiny_run, capsys):
    root, config, checkpoint = tiny_run
    arrays, meta = ckpt.load_checkpoint(checkpoint)
    arrays.update(cuda_like(7))                         # as if epoch 1 had run on a GPU
    foreign = root / "foreign.npz"
    ckpt.save_checkpoint(foreign, arrays, meta)
    rewritten = root / "rewritten.npz"
    ckpt.save_checkpoint(rewritten, arrays, meta)
    assert move_streams.main([str(rewritten)]) == 0
    capsys.readouterr()
    after_foreign = resume_to_epoch_2(root, config, foreign, "from_foreign")
    assert "belong to another device kind than cpu" in capsys.readouterr().out
    after_rewritten = resume_to_epoch_2(root, config, rewritten, "from_rewritten")
    assert "another device kind" not in capsys.readouterr().out
    assert sorted(after_foreign) == sorted(after_rewritten)
    for name in after_foreign:
        np.testing.assert_array_equal(after_foreign[name], after_rewritten[name], err_msg=name)
    # The rewrite touched the generator states only.
    moved, moved_meta = ckpt.load_checkpoint(rewritten)
    assert moved_meta == ckpt.load_checkpoint(foreign)[1]
    for name, value in arrays.items():
        if name.startswith(CHECKPOINT_PREFIX):
            assert moved[name].shape != value.shape, name
        else:
            np.testing.assert_array_equal(moved[name], value, err_msg=name)


def test_a_checkpoint_that_fits_is_left_alone_and_a_missing_one_is_named(tiny_run, capsys):
    _, _, checkpoint = tiny_run
    before = checkpoint.read_bytes()
    assert move_streams.main([str(checkpoint)]) == 0
    assert checkpoint.read_bytes() == before
    assert "unchanged" in capsys.readouterr().out
    missing = checkpoint.with_name("missing.npz")
    assert move_streams.main([str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and str(missing) in err and err.count("\n") == 1
