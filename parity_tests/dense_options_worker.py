"""Drive either backend through the dense-layer options of the TFD and CIFAR-10 FC configs.

For parity_tests/test_parity_dense_options.py. One small model, written as YAML and built by each
backend's own registry, has every dense-layer option those configs use and the MNIST model does not:

* G = RectifiedLinear -> Sigmoid(init_bias -2, W_lr_scale .5, b_lr_scale 2) -> Linear output
  (cifar10_fully_connected.yaml's `y`) with sparse_init 6 and init_bias -1 (tfd_pretrain's `y` has
  sparse_init 100 and a Sigmoid; the Sigmoid's weights are drawn by the same Linear code);
* D = Maxout(sparse_init 5) -> Maxout(b_lr_scale .5) -> Sigmoid(1);
* max_col_norm on every layer (1.9365, TFD's value; 1.5 on G's output).

The limits bind: at initialisation the sparse columns (k N(0,1) entries, norm near sqrt(k)) exceed
them, and after each update a column on its limit leaves it outwards with probability above one
half.

`CONFIGS["dense_options"]` is that model; `CONFIGS["no_lr_scalers"]` the same without learning-rate
scalers, which the torch port's fused step (the one CPU training uses) accepts.

For each (config, step path) the worker returns the parameters as built (`init/`), after
`enforce_constraints()` from given starting values (`constrained/`), and after each of N_STEPS SGD
updates with the noise z and the dropout masks fed (`step<k>/`). Run as a script
(`python -m parity_tests.dense_options_worker IN.npz OUT.npz`) it computes the Aesara side in a
fresh process: Aesara fixes floatX at import, so float64 runs in a child started with
GAN2014_FLOATX=float64.
"""
import sys
import types

import numpy as np

from parity_tests.children import read_arrays, write_arrays

N_STEPS = 3
BATCH = 20
D_INCLUDE_PROBS = (.8, .5, .5)

DENSE_OPTIONS = """
model: !obj:adversarial.AdversaryPair {
    generator: !obj:adversarial.Generator {
        mlp: !obj:pylearn2.models.mlp.MLP {
            layers: [
                !obj:pylearn2.models.mlp.RectifiedLinear {
                    layer_name: 'h0', dim: 24, irange: .05, max_col_norm: 1.9365 },
                !obj:pylearn2.models.mlp.Sigmoid {
                    layer_name: 'h1', dim: 24, irange: .05, max_col_norm: 1.9365,
                    init_bias: -2.0, W_lr_scale: .5, b_lr_scale: 2. },
                !obj:pylearn2.models.mlp.Linear {
                    layer_name: 'y', dim: 40, sparse_init: 6, max_col_norm: 1.5, init_bias: -1.0 },
            ],
            nvis: 8 } },
    discriminator: !obj:pylearn2.models.mlp.MLP {
        layers: [
            !obj:pylearn2.models.maxout.Maxout {
                layer_name: 'h0', num_units: 8, num_pieces: 3, sparse_init: 5,
                max_col_norm: 1.9365 },
            !obj:pylearn2.models.maxout.Maxout {
                layer_name: 'h1', num_units: 8, num_pieces: 3, irange: .5, max_col_norm: 1.,
                b_lr_scale: .5 },
            !obj:pylearn2.models.mlp.Sigmoid {
                layer_name: 'y', dim: 1, irange: .5, max_col_norm: 1.9365 },
        ],
        nvis: 40 } }
algorithm: !obj:pylearn2.training_algorithms.sgd.SGD {
    batch_size: 20,
    learning_rate: .5,
    learning_rule: !obj:pylearn2.training_algorithms.learning_rule.Momentum { init_momentum: .5 },
    cost: !obj:adversarial.AdversaryCost2 {
        scale_grads: 0,
        discriminator_default_input_include_prob: .5,
        discriminator_input_include_probs: { 'h0': .8 },
        discriminator_default_input_scale: 2.,
        discriminator_input_scales: { 'h0': 1.25 }
    }
}
"""
CONFIGS = {
    "dense_options": DENSE_OPTIONS,
    "no_lr_scalers": (DENSE_OPTIONS.replace(", W_lr_scale: .5, b_lr_scale: 2.", "")
                      .replace(",\n                b_lr_scale: .5", "")),
}
# What each backend runs: Aesara the model with scalers; torch that with its autograd step (the
# fused step refuses scalers), and the model without scalers with both its steps.
AESARA_RUNS = (("dense_options", "default"),)
TORCH_RUNS = (("dense_options", "autograd"), ("no_lr_scalers", "fused"),
              ("no_lr_scalers", "autograd"))


