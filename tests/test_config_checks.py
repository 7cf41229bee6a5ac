"""gan2014.config.checks: the arguments a YAML file hands to the objects it builds.

Both backends call these where the object is built, so the loader adds the file and line; the
messages below are what a user sees after that prefix."""
import re

import pytest

from gan2014.config.checks import (check_dropout_options, check_flag, check_layer_numbers,
                                   check_number, check_positive_int, check_whole_number)


@pytest.mark.parametrize("text, written", [("-.05", "-0.05"), ("5e-2", "0.05"),
                                           ("1e-6", "1.0e-06"), ("1e20", "1.0e+20")])
def test_text_yaml_reads_for_a_number_is_refused_with_how_to_write_it(text, written):
    """Each suggested spelling is one YAML 1.1 itself reads as that number."""
    import yaml

    with pytest.raises(ValueError, match=rf"o: n must be a number, got '{text}' \(text to YAML "
                                         rf"1\.1.*write {re.escape(written)}, unquoted, or "
                                         rf"!float '{text}'"):
        check_number("o", "n", text)
    assert yaml.safe_load(f"x: {written}")["x"] == float(text)


def test_text_is_read_where_pylearn2_read_it_and_other_text_is_still_refused():
    assert check_number("SGD", "learning_rate", "1e-3", low=0, text=True) == 1e-3
    with pytest.raises(ValueError, match=r"learning_rate must be a number, got 'fast'$"):
        check_number("SGD", "learning_rate", "fast", text=True)


@pytest.mark.parametrize("value, bounds, message", [
    (0, dict(low=0, high=1, low_open=True), r"must be in \(0, 1\], got 0"),
    (1, dict(low=0, high=1, high_open=True), r"must be in \[0, 1\), got 1"),
    (-1, dict(low=0), r"must be >= 0, got -1"),
    (float("nan"), dict(), r"must be a number, got nan"),
    (True, dict(), r"must be a number, got True"),
    ([1], dict(), r"must be a number, got \[1\]")])
def test_numbers_outside_their_bounds_or_not_numbers_are_refused(value, bounds, message):
    with pytest.raises(ValueError, match=message):
        check_number("o", "n", value, **bounds)


def test_numbers_within_their_bounds_pass_as_floats():
    assert check_number("o", "n", 1, low=0, high=1, low_open=True) == 1.0
    assert check_number("o", "n", None, allow_none=True) is None
    assert check_positive_int("o", "n", 5) == 5


def test_dropout_options_name_the_entry_that_is_wrong():
    check_dropout_options("Cost", default_input_include_prob=None,
                          input_include_probs={"h0": .8}, input_scales={"h0": 1.25},
                          default_input_scale=2.)
    with pytest.raises(ValueError, match=r"Cost: input_include_probs\['h1'\] must be in "
                                         r"\(0, 1\], got 0"):
        check_dropout_options("Cost", input_include_probs={"h0": .8, "h1": 0})
    with pytest.raises(ValueError, match=r"input_scales must be a mapping from layer names"):
        check_dropout_options("Cost", input_scales=1.25)
    with pytest.raises(ValueError, match=r"default_input_scale must be a number, got 'two'"):
        check_dropout_options("Cost", default_input_scale="two")


@pytest.mark.parametrize("value, expected", [(0, False), (1, True), (True, True), (0.0, False)])
def test_flags_are_booleans_or_numbers(value, expected):
    assert check_flag("Cost", "scale_grads", value) is expected


@pytest.mark.parametrize("value", ["no", "0", "", None, [0]])
def test_a_flag_given_as_text_or_nothing_is_refused(value):
    """Python reads 'no' and '0' as true: Pylearn2 turned such a flag on without a word."""
    with pytest.raises(ValueError, match=r"Cost: scale_grads must be true, false, 0 or 1"):
        check_flag("Cost", "scale_grads", value)


@pytest.mark.parametrize("value", [-1, 2.0, "3", True])
def test_a_whole_number_is_an_integer_at_least_the_minimum(value):
    with pytest.raises(ValueError, match=r"EpochCounter: max_epochs must be a whole number >= 0"):
        check_whole_number("EpochCounter", "max_epochs", value)
    assert check_whole_number("EpochCounter", "max_epochs", 0) == 0


def test_layer_numbers_are_checked_by_name_and_none_means_not_given():
    check_layer_numbers("h0", W_lr_scale=None, max_col_norm=1.9365, include_prob=1.0)
    with pytest.raises(ValueError, match=r"layer 'h0': max_col_norm must be > 0, got 0"):
        check_layer_numbers("h0", max_col_norm=0)
    with pytest.raises(ValueError, match=r"layer 'h0': include_prob must be in \(0, 1\]"):
        check_layer_numbers("h0", include_prob=1.5)

