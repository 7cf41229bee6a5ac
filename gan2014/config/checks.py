"""Checks on the arguments a YAML file hands to the objects it builds, shared by both backends.

Each check runs where the object is built, so the loader can add the file, line and column to its
message; without them a bad value surfaced as a TypeError deep inside building the training
function, or not at all. A value is refused only where Pylearn2 itself could not use it or where
no experiment could mean it (a probability above 1, a negative learning rate).

YAML 1.1 (PyYAML, as Pylearn2 read the files) reads a number with no dot in its mantissa (``1e-3``)
or with a sign before its dot (``-.05``) as text. Where Pylearn2 converted such text with
``float()`` or numpy (a learning rate, a decay factor) the backends still do; where it could not
use it, the message says how to write the number.
"""
import numbers


class ExperimentSetupError(ValueError):
    """Objects the YAML built that cannot run together (a dropout setting for a layer the MLP does
    not have, a model whose input does not fit the dataset): found when training is set up."""


def is_whole_number(value):
    """An int or numpy integer, not a bool (True is an int to Python, never a count in a file)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_whole_number(owner, name, value, minimum=0):
    """``value`` as an int if it is a whole number >= ``minimum`` (text and 2.5 are refused);
    ``minimum=None`` leaves the range to the caller's own check."""
    if not is_whole_number(value) or (minimum is not None and value < minimum):
        at_least = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{owner}: {name} must be a whole number{at_least}, got {value!r}")
    return int(value)


def check_positive_int(owner, name, value, allow_none=True):
    """``value`` as an int if it is a whole number > 0 (``batch_size: 'abc'`` is refused)."""
    if value is None and allow_none:
        return None
    if not is_whole_number(value) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r} "
                         f"({type(value).__name__})")
    return int(value)


def check_flag(owner, name, value):
    """``value`` as a bool if it is true/false or a number (the 2014 files write ``scale_grads: 0``,
    ``monitor_ll: 1``). Text is refused: Python reads any non-empty text, 'no' and '0' included,
    as true, so a quoted flag was silently on in Pylearn2."""
    if isinstance(value, str) or not isinstance(value, (bool, numbers.Real)):
        hint = " (text: write it unquoted)" if isinstance(value, str) else ""
        raise ValueError(f"{owner}: {name} must be true, false, 0 or 1, got {value!r}{hint}")
    return bool(value)


def _text_hint(value):
    """How to write ``value`` (text float() reads) so that YAML 1.1 reads a number, or ""."""
    try:
        number = float(value)
    except ValueError:
        return ""
    written = repr(number)             # '-0.05', '1e-06': the mantissa needs a dot for YAML 1.1
    if "e" in written and "." not in written.split("e")[0]:
        mantissa, exponent = written.split("e")
        written = f"{mantissa}.0e{exponent}"
    return (f" (text to YAML 1.1, as PyYAML and Pylearn2 read the file: write {written}, unquoted, "
            f"or !float '{value}')")


def check_number(owner, name, value, low=None, high=None, low_open=False, high_open=False,
                 allow_none=False, text=False):
    """``value`` as a float if it is a real number within the bounds given (``low_open``: the bound
    itself is refused). ``text=True`` accepts text float() reads, as Pylearn2's own float() or numpy
    cast of that argument did."""
    if value is None and allow_none:
        return None
    number = value
    if text and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
    if isinstance(number, bool) or not isinstance(number, numbers.Real) or number != number:
        hint = _text_hint(value) if isinstance(value, str) else ""
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}{hint}")
    number = float(number)
    below = low is not None and (number <= low if low_open else number < low)
    above = high is not None and (number >= high if high_open else number > high)
    if below or above:
        lower = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        upper = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        interval = (f"in {lower}, {upper}" if low is not None and high is not None else
                    f"{'>' if low_open else '>='} {low:g}" if low is not None else
                    f"{'<' if high_open else '<='} {high:g}")
        raise ValueError(f"{owner}: {name} must be {interval}, got {value!r}")
    return number


def check_dropout_options(owner, **options):
    """The dropout keywords of a cost (``discriminator_default_input_include_prob: .5``,
    ``discriminator_input_include_probs: {'h0': .8}``, ``..._input_scale(s)``): an include
    probability is in (0, 1] or None (no dropout), a scale a number, per-layer ones a mapping from
    layer names. Which names the MLP has is checked when training is set up."""
    for option, value in options.items():
        per_layer = option.endswith("s")
        if per_layer:
            if value is None:
                continue
            if not isinstance(value, dict):
                raise ValueError(f"{owner}: {option} must be a mapping from layer names, e.g. "
                                 f"{{'h0': .8}}, got {value!r}")
            entries = [(f"{option}[{name!r}]", item) for name, item in value.items()]
        else:
            entries = [(option, value)]
        for name, item in entries:
            if "include_prob" in option:
                check_number(owner, name, item, low=0, high=1, low_open=True, allow_none=True)
            else:
                check_number(owner, name, item)


def check_parzen_monitor(owner, monitor_ll, ll_n_samples, ll_sigma):
    """A generator's Parzen monitor options: (flag, whole number > 0, number > 0)."""
    return (check_flag(owner, "monitor_ll", monitor_ll),
            check_positive_int(owner, "ll_n_samples", ll_n_samples, allow_none=False),
            check_number(owner, "ll_sigma", ll_sigma, low=0, low_open=True))


# The numeric options of Pylearn2's layers and the range each can take (None: not given).
_LAYER_NUMBERS = {
    "W_lr_scale": {}, "b_lr_scale": {}, "sparse_stdev": {},
    "include_prob": dict(low=0, high=1, low_open=True),
    "max_row_norm": dict(low=0, low_open=True), "max_col_norm": dict(low=0, low_open=True),
    "min_col_norm": dict(low=0), "max_kernel_norm": dict(low=0, low_open=True)}


def check_layer_numbers(layer_name, **options):
    """A layer's learning-rate scales, weight-norm limits, include probability and sparse_stdev:
    numbers in their ranges, or None. Pylearn2 used them inside Theano expressions, where text
    (YAML's '5e-1') failed when the update was compiled or at the first training step."""
    for name, value in options.items():
        check_number(f"layer {layer_name!r}", name, value, allow_none=True, **_LAYER_NUMBERS[name])


def check_dataset_options(owner, start=None, stop=None, **flags):
    """A dataset's ``start``/``stop`` (whole numbers, or None; their ranges stay the dataset's own
    assertions, as Pylearn2 made them) and its on/off options (flags).

    ``center: 'no'`` was a centred dataset in Pylearn2 (text is true to Python); ``stop: 10.5`` a
    slicing TypeError."""
    for name, value in (("start", start), ("stop", stop)):
        if value is not None:
            check_whole_number(owner, name, value, minimum=None)
    for name, value in flags.items():
        if value is not None:        # Pylearn2 itself passes None for "off" (get_test_set)
            check_flag(owner, name, value)
