"""Command-line numbers and names are checked where they are read.

A negative --max-epochs used to run "epoch 0/-1" and stop, and an unknown bench path ended in a
traceback from deep inside SGD. Each is now refused by argparse: exit status 2 and a message that
names the option and the text given, before any model is built.
"""
import argparse

import pytest

from gan2014.cli import build_parser, name_list, whole_number


def test_whole_number_takes_its_minimum_and_above_and_refuses_the_rest():
    at_least_zero = whole_number(0)
    assert at_least_zero("0") == 0 and at_least_zero("12") == 12
    for text in ("-1", "1.5", "x", ""):
        with pytest.raises(argparse.ArgumentTypeError, match=f"whole number >= 0, got {text!r}"):
            at_least_zero(text)
    with pytest.raises(argparse.ArgumentTypeError, match="whole number >= 1, got '0'"):
        whole_number(1)("0")


def test_name_list_keeps_the_order_given_and_names_every_unknown_name():
    paths = name_list(("grad", "fused", "reference"))
    assert paths("fused,grad") == ["fused", "grad"]
    assert paths("grad,,fused,") == ["grad", "fused"] and paths("") == []   # empty names none
    with pytest.raises(argparse.ArgumentTypeError,
                       match="unknown 'nosuch', 'Grad'; choose from grad, fused, reference"):
        paths("grad,nosuch,Grad")


@pytest.mark.parametrize("option, text, minimum", [
    ("--max-epochs", "-1", 0), ("--keep-checkpoints", "-2", 0), ("--monitor-every", "0", 1)])
def test_the_training_command_refuses_a_number_below_its_minimum(option, text, minimum, capsys):
    parser = build_parser("port_torch")
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["yaml_experiments/mnist.yaml", option, text])
    assert stop.value.code == 2
    assert (f"argument {option}: expected a whole number >= {minimum}, got {text!r}"
            in capsys.readouterr().err)
    assert parser.parse_args(["c.yaml", option, str(minimum)]).__dict__[
        option[2:].replace("-", "_")] == minimum


def test_the_torch_bench_refuses_an_unknown_path_before_building_anything(capsys):
    from port_torch import bench

    with pytest.raises(SystemExit) as stop:
        bench.main(["--paths", "fused,nosuch"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --paths: unknown 'nosuch'; choose from autograd, fused, graph, reference, " \
           "batched" in err


@pytest.mark.parametrize("text", ["-3", "nan", "soon"])
def test_a_time_budget_is_a_number_of_seconds_at_least_zero(text, capsys):
    """--time-budget -3 used to train nothing and exit 0 as if it were done."""
    with pytest.raises(SystemExit) as stop:
        build_parser("legacy_aesara").parse_args(["c.yaml", "--time-budget", text])
    assert stop.value.code == 2
    assert f"expected a number of seconds >= 0, got {text!r}" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "big"])
def test_a_positive_number_is_finite_and_above_zero(text):
    """A step size or a kernel width: nan and inf would pass a bare "> 0" or float() check."""
    from gan2014.cli import positive_number

    with pytest.raises(argparse.ArgumentTypeError, match=f"expected a number > 0, got {text!r}"):
        positive_number(text)
    assert positive_number("1e-3") == 1e-3


def test_the_torch_commands_refuse_zero_threads(capsys):
    """--threads 0 used to mean "torch's default" silently; the torch commands ask for >= 1."""
    from port_torch import run, table1

    for add_arguments in (run.add_arguments, table1.add_arguments):
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        with pytest.raises(SystemExit):
            parser.parse_args(["--threads", "0"])
        assert "argument --threads: expected a whole number >= 1, got '0'" in \
            capsys.readouterr().err


@pytest.mark.parametrize("option, text, message", [
    ("--lr", "-1", "expected a number > 0, got '-1'"),       # a traceback from Adam before
    ("--n-samples", "0", "expected a whole number >= 1, got '0'"),   # failed after training E
    ("--steps", "0", "expected a whole number >= 1, got '0'")])
def test_the_inference_command_refuses_bad_numbers_before_training(option, text, message,
                                                                   capsys):
    from port_torch import inference

    with pytest.raises(SystemExit) as stop:
        inference.main(["train", "missing.npz", "--out", "out", option, text])
    assert stop.value.code == 2
    assert f"argument {option}: {message}" in capsys.readouterr().err



@pytest.mark.parametrize("argv", [["--repeats", "0"], ["--subset", "0"]])
def test_the_parzen_bench_refuses_zero_runs_or_test_points(argv, capsys):
    """Zero repeats was a StatisticsError (median of nothing), zero test points a division by
    zero, both after the data were loaded."""
    from gan2014 import parzen_bench

    with pytest.raises(SystemExit) as stop:
        parzen_bench.main(argv)
    assert stop.value.code == 2
    assert f"argument {argv[0]}: expected a whole number >= 1, got '0'" in capsys.readouterr().err


def test_the_table1_driver_refuses_a_negative_checkpoint_count(capsys):
    from gan2014.table1.cli import build_parser as table1_parser

    with pytest.raises(SystemExit) as stop:
        table1_parser("port_torch", "mnist.yaml").parse_args(
            ["--out", "runs", "--keep-checkpoints", "-1"])
    assert stop.value.code == 2
    assert "argument --keep-checkpoints: expected a whole number >= 0, got '-1'" in \
        capsys.readouterr().err


def test_the_side_by_side_bench_knows_each_backends_step_paths(capsys):
    """original_2014.bench names the paths without importing either framework; they must be the
    backends' own. A mistyped path is refused before any row runs (it failed in a worker, or after
    the other backend's rows had run for minutes); an empty list means no row of that backend."""
    from legacy_aesara.training_algorithms.sgd import PATHS as AESARA_PATHS
    from original_2014 import bench
    from port_torch.training_algorithms.sgd import PATHS as TORCH_PATHS

    assert bench.STEP_PATHS == {"legacy_aesara": AESARA_PATHS, "port_torch": TORCH_PATHS}
    assert name_list(bench.STEP_PATHS["legacy_aesara"])("") == []
    with pytest.raises(SystemExit) as stop:
        bench.main(["--no-original", "--torch-paths", "fused,nosuch"])
    assert stop.value.code == 2
    assert "argument --torch-paths: unknown 'nosuch'; choose from auto, autograd, fused, " \
           "graph, reference" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "argument --epochs: expected a whole number >= 1, got '0'"),
    (["--valid-every", "x"], "argument --valid-every: expected a whole number >= 1, got 'x'"),
    (["--seeds", "0", "-1"], "argument --seeds: expected a whole number >= 0, got '-1'"),
    (["--time-budget", "nan"], "argument --time-budget: expected a number of seconds >= 0"),
    (["--piece-mib", "inf"], "argument --piece-mib: expected a number > 0, got 'inf'"),
    (["--limit", "10001"], "--limit must be <= 10000 (the validation images)"),
    (["--save-every", "3"], "--save-every must divide --valid-every"),
    (["--seeds", "1", "1"], "--seeds must be distinct")])
def test_the_table1_command_refuses_bad_options_before_touching_the_run_folder(argv, message,
                                                                                tmp_path, capsys):
    """Each option alone by its type, the relations between them after parsing; nothing is made."""
    from gan2014.table1 import cli

    out = tmp_path / "runs"
    with pytest.raises(SystemExit) as stop:
        cli.main(["--out", str(out)] + argv, "port_torch", make_backend=None,
                 default_noise_seed=0)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()

