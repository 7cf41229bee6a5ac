"""Shared fixtures of the parity suite.

* `--run-slow` enables the tests marked `slow` (the statistical parity of whole training runs).
* `parity_record(property, pair, max_error, tolerance)` records a measured error; `make parity`
  (parity_tests/report.py) prints every record as a table.
* `mnist_or_skip()` returns the real-MNIST data path, or skips the test when MNIST has not been
  fetched — except under CI (CI=true), where a missing dataset is a failure, not a silent skip.
"""
import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REFERENCE_2014 = FIXTURES / "original_2014_mnist_fingerprints.json"
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="run the slow statistical parity tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow statistical test: run with `make parity-slow`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def mnist_data_path():
    return Path(os.environ.get("PYLEARN2_DATA_PATH", REPO / "data"))


def mnist_or_skip():
    root = mnist_data_path()
    present = all((root / "mnist" / name).is_file() or (root / "mnist" / (name + ".gz")).is_file()
                  for name in MNIST_FILES)
    if present:
        os.environ.setdefault("PYLEARN2_DATA_PATH", str(root))
        return root
    message = (f"real MNIST is not in {root / 'mnist'}; run `python -m gan2014.datasets.fetch "
               "mnist` (make test does)")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def parity_record():
    """Append one measurement to the file named by GAN2014_PARITY_RECORD (if set)."""
    target = os.environ.get("GAN2014_PARITY_RECORD")

    def record(prop, pair, max_error, tolerance):
        assert max_error <= tolerance, (f"{prop} [{pair}]: error {max_error:.3g} "
                                        f"> tolerance {tolerance:.3g}")
        if target:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"property": prop, "pair": pair,
                                         "max_error": float(max_error),
                                         "tolerance": float(tolerance)}) + "\n")

    return record
