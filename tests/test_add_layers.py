"""adversarial.add_layers (TFD stage 2) on both backends, and how `pretrained` finds its checkpoint.

The 2014 function unpickled `pretrained` and appended `model.generator.mlp.layers[start_layer:]`
to the new MLP, trained weights and constraint settings included
(docs/pylearn2_semantics.md#stacking-a-pretrained-generator). Here the stage-1 checkpoint is a
data-only .npz found by gan2014/pretrained.py's rule, and the layers are rebuilt from the
checkpoint's own YAML text. A stage-1 checkpoint is made directly (the tiny tfd_pretrain_tiny.yaml
model built, its parameters set to random values, saved as a run saves): no training is needed to
test what add_layers does with it.
"""
from pathlib import Path

import numpy as np
import pytest

from gan2014 import checkpoint as ckpt
from gan2014 import pretrained
from gan2014.config.yaml_parse import YAMLConfigError, load, train_file_variables
from gan2014.datasets import tfd
from parity_tests.helpers import write_tiny_tfd

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "yaml_experiments" / "smoke"
STAGE1 = SMOKE / "tfd_pretrain_tiny.yaml"
STAGE2 = SMOKE / "tfd_train_tiny.yaml"
BACKENDS = ("legacy_aesara", "port_torch")
# G after add_layers: the two new layers, then the whole tiny stage-1 generator.
LAYER_NAMES = ["h0", "h1", "h0", "h1", "y"]
G_PARAMS = ["G/h0_W", "G/h0_b", "G/h1_W", "G/h1_b", "G/pretrained_h0_W", "G/pretrained_h0_b",
            "G/pretrained_h1_W", "G/pretrained_h1_b", "G/pretrained_y_W", "G/pretrained_y_b"]


def registry(backend):
    if backend == "legacy_aesara":
        import legacy_aesara  # noqa: F401  (Aesara's flags before Aesara)
        from legacy_aesara.registry import REGISTRY
    else:
        from port_torch.registry import REGISTRY
    return REGISTRY


def build(backend, path=STAGE2, text=None):
    """The Train object of a YAML file (or of `text` standing for it) built by `backend`."""
    text = path.read_text() if text is None else text
    return load(text, registry(backend), filename=str(path),
                environ=train_file_variables(str(path)))


def write_stage1_checkpoint(folder, writer, seed=0, epoch=3, **replace):
    """A checkpoint of the tiny stage-1 model as `writer`'s run would leave it in `folder`, with
    random parameter values (arrays in `replace` substituted). Returns (path, arrays)."""
    model = build("port_torch", STAGE1).model
    rng = np.random.RandomState(seed)
    arrays = {name: rng.standard_normal(value.shape).astype(np.float32)
              for name, value in model.get_param_values().items()}
    arrays.update(replace)
    meta = {"backend": writer, "epoch": epoch, "param_names": list(arrays),
            "yaml": STAGE1.read_text()}
    path = ckpt.checkpoint_path(Path(folder) / "checkpoints", epoch)
    ckpt.save_checkpoint(path, arrays, meta)
    return path, arrays


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A current directory with tiny TFD data under it and nothing else."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path / "data"))
    write_tiny_tfd(tmp_path / "data")
    tfd.clear_cache()
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    tfd.clear_cache()


# --- where `pretrained` points --------------------------------------------------------------------

def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_pkl_name_finds_the_run_folder_of_the_first_stage(tmp_path):
    """'./pretrain.pkl' (absent) -> runs/pretrain-<this backend>/checkpoints/, latest checkpoint
    (a Ctrl-C checkpoint sorts after its epoch's); the other backend's run folder when this backend
    has none; the own backend's first when both exist. Exact: the resolved paths; a path names the
    right checkpoint or another one."""
    other = touch(tmp_path / "runs" / "pretrain-legacy_aesara" / "checkpoints" / "epoch_000050.npz")
    assert pretrained.resolve("./pretrain.pkl", "port_torch", tmp_path) == other
    touch(tmp_path / "runs" / "pretrain-port_torch" / "checkpoints" / "epoch_000002.npz")
    own = touch(tmp_path / "runs" / "pretrain-port_torch" / "checkpoints"
                / "epoch_000002_batch_000003.npz")
    assert pretrained.resolve("./pretrain.pkl", "port_torch", tmp_path) == own
    assert pretrained.resolve("./pretrain.pkl", "legacy_aesara", tmp_path) == other


