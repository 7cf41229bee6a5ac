"""The tool that builds and runs the 2014 stack (original_2014/): the parts that run without the
network or Python 2.7 -- source handling, step lists, the trajectory metric and its summary."""
import subprocess

import numpy as np
import pytest

from original_2014 import __main__ as tool
from original_2014 import compare, driver27


def test_dump_steps_are_parsed_and_bad_ones_named():
    """Step lists such as "1-3,8, 142" become the set of those steps and "" the empty set; step 0
    (alone or starting a range) and a reversed range are refused as a bad step (steps count from
    1). Exact: integers and the message."""
    assert driver27.parse_steps("1-3,8, 142") == {1, 2, 3, 8, 142}
    assert driver27.parse_steps("") == set()
    for bad in ("0", "5-2", "0-4"):
        with pytest.raises(ValueError, match="bad step"):
            driver27.parse_steps(bad)


def test_a_folder_source_must_be_the_named_repository(tmp_path):
    """A folder without the repository's marker file is refused with a message naming it. Exact:
    the error type and the message; it is the user's only guide."""
    source = tmp_path / "not_pylearn2"
    source.mkdir()
    (source / "README").write_text("x")
    with pytest.raises(tool.StackError, match="pylearn2/training_algorithms/sgd.py is missing"):
        tool.fetch_source("pylearn2", str(source), tmp_path / "target")


def test_a_git_source_must_hold_the_pinned_commit(tmp_path):
    """A git repository that lacks the pinned adversarial commit is refused with a message naming
    the repository and the commit (1720041). Exact: the error type and message; only the pinned
    code is the 2014 code."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "mnist.yaml").write_text("x")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-qm", "x"], check=True)
    with pytest.raises(tool.StackError, match="does not hold adversarial's commit 1720041"):
        tool.fetch_source("adversarial", str(repo), tmp_path / "target")


def test_a_folder_source_is_copied(tmp_path):
    """A folder holding the repository's marker file (mnist.yaml for adversarial) is copied to the
    target. Exact: the copied file's contents."""
    source = tmp_path / "adv"
    source.mkdir()
    (source / "mnist.yaml").write_text("yaml")
    (source / "__init__.py").write_text("")
    target = tmp_path / "src" / "adversarial"
    tool.fetch_source("adversarial", str(source), target)
    assert (target / "mnist.yaml").read_text() == "yaml"


def test_run_without_a_build_says_what_to_do(tmp_path, capsys):
    """`run` in a folder with no build exits with status 2 and tells the user to run
    `python -m original_2014 build`. Exact: the message is the user's only guide."""
    assert tool.main(["run", "--dir", str(tmp_path)]) == 2
    assert "python -m original_2014 build" in capsys.readouterr().err


def test_trajectory_error_is_relative_to_each_array_and_skips_d_y_b():
    """A step's error is max|a - b| / max|b| per array (0.002 / 4 for G/h0_W, with one differing
    entry) and D/y_b is left out; different parameter names are an error. Tolerance 1e-3 relative:
    float32 -4.002 is off by ~7e-5 of the 0.002 difference; a wrong scale would be a factor 4
    off."""
    theirs = {"G/h0_W": np.array([[1.0, -4.0]], np.float32), "D/y_b": np.array([1.0], np.float32)}
    ours = {"G/h0_W": np.array([[1.0, -4.002]], np.float32), "D/y_b": np.array([5.0], np.float32)}
    errors, counts = compare.step_errors(ours, theirs)
    assert set(errors) == {"G/h0_W"}
    assert errors["G/h0_W"] == pytest.approx(0.002 / 4, rel=1e-3)
    assert counts["G/h0_W"] == 1
    with pytest.raises(ValueError, match="parameter names differ"):
        compare.step_errors({"G/h0_W": ours["G/h0_W"]}, theirs)


def test_summary_gives_the_first_step_over_each_threshold():
    """The summary gives the first step whose error exceeds each threshold 1e-6, 1e-5, 1e-3 and
    1e-1 (2, 3, 4, none) and, at the first over 1e-6, the worst array, its error and how many
    entries differ. Exact: integer steps and formatted text."""
    errors = [0.0, 2e-6, 3e-5, 2e-3, 5e-3]
    series = [{"step": k + 1, "error": e, "worst": "G/h0_b", "differing": k}
              for k, e in enumerate(errors)]
    firsts, cause = compare.summarise(series)
    assert firsts == {1e-6: 2, 1e-5: 3, 1e-3: 4, 1e-1: None}
    assert cause.startswith("G/h0_b (error 2.0e-06; 1 of its entries")
