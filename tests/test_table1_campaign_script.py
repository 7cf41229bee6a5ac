"""The campaign script's deadline, lanes, status and finish commands (scripts/table1_campaign.sh).

The script drives hours of background training across sittings; a deadline read wrongly either
refuses to start (a sitting that crosses midnight) or trains past the end of a sitting, so the
reading of UNTIL is tested exactly, with the clock fixed by choosing times relative to `date` now.
The lanes decide which seed trains with how many threads, unattended, when a seed finishes
mid-sitting; they are run with a stand-in driver that records its arguments.
"""
import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "table1_campaign.sh"
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def run_script(*args, campaign=None):
    env = dict(os.environ, TZ="UTC")
    if campaign is not None:
        env["GAN2014_CAMPAIGN"] = str(campaign)
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=60)


def utc_now():
    return dt.datetime.now(dt.timezone.utc)


def test_a_clock_time_already_past_today_means_tomorrow():
    """`resume 00:30` said at 23:20 means 00:30 of the next day: exactly 24 h after today's
    00:30."""
    past = utc_now() - dt.timedelta(hours=1)
    clock = past.strftime("%H:%M")
    result = run_script("_deadline", clock)
    assert result.returncode == 0, result.stderr
    today = past.replace(second=0, microsecond=0)
    assert int(result.stdout) == int((today + dt.timedelta(days=1)).timestamp())


def test_a_clock_time_later_today_is_today():
    """A clock time an hour ahead is read as today (to the minute), not tomorrow. Exact: the POSIX
    time in whole seconds of that minute; tomorrow would be 86400 s off."""
    ahead = utc_now() + dt.timedelta(hours=1)
    if ahead.date() != utc_now().date():
        pytest.skip("an hour from now is tomorrow: the other test covers it")
    result = run_script("_deadline", ahead.strftime("%H:%M"))
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == int(ahead.replace(second=0, microsecond=0).timestamp())


@pytest.mark.parametrize("until, message", [
    ("2020-01-01 10:00", "past or less than 5 minutes away"),   # a full date in the past
    ("not a time", "cannot read the time 'not a time'"),
])
def test_a_deadline_that_cannot_be_used_is_refused_with_its_reason(until, message):
    """A past date is never rolled forward (only a bare clock time is), and nonsense is named.
    Exact: exit status 2 and the message text; the message is the user's only guide."""
    result = run_script("_deadline", until)
    assert result.returncode == 2
    assert message in result.stderr


