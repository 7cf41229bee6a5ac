"""Figures 2a and 3 (gan2014/figures/samples.py) for the TFD and CIFAR-10 configs.

Each checkpoint is the freshly initialised model of a tiny smoke config (its parameters and YAML
saved with gan2014.checkpoint, as a run's epoch-0 checkpoint is), read against generated data in
the real file formats: a TFD_48x48.mat of 360 images and six CIFAR-10 batches of 100 images. The
figures must take the training set, the image shape and the colours from the checkpoint's YAML.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan2014 import checkpoint as ckpt
from gan2014.datasets import cifar10, tfd
from gan2014.figures import samples as figures
from parity_tests.helpers import write_tiny_cifar10, write_tiny_tfd

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "yaml_experiments" / "smoke"
CIFAR_PER_BATCH = 100
ROWS, COLS, PAIRS, STEPS, SEED = 2, 3, 2, 4, 1234


# One torch thread for every test of this module (tiny models; the top-level conftest.py).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """Generated TFD and CIFAR-10 files on PYLEARN2_DATA_PATH."""
    root = tmp_path_factory.mktemp("figure_data")
    write_tiny_tfd(root)
    write_tiny_cifar10(root, CIFAR_PER_BATCH)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYLEARN2_DATA_PATH", str(root))
        patch.setattr(cifar10, "EXAMPLES_PER_BATCH", CIFAR_PER_BATCH)
        try:
            yield root
        finally:
            cifar10.clear_cache()
            tfd.clear_cache()


def fresh_checkpoint(config, folder):
    """The epoch-0 checkpoint of `config`'s model as the torch port initialises it."""
    from gan2014.config.yaml_parse import load, train_file_variables
    from port_torch.registry import REGISTRY

    path = folder / f"{Path(config).stem}.npz"
    text = (SMOKE / config).read_text()
    train = load(text, REGISTRY, filename=config, environ=train_file_variables(str(path)))
    arrays = {name: np.asarray(value) for name, value in train.model.get_param_values().items()}
    return ckpt.save_checkpoint(path, arrays, {"yaml": text, "epoch": 0, "backend": "port_torch",
                                               "param_names": list(arrays)})


def tile(image, layout, row, col):
    """Tile (row, col) of a drawn figure back at the image's own size (RGB)."""
    left, top, right, bottom = layout.tile_box(row, col)
    return np.asarray(image.convert("RGB"))[top:bottom:layout.scale, left:right:layout.scale]


def cifar_levels(row, reference):
    """A planar CIFAR-10 design row as 32 x 32 x 3 levels: divided by the samples' largest
    magnitude, [-1, 1] mapped to [0, 1] (show_samples_cifar_*_paper.py)."""
    channels_last = np.asarray(row, np.float64).reshape(3, 32, 32).transpose(1, 2, 0)
    unit = (np.clip(channels_last / np.abs(reference).max(), -1, 1) + 1) / 2
    return np.rint(unit * 255).astype(np.uint8)


def brute_force_nearest(sample, train):
    return int(np.argmin(((train.astype(np.float64) - sample) ** 2).sum(axis=1)))


def check_figures(result, backend, checkpoint, train, levels, side):
    """Sizes, the tiles, the neighbour column and the ends of each walk, for tiles side x side."""
    layout = result["samples_layout"]
    assert layout.image_shape == (side, side)
    assert result["samples_image"].size == (4 + COLS * (3 * side + 4) + 8,
                                            4 + ROWS * (3 * side + 4))
    assert result["interpolation_image"].size == (4 + STEPS * (3 * side + 4),
                                                  4 + PAIRS * (3 * side + 4))
    shown = result["samples"]
    assert shown.shape == (ROWS * (COLS - 1), train.shape[1])
    for row in range(ROWS):
        beside = shown[row * (COLS - 1) + COLS - 2]
        nearest = brute_force_nearest(beside, train)
        assert result["neighbour_indices"][row] == nearest
        np.testing.assert_array_equal(tile(result["samples_image"], layout, row, COLS - 1),
                                      levels(train[nearest], shown))
        for col in range(COLS - 1):
            np.testing.assert_array_equal(tile(result["samples_image"], layout, row, col),
                                          levels(shown[row * (COLS - 1) + col], shown))
    # The ends of each walk are G(z0) and G(z1), as design rows (1e-6: other batch sizes).
    model, _ = backend.load_model(checkpoint)
    walks = result["interpolations"]
    for end, z in ((0, result["z0"]), (-1, result["z1"])):
        rows = figures.design_rows(backend.generate(model, z), result["dataset"], train.shape[1])
        np.testing.assert_allclose(walks[:, end], rows, atol=1e-6)


