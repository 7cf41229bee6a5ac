"""The Python API (port_torch.api, legacy_aesara.api), released generators and the README snippet.

The checkpoint is a real one: one epoch of yaml_experiments/smoke/mnist_tiny.yaml (whose G output
bias is initialised from the data marginals, as in mnist.yaml) trained by the torch port in this
process on generated MNIST files. Every load through the API happens with PYLEARN2_DATA_PATH
pointing at an empty folder: no dataset is needed.
"""
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan2014 import checkpoint as ckpt
from gan2014 import release_generator
from gan2014.datasets import mnist
from gan2014.fileio import sha256_of
from gan2014.image_grid import tile
from parity_tests.helpers import mnist_data_path, write_tiny_mnist

REPO = Path(__file__).resolve().parents[1]
TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(checkpoint path, the training backend's model read back from it with the data present)."""
    from gan2014 import parzen_cli
    from gan2014.config.yaml_parse import load_path
    from port_torch.registry import REGISTRY

    root = tmp_path_factory.mktemp("api")
    write_tiny_mnist(root / "data")
    with mnist_data_path(root / "data"):
        train = load_path(str(TINY_YAML), REGISTRY)
        train.configure(out_dir=root / "seed_4", max_epochs=1, yaml_text=TINY_YAML.read_text(),
                        backend="port_torch", verbose=False)
        train.main_loop()
        path = root / "seed_4" / "checkpoints" / "epoch_000001.npz"
        _, model, _ = parzen_cli.load_run(path, REGISTRY)
    return path, model


@pytest.fixture
def no_dataset(tmp_path, monkeypatch):
    """An empty dataset folder: reading MNIST would fail."""
    empty = tmp_path / "no_data"
    empty.mkdir()
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(empty))
    mnist.clear_cache()
    yield
    mnist.clear_cache()


def test_the_tiny_run_really_needs_its_dataset(run, no_dataset):
    """The guard of the tests below: rebuilding the whole run from its YAML reads MNIST. Exact: an
    exception whose message names MNIST (pattern 'mnist|MNIST'); without it the no-dataset tests
    below would prove nothing."""
    from gan2014 import parzen_cli
    from port_torch.registry import REGISTRY

    with pytest.raises(Exception, match="mnist|MNIST"):
        parzen_cli.load_run(run[0], REGISTRY)


def test_load_generator_equals_the_training_backend_bit_for_bit(run, no_dataset):
    """With no dataset, port_torch.api.load_generator gives an eval-mode G of the checkpoint (epoch
    1, 10-d noise) whose outputs, sample() included, equal the training backend's G bit for bit;
    the output bias is the checkpoint's. Exact: the same float32 operations on the same values."""
    from port_torch.api import load_generator, noise, sample

    path, model = run
    G = load_generator(path)
    assert isinstance(G, torch.nn.Module) and not G.training
    assert G.checkpoint_meta["epoch"] == 1 and G.noise_dim == 10
    z = noise(G, 50, seed=3)
    with torch.no_grad():
        expected = model.generator(z)
        got = G(z)
    assert torch.equal(got, expected)
    # sample = G(noise) with the seeded draw; another seed, other samples.
    np.testing.assert_array_equal(sample(G, 50, seed=3), expected.numpy())
    assert not np.array_equal(sample(G, 50, seed=4), expected.numpy())
    # The marginal-initialised output bias was replaced by the checkpoint's value.
    assert torch.equal(G.mlp.layers[-1].b, model.generator.mlp.layers[-1].b)


def test_release_keeps_only_g_and_what_rebuilds_it(run, tmp_path, no_dataset, capsys):
    """A released generator holds exactly G's float32 arrays (equal to the checkpoint's), the YAML
    and its provenance (epoch, seed from the run folder or given, backend, source and its sha256),
    is under half the checkpoint's size, and rebuilds the same G. Exact: arrays are copied."""
    from port_torch.api import load_generator, noise

    path, model = run
    out = tmp_path / "generator.npz"
    assert release_generator.main([str(path), str(out)]) == 0
    assert "epoch 1, seed 4" in capsys.readouterr().out  # seed from the seed_4 folder
    arrays, meta = ckpt.load_checkpoint(out)
    g_names = [name for name in model.param_names() if name.startswith("G/")]
    assert sorted(arrays) == sorted(g_names) and meta["param_names"] == g_names
    for name in g_names:
        assert arrays[name].dtype == np.float32
        np.testing.assert_array_equal(arrays[name], model.get_param_values()[name])
    assert meta["kind"] == "released-generator" and meta["epoch"] == 1 and meta["seed"] == 4
    assert meta["backend"] == "port_torch" and meta["source"] == "epoch_000001.npz"
    assert meta["yaml"] == TINY_YAML.read_text()
    assert meta["source_sha256"] == sha256_of(path)
    assert out.stat().st_size < path.stat().st_size / 2
    G = load_generator(out)
    z = noise(G, 20, seed=5)
    with torch.no_grad():
        assert torch.equal(G(z), model.generator(z))
    release_generator.release(path, tmp_path / "g7.npz", seed=7)
    assert ckpt.load_checkpoint(tmp_path / "g7.npz")[1]["seed"] == 7