def test_status_reads_each_seed_from_its_run_folder(tmp_path):
    """status: a finished seed, one in training, one never started, and not running. Exact: the
    status lines, text the user reads."""
    runs = tmp_path / "runs"
    (runs / "seed_0").mkdir(parents=True)
    (runs / "seed_0" / "status.json").write_text(json.dumps({"state": "finished"}))
    (runs / "seed_1").mkdir()
    result = run_script("status", campaign=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "not running"
    assert any(line.startswith("seed 0: finished") for line in lines)
    assert any(line.startswith("seed 1: training") for line in lines)
    assert any(line.startswith("seed 2: new") for line in lines)


def test_status_on_a_machine_without_the_campaign_folder_says_so(tmp_path):
    """status where the campaign folder does not exist (a new machine): it says so and what to do,
    instead of listing every seed as new. Exact: the first line, and that no seed line follows."""
    result = run_script("status", campaign=tmp_path / "gan2014-table1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("no campaign folder at %s:" % (tmp_path / "gan2014-table1"))
    assert "'start' pins the code again, commit a0471b34488d" in result.stdout
    assert not any(line.startswith("seed ") for line in lines)


def test_start_refuses_a_commit_the_repository_does_not_have(tmp_path):
    """start REV with a REV this repository lacks: exit 2 naming it, before anything is made (no
    campaign folder, so a later 'start' with the right REV is not refused as 'exists already')."""
    repo = tmp_path / "repo"
    scratch_repository(repo, ("table1_campaign.sh", "campaign_common.sh"), ())
    git_repository_with_one_commit(repo)
    result = subprocess.run(["bash", str(repo / "scripts" / SCRIPT.name), "start", "no-such-tag"],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, GAN2014_CAMPAIGN=str(tmp_path / "campaign")))
    assert result.returncode == 2
    assert "this repository has no commit 'no-such-tag' to pin" in result.stderr
    assert not (tmp_path / "campaign").exists()


# A stand-in for the campaign's venv python: it records the driver's arguments, one line a call,
# and ends as the real driver would for the seed it was given: finished (status.json says so, exit
# 0) or paused at its time budget (exit 75).
FAKE_DRIVER = """#!/bin/sh
echo "$*" >> "$GAN2014_CAMPAIGN/driver_calls.txt"
seed=; previous=
for arg in "$@"; do [ "$previous" = --seeds ] && seed=$arg; previous=$arg; done
if [ "$FAKE_DRIVER_PAUSES" = "$seed" ]; then exit 75; fi
mkdir -p "$GAN2014_CAMPAIGN/runs/seed_$seed"
echo '{"state": "finished"}' > "$GAN2014_CAMPAIGN/runs/seed_$seed/status.json"
"""


def run_lanes(campaign, finished=(), training=(), pauses=""):
    """One sitting of the lanes (`_lanes DEADLINE`, what `resume` starts in the background), in the
    foreground, with the fake driver; returns (the result, the driver's calls, one per line)."""
    (campaign / "venv" / "bin").mkdir(parents=True)
    python = campaign / "venv" / "bin" / "python"
    python.write_text(FAKE_DRIVER)
    python.chmod(0o755)
    for name in ("code", "logs"):
        (campaign / name).mkdir()
    for seed in (*finished, *training):
        (campaign / "runs" / f"seed_{seed}").mkdir(parents=True)
    for seed in finished:
        (campaign / "runs" / f"seed_{seed}" / "status.json").write_text('{"state": "finished"}')
    deadline = int(utc_now().timestamp()) + 3600
    env = dict(os.environ, TZ="UTC", GAN2014_CAMPAIGN=str(campaign), FAKE_DRIVER_PAUSES=pauses)
    result = subprocess.run(["bash", str(SCRIPT), "_lanes", str(deadline)], capture_output=True,
                            text=True, env=env, timeout=120)
    calls = (campaign / "driver_calls.txt").read_text().splitlines() \
        if (campaign / "driver_calls.txt").exists() else []
    return result, calls


def driver_seed_and_threads(call):
    words = call.split()
    return int(words[words.index("--seeds") + 1]), int(words[words.index("--threads") + 1])


def test_seed_2_trains_alone_with_two_threads_once_seeds_0_and_1_are_finished(tmp_path):
    """The lanes' second phase: with seeds 0 and 1 finished, one driver call, seed 2 with two
    threads and the campaign's driver options (2,500 epochs). Exact: the seed and thread count
    are what the campaign's bit-for-bit resumption depends on."""
    result, calls = run_lanes(tmp_path / "campaign", finished=(0, 1))
    assert result.returncode == 0, result.stderr
    assert [driver_seed_and_threads(call) for call in calls] == [(2, 2)]
    assert "--epochs 2500 --valid-every 50" in calls[0]


def test_seed_2_starts_in_the_sitting_in_which_seed_1_finishes(tmp_path):
    """Seed 0 finished and seed 1 finishing in this sitting: seed 1 trains with one thread, then
    seed 2 starts in the same sitting with two (no core left idle until the next sitting)."""
    result, calls = run_lanes(tmp_path / "campaign", finished=(0,), training=(1,))
    assert result.returncode == 0, result.stderr
    assert [driver_seed_and_threads(call) for call in calls] == [(1, 1), (2, 2)]


def test_seed_2_waits_while_seed_1_is_only_paused(tmp_path):
    """Seed 1 paused at the deadline (exit 75), not finished: seed 2 does not start (it would take
    seed 1's core and start with the wrong phase's threads), and the lanes report the pause."""
    result, calls = run_lanes(tmp_path / "campaign", finished=(0,), training=(1,), pauses="1")
    assert result.returncode == 1
    assert [driver_seed_and_threads(call) for call in calls] == [(1, 1)]
    log = (tmp_path / "campaign" / "logs" / "campaign.log").read_text()
    assert "seed 1: exit 75" in log


def test_land_without_a_run_folder_leaves_the_landed_records_alone(tmp_path):
    """land where the campaign folder is missing (a new machine): exit 2 naming the missing run
    folder; the repository's landed records (STATUS.txt here) unchanged byte for byte."""
    repo = tmp_path / "repo"
    scratch_repository(repo, ("table1_campaign.sh", "campaign_common.sh"), ())
    landed = repo / "results" / "table1"
    landed.mkdir(parents=True)
    (landed / "STATUS.txt").write_text("seed 0: training, last checkpoint epoch 880\n")
    result = subprocess.run(["bash", str(repo / "scripts" / SCRIPT.name), "land"],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, TZ="UTC", GAN2014_CAMPAIGN=str(tmp_path / "gone")))
    assert result.returncode == 2
    assert f"no run folder at {tmp_path / 'gone' / 'runs'}" in result.stderr
    assert (landed / "STATUS.txt").read_text() == "seed 0: training, last checkpoint epoch 880\n"
    assert sorted(p.name for p in landed.iterdir()) == ["STATUS.txt"]


