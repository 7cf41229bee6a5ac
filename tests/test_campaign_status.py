"""The README's campaign status line (gan2014/table1/campaign_status.py), from a run folder laid
out as the driver writes it: checkpoints/epoch_NNNNNN.npz, valid_parzen.jsonl, driver_log.jsonl.
The line is what users read to know where Table 1 stands, so its text is tested exactly."""
import json

import pytest

from gan2014.table1 import campaign_status


def lay_out(runs, seed, epochs, valid=(), extra=()):
    folder = runs / f"seed_{seed}" / "checkpoints"
    folder.mkdir(parents=True)
    for epoch in epochs:
        (folder / f"epoch_{epoch:06d}.npz").write_bytes(b"")
    for name in extra:
        (folder / name).write_bytes(b"")
    (runs / f"seed_{seed}" / "valid_parzen.jsonl").write_text(
        "".join(json.dumps({"epoch": e, "valid_ll": v}) + "\n" for e, v in valid))


def driver_rows(runs, rows):
    (runs / "driver_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_status_line_names_each_seed_its_best_and_the_last_sittings_pace(tmp_path):
    """Per seed: newest end-of-epoch checkpoint (a mid-epoch one does not count), best validation;
    pace = epochs / hours of the seed's last driver row that trained (an empty sitting after it
    is skipped); hours left = the slowest running seed's (2500 - epoch) / pace."""
    lay_out(tmp_path, 0, [10, 600, 640], valid=[(550, 205.914), (600, 204.0)],
            extra=["epoch_000641_batch_000003.npz"])
    lay_out(tmp_path, 1, [500, 618], valid=[(600, 204.56)])
    driver_rows(tmp_path, [
        {"seed": 0, "first_epoch": 0, "last_epoch": 519, "started": 0, "ended": 36000},
        {"seed": 0, "first_epoch": 519, "last_epoch": 640, "started": 0, "ended": 9680},
        {"seed": 1, "first_epoch": 500, "last_epoch": 618, "started": 100, "ended": 9540},
        {"seed": 1, "first_epoch": 618, "last_epoch": 618, "started": 9600, "ended": 9601},
    ])
    line = campaign_status.status_line(tmp_path, "a0471b34488d", today="2026-12-06")
    assert line == (
        "Table 1 campaign status (2026-12-06, code a0471b34488d): seed 0 640/2500 epochs (best "
        "validation Parzen 205.91 at epoch 550); seed 1 618/2500 epochs (best validation Parzen "
        "204.56 at epoch 600); seed 2 not started. Pace in the last sitting, epochs an hour (the "
        "machine shared): seed 0 45, seed 1 45; at that pace about 42 more hours of training for "
        "them. Records: `results/table1/`.")


def test_a_finished_seed_has_no_pace_and_a_seed_without_driver_rows_none(tmp_path):
    """A seed at its target is not counted in the time left; without driver rows there is no
    pace sentence at all."""
    lay_out(tmp_path, 0, [2500], valid=[(2500, 224.0)])
    driver_rows(tmp_path, [{"seed": 0, "first_epoch": 0, "last_epoch": 2500, "started": 0,
                            "ended": 3600}])
    line = campaign_status.status_line(tmp_path, "abc", today="2026-12-07", target=2500)
    assert "Pace" not in line and "seed 0 2500/2500 epochs" in line


def test_the_readme_line_is_replaced_in_place_and_a_missing_line_refused(tmp_path):
    """Exactly one line changes; a README without the line is an error naming it."""
    readme = tmp_path / "README.md"
    readme.write_text("intro\nTable 1 campaign status (old): x\nrest\n")
    campaign_status.rewrite_readme(readme, "Table 1 campaign status (new): y")
    assert readme.read_text() == "intro\nTable 1 campaign status (new): y\nrest\n"
    readme.write_text("no status here\n")
    with pytest.raises(SystemExit, match="no single 'Table 1 campaign status' line"):
        campaign_status.rewrite_readme(readme, "Table 1 campaign status: z")


def test_a_folder_that_is_not_a_run_folder_leaves_the_readme_as_it_was(tmp_path, capsys):
    """A mistyped RUNS (no table1.json) would read as "not started" for every seed: refused with
    exit status 2 and a message naming the folder, the README unchanged byte for byte."""
    readme = tmp_path / "README.md"
    readme.write_text("intro\nTable 1 campaign status (old): seed 0 871/2500 epochs\nrest\n")
    before = readme.read_bytes()
    missing = tmp_path / "no-such-runs"
    assert campaign_status.main([str(missing), str(readme), "abc"]) == 2
    assert readme.read_bytes() == before
    assert f"{missing} holds no table1.json: not a folder made by the table1 driver; " \
        f"{readme} is left as it was" in capsys.readouterr().err
    lay_out(missing, 0, [10])
    assert campaign_status.main([str(missing), str(readme), "abc"]) == 2   # seeds, no manifest
    (missing / "table1.json").write_text('{"format": "gan2014-table1"}')
    assert campaign_status.main([str(missing), str(readme), "abc"]) == 0
    assert "seed 0 10/2500 epochs" in readme.read_text()

