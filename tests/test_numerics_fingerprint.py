"""port_torch.numerics_fingerprint: the hash that tells whether two machines train a seed alike.

The command is only useful if equal hashes mean equal parameters and unequal ones mean a real
difference: so the hash must be a pure function of the trained parameters (the same run twice gives
it exactly), must cover every parameter down to its last bit, and must move with the training it
claims to summarise. Trained on yaml_experiments/smoke/mnist_tiny.yaml (mnist.yaml's structure,
small layers) over a small MNIST in the real IDX format.
"""
import numpy as np
import pytest
import torch

from parity_tests.helpers import mnist_data_path, write_tiny_mnist
from port_torch import numerics_fingerprint as nf

TINY_YAML = "yaml_experiments/smoke/mnist_tiny.yaml"


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist_fingerprint")
    write_tiny_mnist(root)
    with mnist_data_path(root):
        yield root


def test_the_same_run_twice_gives_the_same_hashes_and_training_changes_them(tiny_mnist):
    """Exact: two runs of 2 steps print identical facts; the hash after 2 steps differs from the
    one before and from the one after 1 step (the steps are in the hash)."""
    first = nf.fingerprint(TINY_YAML, steps=2)
    assert nf.fingerprint(TINY_YAML, steps=2) == first
    assert first["parameters_after"] != first["parameters_before"]
    one_step = nf.fingerprint(TINY_YAML, steps=1)
    assert one_step["parameters_before"] == first["parameters_before"]
    assert one_step["parameters_after"] != first["parameters_after"]


def test_the_hash_sees_one_ulp_in_any_parameter(tiny_mnist):
    """Exact: moving a single float32 value of any one parameter to its next representable value
    changes the hash, for every parameter of G and D (a hash that skipped one would call two
    different trainings equal)."""
    from gan2014.config.yaml_parse import load_path
    from port_torch.registry import REGISTRY

    model = load_path(TINY_YAML, REGISTRY).model
    reference = nf.parameter_hash(model)
    names = [name for name, _ in model.named_params()]
    assert len(names) >= 12
    for name, param in model.named_params():
        with torch.no_grad():
            flat = param.view(-1)
            old = flat[-1].item()
            flat[-1] = float(np.nextafter(np.float32(old), np.float32(np.inf)))
            assert nf.parameter_hash(model) != reference, name
            flat[-1] = old
    assert nf.parameter_hash(model) == reference


def test_the_command_refuses_more_steps_than_the_training_set_holds(tiny_mnist, capsys):
    """The error names the option, the rows and how many minibatches fit: mnist_tiny.yaml trains
    on 600 rows, 6 minibatches of 100."""
    with pytest.raises(SystemExit) as exit_info:
        nf.main(["--config", TINY_YAML, "--steps", "7"])
    assert "--steps 7" in str(exit_info.value)
    assert "600 rows" in str(exit_info.value) and "6 minibatches of 100" in str(exit_info.value)
    with pytest.raises(SystemExit):
        nf.main(["--config", TINY_YAML, "--steps", "0"])
    assert "--steps must be at least 1" in capsys.readouterr().err


def test_a_config_that_cannot_be_read_is_one_error_line(tmp_path, capsys):
    """Exit 2 and one `error:` line naming the file, not a traceback."""
    missing = tmp_path / "missing.yaml"
    with pytest.raises(SystemExit) as exit_info:
        nf.main(["--config", str(missing)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(missing) in err and "Traceback" not in err
