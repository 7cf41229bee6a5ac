"""Figures 2a and 3 (gan2014/figures/samples.py through both backends) and the learning curves.

The checkpoint is a real one: one epoch of yaml_experiments/smoke/mnist_tiny.yaml trained by the
torch port in this process, on generated MNIST files (random pixels in the 800 training rows the
config reads, zeros elsewhere). Both backends draw from it (a checkpoint is backend-independent).
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan2014.datasets import mnist
from gan2014.figures import curves, samples as figures
from parity_tests.helpers import mnist_data_path, write_tiny_mnist

REPO = Path(__file__).resolve().parents[1]
TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"
ROWS, COLS, PAIRS, STEPS = 3, 4, 2, 5


# One torch thread for every test of this module (the top-level conftest.py).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A one-epoch torch run of the tiny config: its folder (monitor.jsonl, checkpoints/)."""
    from gan2014.config.yaml_parse import load_path
    from port_torch.registry import REGISTRY

    root = tmp_path_factory.mktemp("figures")
    write_tiny_mnist(root / "data")
    with mnist_data_path(root / "data"):
        train = load_path(str(TINY_YAML), REGISTRY)
        train.configure(out_dir=root / "run", max_epochs=1, yaml_text=TINY_YAML.read_text(),
                        backend="port_torch", verbose=False)
        train.main_loop()
        yield root / "run"


@pytest.fixture(scope="module")
def checkpoint(run_dir):
    return run_dir / "checkpoints" / "epoch_000001.npz"


@pytest.fixture(scope="module")
def train_images(run_dir):
    return mnist.MNIST("train", start=0, stop=50000).X


def brute_force_nearest(sample, train):
    """argmin over the training rows of the float64 Euclidean distance, term by term."""
    return int(np.argmin(np.sqrt(((train.astype(np.float64) - sample) ** 2).sum(axis=1))))


def tile(image, layout, row, col):
    """The grey levels of tile (row, col) of a drawn figure, back at 28 x 28 (every scale-th pixel:
    the tiles are enlarged without smoothing)."""
    left, top, right, bottom = layout.tile_box(row, col)
    pixels = np.asarray(image.convert("L"))[top:bottom, left:right]
    return pixels[::layout.scale, ::layout.scale]


