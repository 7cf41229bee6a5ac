"""The float64 child of the parity tests reports its failures and does not outlive its fixture.

A parity test whose Aesara child fails must fail with the child's own output (not with a missing
file), and a child still running when its fixture ends must be killed, not left on the CPU.
"""
import json
import sys

import numpy as np
import pytest

from parity_tests.children import AesaraChild, read_arrays, write_arrays


def test_a_failing_child_fails_the_test_with_its_own_output(tmp_path):
    """Given arguments it cannot parse, the worker exits non-zero; `arrays()` raises and shows the
    worker's traceback (here the unpacking error of its `main`)."""
    out = tmp_path / "aesara64.npz"
    with AesaraChild("conv_worker", ["too", "few"], out) as child:
        with pytest.raises(AssertionError) as failure:
            child.arrays(timeout=120)
    message = str(failure.value)
    assert "conv_worker (float64 Aesara child) exited with 1" in message
    assert "ValueError: not enough values to unpack" in message
    assert not out.exists()


def test_leaving_the_fixture_kills_a_running_child(tmp_path, monkeypatch):
    """A child the tests never collected (deselected, or an earlier failure) is killed on exit.
    The interpreter is replaced by a script that sleeps, so the child is surely still running."""
    sleeper = tmp_path / "python"
    sleeper.write_text("#!/bin/sh\nexec sleep 600\n")
    sleeper.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(sleeper))
    with AesaraChild("conv_worker", [], tmp_path / "never.npz") as child:
        assert child.process.poll() is None
    assert child.process.poll() is not None, "the child outlived its fixture"


def test_worker_answer_round_trip(tmp_path, capsys):
    """What a worker writes is what the test reads, dtype and all, and the JSON line says so."""
    arrays = {"d_obj": np.float64(0.6931), "grad/G/h0_W": np.arange(6.).reshape(2, 3),
              "S": np.ones((2, 2), np.float32)}
    write_arrays(tmp_path / "out.npz", arrays, floatX="float64")
    line = json.loads(capsys.readouterr().out)
    assert line == {"written": str(tmp_path / "out.npz"), "keys": 3, "floatX": "float64"}
    back = read_arrays(tmp_path / "out.npz")
    assert sorted(back) == sorted(arrays)
    for key, value in arrays.items():
        assert back[key].dtype == np.asarray(value).dtype and np.array_equal(back[key], value)
