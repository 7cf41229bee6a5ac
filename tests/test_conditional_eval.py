"""The conditional evaluation command on a tiny real run (yaml_experiments/smoke/
mnist_conditional_tiny.yaml, one epoch of port_torch on a tiny MNIST): it scores the checkpoint
with 10 classes x `--per-class` samples, writes the record and the class-by-class grid, and
training through the command line works for the conditional model.
"""
import json

import numpy as np
import pytest
from PIL import Image

from gan2014.checkpoint import list_checkpoints
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
        assert run.main([str(TINY), "--max-epochs", "2", "--out", str(root / "run"),
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


def _score(backend, path, root, *options):
    """Run `python -m <backend>.conditional` on the tiny checkpoint; returns its record."""
    import importlib
    command = importlib.import_module(f"{backend}.conditional")
    out = root / f"eval-{backend}"
    assert command.main([str(path), "--per-class", "20", "--limit", "50", "--out", str(out),
                         "--grid-cols", "5", "--data-path", str(root / "data"), "-q",
                         *options]) == 0
    suffix = ("_gdropout" if "--generator-dropout" in options else "") + \
        ("_samez" if "--same-noise" in options else "")
    assert (out / f"epoch000001{suffix}_class_grid.png").exists()
    return json.loads((out / f"epoch000001{suffix}_parzen.json").read_text())


def test_generator_dropout_is_the_only_variety_when_the_noise_is_shared(checkpoint):
    """With one noise vector for every sample (--same-noise), the deterministic G draws one image
    per class (within-class spread 0 up to float32 rounding of identical rows, < 1e-7) and G with
    its training dropout (--generator-dropout) does not (> 1e-5: the masks alone vary the
    samples; the one-epoch tiny G is nearly saturated, so the spread is small, 1.7e-4 when
    written). A sampler that ignored the flag, or shared masks between rows, fails one side. The
    records say how they were drawn and sit beside the default one (suffixes)."""
    path, root = checkpoint
    fixed = _score("port_torch", path, root, "--same-noise")
    masked = _score("port_torch", path, root, "--same-noise", "--generator-dropout")
    assert fixed["diversity"]["samples"]["within_class"] < 1e-7
    assert masked["diversity"]["samples"]["within_class"] > 1e-5
    assert (fixed["same_noise"], fixed["generator_dropout"]) == (True, False)
    assert (masked["same_noise"], masked["generator_dropout"]) == (True, True)


def test_generator_dropout_masks_and_scales_the_inputs_the_cost_drops(checkpoint):
    """G's dropout sample equals a hand computation with the same draws: z, then one Bernoulli(p)
    mask per row for each dropped layer input (the tiny file drops h1's and y's inputs with
    p = .5, scale 2, and keeps h0's whole), the kept units multiplied by the scale, with the output
    biases set to 0 and the last two layers' weights multiplied by 8, so that the tiny G's
    outputs respond to their inputs. Tolerance 1e-6 (float32, the same operations); the
    deterministic G differs by more than 1e-3. Masking the wrong layer, forgetting the scale or
    sharing one mask between rows fails it."""
    import torch
    from gan2014 import parzen_cli
    from port_torch.conditional import generator_dropout
    from port_torch.registry import REGISTRY
    built, model, _ = parzen_cli.load_run(checkpoint[0], REGISTRY)
    G = model.generator
    with torch.no_grad():   # the tiny run's G is nearly constant: make its outputs sensitive
        G.mlp.layers[-1].b.zero_()
        for layer in G.mlp.layers[1:]:
            layer.W.mul_(8.0)
    settings = generator_dropout(G, built.algorithm.cost)
    assert settings == [(1.0, 1.0), (0.5, 2.0), (0.5, 2.0)]
    labels = torch.eye(10)[torch.arange(40) % 10]
    stream = torch.Generator().manual_seed(5)
    sampled = G.sample(labels, stream, dropout=settings)
    again = torch.Generator().manual_seed(5)
    z = G.get_noise(40, again)
    h1_mask = (torch.rand((40, 32), generator=again) < .5).float()
    y_mask = (torch.rand((40, 32), generator=again) < .5).float()
    h0, h1, out = G.mlp.layers
    with torch.no_grad():
        h = h0.activate(h0.affine(torch.cat([z, labels], dim=1)))
        h = h1.activate(h1.affine(h * h1_mask * 2.0))
        expected = out.activate(out.affine(h * y_mask * 2.0))
    assert torch.allclose(sampled, expected, rtol=0, atol=1e-6)
    assert not torch.allclose(sampled, G.sample(labels, torch.Generator().manual_seed(5)),
                              atol=1e-3)


def test_generator_dropout_needs_a_cost_that_drops_in_g(checkpoint):
    """A run whose cost keeps G whole has no training dropout to sample with: the flag is refused
    by name (ValueError naming the cost), not silently equal to the default."""
    from types import SimpleNamespace
    from gan2014 import parzen_cli
    from port_torch.conditional import generator_dropout
    from port_torch.registry import REGISTRY
    _, model, _ = parzen_cli.load_run(checkpoint[0], REGISTRY)
    whole = SimpleNamespace(g_dropout=dict(default_input_include_prob=1.,
                                           default_input_scale=1.))
    with pytest.raises(ValueError, match="no dropout in G"):
        generator_dropout(model.generator, whole)


def test_legacy_generator_dropout_and_shared_noise(checkpoint):
    """The same two properties for legacy_aesara's sampler (G's MRG noise stream, the MLP's
    dropout stream), on the same checkpoint: shared noise alone gives one image per class
    (< 1e-7), shared noise with G's training dropout does not (> 1e-5)."""
    path, root = checkpoint
    fixed = _score("legacy_aesara", path, root, "--same-noise")
    masked = _score("legacy_aesara", path, root, "--same-noise", "--generator-dropout")
    assert fixed["diversity"]["samples"]["within_class"] < 1e-7
    assert masked["diversity"]["samples"]["within_class"] > 1e-5


def test_a_run_folder_is_scored_every_nth_epoch_and_the_best_by_validation_reported(checkpoint,
                                                                                    capsys):
    """Given the run's checkpoint folder, the command scores the epochs that are multiples of
    --every, writes scores.csv (one row per scored epoch, the validation estimate = the best mean
    of the sigma grid) and names the epoch with the highest validation estimate. A second call
    keeps the records it finds (nothing rescored, same table); --generator-dropout keeps its own
    table and does not mistake the default records for its own. Exact: epochs, file names, the
    argmax, the skip counts."""
    import csv
    from port_torch import conditional
    path, root = checkpoint
    folder, out = path.parent, root / "select"
    common = ["--per-class", "10", "--limit", "50", "--out", str(out), "--data-path",
              str(root / "data"), "-q", "--every", "1"]
    assert conditional.main([str(folder), *common]) == 0
    with open(out / "scores.csv") as handle:
        rows = list(csv.DictReader(handle))
    epochs = [epoch for epoch, _ in list_checkpoints(folder)]
    assert [int(r["epoch"]) for r in rows] == epochs and len(epochs) >= 2
    for r in rows:
        record = json.loads((out / f"epoch{int(r['epoch']):06d}_parzen.json").read_text())
        assert float(r["validation_ll"]) == max(ll for _, ll in record["sigma_table"])
        assert float(r["test_ll"]) == record["mean"]
    best = max(rows, key=lambda r: float(r["validation_ll"]))
    printed = capsys.readouterr().out
    assert f"best by validation: epoch {best['epoch']} " in printed
    before = (out / "scores.csv").read_text()
    assert conditional.main([str(folder), *common]) == 0
    assert f"{len(epochs)} scored before in {out}, 0 to score" in capsys.readouterr().out
    assert (out / "scores.csv").read_text() == before
    assert conditional.main([str(folder), *common, "--generator-dropout"]) == 0
    assert f"0 scored before in {out}, {len(epochs)} to score" in capsys.readouterr().out
    with open(out / "scores_gdropout.csv") as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == epochs


def test_a_run_folder_is_refused_with_a_fixed_sigma_or_without_matching_epochs(checkpoint,
                                                                               capsys):
    """Selecting by validation needs sigma chosen on validation (--sigma refused), and a folder
    without a checkpoint at a multiple of --every is named in the error. Exact: exit code 2 and
    the messages."""
    from port_torch import conditional
    path, root = checkpoint
    with pytest.raises(SystemExit) as stop:
        conditional.main([str(path.parent), "--sigma", "0.2"])
    assert stop.value.code == 2 and "--sigma: a folder is scored" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        conditional.main([str(path.parent), "--every", "1000", "--out", str(root / "none")])
    assert stop.value.code == 2
    assert "holds no checkpoint of an epoch that is a multiple of 1000" in \
        capsys.readouterr().err
