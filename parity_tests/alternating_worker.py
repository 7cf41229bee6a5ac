"""Drive either backend's alternating SGD (adversarial.sgd.SGD) and the minimax generator objective
through the same deterministic computation, for parity_tests/test_alternating_and_minimax.py.

It is parity_tests/trajectory.py for the alternating algorithm: both backends are built from
yaml_experiments/mnist_algorithm1.yaml (the full MNIST model) with the configuration's changes, get
the same perturbed parameters, minibatches, noise and dropout masks (trajectory.make_inputs), and
run `n_steps` minibatches with Pylearn2 momentum, the per-minibatch learning-rate decay and a
momentum change at an epoch boundary. Everything random is fed from outside, so the two must agree
to rounding.

Feeding: minibatch s uses X/s, and for its D step z/s and the masks of step s; for its G step (when
it has one) z/(N+s) and the masks of step N+s, where N = n_steps (inputs are made for 2N steps).

Configurations (CONFIGS): "kstep": discriminator_steps 2 and the 2014 (non-saturating) objective;
"minimax": discriminator_steps 1 (Algorithm 1 as the paper ran it, k = 1) and
generator_objective='minimax'; "minimax_pylearn2" (torch-only checks): Pylearn2's simultaneous SGD
with generator_objective='minimax'.

Run as a script (`python -m parity_tests.alternating_worker BACKEND IN.npz OUT.npz N FLOATX
CONFIG[,CONFIG...]`) it computes in a fresh process: Aesara fixes its float type at import, so the
float64 comparison runs Aesara in a child process started with GAN2014_FLOATX=float64.
"""
import importlib
import sys

import numpy as np

from parity_tests.children import read_arrays, write_arrays
from parity_tests.trajectory import REPO, masks_of

BASE_YAML = REPO / "yaml_experiments" / "mnist_algorithm1.yaml"
CONFIGS = {
    "kstep": {"discriminator_steps": 2, "generator_objective": "nonsaturating"},
    "minimax": {"discriminator_steps": 1, "generator_objective": "minimax"},
    "minimax_pylearn2": {"discriminator_steps": None, "generator_objective": "minimax"},
}
MOMENTUM_CHANGE_AT = 10   # an epoch boundary inside the trajectory (as trajectory.py's step 50)


def replace_once(text, old, new):
    if text.count(old) != 1:
        raise ValueError(f"{BASE_YAML.name}: expected {old!r} exactly once")
    return text.replace(old, new)


def yaml_text(config, base=BASE_YAML):
    """mnist_algorithm1.yaml with the configuration's discriminator_steps and G objective
    (discriminator_steps None: Pylearn2's SGD, i.e. mnist.yaml's algorithm)."""
    settings = CONFIGS[config]
    text = base.read_text(encoding="utf-8")
    if settings["discriminator_steps"] is None:
        text = replace_once(text, "    algorithm: !obj:adversarial.sgd.SGD {\n"
                                  "        discriminator_steps: 1,\n",
                            "    algorithm: !obj:pylearn2.training_algorithms.sgd.SGD {\n")
    else:
        text = replace_once(text, "        discriminator_steps: 1,\n",
                            f"        discriminator_steps: {settings['discriminator_steps']},\n")
    if settings["generator_objective"] != "nonsaturating":
        text = replace_once(text, "            scale_grads: 0,\n", "            scale_grads: 0,\n"
                            "            generator_objective: "
                            f"'{settings['generator_objective']}',\n")
    return text


class Subset:
    """The first rows of a dataset: what setup gets, since the minibatches are fed from outside
    (the torch SGD copies its dataset to a tensor in setup; 100 rows keep that short)."""

    def __init__(self, dataset, rows=100):
        self.X = dataset.X[:rows]

    def get_design_matrix(self):
        return self.X


def build(backend, config, floatx="float32", base=BASE_YAML):
    """The Train object of `config` for backend 'legacy_aesara' or 'port_torch', without a
    monitoring dataset (no monitor graphs to build: the trajectories need none)."""
    from gan2014.config.yaml_parse import load, train_file_variables
    registry = importlib.import_module(f"{backend}.registry")
    train = load(yaml_text(config, base), registry.REGISTRY, filename=str(base),
                 environ=train_file_variables(str(base)))
    if backend == "port_torch" and floatx == "float64":
        train.model.double()
    train.algorithm.monitoring_dataset = {}
    return train


