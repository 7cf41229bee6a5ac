"""Every line plot (gan2014/figures: curves, compare, figure1, saturation) writes PNG, PDF and SVG
by the extension of --out, and refuses another extension.

Each command runs in-process on small inputs: a two-epoch monitor record and validation history
written here, Figure 1 with 20 training steps, the saturation toy with 40 samples.
"""
import json

import pytest
from PIL import Image

from gan2014 import toy1d
from gan2014.figures import compare, curves, figure1, plot, saturation

# What each format's file starts with (PNG's 8-byte signature, PDF's header, SVG's XML or root).
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def is_svg(data):
    head = data[:400].lstrip()
    return (head.startswith(b"<?xml") or head.startswith(b"<svg")) and b"<svg" in data[:2000] \
        and data.rstrip().endswith(b"</svg>")


def check_file(path, fmt, size):
    data = path.read_bytes()
    if fmt == "svg":
        assert is_svg(data), path
    else:
        assert data.startswith(MAGIC[fmt]), path
    if fmt == "png":
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == size
    if fmt == "pdf":
        assert b"%%EOF" in data[-64:]


def write_run(folder, epochs=2):
    folder.mkdir(parents=True)
    with open(folder / "monitor.jsonl", "w") as handle:
        for epoch in range(epochs + 1):
            handle.write(json.dumps({"epoch": epoch, "valid_objective_d": 0.69 - 0.1 * epoch,
                                     "valid_objective_g": 0.69 + 0.3 * epoch,
                                     "valid_gen_ll": -300.0 + 50 * epoch,
                                     "learning_rate": 0.1 / 1.000004 ** (500 * epoch),
                                     "momentum": 0.5 + 0.001 * epoch,
                                     "seconds_this_epoch": 0.0 if epoch == 0 else 20.0 + epoch})
                         + "\n")
    with open(folder / "valid_parzen.jsonl", "w") as handle:
        for epoch in range(1, epochs + 1):
            handle.write(json.dumps({"epoch": epoch, "valid_ll": 100.0 + epoch, "valid_se": 1.5,
                                     "sigma": 0.2}) + "\n")
    return folder


@pytest.fixture(scope="module")
def toy_inputs():
    return (figure1.snapshots(train_steps=20),
            toy1d.early_training_gradients(n=40, d_steps=60))


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_every_line_plot_writes_the_format_of_its_extension(fmt, tmp_path, toy_inputs, capsys):
    """Property: curves, compare, figure1 and saturation each write a real PNG (of the module's
    size in pixels), PDF or SVG file, chosen by the extension of the path. Exact: each format's
    signature (PNG's 8 bytes; '%PDF-' and '%%EOF' in the last 64 bytes; an SVG root closed by
    '</svg>') and the PNG's size (curves 1500 x 900, compare 1500 x 520, figure1 1600 x 470,
    saturation 1300 x 540); signatures are fixed by each format and sizes are integers."""
    run = write_run(tmp_path / "run")
    out = tmp_path / f"curves.{fmt}"
    assert curves.main([str(run), "--out", str(out)]) == 0
    check_file(out, fmt, (curves.WIDTH, curves.HEIGHT))
    out = tmp_path / f"compare.{fmt}"
    assert compare.main([f"a={run}", f"b={run}", "--out", str(out)]) == 0
    check_file(out, fmt, (compare.WIDTH, compare.HEIGHT))
    shots, gradients = toy_inputs
    out = tmp_path / f"figure1.{fmt}"
    figure1.render(shots, str(out))
    check_file(out, fmt, (figure1.WIDTH, figure1.HEIGHT))
    out = tmp_path / f"saturation.{fmt}"
    saturation.render(gradients, str(out))
    check_file(out, fmt, (saturation.WIDTH, saturation.HEIGHT))


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_the_same_figure_gives_the_same_bytes(fmt, tmp_path, toy_inputs):
    """Property: no date or version stamp: drawing the same figure twice gives identical files (a
    regenerated figure under figures/ changes only when its data does)."""
    _, gradients = toy_inputs
    first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    saturation.render(gradients, str(first))
    saturation.render(gradients, str(second))
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("command, argv", [
    (curves.main, ["RUN", "--out", "x.jpg"]),
    (compare.main, ["a=RUN", "--out", "x.eps"]),
    (figure1.main, ["--out", "x"]),
    (saturation.main, ["--out", "x.pdf.gz"])])
def test_an_unknown_extension_is_refused(command, argv, tmp_path, capsys):
    """Property: a figure command given an --out without .png, .pdf or .svg stops with status 2
    before computing anything, and names the formats it writes; nothing is written. Exact: exit
    status 2, the text '.png, .pdf, .svg' and the folder's file list (the run alone); the message
    is the user's only guide."""
    run = write_run(tmp_path / "run")
    argv = [a.replace("RUN", str(run)) if "RUN" in a else a for a in argv]
    argv = [str(tmp_path / a) if a.startswith("x") else a for a in argv]
    with pytest.raises(SystemExit) as stop:
        command(argv)
    assert stop.value.code == 2
    assert ".png, .pdf, .svg" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_the_format_follows_the_extension_case_insensitively():
    """Property: plot.figure_format maps .png/.pdf/.svg in any case and refuses anything else.
    Exact: the format names, and a ValueError whose message names the extension."""
    assert [plot.figure_format(f"f{e}") for e in (".png", ".PDF", ".Svg")] == ["png", "pdf", "svg"]
    for bad in ("f.jpg", "f", "f.pdf.bak"):
        with pytest.raises(ValueError, match="extension"):
            plot.figure_format(bad)
