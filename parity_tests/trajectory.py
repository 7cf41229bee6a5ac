"""Drive either backend through the same deterministic computation, for the parity tests.

Both backends are built from the same YAML file, given the same parameters, batches, noise and
dropout masks, and asked for (a) one step's objectives and gradients and (b) a trajectory of SGD
steps with momentum, the per-minibatch learning-rate decay and a momentum change at an epoch
boundary. Everything random is fed from outside, so the two must agree to rounding.

Run as a script (`python -m parity_tests.trajectory BACKEND IN.npz OUT.npz`) it computes in a fresh
process: Aesara fixes its float type at import, so the float64 comparison runs Aesara in a child
process started with GAN2014_FLOATX=float64.
"""
import importlib
import sys
from pathlib import Path

import numpy as np

from parity_tests.children import read_arrays, write_arrays

REPO = Path(__file__).resolve().parents[1]
MNIST_YAML = REPO / "yaml_experiments" / "original" / "mnist.yaml"
D_LAYERS = ("h0", "h1", "y")


def build(backend, yaml_path=MNIST_YAML, floatx="float32"):
    """(train, registry module) for backend 'legacy_aesara' or 'port_torch', from the YAML file."""
    from gan2014.config.yaml_parse import load_path
    registry = importlib.import_module(f"{backend}.registry")
    train = load_path(str(yaml_path), registry.REGISTRY)
    if backend == "port_torch" and floatx == "float64":
        train.model.double()
    return train


def make_inputs(train, n_steps, seed=0, perturb=0.01):
    """Deterministic inputs: perturbed initial parameters, batches from the training set, noise from
    the mnist.yaml noise law, and dropout masks with the cost's include probabilities."""
    rng = np.random.RandomState(seed)
    params = {name: value + perturb * rng.standard_normal(value.shape).astype(value.dtype)
              * float(np.abs(value).max() or 1.0)
              for name, value in train.model.get_param_values().items()}
    X_all = train.dataset.X
    batch, nz = 100, params["G/h0_W"].shape[0]
    widths = [params[f"D/{layer}_W"].shape[0] for layer in D_LAYERS]
    probs = [.8, .5, .5]
    inputs = {f"param/{k}": v for k, v in params.items()}
    for step in range(n_steps):
        inputs[f"X/{step}"] = X_all[rng.randint(0, len(X_all), batch)]
        inputs[f"z/{step}"] = rng.uniform(-np.sqrt(3), np.sqrt(3), (batch, nz)).astype(np.float32)
        for half in ("data", "samp"):
            for layer, width, p in zip(D_LAYERS, widths, probs):
                inputs[f"mask/{step}/{half}/{layer}"] = (
                    rng.uniform(size=(batch, width)) < p).astype(np.float32)
    return inputs


def masks_of(inputs, step, dtype):
    return {half: [inputs[f"mask/{step}/{half}/{layer}"].astype(dtype) for layer in D_LAYERS]
            for half in ("data", "samp")}


def compute(backend, inputs, n_steps, momentum_change_at, floatx="float32"):
    """One evaluate_step at step 0, then n_steps SGD updates; returns a flat dict of arrays."""
    train = build(backend, floatx=floatx)
    model, algorithm = train.model, train.algorithm
    dtype = np.float64 if floatx == "float64" else np.float32
    names = model.param_names()
    model.set_param_values({n: inputs[f"param/{n}"].astype(dtype) for n in names})
    adversarial = importlib.import_module(f"{backend}.adversarial")
    step0 = adversarial.evaluate_step(model, algorithm.cost, inputs["X/0"].astype(dtype),
                                      inputs["z/0"].astype(dtype), masks_of(inputs, 0, dtype))
    out = {"d_obj": np.float64(step0["d_obj"]), "g_obj": np.float64(step0["g_obj"]),
           "S": np.asarray(step0["S"]), "D_data": np.asarray(step0["D_data"]),
           "D_samp": np.asarray(step0["D_samp"])}
    out.update({f"grad/{n}": np.asarray(g) for n, g in step0["grads"].items()})
    algorithm.setup(model, train.dataset)
    for step in range(n_steps):
        if step in (0, momentum_change_at):
            # Epoch-0 monitoring, then an epoch boundary: each on_monitor moves the momentum
            # schedule on (.5 for epoch 1, .5 + .2/249 for epoch 2).
            for extension in train.extensions:
                extension.on_monitor(model, train.dataset, algorithm)
        algorithm.train_batch(inputs[f"X/{step}"].astype(dtype),
                              z=inputs[f"z/{step}"].astype(dtype),
                              masks=masks_of(inputs, step, dtype))
        if step == 0:
            out.update({f"step1/{n}": v for n, v in model.get_param_values().items()})
    out.update({f"final/{n}": v for n, v in model.get_param_values().items()})
    return out


def main(argv):
    backend, in_path, out_path, n_steps, change_at, floatx = argv
    inputs = read_arrays(in_path)
    out = compute(backend, inputs, int(n_steps), int(change_at), floatx)
    write_arrays(out_path, out)


if __name__ == "__main__":
    main(sys.argv[1:])
