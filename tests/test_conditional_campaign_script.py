"""The conditional run's campaign script (scripts/conditional_campaign.sh): status and land.

The script carries a run of about a day across sittings and machines; what it reports is what the
next sitting acts on, and what it lands is what the repository keeps. So: status on a machine
without the campaign folder says so; status reads the newest checkpoint and the best row of each
score table; land copies records, tables and only the named grids, refuses a grid that does not
exist, and writes no folder of this machine into the repository.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "conditional_campaign.sh"
RUN = "mnist_conditional-port_torch"
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

SCORES = ("epoch,validation_ll,sigma,test_ll,test_se,within_class_std,between_class_std\n"
          "5,2.0,0.2154,-3.59,1.70,0.18,0.005\n"
          "10,63.5,0.2154,58.67,1.55,0.18,0.008\n"
          "15,61.0,0.2154,66.00,1.50,0.17,0.009\n")


def run_script(*args, campaign, repo, **environment):
    """The script (and the file it sources) as copies inside `repo`, so that land writes into that
    repo and not this one; `environment` adds variables."""
    (repo / "scripts").mkdir(parents=True, exist_ok=True)
    for script in (SCRIPT, SCRIPT.with_name("campaign_common.sh")):
        shutil.copy(script, repo / "scripts" / script.name)
    env = dict(os.environ, TZ="UTC", GAN2014_CONDITIONAL=str(campaign), **environment)
    return subprocess.run(["bash", str(repo / "scripts" / SCRIPT.name), *args],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def campaign(tmp_path):
    """A campaign folder as training and scoring leave it: checkpoints of epochs 1-15 (and a
    mid-epoch one), two scored epochs with records and grids, the two score tables, a log."""
    root = tmp_path / "gan2014-conditional"
    checkpoints = root / "runs" / RUN / "checkpoints"
    checkpoints.mkdir(parents=True)
    for epoch in range(1, 16):
        (checkpoints / f"epoch_{epoch:06d}.npz").write_bytes(b"")
    (checkpoints / "epoch_000016_batch_000100.npz").write_bytes(b"")
    (checkpoints.parent / "monitor.csv").write_text("epoch,valid_objective\n0,1.386\n5,2.01\n")
    results = root / "results" / "conditional" / RUN
    results.mkdir(parents=True)
    for epoch in (5, 10):
        for suffix in ("", "_gdropout"):
            stem = f"epoch{epoch:06d}{suffix}"
            record = {"checkpoint": f"runs/{RUN}/checkpoints/epoch_{epoch:06d}.npz",
                      "figure": f"results/conditional/{RUN}/{stem}_class_grid.png"}
            (results / f"{stem}_parzen.json").write_text(json.dumps(record))
            (results / f"{stem}_class_grid.png").write_bytes(b"png")
    (results / "scores.csv").write_text(SCORES)
    (results / "scores_gdropout.csv").write_text(SCORES.replace("-3.59", "-3.00"))
    (root / "logs").mkdir()
    (root / "logs" / "campaign.log").write_text(f"2026-12-06 18:54:10 pinned abc in {root}/code\n")
    return root


def test_status_without_the_campaign_folder_says_so(tmp_path):
    """Exact: the first line names the missing folder; no other status line follows."""
    result = run_script("status", campaign=tmp_path / "absent", repo=tmp_path / "repo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(f"no campaign folder at {tmp_path / 'absent'}")
    assert "('start', which\npins commit df0918fff42b" in result.stdout
    assert "last checkpoint" not in result.stdout


def test_status_reads_the_newest_epoch_and_the_best_row_by_validation(campaign, tmp_path):
    """Exact: epoch 15 is the newest end-of-epoch checkpoint (the mid-epoch one of epoch 16 does not
    count); epoch 10 has the best validation (63.5), not the best test (epoch 15's 66.0)."""
    result = run_script("status", campaign=campaign, repo=tmp_path / "repo")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "not training"
    # No pinned code yet: the run's length is unknown, and the line says why.
    assert "last checkpoint: epoch 15 of ? (no pinned YAML to read the run's length from)" in lines
    assert "best, deterministic G: epoch 10: validation 63.50, test 58.67 +- 1.55 " \
           "(3 checkpoints scored)" in lines


def test_land_copies_records_tables_and_only_the_named_grids(campaign, tmp_path):
    """Records, both tables and the monitor log arrive unchanged; of the grids only the one named;
    the campaign log and STATUS.txt arrive with the campaign folder replaced by a placeholder."""
    repo = tmp_path / "repo"
    result = run_script("land", "epoch000010_gdropout_class_grid.png", campaign=campaign, repo=repo)
    assert result.returncode == 0, result.stderr
    landed = repo / "results" / "conditional" / RUN
    source = campaign / "results" / "conditional" / RUN
    names = sorted(path.name for path in landed.iterdir())
    assert names == sorted(["STATUS.txt", "campaign.log", "epoch000005_gdropout_parzen.json",
                            "epoch000005_parzen.json", "epoch000010_gdropout_class_grid.png",
                            "epoch000010_gdropout_parzen.json", "epoch000010_parzen.json",
                            "monitor.csv", "scores.csv", "scores_gdropout.csv"])
    for name in ("epoch000005_parzen.json", "scores_gdropout.csv"):
        assert (landed / name).read_bytes() == (source / name).read_bytes()
    assert (landed / "monitor.csv").read_text().splitlines()[-1] == "5,2.01"
    log = (landed / "campaign.log").read_text()
    assert str(campaign) not in log and "<campaign folder>/code" in log
    assert str(campaign) not in (landed / "STATUS.txt").read_text()


def test_land_refuses_a_grid_that_was_not_drawn(campaign, tmp_path):
    """Exit 2 and the grid's name: a typo must not land silently without its figure."""
    result = run_script("land", "epoch000011_class_grid.png", campaign=campaign,
                        repo=tmp_path / "repo")
    assert result.returncode == 2
    assert "no class grid epoch000011_class_grid.png" in result.stderr


def pin_yaml(campaign, max_epochs):
    """The pinned code's mnist_conditional.yaml, reduced to its EpochCounter."""
    yaml = campaign / "code" / "yaml_experiments" / "mnist_conditional.yaml"
    yaml.parent.mkdir(parents=True)
    yaml.write_text("termination_criterion: !obj:pylearn2.termination_criteria.EpochCounter {\n"
                    f"    max_epochs: {max_epochs}\n}}\n")


def test_status_names_the_last_epoch_of_the_pinned_yaml(campaign, tmp_path):
    """The run's length comes from the pinned YAML's EpochCounter, not a constant. Exact line."""
    pin_yaml(campaign, 30)
    result = run_script("status", campaign=campaign, repo=tmp_path / "repo")
    assert result.returncode == 0, result.stderr
    assert "last checkpoint: epoch 15 of 30" in result.stdout.splitlines()


def finish_in(campaign, repo, max_epochs):
    """`finish` with the pinned YAML's EpochCounter at `max_epochs`, in a repository that links
    this checkout's gan2014 and .venv (the table is printed with them)."""
    pin_yaml(campaign, max_epochs)
    repo.mkdir(exist_ok=True)
    for name in ("gan2014", ".venv"):
        (repo / name).symlink_to(SCRIPT.parents[1] / name)
    return run_script("finish", campaign=campaign, repo=repo)


def test_finish_lands_both_best_grids_and_the_table(campaign, tmp_path):
    """At the run's last epoch (15 here): the records land with the class grid of each way's best
    checkpoint by validation (epoch 10 both ways: validation 63.5, not the test's best, 15) and
    scores_table.md holds both ways with the best in bold. Exact: file names and table cells."""
    repo = tmp_path / "repo"
    result = finish_in(campaign, repo, 15)
    assert result.returncode == 0, result.stdout + result.stderr
    landed = repo / "results" / "conditional" / RUN
    grids = sorted(path.name for path in landed.glob("*_class_grid.png"))
    assert grids == ["epoch000010_class_grid.png", "epoch000010_gdropout_class_grid.png"]
    table = (landed / "scores_table.md").read_text()
    assert "| validation, deterministic G | 2.0 | **63.5** | 61.0 |" in table
    assert "| test ± se, with G's dropout | −3.0 ± 1.7 | **58.7 ± 1.6** | 66.0 ± 1.5 |" in table


def test_finish_before_the_last_epoch_refuses(campaign, tmp_path):
    """At epoch 15 of 1000: exit 2 naming where the run stands, and nothing landed."""
    repo = tmp_path / "repo"
    result = finish_in(campaign, repo, 1000)
    assert result.returncode == 2
    assert "the run is at epoch 15 of 1000: resume it first" in result.stderr
    assert not (repo / "results").exists()


def test_finish_without_the_pinned_yaml_says_so(campaign, tmp_path):
    """No pinned code, so no run length to compare with: exit 2 with the reason, nothing landed.
    A pinned YAML without an EpochCounter is named as such."""
    repo = tmp_path / "repo"
    result = run_script("finish", campaign=campaign, repo=repo)
    assert result.returncode == 2
    assert f"no pinned code in {campaign / 'code'}: nothing to finish" in result.stderr
    assert not (repo / "results").exists()
    pin_yaml(campaign, 30)
    yaml = campaign / "code" / "yaml_experiments" / "mnist_conditional.yaml"
    yaml.write_text("termination_criterion: null\n")
    result = run_script("finish", campaign=campaign, repo=repo)
    assert result.returncode == 2
    assert "no EpochCounter max_epochs in the pinned YAML" in result.stderr
    assert not (repo / "results").exists()


def test_resume_returns_at_once_and_leaves_the_training_in_the_background(campaign, tmp_path):
    """resume started from a pipe (`... | tail`, or here the captured output) must return as soon
    as the training is started, not when it ends: no process it leaves behind may hold the
    caller's output open. A stand-in python records its arguments and trains for 60 s; the call
    must be back well before that (15 s allowed), with the training still running and given a
    time budget that ends before UNTIL."""
    import datetime as dt
    import signal
    import time

    code = campaign / "code"
    (code / "yaml_experiments").mkdir(parents=True)
    (campaign / "venv" / "bin").mkdir(parents=True)
    calls = tmp_path / "calls.txt"
    python = campaign / "venv" / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\n'
                      'case "$*" in *port_torch.run*)\n'
                      '    trap \'kill $!; exit 143\' TERM; sleep 60 & wait ;;\nesac\n')
    python.chmod(0o755)
    until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=7)).strftime("%H:%M")
    started = time.monotonic()
    try:
        result = run_script("resume", until, campaign=campaign, repo=tmp_path / "repo")
        elapsed = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        assert elapsed < 15, f"resume held its caller for {elapsed:.0f} s"
        assert "conditional run resumed in the background" in result.stdout
        time.sleep(1)
        line = next(row for row in calls.read_text().splitlines() if "port_torch.run" in row)
        assert "--resume" in line     # the campaign fixture has checkpoints
        budget = int(line.split("--time-budget ")[1].split()[0])
        assert 0 < budget <= 7 * 60
        running = subprocess.run(["pgrep", "-f", f"port_torch.run {code}"],
                                 capture_output=True, text=True)
        assert running.stdout.strip(), "the training is not running in the background"
    finally:
        # The stand-in training and the score loop waiting for it.
        for pattern in (f"{campaign}/scripts", str(campaign), str(tmp_path / "repo")):
            found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
            for pid in found.stdout.split():
                if int(pid) != os.getpid():
                    try:
                        os.kill(int(pid), signal.SIGTERM)
                    except ProcessLookupError:
                        pass


def test_the_score_loop_outlives_a_start_with_nothing_to_score(tmp_path):
    """A run restarted from epoch 0 has no checkpoint when the loop first looks: the loop must note
    it and keep going (it used to end there, and nothing was scored that sitting). With scoring
    every second and a deadline 603 s ahead (the loop stops 600 s before it), it looks at least
    twice while training could run and once after; it ends with exit 0."""
    import time

    root = tmp_path / "gan2014-conditional"
    (root / "runs" / RUN / "checkpoints").mkdir(parents=True)
    (root / "logs").mkdir()
    deadline = int(time.time()) + 603
    result = run_script("_score_loop", str(deadline), campaign=root, repo=tmp_path / "repo",
                        GAN2014_SCORE_EVERY_S="1")
    assert result.returncode == 0, result.stderr
    notes = (root / "logs" / "scoring.log").read_text().splitlines()
    assert len(notes) >= 3 and all(n.endswith("no checkpoint to score yet") for n in notes)
