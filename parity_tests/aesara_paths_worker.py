"""Train the tiny MNIST config with each step path of the Aesara SGD, for test_aesara_paths.py.

All runs build yaml_experiments/smoke/mnist_tiny.yaml (or the conditional model's
mnist_conditional_tiny.yaml) from scratch (same weight draws, same MRG seeds), train `epochs`
epochs with noise and dropout masks DRAWN from the MRG streams, as in real training, and return
every parameter, velocity and MRG stream state as arrays named `<path>/<array name>`.

Run as a script (`python -m parity_tests.aesara_paths_worker DATA_ROOT OUT.npz EPOCHS`) it does the
same in a fresh process: Aesara fixes its float type at import, so the float64 comparison runs in a
child started with GAN2014_FLOATX=float64.
"""
import os
import sys

import numpy as np

from parity_tests.children import write_arrays
from parity_tests.trajectory import REPO

TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"
CONDITIONAL_TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_conditional_tiny.yaml"
PATHS = ("grad", "fused", "reference")
CONDITIONAL_PATHS = ("grad", "fused")     # the reference step is the unconditional model's


def train_with_path(path, epochs, yaml_file=TINY_YAML):
    import legacy_aesara  # noqa: F401  (Aesara flags first)
    from gan2014.config.yaml_parse import load_path
    from legacy_aesara.registry import load_registry

    train = load_path(yaml_file, load_registry())
    algorithm = train.algorithm
    algorithm.monitoring_dataset = None      # the comparison needs no monitor
    algorithm.path = path
    algorithm.setup(train.model, train.dataset)
    for _epoch in range(epochs):
        algorithm.train(train.dataset)
    arrays = dict(train.model.get_param_values())
    arrays.update(algorithm.state_arrays())
    return arrays


def run(data_root, epochs, yaml_file=TINY_YAML, paths=PATHS):
    """{f"{path}/{name}": array} for every path, trained on the MNIST files under data_root."""
    os.environ["PYLEARN2_DATA_PATH"] = str(data_root)
    results = {}
    for path in paths:
        for name, value in train_with_path(path, epochs, yaml_file).items():
            results[f"{path}/{name}"] = np.asarray(value)
    return results


def main(argv):
    data_root, out, epochs = argv
    write_arrays(out, run(data_root, int(epochs)))


if __name__ == "__main__":
    main(sys.argv[1:])