def test_land_compares_each_seed_with_the_earlier_machines_records(tmp_path):
    """land after a restart on a new machine: STATUS.txt says, per landed seed and per earlier
    machine's records of that seed, whether the new run replays them (gan2014.compare_runs):
    equal on the shared epochs for one, the first differing epoch for the other. A seed with no
    earlier records gets no line."""
    repo, campaign = tmp_path / "repo", tmp_path / "campaign"
    scratch_repository(repo, ("table1_campaign.sh", "campaign_common.sh"), ("gan2014", ".venv"))
    shutil.copy(REPO / "README.md", repo / "README.md")
    stand_in_campaign(campaign)
    from gan2014.table1.manifest import manifest_record
    from gan2014.table1.protocol import Protocol
    (campaign / "runs").mkdir()
    (campaign / "runs" / "table1.json").write_text(json.dumps(manifest_record(
        "mnist.yaml", "!obj:x {}\n", "port_torch", Protocol())))
    header = "epoch,seconds_this_epoch,valid_objective\n"
    for seed in (0, 1):
        (campaign / "runs" / f"seed_{seed}" / "checkpoints").mkdir(parents=True)
        (campaign / "runs" / f"seed_{seed}" / "monitor.csv").write_text(
            header + "0,0.0,0.6931\n10,35.9,0.6812\n")
    earlier = repo / "results" / "table1"
    for machine, text in (("first_machine", "0,0.0,0.6931\n10,30.1,0.6813\n"),
                          ("second_machine", "0,0.0,0.6931\n10,36.6,0.6812\n20,36.0,0.67\n")):
        (earlier / machine / "seed_0").mkdir(parents=True)
        (earlier / machine / "seed_0" / "monitor.csv").write_text(header + text)
    result = subprocess.run(["bash", str(repo / "scripts" / SCRIPT.name), "land"],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, TZ="UTC", GAN2014_CAMPAIGN=str(campaign)))
    assert result.returncode == 0, result.stderr
    status = (earlier / "STATUS.txt").read_text()
    assert ("seed_0 against first_machine/seed_0:\n  monitor.csv: first difference at epoch 10: "
            "1 of 2 fields differ") in status
    assert ("seed_0 against second_machine/seed_0:\n  monitor.csv: equal on all 2 epochs in "
            "common (0 to 10; 2 fields each, timings ignored)") in status
    assert "seed_1 against" not in status


def test_to_gpu_refuses_a_seed_outside_the_campaign(tmp_path):
    """Seeds are 0, 1 and 2: another number is named as such, not reported as "new"."""
    result = run_script("to-gpu", "7", campaign=tmp_path)
    assert result.returncode == 2
    assert "seed 7 is not one of the campaign's seeds (0, 1, 2)" in result.stderr


def scratch_repository(repo, scripts, links):
    """A repository for a script to write into instead of this checkout: copies of ``scripts``
    (names in scripts/) and links to this checkout's ``links`` (packages, .venv)."""
    (repo / "scripts").mkdir(parents=True)
    for name in scripts:
        shutil.copy(SCRIPT.with_name(name), repo / "scripts" / name)
    for name in links:
        (repo / name).symlink_to(REPO / name)


def git_repository_with_one_commit(folder):
    subprocess.run(["git", "-C", str(folder), "init", "-q"], check=True)
    subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-q", "--allow-empty", "-m", "pin"], check=True)


def stand_in_campaign(campaign):
    """A campaign folder's venv python (status and the README line use it: this checkout's .venv)
    and its pinned clone (an empty repository with one commit)."""
    (campaign / "venv" / "bin").mkdir(parents=True)
    python = campaign / "venv" / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{REPO / ".venv" / "bin" / "python"}" "$@"\n')
    python.chmod(0o755)
    (campaign / "code").mkdir()
    git_repository_with_one_commit(campaign / "code")