def test_a_file_that_lacks_a_generator_parameter_is_refused(run, tmp_path, no_dataset):
    """A checkpoint without G/h1_W is a CheckpointError naming that parameter; releasing a file
    that does not exist exits with status 2. Exact: the message and the exit code."""
    from port_torch.api import load_generator

    arrays, meta = ckpt.load_checkpoint(run[0])
    del arrays["G/h1_W"]
    broken = tmp_path / "broken.npz"
    ckpt.save_checkpoint(broken, arrays, meta)
    with pytest.raises(ckpt.CheckpointError, match="G/h1_W"):
        load_generator(broken)
    assert release_generator.main([str(tmp_path / "missing.npz"), str(tmp_path / "x.npz")]) == 2


def readme_snippet():
    """The first ```python block of README.md that uses port_torch.api."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    blocks = [block for block in blocks if "port_torch.api" in block]
    assert blocks, "README.md has no ```python block using port_torch.api"
    return blocks[0]


def test_the_readme_snippet_runs(run, tmp_path, monkeypatch, no_dataset, capsys):
    """The README's block, executed as written in a folder holding a released generator. Exact: the
    printed epoch and noise dimension ('1 10') and the image's shape, 2 + 8 x 58 = 466 pixels a
    side: integers."""
    release_generator.release(run[0], tmp_path / "generator.npz")
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_snippet(), "README.md", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out.split() == ["1", "10"]
    image = np.asarray(Image.open(tmp_path / "samples.png"))
    # 8 x 8 tiles of 56 px (28 px, scale 2) with 2 px padding.
    assert image.shape == (2 + 8 * 58, 2 + 8 * 58)


def test_tile_places_each_image_scaled_and_clipped():
    """tile() puts each 2 x 2 image at twice its size between 1-pixel black borders, maps 0.5 to
    rint(127.5) = 128 and clips values outside [0, 1] to 0 and 255. Exact: uint8 pixels of
    hand-chosen values."""
    images = np.stack([np.full(4, 0.5), np.array([0.0, 1.0, 2.0, -1.0]), np.zeros(4)])
    grid = tile(images, shape=(2, 2), cols=2, padding=1, scale=2)
    assert grid.shape == (1 + 2 * 5, 1 + 2 * 5) and grid.dtype == np.uint8
    assert (grid[1:5, 1:5] == 128).all()  # rint(0.5 * 255)
    np.testing.assert_array_equal(grid[1:5, 6:10], [[0, 0, 255, 255], [0, 0, 255, 255],
                                                    [255, 255, 0, 0], [255, 255, 0, 0]])
    assert grid[0].sum() == 0 and grid[:, 5].sum() == 0 and grid[6:10, 6:10].sum() == 0


def test_the_aesara_api_loads_the_same_generator(run, no_dataset):
    """legacy_aesara.api on the torch checkpoint: the same values, the same G as the Aesara
    training backend's (bit for bit), and the torch module's outputs to float32 rounding."""
    api = pytest.importorskip("legacy_aesara.api")
    from gan2014 import parzen_cli
    from legacy_aesara.registry import load_registry
    from port_torch.api import load_generator as load_torch, noise

    path, _ = run
    G = api.load_generator(path)
    z = noise(load_torch(path), 30, seed=6).numpy()
    got = api.generate(G, z)
    with torch.no_grad():
        torch_out = load_torch(path)(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(got, torch_out, rtol=0, atol=1e-6)
    samples = api.sample(G, 7, seed=11)
    assert samples.shape == (7, 784) and samples.dtype == np.float32
    np.testing.assert_array_equal(api.sample(G, 7, seed=11), samples)
    # The Aesara training backend's own G, rebuilt with its data: bit for bit.
    data = path.parents[2] / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYLEARN2_DATA_PATH", str(data))
        mnist.clear_cache()
        _, model, _ = parzen_cli.load_run(path, load_registry())
    np.testing.assert_array_equal(api.generate(model.generator, z), got)


def test_a_generator_its_yaml_cannot_build_is_reported_as_such(run, tmp_path, no_dataset):
    """A checkpoint whose YAML cannot build its generator (a layer of dim -32) is a CheckpointError
    saying the generator of that file could not be rebuilt. Exact: the message is the user's only
    guide."""
    from port_torch.api import load_generator

    arrays, meta = ckpt.load_checkpoint(run[0])
    meta["yaml"] = meta["yaml"].replace("dim: 32", "dim: -32", 1)
    broken = tmp_path / "broken.npz"
    ckpt.save_checkpoint(broken, arrays, meta)
    with pytest.raises(ckpt.CheckpointError, match=r"rebuilding the generator of .*broken\.npz"):
        load_generator(broken)
