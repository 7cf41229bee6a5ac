"""The campaign script's deadline and status commands (scripts/table1_campaign.sh).

The script drives hours of background training across sittings; a deadline read wrongly either
refuses to start (a sitting that crosses midnight) or trains past the end of a sitting, so the
reading of UNTIL is tested exactly, with the clock fixed by choosing times relative to `date` now.
"""
import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "table1_campaign.sh"
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
    assert "'start TAG'" in result.stdout
    assert not any(line.startswith("seed ") for line in lines)
