"""Drive either backend's conditional model through one fed step and a short fed trajectory.

Both backends are built from yaml_experiments/mnist_conditional.yaml and given the same parameters,
batches (with their one-hot labels), noise and dropout masks (for G and for D); they must then
agree to rounding (parity_tests/test_conditional_parity.py).

As a script (`python -m parity_tests.conditional_worker BACKEND IN.npz OUT.npz`) it computes in a
fresh process: Aesara fixes its float type at import, so float64 Aesara runs in a child process
started with GAN2014_FLOATX=float64.
"""
import importlib
import sys

import numpy as np

from parity_tests.children import read_arrays, write_arrays
from parity_tests.trajectory import REPO

CONDITIONAL_YAML = REPO / "yaml_experiments" / "mnist_conditional.yaml"
D_PROBS = {"h0": .8, "h1": .5, "y": .5}    # the YAML's dropout include probabilities
G_PROBS = {"h0": 1., "h1": .5, "y": .5}
BATCH = 100


def build(backend, floatx="float64"):
    from gan2014.config.yaml_parse import load_path
    registry = importlib.import_module(f"{backend}.registry")
    train = load_path(str(CONDITIONAL_YAML), registry.REGISTRY)
    # The trajectory needs no monitor; skipping it spares Aesara compiling its graphs.
    train.algorithm.monitoring_dataset = {}
    if backend == "port_torch" and floatx == "float64":
        train.model.double()
    return train


# Parameters left at their initial values by make_inputs: D's label-branch biases start at zero,
# so in a row whose one-hot label D's input dropout removed, every piece of every unit of that
# branch equals 0 and they tie. Theano's max gives each tied piece the whole gradient, torch's amax
# an equal share; the one-step test must see such ties to hold the two backends to the same rule.
UNPERTURBED = ("D/h0_y_b",)


def make_inputs(train, n_steps, seed=0, perturb=0.01):
    """Perturbed initial parameters (but UNPERTURBED's), labelled batches, U(0, 1) noise and 0/1
    masks."""
    rng = np.random.RandomState(seed)
    params = {}
    for name, value in train.model.get_param_values().items():
        noise = perturb * rng.standard_normal(value.shape).astype(value.dtype) \
            * float(np.abs(value).max() or 1.0)
        params[name] = value if name in UNPERTURBED else value + noise
    inputs = {f"param/{k}": v for k, v in params.items()}
    rows = train.dataset.X
    d_widths = {"h0": 794, "h1": 290, "y": 240}
    g_widths = {"h0": 110, "h1": 1200, "y": 1200}
    for step in range(n_steps):
        inputs[f"X/{step}"] = rows[rng.randint(0, len(rows), BATCH)]
        inputs[f"z/{step}"] = rng.uniform(0, 1, (BATCH, 100)).astype(np.float32)
    for half in ("data", "samp"):
        for layer, width in d_widths.items():
            inputs[f"mask/{half}/{layer}"] = (rng.uniform(size=(BATCH, width))
                                              < D_PROBS[layer]).astype(np.float32)
    for layer, width in g_widths.items():
        inputs[f"mask/gen/{layer}"] = (rng.uniform(size=(BATCH, width))
                                       < G_PROBS[layer]).astype(np.float32)
    return inputs


def masks_of(inputs, dtype):
    return {half: [inputs[f"mask/{half}/{layer}"].astype(dtype) for layer in ("h0", "h1", "y")]
            for half in ("data", "samp", "gen")}


def compute(backend, inputs, n_steps, floatx="float64"):
    """One fed evaluate_step (dropout in G and D; for Aesara also its fused gradients), then
    n_steps fed SGD updates (no dropout)."""
    train = build(backend, floatx)
    model, algorithm = train.model, train.algorithm
    dtype = np.float64 if floatx == "float64" else np.float32
    model.set_param_values({n: inputs[f"param/{n}"].astype(dtype) for n in model.param_names()})
    conditional = importlib.import_module(f"{backend}.conditional_gan")
    step0 = conditional.evaluate_step(model, algorithm.cost, inputs["X/0"].astype(dtype),
                                      inputs["z/0"].astype(dtype), masks_of(inputs, dtype))
    out = {key: np.asarray(step0[key]) for key in ("d_obj", "g_obj", "S", "D_data", "D_samp")}
    out.update({f"grad/{n}": np.asarray(g) for n, g in step0["grads"].items()})
    if backend == "legacy_aesara":
        # The same step's gradients by the hand-written backward the SGD trains with.
        from legacy_aesara.training_algorithms import fused_step
        fused = fused_step.evaluate_gradients(model, algorithm.cost, inputs["X/0"].astype(dtype),
                                              inputs["z/0"].astype(dtype), masks_of(inputs, dtype))
        out.update({f"fused_grad/{n}": np.asarray(g) for n, g in fused.items()})
    algorithm.setup(model, train.dataset)
    for step in range(n_steps):
        algorithm.train_batch(inputs[f"X/{step}"].astype(dtype),
                              z=inputs[f"z/{step}"].astype(dtype))
    out.update({f"final/{n}": v for n, v in model.get_param_values().items()})
    return out


def main(argv):
    backend, in_path, out_path, n_steps = argv
    inputs = read_arrays(in_path)
    out = compute(backend, inputs, int(n_steps))
    write_arrays(out_path, out)


if __name__ == "__main__":
    main(sys.argv[1:])
