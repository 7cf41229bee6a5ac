"""Per-layer forward values of either backend, for parity_tests/test_parity_layers.py.

Both backends are built from the unmodified mnist.yaml and given the same inputs
(parity_tests/trajectory.make_inputs: perturbed parameters, a real batch X/0, noise z/0 and the
dropout masks mask/0/{data,samp}/{h0,h1,y}). For each layer the pre-activation and the output are
returned, under flat keys:

* `G/<layer>/pre`, `G/<layer>/out`: the generator on z (G has no dropout in any config; training
  runs it as a plain forward pass);
* `D/<half>/<mode>/<layer>/pre`, `.../out`: the discriminator on half X (the real batch) or S
  (= G(z), each backend its own), mode `dropout` (the masks applied to each layer's input with the
  cost's scales, as in training) or `nodrop` (plain forward pass). For the maxout layers `pre` is
  the detector layer x.W + b (num_units * num_pieces columns) and `out` the max over each unit's
  pieces; for D's y, `pre` is the logit and `out` the sigmoid.

How each side gets the values, without re-implementing a layer:

* Aesara: the graph is built by the backend's own code (MLP.fprop / MLP.dropout_fprop with
  return_all=True and the masks fed, the cost's dropout settings), so every layer's output is a
  variable of that graph. Each pre-activation is found *inside* that layer's part of the graph
  (ancestors of the layer output, stopping at the layer's input): the variable Linear._linear_part
  names `<layer>_z`, or for a Maxout the detector matrix its pool slices read. One aesara.function
  computes them all.
* PyTorch: the backend's own MLP.logits loop (the one training runs: mask * scale on each layer's
  input, then layer.affine, then layer.activate), with each layer's `affine` and `activate`
  temporarily wrapped on the instance to record what they return. D sees [X; S] stacked with the
  stacked masks, as AdversaryCost2.samples_and_objectives does; the last layer's output is
  `activate(logit)`, as training gets it.

Run as a script (`python -m parity_tests.layers_worker BACKEND IN.npz OUT.npz FLOATX`) it computes
in a fresh process: Aesara fixes its float type at import, so the float64 comparison runs Aesara
in a child process started with GAN2014_FLOATX=float64.
"""
import contextlib
import sys

import numpy as np

from parity_tests.children import read_arrays, write_arrays
from parity_tests.trajectory import D_LAYERS, build, masks_of

G_LAYERS = ("h0", "h1", "y")
HALVES = ("X", "S")            # D on the real batch, and on the samples G(z)
MODES = ("dropout", "nodrop")
HALF_KEY = {"X": "data", "S": "samp"}   # the names of trajectory.make_inputs' mask halves


def keys():
    """Every key a worker returns, in a fixed order."""
    rval = [f"G/{layer}/{kind}" for layer in G_LAYERS for kind in ("pre", "out")]
    rval += [f"D/{half}/{mode}/{layer}/{kind}" for mode in MODES for half in HALVES
             for layer in D_LAYERS for kind in ("pre", "out")]
    return rval


def dropout_settings(backend, train):
    """[(include_prob, scale)] of D's layer inputs as the backend's cost resolves them."""
    cost, d = train.algorithm.cost, train.model.discriminator
    if backend == "legacy_aesara":
        return [(1.0, 1.0) if p is None else (float(p), float(s))
                for p, s in cost.discriminator_plan(d)]
    return [(float(p), float(s)) for p, s in d.dropout_settings(**cost.d_dropout)]


# ------------------------------------------------------------------------------------- Aesara
def aesara_pre_activation(layer, state_below, out):
    """The variable of `out`'s graph that is `layer`'s pre-activation, searched only inside the
    layer (ancestors of `out`, not traversed past `state_below`, the layer's input before any
    dropout mask): Linear/RectifiedLinear/Sigmoid name it `<layer>_z` (Linear._linear_part); a
    Maxout's pool is strided slices z[:, piece::stride] of its detector matrix z."""
    from legacy_aesara.models.maxout import Maxout
    from aesara.graph.basic import ancestors
    from aesara.tensor.subtensor import Subtensor

    inside = list(ancestors([out], blockers=[state_below]))
    if isinstance(layer, Maxout):
        found = {id(v.owner.inputs[0]): v.owner.inputs[0] for v in inside
                 if v.owner is not None and isinstance(v.owner.op, Subtensor)}
    else:
        found = {id(v): v for v in inside if v.name == f"{layer.layer_name}_z"}
    if len(found) != 1:
        raise RuntimeError(f"layer {layer.layer_name!r}: expected one pre-activation in its graph, "
                           f"found {len(found)}")
    return next(iter(found.values()))


