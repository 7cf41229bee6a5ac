"""`python -m legacy_aesara.run FILE.yaml --seed N`: the Aesara counterpart of port_torch's --seed.

--seed N seeds the Generator's MRG noise stream with N and shifts every other MRG seed by
N - 10097, which is what $GAN2014_MRG_SEED_OFFSET=N-10097 did (and still does); when both are
given, --seed wins. These tests build graphs' streams only (no compilation): seconds.
"""
import argparse
import os
from pathlib import Path

import pytest

import legacy_aesara  # noqa: F401  (Aesara flags first)
from gan2014.seeds import GENERATOR_NOISE_SEED
from legacy_aesara import random_streams
from legacy_aesara import run as aesara_run
from parity_tests.helpers import write_tiny_mnist

REPO = Path(__file__).resolve().parents[1]
TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"
VARIABLE = random_streams.MRG_SEED_OFFSET_VARIABLE


@pytest.fixture(autouse=True)
def no_seed_left_behind(monkeypatch):
    """Every test starts and ends with neither --seed nor the variable set."""
    monkeypatch.delenv(VARIABLE, raising=False)
    random_streams.set_run_seed(None)
    yield
    random_streams.set_run_seed(None)


def parse(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    aesara_run.add_arguments(parser)
    return parser.parse_args(argv)


def master(seed):
    return random_streams.master_state(random_streams.new_mrg_stream(seed))


def test_seed_option_seeds_the_generator_stream_and_shifts_every_mrg_seed():
    """Property: after --seed 13097 (applied before the YAML is read), a stream created for the
    Generator's seed 10097 starts from 13097 and one for a dropout seed s from s + 3000; without
    --seed the 2014 seeds are unchanged. Exact (integer seeds)."""
    assert master(GENERATOR_NOISE_SEED) == [GENERATOR_NOISE_SEED] * 6
    aesara_run.before_training(None, parse(["x.yaml", "--seed", "13097"]))
    assert random_streams.run_seed() == 13097
    assert master(GENERATOR_NOISE_SEED) == [13097] * 6
    assert master(500) == [3500] * 6
    aesara_run.before_training(None, parse(["x.yaml"]))
    assert master(GENERATOR_NOISE_SEED) == [GENERATOR_NOISE_SEED] * 6


def test_seed_option_wins_over_the_variable_and_says_so(monkeypatch, capsys):
    """Property: with $GAN2014_MRG_SEED_OFFSET=5000 alone the seeds shift by 5000; with --seed
    10104 as well they shift by 7 (the option wins) and a note naming both is printed. Exact."""
    monkeypatch.setenv(VARIABLE, "5000")
    aesara_run.before_training(None, parse(["x.yaml"]))
    assert master(GENERATOR_NOISE_SEED) == [GENERATOR_NOISE_SEED + 5000] * 6
    assert "overrides" not in capsys.readouterr().out
    aesara_run.before_training(None, parse(["x.yaml", "--seed", str(GENERATOR_NOISE_SEED + 7)]))
    assert master(GENERATOR_NOISE_SEED) == [GENERATOR_NOISE_SEED + 7] * 6
    out = capsys.readouterr().out
    assert f"--seed {GENERATOR_NOISE_SEED + 7} overrides {VARIABLE}=5000" in out


@pytest.mark.parametrize("value", ["5", "abc", str(GENERATOR_NOISE_SEED + 2 ** 30 + 1)])
def test_a_bad_seed_is_a_usage_error(value, capsys):
    """Property: a seed below 10097 (it would shift dropout seeds below 1), above the range or not
    a number exits with argparse's code 2 and a message naming --seed and, for a number, the
    allowed range, or, for 'abc', that it is not an integer. Exact: status 2, '--seed', and
    '[10097, ' (the range) for the numbers, "not an integer: 'abc'" for 'abc'; the message is the
    user's only guide."""
    with pytest.raises(SystemExit) as stop:
        parse(["x.yaml", "--seed", value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--seed" in err
    expected = "not an integer: 'abc'" if value == "abc" else f"[{GENERATOR_NOISE_SEED}, "
    assert expected in err, err


def test_seed_reaches_the_yaml_built_generator_like_the_variable(tmp_path, monkeypatch):
    """Property: reading mnist_tiny.yaml after --seed 10097+42 gives the Generator's noise stream
    the master state [10139]*6, the same as reading it with $GAN2014_MRG_SEED_OFFSET=42 (the two
    spellings of one seed build the same streams). Exact."""
    from gan2014.config.yaml_parse import load_path
    from gan2014.datasets import mnist
    from legacy_aesara.registry import load_registry

    write_tiny_mnist(tmp_path)
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    environ = dict(os.environ)
    states = []
    try:
        for argv, variable in ((["--seed", str(GENERATOR_NOISE_SEED + 42)], None), ([], "42")):
            if variable is not None:
                monkeypatch.setenv(VARIABLE, variable)
            aesara_run.before_training(None, parse([str(TINY_YAML)] + argv))
            train = load_path(TINY_YAML, load_registry())
            states.append(random_streams.master_state(train.model.generator.theano_rng))
    finally:
        mnist.clear_cache()
        for key in set(os.environ) - set(environ):   # the loader publishes PYLEARN2_TRAIN_*
            del os.environ[key]
    assert states[0] == states[1] == [GENERATOR_NOISE_SEED + 42] * 6
