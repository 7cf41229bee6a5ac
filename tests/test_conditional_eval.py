"""The conditional evaluation command on a tiny real run (yaml_experiments/smoke/
mnist_conditional_tiny.yaml, one epoch of port_torch on a tiny MNIST): it scores the checkpoint
with 10 classes x `--per-class` samples, writes the record and the class-by-class grid, and
training through the command line works for the conditional model.
"""
import json

import numpy as np
import pytest
from PIL import Image

from gan2014.conditional_parzen import class_diversity, class_grid, class_labels
from parity_tests.conftest import REPO
from parity_tests.helpers import mnist_data_path, write_tiny_mnist

TINY = REPO / "yaml_experiments" / "smoke" / "mnist_conditional_tiny.yaml"
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, one_torch_thread):
    from port_torch import run
    root = tmp_path_factory.mktemp("conditional")
    write_tiny_mnist(root / "data")
    with mnist_data_path(root / "data"):
        assert run.main([str(TINY), "--max-epochs", "1", "--out", str(root / "run"),
                         "--quiet"]) == 0
        yield root / "run" / "checkpoints" / "epoch_000001.npz", root


def test_class_labels_and_grid_rows_are_class_major():
    """Row k of the grid holds the first samples of class k (exact indices)."""
    labels = class_labels(3, 10)
    samples = np.arange(30)[:, None] * np.ones((1, 4))
    assert list(labels[:4]) == [0, 0, 0, 1]
    grid = class_grid(samples, labels, 2)
    assert list(grid[:, 0]) == [0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22, 24, 25,
                                27, 28]


def test_class_diversity_separates_ignored_noise_from_ignored_labels():
    """Property: `within_class` is 0 exactly when every class is one repeated image (G ignores its
    noise), `between_classes` is 0 exactly when every class holds the same images (G ignores its
    label); on a hand-computable case both equal the population standard deviations. Exact up to
    float64 rounding (1e-12)."""
    labels = class_labels(4, 10)
    per_class_image = np.repeat(np.linspace(0, 1, 10)[:, None] * np.ones((1, 6)), 4, axis=0)
    one_per_class = class_diversity(per_class_image, labels)
    assert one_per_class["within_class"] == 0.0
    assert abs(one_per_class["between_classes"] - np.linspace(0, 1, 10).std()) < 1e-12
    same_for_all = class_diversity(np.tile(np.array([[0.], [1.], [0.], [1.]]), (10, 3)), labels)
    assert same_for_all["between_classes"] == 0.0 and abs(same_for_all["within_class"] - .5) < 1e-12
    with pytest.raises(ValueError, match="at least 2 images"):
        class_diversity(np.zeros((10, 3)), class_labels(1, 10))


def test_the_command_scores_a_checkpoint_and_draws_the_grid(checkpoint, capsys):
    """Record fields (n_samples = 10 x per-class; sigma from the grid; finite mean) and a figure
    of 10 rows x grid-cols tiles of 28 x 28 pixels at scale 2, with 2 pixels between tiles. Exact:
    counts, record fields, image size in pixels and the blank rows' diversity of 0.0; the Parzen
    mean need only be finite, as a one-epoch tiny run has no reference value."""
    from port_torch import conditional
    path, root = checkpoint
    out = root / "eval"
    assert conditional.main([str(path), "--per-class", "20", "--limit", "50", "--out", str(out),
                             "--grid-cols", "5", "--data-path", str(root / "data")]) == 0
    record = json.loads((out / "epoch000001_parzen.json").read_text())
    assert record["n_samples"] == 200 and record["per_class"] == 20 and record["limit"] == 50
    assert record["protocol"] == "conditional" and np.isfinite(record["mean"])
    assert len(record["sigma_table"]) == 10 and record["sigma"] in [s for s, _ in
                                                                    record["sigma_table"]]
    for part in ("samples", "real_validation"):
        assert set(record["diversity"][part]) == {"within_class", "between_classes"}
    # The tiny data's validation rows are blank images with random labels: no variation at all.
    assert record["diversity"]["real_validation"] == {"within_class": 0.0, "between_classes": 0.0}
    width, height = Image.open(out / "epoch000001_class_grid.png").size
    assert (width, height) == (2 + 5 * (2 * 28 + 2), 2 + 10 * (2 * 28 + 2))
    printed = capsys.readouterr().out
    assert "Log-Likelihood of test set" in printed and "sample diversity (20 per class" in printed


def test_the_command_reports_a_missing_checkpoint(tmp_path, capsys):
    """A checkpoint whose file does not exist is reported, not a traceback (exit code 2). Exact:
    the exit code, the message naming the missing file, and no 'Traceback' in stderr."""
    from port_torch import conditional
    missing = tmp_path / "missing.npz"
    with pytest.raises(SystemExit) as stop:
        conditional.main([str(missing)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"error: checkpoint {missing} does not exist" in err and "Traceback" not in err, err