def aesara_values(inputs, floatx):
    import legacy_aesara  # noqa: F401  (sets Aesara's flags; it must come before `import aesara`)
    import aesara
    import aesara.tensor as at

    if aesara.config.floatX != floatx:
        raise RuntimeError(f"Aesara runs in {aesara.config.floatX}, {floatx} asked: start the "
                           "process with GAN2014_FLOATX set")
    train = build("legacy_aesara")
    model, cost = train.model, train.algorithm.cost
    model.set_param_values({n: inputs[f"param/{n}"].astype(floatx) for n in model.param_names()})
    g_mlp, d = model.generator.mlp, model.discriminator

    X, z = at.matrix("X"), at.matrix("z")
    masks = {half: [at.matrix(f"mask_{half}_{layer}") for layer in D_LAYERS] for half in HALVES}
    graph = {}

    def add(prefix, mlp, state_in, states):
        for layer, below, out in zip(mlp.layers, [state_in] + states[:-1], states):
            graph[f"{prefix}/{layer.layer_name}/pre"] = aesara_pre_activation(layer, below, out)
            graph[f"{prefix}/{layer.layer_name}/out"] = out

    # G: the plain forward pass AdversaryCost2._generate runs when the noise is fed.
    g_states = g_mlp.fprop(z, return_all=True)
    add("G", g_mlp, z, g_states)
    S = g_states[-1]
    for half, part in (("X", X), ("S", S)):
        # As AdversaryCost2._discriminate: one dropout_fprop per half, with the cost's settings.
        dropped = d.dropout_fprop(part, cost.discriminator_default_input_include_prob,
                                  cost.discriminator_input_include_probs,
                                  cost.discriminator_default_input_scale,
                                  cost.discriminator_input_scales, masks=masks[half],
                                  return_all=True)
        add(f"D/{half}/dropout", d, part, dropped)
        add(f"D/{half}/nodrop", d, part, d.fprop(part, return_all=True))

    names = keys()
    function = aesara.function([X, z] + masks["X"] + masks["S"], [graph[k] for k in names],
                               name="layer_values", on_unused_input="raise")
    fed = masks_of(inputs, 0, floatx)
    values = function(inputs["X/0"].astype(floatx), inputs["z/0"].astype(floatx),
                      *fed["data"], *fed["samp"])
    return {"settings": np.array(dropout_settings("legacy_aesara", train)),
            **{k: np.asarray(v) for k, v in zip(names, values)}}


# ------------------------------------------------------------------------------------ PyTorch
@contextlib.contextmanager
def recording(mlp):
    """Record what each layer's `affine` and `activate` return while the MLP's own code runs: one
    dict per layer, the last call's values under "pre" and "out"."""
    records = [{} for _ in mlp.layers]

    def wrap(method, record, key):
        def recorded(x):
            value = method(x)
            record[key] = value
            return value
        return recorded

    for layer, record in zip(mlp.layers, records):
        layer.affine = wrap(layer.affine, record, "pre")      # instance attributes shadow the
        layer.activate = wrap(layer.activate, record, "out")  # class's methods
    try:
        yield records
    finally:
        for layer in mlp.layers:
            del layer.affine, layer.activate


def torch_run(mlp, x, masks=None, scales=None):
    """[(pre, out)] of each layer of the torch MLP on x, through MLP.logits (training's loop)."""
    with recording(mlp) as records:
        logits = mlp.logits(x, masks, scales=scales)
        last = mlp.layers[-1]
        records[-1]["out"] = last.activate(logits)
    assert records[-1]["pre"] is logits
    return [(r["pre"], r["out"]) for r in records]


def torch_values(inputs, floatx):
    import torch

    train = build("port_torch", floatx=floatx)
    model = train.model
    dtype = torch.float64 if floatx == "float64" else torch.float32
    model.set_param_values({n: inputs[f"param/{n}"] for n in model.param_names()})
    g_mlp, d = model.generator.mlp, model.discriminator
    settings = dropout_settings("port_torch", train)
    fed = masks_of(inputs, 0, np.float32)
    rval = {"settings": np.array(settings)}

    def put(prefix, mlp, pairs, rows=slice(None)):
        for layer, (pre, out) in zip(mlp.layers, pairs):
            rval[f"{prefix}/{layer.layer_name}/pre"] = pre[rows].cpu().numpy()
            rval[f"{prefix}/{layer.layer_name}/out"] = out[rows].cpu().numpy()

    with torch.no_grad():
        z = torch.as_tensor(inputs["z/0"], dtype=dtype)
        X = torch.as_tensor(inputs["X/0"], dtype=dtype)
        g_pairs = torch_run(g_mlp, z)      # no masks: G has no dropout (include prob 1)
        put("G", g_mlp, g_pairs)
        S = g_pairs[-1][1]
        B = X.shape[0]
        # As AdversaryCost2.samples_and_objectives: D on [X; S], each half with its own masks.
        stacked = torch.cat([X, S])
        masks = [None if p == 1.0 else torch.cat([torch.as_tensor(m_data), torch.as_tensor(m_samp)])
                 .to(dtype) for (p, _), m_data, m_samp in zip(settings, fed["data"], fed["samp"])]
        scales = [s for _, s in settings]
        for mode, pairs in (("dropout", torch_run(d, stacked, masks, scales)),
                            ("nodrop", torch_run(d, stacked))):
            put(f"D/X/{mode}", d, pairs, slice(0, B))
            put(f"D/S/{mode}", d, pairs, slice(B, 2 * B))
    return rval


def compute(backend, inputs, floatx="float32"):
    return (aesara_values if backend == "legacy_aesara" else torch_values)(inputs, floatx)


def main(argv):
    backend, in_path, out_path, floatx = argv
    inputs = read_arrays(in_path)
    out = compute(backend, inputs, floatx)
    write_arrays(out_path, out)


if __name__ == "__main__":
    main(sys.argv[1:])
