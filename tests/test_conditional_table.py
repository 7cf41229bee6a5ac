"""`python -m gan2014.conditional_table`: a conditional run's scores as one Markdown table.

REPRODUCING.md reports the conditional run from this table, so what it must get right is what a
reader takes from it: the checkpoint in bold is each way's best by *validation* (the one the
protocol keeps, not the best test score), every number sits under its own epoch and way, the
default columns always include each way's best and the last epoch scored, and a folder or table
that cannot be read ends in one error line naming the file (exit 2), not a traceback.
"""
import pytest

from gan2014 import conditional_table as table
from gan2014.conditional_parzen import SCORE_COLUMNS


def write_scores(path, rows):
    """A scores table in the format the conditional Parzen command writes."""
    lines = [",".join(SCORE_COLUMNS)]
    for epoch, valid, test, se in rows:
        lines.append(f"{epoch},{valid},0.2154,{test},{se},0.15,0.13")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def folder(tmp_path):
    # Deterministic: epoch 20 is best by validation, epoch 40 has the best *test* score.
    write_scores(tmp_path / "scores.csv", [(5, -229.8, -241.3, 1.04), (20, -34.2, -39.4, 1.33),
                                           (40, -36.4, -30.0, 1.40), (45, -41.0, -44.0, 1.4)])
    # With G's dropout: epoch 95 best by validation; epoch 125, the last and outside the
    # spread, scored this way only.
    write_scores(tmp_path / "scores_gdropout.csv", [(5, 2.0, -3.6, 1.7), (20, 116.4, 120.3, 1.5),
                                                    (40, 134.7, 138.4, 1.6),
                                                    (95, 153.8, 157.3, 1.55),
                                                    (125, 153.6, 160.0, 1.5)])
    return tmp_path


def rows_of(text):
    """{row label: cells} of the printed Markdown table."""
    out = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            out[cells[0]] = cells[1:]
    return out


def test_best_by_validation_is_bold_not_best_by_test(folder, capsys):
    assert table.main([str(folder), "--epochs", "20", "40", "95", "125"]) == 0
    rows = rows_of(capsys.readouterr().out)
    assert rows["epoch"] == ["20", "40", "95", "125"]
    assert rows["validation, deterministic G"][0] == "**−34.2**"
    assert rows["test ± se, deterministic G"][:2] == ["**−39.4 ± 1.3**", "−30.0 ± 1.4"]
    assert rows["test ± se, with G's dropout"] == ["120.3 ± 1.5", "138.4 ± 1.6", "**157.3 ± 1.6**",
                                                   "160.0 ± 1.5"]


def test_epoch_scored_one_way_only_shows_a_dash_in_the_other(folder, capsys):
    table.main([str(folder), "--epochs", "45", "125"])
    rows = rows_of(capsys.readouterr().out)
    assert rows["validation, deterministic G"] == ["−41.0", "–"]
    assert rows["validation, with G's dropout"] == ["–", "153.6"]


def test_default_columns_are_the_spread_plus_each_best_and_the_last(folder, capsys):
    table.main([str(folder)])
    out = capsys.readouterr().out
    # 5, 20, 40 from the spread; 95 (a best, not in the spread); 125 (the last); not 45.
    assert rows_of(out)["epoch"] == ["5", "20", "40", "95", "125"]
    assert "best by validation, with G's dropout: epoch 95 (validation 153.80), " \
           "test 157.30 ± 1.55; 5 checkpoints scored, epochs 5–125" in out


def test_one_way_only_prints_its_rows_only(folder, capsys):
    (folder / "scores_gdropout.csv").unlink()
    assert table.main([str(folder)]) == 0
    rows = rows_of(capsys.readouterr().out)
    assert set(rows) == {"epoch", "validation, deterministic G", "test ± se, deterministic G"}


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "scores.csv").write_text("epoch,sigma\n5,0.2\n"),
     "scores.csv: no column validation_ll, test_ll, test_se"),
    (lambda f: (f / "scores.csv").write_text(",".join(SCORE_COLUMNS) + "\n5,x,1,2,3,4,5\n"),
     "scores.csv, line 2: not a number"),
    (lambda f: (f / "scores.csv").write_text(",".join(SCORE_COLUMNS) + "\n"),
     "scores.csv: no scored checkpoint"),
    (lambda f: [(f / name).unlink() for name in ("scores.csv", "scores_gdropout.csv")],
     "neither scores.csv nor scores_gdropout.csv"),
])
def test_unreadable_input_is_one_error_line_naming_the_file(folder, capsys, damage, message):
    damage(folder)
    assert table.main([str(folder)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_epochs_none_of_which_is_scored_is_an_error(folder, capsys):
    assert table.main([str(folder), "--epochs", "7", "999"]) == 2
    assert "none of the epochs [7, 999] is scored" in capsys.readouterr().err