def test_npz_files_and_run_folders_named_directly(tmp_path):
    """A .npz path is that file; a folder is a run folder (latest checkpoint in checkpoints/); a
    stem with a .npz next to it (pretrain.npz) or a run folder of its name (--out pretrain) comes
    before the runs/ folders. Exact: the resolved paths; a path names the right checkpoint or
    another one."""
    runs = touch(tmp_path / "runs" / "pretrain-port_torch" / "checkpoints" / "epoch_000001.npz")
    assert pretrained.resolve(str(runs), "port_torch", tmp_path) == runs
    assert pretrained.resolve("runs/pretrain-port_torch", "port_torch", tmp_path) == runs
    folder = touch(tmp_path / "pretrain" / "checkpoints" / "epoch_000007.npz")
    assert pretrained.resolve("./pretrain.pkl", "port_torch", tmp_path) == folder
    beside = touch(tmp_path / "pretrain.npz")
    assert pretrained.resolve("./pretrain.pkl", "port_torch", tmp_path) == beside


def test_an_existing_pickle_is_refused_with_the_reason(tmp_path):
    """An existing ./pretrain.pkl is refused even though a run folder with a checkpoint exists, and
    the error says why (pickles are never loaded: unpickling runs whatever code the file names).
    Exact (error type and message words): the message is the user's only guide."""
    touch(tmp_path / "runs" / "pretrain-port_torch" / "checkpoints" / "epoch_000001.npz")
    (tmp_path / "pretrain.pkl").write_bytes(b"\x80\x02}q\x00.")
    with pytest.raises(pretrained.PretrainedModelError) as info:
        pretrained.resolve("./pretrain.pkl", "port_torch", tmp_path)
    message = str(info.value)
    assert "pickle" in message and "never loaded" in message and "runs whatever code" in message


def test_nothing_found_lists_what_was_tried_and_what_to_run(tmp_path):
    """With no checkpoint anywhere, the error lists the paths tried (pretrain.npz, both backends'
    run folders), the first-stage command and where its checkpoints land; a missing .npz path and a
    run folder holding no checkpoint get their own messages. Exact (message contents): the message
    is the user's only guide."""
    with pytest.raises(pretrained.PretrainedModelError) as info:
        pretrained.resolve("./pretrain.pkl", "legacy_aesara", tmp_path)
    message = str(info.value)
    for tried in ("pretrain.npz", "runs/pretrain-legacy_aesara", "runs/pretrain-port_torch"):
        assert tried in message
    assert "python -m legacy_aesara.run <folder>/pretrain.yaml" in message
    assert "runs/pretrain-legacy_aesara/checkpoints/" in message
    with pytest.raises(pretrained.PretrainedModelError, match="does not exist"):
        pretrained.resolve("elsewhere/stage1.npz", "port_torch", tmp_path)
    (tmp_path / "runs" / "pretrain-port_torch").mkdir(parents=True)
    with pytest.raises(pretrained.PretrainedModelError, match="holds no checkpoint"):
        pretrained.resolve("./pretrain.pkl", "port_torch", tmp_path)


# --- what add_layers builds -----------------------------------------------------------------------

def generator_forward(backend, train, z):
    """G's output on noise z, computed by the backend's own forward pass."""
    mlp = train.model.generator.mlp
    if backend == "port_torch":
        import torch
        return mlp(torch.from_numpy(z)).detach().numpy()
    import aesara
    import aesara.tensor as at
    Z = at.matrix("z")
    return aesara.function([Z], mlp.fprop(Z))(z)


def numpy_generator(values, z):
    """The stacked generator in float64: ReLU, Sigmoid (new), ReLU, Sigmoid, Sigmoid (pretrained).
    """
    def sigmoid(a):
        return 1 / (1 + np.exp(-a))

    h = z.astype(np.float64)
    for stem, activation in (("h0", np.maximum), ("h1", sigmoid), ("pretrained_h0", np.maximum),
                             ("pretrained_h1", sigmoid), ("pretrained_y", sigmoid)):
        a = h @ values[f"G/{stem}_W"] + values[f"G/{stem}_b"]
        h = np.maximum(a, 0) if activation is np.maximum else activation(a)
    return h