def build(backend, config):
    """(model, algorithm) of `config`, built by `backend`'s registry from the YAML text."""
    import importlib

    from gan2014.config.yaml_parse import load

    registry = importlib.import_module(f"{backend}.registry").REGISTRY
    parts = load(CONFIGS[config], registry, filename=config)
    return parts["model"], parts["algorithm"]


def make_inputs(seed=0):
    """The starting parameters (the model as the torch port builds it, float32; both configs draw
    the same), batches X in [0, 1], noise z ~ N(0, 1) and 0/1 dropout masks with D's include
    probabilities, as one flat dict of arrays."""
    rng = np.random.RandomState(seed)
    model, _ = build("port_torch", "dense_options")
    params = model.get_param_values()
    inputs = {f"param/{name}": value for name, value in params.items()}
    nvis, ndata = params["G/h0_W"].shape[0], params["G/y_W"].shape[1]
    widths = [params[f"D/{layer}_W"].shape[0] for layer in ("h0", "h1", "y")]
    for step in range(N_STEPS):
        inputs[f"X/{step}"] = rng.uniform(0, 1, (BATCH, ndata)).astype(np.float32)
        inputs[f"z/{step}"] = rng.standard_normal((BATCH, nvis)).astype(np.float32)
        for half in ("data", "samp"):
            for index, (width, p) in enumerate(zip(widths, D_INCLUDE_PROBS)):
                inputs[f"mask/{step}/{half}/{index}"] = \
                    (rng.uniform(size=(BATCH, width)) < p).astype(np.float32)
    return inputs


def masks_of(inputs, step, dtype):
    return {half: [inputs[f"mask/{step}/{half}/{index}"].astype(dtype)
                   for index in range(len(D_INCLUDE_PROBS))] for half in ("data", "samp")}


def compute(backend, inputs, floatx="float32", runs=None):
    """{`<config>/<path>/<stage>/<param>`: array} for each (config, step path) of `runs`."""
    dtype = np.float64 if floatx == "float64" else np.float32
    out = {}
    for config, path in runs or (AESARA_RUNS if backend == "legacy_aesara" else TORCH_RUNS):
        model, algorithm = build(backend, config)
        prefix = f"{config}/{path}"
        out.update({f"{prefix}/init/{n}": v for n, v in model.get_param_values().items()})
        if backend == "port_torch" and floatx == "float64":
            model.double()
        names = model.param_names()
        model.set_param_values({n: inputs[f"param/{n}"].astype(dtype) for n in names})
        model.enforce_constraints()
        out.update({f"{prefix}/constrained/{n}": v for n, v in model.get_param_values().items()})
        if backend == "port_torch":
            algorithm.path = path
            algorithm.setup(model, types.SimpleNamespace(X=inputs["X/0"].astype(dtype)))
            out[f"{prefix}/path_used"] = np.array(algorithm.path_used)
        else:
            # setup() minus the compilation of the noise-drawing sgd_update, which fed steps do
            # not use (it would only add seconds): train_batch(z=..., masks=...) compiles its own.
            algorithm._build_graphs(model)
        for step in range(N_STEPS):
            algorithm.train_batch(inputs[f"X/{step}"].astype(dtype),
                                  z=inputs[f"z/{step}"].astype(dtype),
                                  masks=masks_of(inputs, step, dtype))
            out.update({f"{prefix}/step{step + 1}/{n}": v
                        for n, v in model.get_param_values().items()})
    return out


def main(argv):
    in_path, out_path = argv
    import legacy_aesara  # noqa: F401  (sets AESARA_FLAGS, GAN2014_FLOATX included)
    import aesara

    out = compute("legacy_aesara", read_arrays(in_path), aesara.config.floatX)
    write_arrays(out_path, out, floatX=aesara.config.floatX)


if __name__ == "__main__":
    main(sys.argv[1:])