@pytest.fixture
def finished_campaign(tmp_path, one_torch_thread):
    """A repository and a campaign folder as `finish` finds them: seed 0 finished (two epochs of
    the tiny config, trained by the driver on generated MNIST), seed 1 still training. The
    repository holds copies of the scripts and README and links to this checkout's packages and
    .venv, so `finish` writes into it and not into this checkout."""
    from parity_tests.helpers import mnist_data_path, write_tiny_mnist
    from port_torch import table1 as torch_table1

    repo, campaign = tmp_path / "repo", tmp_path / "campaign"
    scratch_repository(repo, ("table1_campaign.sh", "campaign_common.sh"),
                       ("gan2014", "port_torch", "yaml_experiments", ".venv"))
    shutil.copy(REPO / "README.md", repo / "README.md")
    stand_in_campaign(campaign)
    write_tiny_mnist(campaign / "data")
    with mnist_data_path(campaign / "data"):
        assert torch_table1.main(
            ["--config", str(REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"),
             "--out", str(campaign / "runs"), "--epochs", "2", "--valid-every", "1",
             "--n-samples", "50", "--seeds", "0", "--threads", "1", "-q"]) == 0
    (campaign / "runs" / "seed_1" / "checkpoints").mkdir(parents=True)
    return repo, campaign


def test_finish_reports_releases_and_draws_the_finished_seeds_only(finished_campaign):
    """finish: the summary table has seed 0 (finished) and not seed 1 (training); seed 0's released
    generator holds G of its final checkpoint bit for bit; its Figures 2a and 3 and learning curves
    are drawn; no file it writes names a folder of this machine. Exact: file names, the summary's
    seed rows, array equality (the release copies values), and the absence of the paths."""
    from gan2014 import checkpoint as ckpt

    repo, campaign = finished_campaign
    result = subprocess.run(["bash", str(repo / "scripts" / SCRIPT.name), "finish"],
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, TZ="UTC", GAN2014_CAMPAIGN=str(campaign)))
    assert result.returncode == 0, result.stdout + result.stderr
    dest = repo / "results" / "table1"
    summary = (dest / "table1_summary.md").read_text()
    assert "| seed 0 |" in summary and "| seed 1 |" not in summary
    assert {"test_parzen.json", "test_parzen_final.json", "generator.npz"} <= \
        {path.name for path in (dest / "seed_0").iterdir()}
    released, meta = ckpt.load_checkpoint(dest / "seed_0" / "generator.npz")
    trained, _ = ckpt.load_checkpoint(campaign / "runs" / "seed_0" / "checkpoints" /
                                      "epoch_000002.npz")
    assert (meta["source"], meta["epoch"], meta["seed"]) == ("epoch_000002.npz", 2, 0)
    assert sorted(released) == sorted(name for name in trained if name.startswith("G/"))
    for name, value in released.items():
        np.testing.assert_array_equal(value, trained[name])
    assert sorted(path.name for path in (repo / "figures").iterdir()) == [
        "mnist_seed0_curves_epoch2.png", "mnist_seed0_interpolation_epoch2.png",
        "mnist_seed0_samples_epoch2.json", "mnist_seed0_samples_epoch2.png"]
    for path in [*dest.rglob("*"), *(repo / "figures").iterdir(), repo / "README.md"]:
        if path.is_file() and path.suffix in (".md", ".json", ".jsonl", ".txt", ".log", ".csv"):
            text = path.read_text(encoding="utf-8")
            assert str(campaign) not in text and str(repo) not in text, path


def test_finish_before_any_seed_has_finished_says_so(finished_campaign):
    """finish with no finished seed: exit 2 and the reason, and nothing written. Exact: the
    message is the user's only guide."""
    repo, campaign = finished_campaign
    (campaign / "runs" / "seed_0" / "status.json").unlink()
    result = subprocess.run(["bash", str(repo / "scripts" / SCRIPT.name), "finish"],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, TZ="UTC", GAN2014_CAMPAIGN=str(campaign)))
    assert result.returncode == 2
    assert "no seed has finished yet" in result.stderr
    assert not (repo / "results").exists() and not (repo / "figures").exists()


def pause_after(calls):
    """A driver budget that allows ``calls`` questions (one before a seed is built, one before each
    epoch), then pauses the seed: a seed left in training, deterministically."""
    from gan2014.table1 import TimeBudget

    class PauseAfter(TimeBudget):
        def allows(self, seconds):
            self.calls -= 1
            return self.calls >= 0

    budget = PauseAfter(None)
    budget.calls = calls
    return budget


# (sitting seconds, the train step's exit, the epoch the seed comes back at): a sitting long enough
# to finish the tiny run; and one shorter than the margin kept for packing, whose budget is spent
# before training (the tests and bench overran): the driver unpacks, pauses at once, and the seed
# comes back as it went.
SITTINGS = [("200", 0, 4), ("10", 75, 2)]