def check_figures(result, backend, train):
    """What both backends must satisfy: sizes, the neighbour column, the sample tiles, the ends of
    each interpolation."""
    layout = result["samples_layout"]
    # 3 x 4 tiles of 84 px, 4 px padding, an 8 px gap before the neighbour column.
    assert result["samples_image"].size == (4 + 4 * 88 + 8, 4 + 3 * 88) == layout.size
    assert result["interpolation_image"].size == (4 + STEPS * 88, 4 + PAIRS * 88)
    shown = result["samples"]
    assert shown.shape == (ROWS * (COLS - 1), 784)
    for row in range(ROWS):
        beside = shown[row * (COLS - 1) + COLS - 2]
        nearest = brute_force_nearest(beside, train)
        assert result["neighbour_indices"][row] == nearest
        np.testing.assert_array_equal(tile(result["samples_image"], layout, row, COLS - 1),
                                      figures.to_grey_levels(train[nearest]))
        for col in range(COLS - 1):
            np.testing.assert_array_equal(tile(result["samples_image"], layout, row, col),
                                          figures.to_grey_levels(shown[row * (COLS - 1) + col]))
    # The ends of each walk are G(z0) and G(z1) (1e-6: G is applied to batches of other sizes,
    # whose matrix products may be blocked differently; the z's are equal exactly).
    model, _ = backend.load_model(result["checkpoint"])
    walks = result["interpolations"]
    np.testing.assert_allclose(walks[:, 0], backend.generate(model, result["z0"]), atol=1e-6)
    np.testing.assert_allclose(walks[:, -1], backend.generate(model, result["z1"]), atol=1e-6)
    z_path = figures.interpolate(result["z0"], result["z1"], STEPS)
    np.testing.assert_array_equal(z_path[:, 0], result["z0"])
    np.testing.assert_array_equal(z_path[:, -1], result["z1"])
    inner = backend.generate(model, z_path[:, STEPS // 2])
    np.testing.assert_allclose(walks[:, STEPS // 2], inner, atol=1e-6)


def test_port_torch_figures(checkpoint, train_images):
    """Property: Figure 2a's rightmost column is, row by row, the training image (of train[0:50000])
    at the brute-force argmin of the Euclidean distance to the sample beside it; the other tiles are
    G's samples from a torch.Generator seeded 10097; Figure 3's rows start at G(z0) and end at
    G(z1). Tiles compare exactly at 8 bits (PNG is lossless and the enlargement copies pixels)."""
    from port_torch.adversarial import DEFAULT_SEED
    from port_torch.figures import TorchFigures

    backend = TorchFigures("cpu")
    result = figures.make_figures(backend, checkpoint, train_images, ROWS, COLS, PAIRS, STEPS)
    result["checkpoint"] = checkpoint
    check_figures(result, backend, train_images)
    model, _ = backend.load_model(checkpoint)
    generator = torch.Generator()
    generator.manual_seed(DEFAULT_SEED)
    expected = model.generator.sample(ROWS * (COLS - 1), generator).numpy()
    np.testing.assert_array_equal(result["samples"], expected)


def test_legacy_aesara_figures(checkpoint, train_images):
    """Property: the same as for the torch port, with noise from G's MRG stream (seeded 1234) and G
    as a compiled Aesara fprop. Same tolerances: sizes, neighbour indices and 8-bit tiles
    exactly; the ends and middle of each interpolation to atol 1e-6 (G on batches of other
    sizes, whose matrix products may be blocked differently). The noise (z0, z1) equals a draw of
    G's MRG stream seeded 1234 exactly, and the samples are G of that draw's first rows to atol
    1e-6."""
    from legacy_aesara.figures import AesaraFigures  # sets Aesara's flags before Aesara
    import aesara

    from legacy_aesara import random_streams

    backend = AesaraFigures()
    result = figures.make_figures(backend, checkpoint, train_images, ROWS, COLS, PAIRS, STEPS,
                                  seed=1234)
    result["checkpoint"] = checkpoint
    check_figures(result, backend, train_images)
    model, _ = backend.load_model(checkpoint)
    shown = ROWS * (COLS - 1)
    with random_streams.seeded_for_a_moment(model.generator.theano_rng, 1234):
        z = aesara.function([], model.generator.get_noise(shown + 2 * PAIRS))()
    np.testing.assert_array_equal(result["z0"], z[shown:shown + PAIRS])
    np.testing.assert_array_equal(result["z1"], z[shown + PAIRS:])
    np.testing.assert_allclose(result["samples"], backend.generate(model, z[:shown]), atol=1e-6)


def test_figures_command_writes_pngs_and_record(checkpoint, tmp_path, capsys):
    """Property: `python -m port_torch.figures CHECKPOINT --out DIR` writes the two PNGs named after
    the checkpoint's epoch, at the sizes of the layout, and a JSON record with one neighbour index
    per row; a missing checkpoint is one `error:` line naming it and status 2. Exact: exit
    statuses 0 and 2, the image sizes, the record's epoch (1) and index count (ROWS = 3), and
    stderr being that one line; sizes and counts are integers and the message is the user's only
    guide."""
    from port_torch import figures as torch_figures

    argv = [str(checkpoint), "--out", str(tmp_path), "--rows", str(ROWS), "--cols", str(COLS),
            "--pairs", str(PAIRS), "--steps", str(STEPS)]
    assert torch_figures.main(argv) == 0
    with Image.open(tmp_path / "mnist_samples_epoch1.png") as image:
        assert image.size == figures.Layout(ROWS, COLS, gap_before=COLS - 1).size
    with Image.open(tmp_path / "mnist_interpolation_epoch1.png") as image:
        assert image.size == figures.Layout(PAIRS, STEPS).size
    record = json.loads((tmp_path / "mnist_samples_epoch1.json").read_text())
    assert record["epoch"] == 1 and len(record["neighbour_indices"]) == ROWS
    capsys.readouterr()
    missing = tmp_path / "missing.npz"
    assert torch_figures.main([str(missing), "--out", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and str(missing) in lines[0], lines


def test_nearest_neighbours_is_the_exact_argmin():
    """Property: the product-form search returns the brute-force argmin and distance on random data
    with near-duplicates (distances to 1e-9 relative: float64 product form)."""
    rng = np.random.RandomState(3)
    train = rng.rand(300, 784).astype(np.float32)
    queries = np.concatenate([train[[5, 77]] + 1e-3, rng.rand(10, 784).astype(np.float32)])
    indices, distances = figures.nearest_neighbours(queries, train, block_rows=4)
    for query, index, distance in zip(queries, indices, distances):
        exact = np.sqrt(((train.astype(np.float64) - query) ** 2).sum(axis=1))
        assert index == int(np.argmin(exact))
        assert distance == pytest.approx(exact.min(), rel=1e-9)
    assert list(indices[:2]) == [5, 77]


def test_learning_curves(run_dir, tmp_path):
    """Property: the curves command draws a 1500 x 900 PNG from a run folder, with or without a
    validation history, also from the run's monitor.csv alone, and refuses a folder without a
    monitor record (status 2). Exact: exit statuses, the size (curves.WIDTH x curves.HEIGHT) and
    the rows read from monitor.csv and monitor.jsonl, as both files write each float as its
    shortest round-trip text."""
    out = tmp_path / "curves.png"
    assert curves.main([str(run_dir), "--out", str(out)]) == 0
    with Image.open(out) as image:
        assert image.size == (curves.WIDTH, curves.HEIGHT)
    validated = tmp_path / "validated"
    validated.mkdir()
    (validated / "monitor.jsonl").write_text((run_dir / "monitor.jsonl").read_text())
    (validated / "valid_parzen.jsonl").write_text(
        json.dumps({"epoch": 1, "valid_ll": -80.0, "valid_se": 1.5}) + "\n")
    assert curves.main([str(validated), "--out", str(tmp_path / "v.png")]) == 0
    csv_only = tmp_path / "csv_only"
    csv_only.mkdir()
    (csv_only / "monitor.csv").write_text((run_dir / "monitor.csv").read_text())
    assert curves.main([str(csv_only), "--out", str(tmp_path / "c.png")]) == 0
    assert curves.read_monitor(csv_only / "monitor.csv") == curves.read_monitor(
        run_dir / "monitor.jsonl")
    assert curves.main([str(tmp_path / "nothing"), "--out", str(tmp_path / "x.png")]) == 2


def test_a_released_generator_draws_the_figures_of_its_checkpoint(checkpoint, tmp_path):
    """Property: the committed Table-1 generators are released files (G's parameters only), and a
    user draws Figures 2a and 3 from them: `python -m port_torch.figures generator.npz` writes the
    same PNG bytes as from the training checkpoint it was released from (G is the same, the noise
    seed is the same; D, absent from the file, plays no part). Exact: byte equality."""
    from gan2014 import release_generator
    from port_torch import figures as torch_figures

    released = tmp_path / "generator.npz"
    release_generator.release(checkpoint, released, seed=0)
    names = ("mnist_samples_epoch1.png", "mnist_interpolation_epoch1.png")
    for source, out in ((checkpoint, tmp_path / "from_checkpoint"), (released, tmp_path / "g")):
        argv = [str(source), "--out", str(out), "--rows", str(ROWS), "--cols", str(COLS),
                "--pairs", str(PAIRS), "--steps", str(STEPS)]
        assert torch_figures.main(argv) == 0
    for name in names:
        assert (tmp_path / "g" / name).read_bytes() == \
            (tmp_path / "from_checkpoint" / name).read_bytes(), name


@pytest.mark.parametrize("backend", ["port_torch", "legacy_aesara"])
def test_load_run_of_a_released_generator_sets_g_and_leaves_d_as_drawn(checkpoint, tmp_path,
                                                                        backend):
    """Property: `parzen_cli.load_run` (behind the Parzen and figure commands of both backends)
    reads a released generator: every G/ parameter equals the checkpoint's bit for bit, every D/
    parameter is the YAML's fresh draw (not the checkpoint's, which the file does not hold), and
    a released file that lacks one of G's arrays is refused naming it. Exact: values are copied."""
    from gan2014 import checkpoint as ckpt, parzen_cli, release_generator
    if backend == "port_torch":
        from port_torch.registry import REGISTRY as registry
    else:
        from legacy_aesara.registry import load_registry
        registry = load_registry()

    released = tmp_path / "generator.npz"
    release_generator.release(checkpoint, released, seed=0)
    trained, _ = ckpt.load_checkpoint(checkpoint)
    _, model, meta = parzen_cli.load_run(released, registry)
    assert meta["kind"] == release_generator.KIND
    values = model.get_param_values()
    assert any(name.startswith("D/") for name in values)
    for name, value in values.items():
        if name.startswith("G/"):
            np.testing.assert_array_equal(value, trained[name], err_msg=name)
        else:
            assert not np.array_equal(value, trained[name]), name
    arrays, meta = ckpt.load_checkpoint(released)
    del arrays["G/h0_W"]
    damaged = tmp_path / "damaged.npz"
    ckpt.save_checkpoint(damaged, arrays, meta)
    with pytest.raises(ckpt.CheckpointError, match=r"lacks parameters \['G/h0_W'\]"):
        parzen_cli.load_run(damaged, registry)
