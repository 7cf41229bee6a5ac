"""`python -m gan2014.figures.compare`: runs side by side (REPRODUCING.md's backend comparison)."""
import json

import pytest
from PIL import Image

from gan2014.figures import compare


def write_run(folder, valid, objectives):
    folder.mkdir(parents=True)
    with open(folder / "valid_parzen.jsonl", "w") as f:
        for epoch, ll, se, sigma in valid:
            f.write(json.dumps({"epoch": epoch, "valid_ll": ll, "valid_se": se, "sigma": sigma})
                    + "\n")
    with open(folder / "monitor.jsonl", "w") as f:
        for epoch, (d, g) in enumerate(objectives):
            f.write(json.dumps({"epoch": epoch, "valid_objective_d": d, "valid_objective_g": g})
                    + "\n")


def test_table_lists_the_epochs_every_run_validated_and_the_png_is_drawn(tmp_path, capsys):
    """Property: the printed table has one row per epoch validated by every run (epoch 75 is only
    in run a: left out), each cell the run's own score, se and sigma; the PNG is written at the
    module's size. Exact: the cells are formatted from the records."""
    write_run(tmp_path / "a",
              [(25, 120.5, 2.1, 0.2), (50, 150.25, 2.0, 0.18), (75, 160.0, 2.0, 0.17)],
              [(0.69, 0.69), (0.5, 1.2), (0.4, 1.5)])
    write_run(tmp_path / "b", [(25, 118.0, 2.2, 0.2), (50, 149.0, 2.05, 0.1668)],
              [(0.69, 0.69), (0.45, 1.3)])
    out = tmp_path / "fig" / "compare.png"
    assert compare.main([f"aesara={tmp_path / 'a'}", f"torch={tmp_path / 'b'}", "--out",
                         str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:4] == [
        "| epoch | aesara: validation Parzen (σ) | torch: validation Parzen (σ) |",
        "| --- | --- | --- |",
        "| 25 | 120.50 ± 2.10 (0.2) | 118.00 ± 2.20 (0.2) |",
        "| 50 | 150.25 ± 2.00 (0.18) | 149.00 ± 2.05 (0.1668) |"]
    assert Image.open(out).size == (compare.WIDTH, compare.HEIGHT)


@pytest.mark.parametrize("argument, message", [("aesara", "expected LABEL=RUN_DIR"),
                                               ("a=missing_dir", "does not exist")])
def test_bad_run_arguments_are_named(argument, message, capsys, tmp_path, monkeypatch):
    """Property: a malformed argument or a folder without the run files stops the command with
    status 2 and a message naming the argument or the missing file. Exact: exit status 2 and the
    message text; the message is the user's only guide."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        compare.main([argument])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