@pytest.mark.parametrize("seconds, train_exit, back_at", SITTINGS)
def test_a_seed_goes_to_a_gpu_sitting_and_comes_back(tmp_path, one_torch_thread, seconds,
                                                     train_exit, back_at):
    """to-gpu, the sitting script (on the CPU: GAN2014_SITTING_DEVICE=cpu), from-gpu, on seed 0 of
    a tiny campaign paused at epoch 2 of 4, the campaign's driver options replaced by the tiny
    run's. Properties: the lanes refuse to resume while the seed is away; the sitting trains the
    seed to its end from the bundle alone and packs it; from-gpu merges it into the campaign folder
    (the seed finished at epoch 4, with its test Parzen) and clears the mark and .gpu/. Exact:
    exit statuses, states, epochs, the refusal's text."""
    from parity_tests.helpers import mnist_data_path, write_tiny_mnist
    from port_torch import table1 as torch_table1

    repo, campaign = tmp_path / "repo", tmp_path / "campaign"
    scratch_repository(repo, ("table1_campaign.sh", "campaign_common.sh", "table1_gpu_sitting.sh"),
                       ("gan2014", "port_torch", "parity_tests", "yaml_experiments", ".venv"))
    config = tmp_path / "tiny.yaml"
    config.write_text((REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml").read_text()
                      .replace("max_epochs: 2", "max_epochs: 100"))
    options = (f"--config {config} --epochs 4 --valid-every 1 --n-samples 50 --threads 1 "
               "--device cpu -q")
    script = repo / "scripts" / "table1_campaign.sh"
    script.write_text(script.read_text().replace(
        "DRIVER_OPTIONS=(--epochs 2500 --valid-every 50 --save-every 10 --monitor-every 10 "
        "--device cpu -q)", f"DRIVER_OPTIONS=({options})"))
    (campaign / "code").mkdir(parents=True)
    write_tiny_mnist(campaign / "data")
    with mnist_data_path(campaign / "data"):
        assert torch_table1.main(["--out", str(campaign / "runs"), "--seeds", "0",
                                  *options.split()], budget=pause_after(3)) == 75
    env = dict(os.environ, TZ="UTC", GAN2014_CAMPAIGN=str(campaign))

    def run(*args, cwd=None, extra=None):
        return subprocess.run(["bash", *map(str, args)], capture_output=True, text=True,
                              timeout=600, cwd=cwd, env=dict(env, **(extra or {})))

    moved = run(script, "to-gpu", "0")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert (campaign / "seed_on_gpu").read_text().strip() == "0"
    refused = run(script, "resume", "23:59")
    assert refused.returncode == 2 and "seed 0 is on a GPU machine" in refused.stderr
    from gan2014.table1 import source_commit
    assert f"SOURCE_COMMIT={source_commit() or ''}\n" in (repo / ".gpu" / "sitting.env").read_text()
    out = tmp_path / "out"
    # GAN2014_SITTING_PYTHON: another interpreter for the sitting, e.g. one set up as a GPU
    # machine's (numpy 2, no Aesara, nothing installed: the checkout's packages from its root).
    sitting = run(repo / "scripts" / "table1_gpu_sitting.sh", seconds, out, cwd=repo,
                  extra={"GAN2014_SITTING_DEVICE": "cpu",
                         "PYTHON": os.environ.get("GAN2014_SITTING_PYTHON")
                         or str(REPO / ".venv" / "bin" / "python")})
    assert sitting.returncode == 0, sitting.stdout + sitting.stderr
    log = (out / "sitting.log").read_text()
    assert f"=== train: exit {train_exit}" in log and "=== pack: exit 0" in log, log
    assert "=== train: exit 2" not in log, log   # no second try on another path
    assert str(repo) not in log and str(out) not in log
    back = run(script, "from-gpu", out)
    assert back.returncode == 0, back.stdout + back.stderr
    assert f"seed 0 is back at epoch {back_at}" in back.stdout
    seed = campaign / "runs" / "seed_0"
    if back_at == 4:
        assert json.loads((seed / "status.json").read_text())["state"] == "finished"
        assert (seed / "test_parzen.json").is_file()
    else:   # still in training: no status written, checkpoints as they went
        assert not (seed / "status.json").exists() and not (seed / "test_parzen.json").exists()
    assert not (campaign / "seed_on_gpu").exists() and not (repo / ".gpu").exists()
    assert (repo / "results" / "table1" / "gpu_sittings").is_dir()
