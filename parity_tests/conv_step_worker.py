"""One step of the tiny CIFAR-10 conv model in either backend, for
parity_tests/test_parity_conv_model.py.

`make_inputs` draws, from a model built from yaml_experiments/smoke/cifar10_convolutional_tiny.yaml,
the inputs both backends get: parameters (the initial ones plus 1% noise, D's weights scaled by 20
so that D is not constant), a batch of the training set in the model's input space (c01b images),
noise z, and a 0/1 dropout mask for every D layer input of the real and the generated half (4-D
c01b masks on the conv layers' inputs, a matrix on the last layer's). `compute` runs the backend's
evaluate_step on them.

Run as a script (`python -m parity_tests.conv_step_worker BACKEND IN.npz OUT.npz FLOATX PER_BATCH`)
it computes in a fresh process (Aesara fixes its float type at import); PER_BATCH is the number of
images per CIFAR-10 file of the synthetic data set the test wrote.
"""
import importlib
import sys

import numpy as np

from parity_tests.children import read_arrays, write_arrays
from parity_tests.trajectory import REPO, build

TINY_YAML = REPO / "yaml_experiments" / "smoke" / "cifar10_convolutional_tiny.yaml"
D_LAYERS = ("dh0", "h1", "h2", "h3", "y")
INCLUDE = {"dh0": .8}     # the cost's include probabilities (default .5)
HALVES = ("data", "samp")
BATCH = 6


def make_inputs(train, seed=8):
    from gan2014.space import DesignBatchFormatter

    rng = np.random.RandomState(seed)
    params = {name: value + 0.01 * rng.standard_normal(value.shape).astype(np.float32)
              * float(np.abs(value).max() or 1.0)
              for name, value in train.model.get_param_values().items()}
    for name in params:
        if name.startswith("D/") and name.endswith("_W"):
            # At the 2014 initialisation (irange .005) D is nearly constant: its logits on the
            # two halves nearly cancel and G's gradients (~1e-10) would mostly test rounding.
            params[name] = params[name] * np.float32(20)
    d = train.model.discriminator
    rows = train.dataset.X[rng.permutation(len(train.dataset.X))[:BATCH]]
    inputs = {f"param/{name}": value for name, value in params.items()}
    inputs["X"] = DesignBatchFormatter(train.dataset, d.input_space)(rows).astype(np.float32)
    inputs["z"] = rng.randn(BATCH, params["G/gh0_W"].shape[0]).astype(np.float32)
    for half in HALVES:
        for layer, space in zip(D_LAYERS, d.input_spaces()):
            keep = rng.uniform(size=space.batch_shape(BATCH)) < INCLUDE.get(layer, .5)
            inputs[f"mask/{half}/{layer}"] = keep.astype(np.float32)
    return inputs


def masks_of(inputs, dtype):
    return {half: [inputs[f"mask/{half}/{layer}"].astype(dtype) for layer in D_LAYERS]
            for half in HALVES}


def compute(backend, inputs, floatx="float32", masked=True):
    """evaluate_step's results as a flat dict: d_obj, g_obj, S, D_data, D_samp, grad/<param>."""
    train = build(backend, TINY_YAML, floatx=floatx)
    model = train.model
    model.set_param_values({name: inputs[f"param/{name}"] for name in model.param_names()})
    adversarial = importlib.import_module(f"{backend}.adversarial")
    dtype = np.dtype(floatx)
    step = adversarial.evaluate_step(model, train.algorithm.cost, inputs["X"].astype(dtype),
                                     inputs["z"].astype(dtype),
                                     masks_of(inputs, dtype) if masked else None)
    out = {"d_obj": np.float64(step["d_obj"]), "g_obj": np.float64(step["g_obj"])}
    out.update({key: np.asarray(step[key]) for key in ("S", "D_data", "D_samp")})
    out.update({f"grad/{name}": np.asarray(grad) for name, grad in step["grads"].items()})
    return out


def main(argv):
    backend, in_path, out_path, floatx, per_batch = argv
    from gan2014.datasets import cifar10
    cifar10.EXAMPLES_PER_BATCH = int(per_batch)
    inputs = read_arrays(in_path)
    out = compute(backend, inputs, floatx)
    write_arrays(out_path, out)


if __name__ == "__main__":
    main(sys.argv[1:])
