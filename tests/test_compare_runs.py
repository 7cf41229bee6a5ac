"""Checking that a restarted run retraces a lost one (gan2014/compare_runs.py).

The command is the evidence behind "the new machine retraces the old one bit for bit", so each test
pins a property that a careless comparison would get wrong: timings must not count, a difference
in the last printed digit must, the first differing epoch must be the one named, and a folder
without records must be refused rather than called equal."""
import csv
import json

import pytest

from gan2014 import compare_runs

CHANNELS = ("epoch", "seconds_this_epoch", "valid_objective", "valid_gen_ll", "learning_rate")


def write_run(folder, rows, validation=()):
    """A run folder's records: monitor.csv (one row per (epoch, objective, gen_ll)) and, when
    given, valid_parzen.jsonl (one row per (epoch, valid_ll))."""
    folder.mkdir(parents=True)
    with (folder / "monitor.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CHANNELS)
        for epoch, objective, gen_ll in rows:
            # The timing column differs on every row, as between any two real runs.
            writer.writerow([epoch, 3.5 + epoch * 0.013, objective, gen_ll, 0.1])
    if validation:
        (folder / "valid_parzen.jsonl").write_text("".join(
            json.dumps({"epoch": e, "valid_ll": v, "seconds": 10.0 + e, "recorded_at": 1e9 + e})
            + "\n" for e, v in validation))
    return folder


def test_equal_records_are_equal_whatever_the_timings_and_lengths(tmp_path, capsys):
    """Only the epochs both have are compared (the restart is shorter), and only numbers that the
    training decides: the timing column and the validation rows' timestamps are ignored."""
    rows = [(0, "0.6931", "-300.5"), (10, "0.6812", "-120.25"), (20, "0.6700", "-80.125")]
    earlier = write_run(tmp_path / "earlier", rows, validation=[(50, 135.07), (100, 156.5)])
    later = write_run(tmp_path / "later", rows[:2], validation=[(50, 135.07)])
    # A different timing in the same epoch must not matter either.
    text = (later / "monitor.csv").read_text().replace("3.5,", "99.0,")
    (later / "monitor.csv").write_text(text)
    assert compare_runs.main([str(earlier), str(later)]) == 0
    out = capsys.readouterr().out
    assert "monitor.csv: equal on all 2 epochs in common (0 to 10; 4 fields each" in out
    assert "valid_parzen.jsonl: equal on all 1 epochs in common (50 to 50" in out


def test_the_first_differing_epoch_and_channel_are_named(tmp_path, capsys):
    """A change in the last digit is a difference (bit for bit is the claim); the report names the
    first epoch that differs, how many fields, the largest relative difference and its channel."""
    earlier = write_run(tmp_path / "earlier",
                        [(0, "0.6931", "-300.5"), (10, "0.6812", "-120.25"), (20, "0.67", "-80.0")])
    later = write_run(tmp_path / "later",
                      [(0, "0.6931", "-300.5"), (10, "0.6812", "-120.26"), (20, "0.60", "-80.0")])
    assert compare_runs.main([str(earlier), str(later)]) == 1
    out = capsys.readouterr().out
    assert ("monitor.csv: first difference at epoch 10: 1 of 4 fields differ; largest relative "
            "difference 8.3e-05 (valid_gen_ll); equal before it (epoch 0)") in out


def test_validation_differences_count_even_when_the_monitor_agrees(tmp_path, capsys):
    rows = [(0, "0.6931", "-300.5")]
    earlier = write_run(tmp_path / "earlier", rows, validation=[(50, 135.07), (100, 156.5)])
    later = write_run(tmp_path / "later", rows, validation=[(50, 135.07), (100, 156.4)])
    assert compare_runs.main([str(earlier), str(later)]) == 1
    out = capsys.readouterr().out
    assert "monitor.csv: equal on all 1 epochs in common" in out
    assert "valid_parzen.jsonl: first difference at epoch 100: 1 of 2 fields differ" in out


@pytest.mark.parametrize("case, message", [
    ("no monitor", "no monitor.csv (is it a run folder?)"),
    ("no epoch column", "no 'epoch' column in its header"),
    ("bad epoch", "line 2: epoch 'ten' is not a whole number"),
    ("nothing shared", "no monitored epoch in common"),
])
def test_records_that_cannot_be_compared_are_refused_not_called_equal(tmp_path, capsys, case,
                                                                      message):
    earlier = write_run(tmp_path / "earlier", [(0, "0.6931", "-300.5")])
    later = tmp_path / "later"
    if case == "no monitor":
        later.mkdir()
    elif case == "no epoch column":
        later.mkdir()
        (later / "monitor.csv").write_text("step,valid_objective\n0,0.6931\n")
    elif case == "bad epoch":
        later.mkdir()
        (later / "monitor.csv").write_text("epoch,valid_objective\nten,0.6931\n")
    else:
        write_run(later, [(10, "0.6931", "-300.5")])
    assert compare_runs.main([str(earlier), str(later)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