@pytest.mark.parametrize("writer", BACKENDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_add_layers_appends_the_trained_stage1_generator(workdir, backend, writer):
    """The stage-2 generator is [h0, h1 (new), h0, h1, y (stage 1)], with the checkpoint's values
    exactly, the stage-1 layers' max_col_norm, parameters named G/pretrained_<layer>_*, and G's
    forward pass is the composition of the five layers (float32 vs float64 numpy: 1e-5). The D
    of stage 2 is fresh. Either backend reads either backend's checkpoint."""
    _, saved = write_stage1_checkpoint(workdir / "runs" / f"tfd_pretrain_tiny-{writer}", writer)
    train = build(backend, STAGE2)
    model = train.model
    layers = model.generator.mlp.layers
    assert [layer.layer_name for layer in layers] == LAYER_NAMES
    assert [layer.max_col_norm for layer in layers] == [1.9365] * 5
    names = model.param_names()
    assert names[:len(G_PARAMS)] == G_PARAMS
    values = model.get_param_values()
    for stem in ("h0", "h1", "y"):
        for kind in ("W", "b"):
            np.testing.assert_array_equal(values[f"G/pretrained_{stem}_{kind}"],
                                          saved[f"G/{stem}_{kind}"])
    # The new layers and D are initialised from the YAML, not taken from the checkpoint.
    assert values["G/h1_W"].shape == (32, 10) and np.all(values["G/h1_b"] == -2.0)
    assert not np.array_equal(values["D/h0_W"], saved["D/h0_W"])
    z = np.random.RandomState(1).standard_normal((5, 10)).astype(np.float32)
    np.testing.assert_allclose(generator_forward(backend, train, z), numpy_generator(values, z),
                               rtol=1e-5, atol=1e-6)


def test_start_layer_appends_from_that_layer(workdir):
    """start_layer=1: only stage 1's h1 and y are appended; the new MLP must then end in its h0's
    width (32). Exact: layer names, parameter names and a shape, all structure."""
    write_stage1_checkpoint(workdir / "runs" / "tfd_pretrain_tiny-port_torch", "port_torch")
    text = (STAGE2.read_text().replace("dim: 10,", "dim: 32,")
            .replace('pretrained: "./tfd_pretrain_tiny.pkl",',
                     'pretrained: "./tfd_pretrain_tiny.pkl", start_layer: 1,'))
    for backend in BACKENDS:
        model = build(backend, text=text).model
        assert [layer.layer_name for layer in model.generator.mlp.layers] == ["h0", "h1", "h1", "y"]
        assert "G/pretrained_h0_W" not in model.param_names()
        assert model.get_param_values()["G/pretrained_y_W"].shape == (32, 2304)


def test_gen_channels_of_equal_names_are_overwritten_as_in_2014(workdir):
    """Monitoring names channels after layer_name: gen_h0_* and gen_h1_* appear once and hold the
    stage-1 layers' values (the later layer overwrites the earlier one, as in 2014). Exact: the
    counts of 18 h0_ and 18 h1_ channels (6 weight norms and 12 output statistics: one layer's
    worth each); h0_col_norms_max and h1_col_norms_max within pytest.approx's default relative
    1e-6, a few float32 rounding steps, as the channel and the check reduce the same float32
    weights by the same operations."""
    import torch

    write_stage1_checkpoint(workdir / "runs" / "tfd_pretrain_tiny-port_torch", "port_torch")
    mlp = build("port_torch").model.generator.mlp
    channels = mlp.monitoring_channels(torch.zeros(4, 10))
    assert len([key for key in channels if key.startswith("h0_")]) == 18
    assert len([key for key in channels if key.startswith("h1_")]) == 18
    pretrained_h0 = mlp.layers[2].W.detach().square().sum(dim=0).sqrt()
    assert float(channels["h0_col_norms_max"]) == pytest.approx(float(pretrained_h0.max()))
    pretrained_h1 = mlp.layers[3].W.detach().square().sum(dim=0).sqrt()
    assert float(channels["h1_col_norms_max"]) == pytest.approx(float(pretrained_h1.max()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_clear_errors(workdir, backend):
    """No checkpoint: the paths tried and the command to run; a .pkl: refused; a checkpoint whose
    arrays do not fit its YAML: the parameter and both shapes; a new MLP whose output does not fit
    the pretrained input: both spaces; start_layer out of range. Each is a YAML error at the
    add_layers line. Exact: the error type and the text each message must contain; the message is
    the user's only guide."""
    with pytest.raises(YAMLConfigError) as info:
        build(backend)
    assert "runs/tfd_pretrain_tiny-port_torch" in str(info.value)
    assert f"python -m {backend}.run" in str(info.value)
    assert "tfd_train_tiny.yaml:" in str(info.value)

    (workdir / "tfd_pretrain_tiny.pkl").write_bytes(b"not read")
    with pytest.raises(YAMLConfigError, match="pickle file"):
        build(backend)
    (workdir / "tfd_pretrain_tiny.pkl").unlink()

    folder = workdir / "runs" / "tfd_pretrain_tiny-legacy_aesara"
    write_stage1_checkpoint(folder, "legacy_aesara", epoch=1,
                            **{"G/y_W": np.zeros((32, 100), np.float32)})
    with pytest.raises(YAMLConfigError, match=r"G/y_W has shape \(32, 100\).*needs \(32, 2304\)"):
        build(backend)
    write_stage1_checkpoint(folder, "legacy_aesara", epoch=2)

    with pytest.raises(YAMLConfigError,
                       match=r"takes VectorSpace\(dim=10\).*gives VectorSpace\(dim=11\)"):
        build(backend, text=STAGE2.read_text().replace("dim: 10,", "dim: 11,"))
    with pytest.raises(YAMLConfigError, match=r"start_layer must be an integer in 0\.\.2"):
        build(backend, text=STAGE2.read_text().replace(
            'pretrained: "./tfd_pretrain_tiny.pkl",',
            'pretrained: "./tfd_pretrain_tiny.pkl", start_layer: 3,'))