def test_cifar10_convolutional_torch(data_root, tmp_path):
    """Property: for cifar10_convolutional_tiny.yaml (G ends in a Deconv making a c01b batch), the
    samples are G's c01b output put in CIFAR's planar design order (value [c, i, j, b] at column
    1024 c + 32 i + j of row b); the neighbour column is the brute-force argmin over the YAML's
    training set (CIFAR10 train[0:160], GCN 55) drawn in colour at the samples' scale; the command
    names the files cifar10_* by default and writes RGB tiles of 32 x 32. Exact: sizes, modes,
    neighbour indices, record text, the samples against G's own c01b output (same noise, same
    batch) and the 8-bit tiles, recomputed from the rows by the same mapping (the enlargement
    copies pixels); the ends of each interpolation to atol 1e-6, as G runs there on batches of
    other sizes."""
    from port_torch.figures import TorchFigures, main

    checkpoint = fresh_checkpoint("cifar10_convolutional_tiny.yaml", tmp_path)
    backend = TorchFigures("cpu")
    result = figures.make_figures(backend, checkpoint, None, ROWS, COLS, PAIRS, STEPS, SEED)
    model, meta = backend.load_model(checkpoint)
    result["dataset"] = cifar10.CIFAR10("train", gcn=55., start=0, stop=160, axes=("c", 0, 1, "b"))
    c01b = backend.generate(model, backend.noise(model, meta, ROWS * (COLS - 1), SEED))
    assert c01b.shape == (3, 32, 32, ROWS * (COLS - 1))
    np.testing.assert_array_equal(result["samples"][1].reshape(3, 32, 32), c01b[..., 1])
    check_figures(result, backend, checkpoint, result["dataset"].X, cifar_levels, 32)
    corner = tile(result["samples_image"], result["samples_layout"], 0, 0)
    assert not (corner[..., 0] == corner[..., 1]).all()  # colour, not grey

    argv = [str(checkpoint), "--out", str(tmp_path / "out"), "--rows", str(ROWS), "--cols",
            str(COLS), "--pairs", str(PAIRS), "--steps", str(STEPS), "--seed", str(SEED)]
    assert main(argv) == 0
    with Image.open(tmp_path / "out" / "cifar10_samples_epoch0.png") as image:
        assert image.mode == "RGB" and image.size == result["samples_image"].size
    with Image.open(tmp_path / "out" / "cifar10_interpolation_epoch0.png") as image:
        assert image.size == result["interpolation_image"].size
    record = json.loads((tmp_path / "out" / "cifar10_samples_epoch0.json").read_text())
    assert record["neighbours_searched"] == "CIFAR10 train[0:160] (gcn=55.0)"
    assert record["neighbour_indices"] == [int(i) for i in result["neighbour_indices"]]


def test_cifar10_fully_connected_aesara(data_root, tmp_path):
    """Property: for cifar10_fully_connected_tiny.yaml on the Aesara backend (G's Linear output is
    already a planar design row), the same neighbour, tile and interpolation properties hold.
    Same tolerances: sizes, neighbour indices, the dataset's description and the 8-bit tiles
    exactly; the ends of each interpolation to atol 1e-6 (G on batches of other sizes)."""
    from legacy_aesara.figures import AesaraFigures

    checkpoint = fresh_checkpoint("cifar10_fully_connected_tiny.yaml", tmp_path)
    backend = AesaraFigures()
    result = figures.make_figures(backend, checkpoint, None, ROWS, COLS, PAIRS, STEPS, SEED)
    result["dataset"] = cifar10.CIFAR10("train", gcn=55., start=0, stop=400)
    assert figures.describe_dataset(result["dataset"]) == "CIFAR10 train[0:400] (gcn=55.0)"
    check_figures(result, backend, checkpoint, result["dataset"].X, cifar_levels, 32)


def test_tfd_command_torch(data_root, tmp_path):
    """Property: for tfd_pretrain_tiny.yaml the command writes tfd_* files of 48 x 48 grey tiles
    (G's [0, 1] values as they are), the neighbours searched in TFD's unlabeled set (scale=True).
    Exact: file names, sizes, record text and the 8-bit tiles, also as read back from the PNG
    (lossless); the ends of each interpolation to atol 1e-6, as G runs there on batches of other
    sizes."""
    from port_torch.figures import TorchFigures, main

    checkpoint = fresh_checkpoint("tfd_pretrain_tiny.yaml", tmp_path)
    backend = TorchFigures("cpu")
    result = figures.make_figures(backend, checkpoint, None, ROWS, COLS, PAIRS, STEPS, SEED)
    result["dataset"] = tfd.TFD("unlabeled", scale=True)

    def grey(row, reference):
        level = np.rint(np.clip(np.asarray(row, np.float64).reshape(48, 48), 0, 1) * 255)
        return np.repeat(level.astype(np.uint8)[..., None], 3, axis=2)

    check_figures(result, backend, checkpoint, result["dataset"].X, grey, 48)
    argv = [str(checkpoint), "--out", str(tmp_path / "out"), "--rows", str(ROWS), "--cols",
            str(COLS), "--pairs", str(PAIRS), "--steps", str(STEPS), "--seed", str(SEED)]
    assert main(argv) == 0
    with Image.open(tmp_path / "out" / "tfd_samples_epoch0.png") as image:
        assert image.size == result["samples_image"].size
        drawn = tile(image, result["samples_layout"], 1, 0)
        np.testing.assert_array_equal(drawn, grey(result["samples"][COLS - 1], None))
    record = json.loads((tmp_path / "out" / "tfd_samples_epoch0.json").read_text())
    assert record["neighbours_searched"] == "TFD unlabeled fold 0 (scale=True)"
    assert (tmp_path / "out" / "tfd_interpolation_epoch0.png").exists()


def test_design_rows_refuses_a_batch_of_the_wrong_shape(data_root):
    """Property: a 4-D batch whose image axes do not match the training set's is an error naming
    both shapes, not a silent reshuffle. Exact: the error type and the message fragments naming
    both shapes, '(32, 32, 3, 4) batch' with 'images are (3, 32, 32, 1)', and 'shape (784,)' with
    '3072 values'; the message is the user's only guide."""
    dataset = cifar10.CIFAR10("train", gcn=55., start=0, stop=10, axes=("c", 0, 1, "b"))
    with pytest.raises(ValueError, match=r"\(32, 32, 3, 4\) batch; .*images are \(3, 32, 32, 1\)"):
        figures.design_rows(np.zeros((32, 32, 3, 4), np.float32), dataset, 3072)
    with pytest.raises(ValueError, match=r"shape \(784,\); .*rows have 3072 values"):
        figures.design_rows(np.zeros((4, 784), np.float32), dataset, 3072)