def largest_change(before, after, prefix):
    """max |after - before| over the arrays of one network (names starting with prefix)."""
    return max(float(np.abs(np.asarray(after[n], np.float64)
                            - np.asarray(before[n], np.float64)).max())
               for n in before if n.startswith(prefix))


def snapshot(stage, params, algorithm):
    """{stage/<param>: value} and {stage/velocity/<param>: velocity}."""
    out = {f"{stage}/{n}": v for n, v in params.items()}
    out.update({f"{stage}/{n}": np.array(v) for n, v in algorithm.state_arrays().items()
                if n.startswith("velocity/")})
    return out


def compute(backend, inputs, config, n_steps, floatx="float32", evaluate=False):
    """n_steps minibatches of the alternating SGD; a flat dict of arrays.

    Keys: step1/<param>, step2/<param>, final/<param> (values after minibatch 1, 2, n_steps) and
    step1/velocity/<param>, ... (the momentum velocities, from state_arrays);
    g_step/<s> (1 if minibatch s ran a G step), d_moved/<s>, g_moved/<s> (largest change of any D /
    G parameter in minibatch s); with evaluate, eval/{d_obj, g_obj, D_samp, D_data, grad/<param>}
    of evaluate_step at the initial parameters with step 0's X, z and masks.
    """
    train = build(backend, config, floatx)
    model, algorithm = train.model, train.algorithm
    dtype = np.float64 if floatx == "float64" else np.float32
    names = model.param_names()
    model.set_param_values({n: inputs[f"param/{n}"].astype(dtype) for n in names})
    out = {}
    if evaluate:
        adversarial = importlib.import_module(f"{backend}.adversarial")
        step0 = adversarial.evaluate_step(model, algorithm.cost, inputs["X/0"].astype(dtype),
                                          inputs["z/0"].astype(dtype), masks_of(inputs, 0, dtype))
        out.update({"eval/d_obj": np.float64(step0["d_obj"]),
                    "eval/g_obj": np.float64(step0["g_obj"]),
                    "eval/D_samp": np.asarray(step0["D_samp"]),
                    "eval/D_data": np.asarray(step0["D_data"])})
        out.update({f"eval/grad/{n}": np.asarray(g) for n, g in step0["grads"].items()})
    algorithm.setup(model, Subset(train.dataset))
    before = model.get_param_values()
    for step in range(n_steps):
        if step in (0, MOMENTUM_CHANGE_AT):
            # Epoch-0 monitoring, then an epoch boundary: each on_monitor moves the momentum on.
            for extension in train.extensions:
                extension.on_monitor(model, train.dataset, algorithm)
        g_step = algorithm.generator_step_due()
        g = n_steps + step
        algorithm.train_batch(inputs[f"X/{step}"].astype(dtype),
                              z=(inputs[f"z/{step}"].astype(dtype), inputs[f"z/{g}"].astype(dtype)),
                              masks=(masks_of(inputs, step, dtype), masks_of(inputs, g, dtype)))
        after = model.get_param_values()
        out[f"g_step/{step}"] = np.int64(g_step)
        out[f"d_moved/{step}"] = np.float64(largest_change(before, after, "D/"))
        out[f"g_moved/{step}"] = np.float64(largest_change(before, after, "G/"))
        if step < 2:
            out.update(snapshot(f"step{step + 1}", after, algorithm))
        before = after
    out.update(snapshot("final", before, algorithm))
    out["batches_seen"] = np.int64(algorithm.batches_seen)
    return out


def main(argv):
    backend, in_path, out_path, n_steps, floatx, configs = argv
    inputs = read_arrays(in_path)
    out = {}
    for config in configs.split(","):
        result = compute(backend, inputs, config, int(n_steps), floatx,
                         evaluate=(config == "minimax"))
        out.update({f"{config}/{key}": value for key, value in result.items()})
    write_arrays(out_path, out)


if __name__ == "__main__":
    main(sys.argv[1:])
