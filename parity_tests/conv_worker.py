"""Forward values and gradients of the convolutional layers in either backend, for
parity_tests/test_parity_conv.py.

Three small MLPs are built with each backend's own classes (looked up in its YAML registry under the
2014 names), from fixed seeds, then given the parameters of the test's input file:

* `D`: c01b images of 9x9 with 5 channels (cuda-convnet appends 3 zero "dummy" channels, so W has
  8 input channels) -> MaxoutConvC01B `c1` (8 channels x 2 pieces, 4x4 kernel, pad 2, pool 3
  stride 2 over a 10x10 detector layer: the last window is partial; tied biases; 8 is not a
  multiple of 16, so the pooling comes before the channel max) -> MaxoutConvC01B `c2` (16 x 2
  pieces, 3x3, pad 1, pool 2 stride 2 over 5x5: partial again; untied biases; 16 channels: the
  channel max comes first) -> Linear `flat` (4 units on the c2 output flattened in b01c order);
* `G`: 256-d rows -> SpaceConverter to 16x4x4 c01b -> Deconv `untied` (3 channels, 5x5 kernel,
  stride 3, pad_out 1, untied bias) -> 3x12x12;
* `G2`: 256-d rows -> SpaceConverter to 16x4x4 in ('b', 'c', 0, 1) -> SpaceConverter to c01b ->
  Deconv `tied` (4 channels, 4x4, stride 2, no padding, tied bias) -> 4x10x10.

For each the worker returns every layer's output (`<net>/<layer>/out`; for the conv layers also the
detector values `<net>/<layer>/pre`, convolution + bias) and the gradients of sum(output * R) for a
fixed random R with respect to every parameter (`<net>/grad/<param>`) and the input
(`<net>/grad/input`). It also runs the first three layers of cifar10_convolutional.yaml's
discriminator (real sizes) on two images and returns their output shapes (`real/<layer>/shape`).

Run as a script (`python -m parity_tests.conv_worker BACKEND IN.npz OUT.npz FLOATX`) it computes in
a fresh process: Aesara fixes its float type at import, so the float64 values of Aesara come from a
child process started with GAN2014_FLOATX=float64.
"""
import importlib
import sys

import numpy as np

from parity_tests.children import read_arrays, write_arrays

C01B = ["c", 0, 1, "b"]
NETS = ("D", "G", "G2")
OUTPUT_LAYER = {"D": "flat", "G": "untied", "G2": "tied"}
CONV_LAYERS = {"D": ("c1", "c2")}
REAL_LAYERS = ("dh0", "h1", "h2")


def build(backend):
    """{net name: MLP} for D, G, G2 and the real-size discriminator's conv layers, from seeds."""
    registry = importlib.import_module(f"{backend}.registry").REGISTRY
    MLP = registry["pylearn2.models.mlp.MLP"]
    Space = registry["pylearn2.space.Conv2DSpace"]
    Conv = registry["pylearn2.models.maxout.MaxoutConvC01B"]
    Converter = registry["pylearn2.models.mlp.SpaceConverter"]
    Deconv = registry["adversarial.deconv.Deconv"]
    Linear = registry["pylearn2.models.mlp.Linear"]
    nets = {
        "D": MLP(layers=[Conv(layer_name="c1", num_channels=8, num_pieces=2, kernel_shape=[4, 4],
                              pool_shape=[3, 3], pool_stride=[2, 2], pad=2, tied_b=1, irange=.5),
                         Conv(layer_name="c2", num_channels=16, num_pieces=2, kernel_shape=[3, 3],
                              pool_shape=[2, 2], pool_stride=[2, 2], pad=1, tied_b=0, irange=.5),
                         Linear(layer_name="flat", dim=4, irange=.5)],
                 input_space=Space(shape=[9, 9], num_channels=5, axes=C01B), seed=[2014, 6, 10]),
        "G": MLP(layers=[Converter(layer_name="converter",
                                   output_space=Space(shape=[4, 4], num_channels=16, axes=C01B)),
                         Deconv(layer_name="untied", num_channels=3, kernel_shape=[5, 5],
                                output_stride=[3, 3], pad_out=1, tied_b=0, irange=.5)],
                 nvis=256, seed=[2014, 6, 11]),
        "G2": MLP(layers=[Converter(layer_name="to_bc01", output_space=Space(
                              shape=[4, 4], num_channels=16, axes=["b", "c", 0, 1])),
                          Converter(layer_name="to_c01b", output_space=Space(
                              shape=[4, 4], num_channels=16, axes=C01B)),
                          Deconv(layer_name="tied", num_channels=4, kernel_shape=[4, 4],
                                 output_stride=[2, 2], pad_out=0, tied_b=1, irange=.5)],
                  nvis=256, seed=[2014, 6, 12]),
        # cifar10_convolutional.yaml's three MaxoutConvC01B layers, as configured there.
        "real": MLP(layers=[Conv(layer_name="dh0", pad=4, tied_b=1, num_channels=32, num_pieces=2,
                                 kernel_shape=[8, 8], pool_shape=[4, 4], pool_stride=[2, 2],
                                 irange=.005, partial_sum=33),
                            Conv(layer_name="h1", pad=3, tied_b=1, num_channels=32, num_pieces=2,
                                 kernel_shape=[8, 8], pool_shape=[4, 4], pool_stride=[2, 2],
                                 irange=.005, partial_sum=15),
                            Conv(layer_name="h2", pad=3, tied_b=1, num_channels=192, num_pieces=2,
                                 kernel_shape=[5, 5], pool_shape=[2, 2], pool_stride=[2, 2],
                                 irange=.005)],
                    input_space=Space(shape=[32, 32], num_channels=3, axes=C01B)),
    }
    return nets


def param_arrays(backend, nets):
    """{`<net>/<param>`: numpy array} of the nets' parameters as built."""
    rval = {}
    for net in NETS:
        mlp = nets[net]
        if backend == "legacy_aesara":
            pairs = [(p.name, p.get_value()) for p in mlp.get_params()]
        else:
            pairs = [(name, p.detach().numpy()) for name, p in mlp.named_pylearn2_params()]
        rval.update({f"{net}/{name}": np.array(value) for name, value in pairs})
    return rval


def input_of(net):
    return "x_d" if net == "D" else "x_g"


# ------------------------------------------------------------------------------------- Aesara
def aesara_values(inputs, floatx):
    import legacy_aesara  # noqa: F401  (sets Aesara's flags; it must come before `import aesara`)
    import aesara
    import aesara.tensor as at
    from legacy_aesara.space import make_theano_batch

    if aesara.config.floatX != floatx:
        raise RuntimeError(f"Aesara runs in {aesara.config.floatX}, {floatx} asked: start the "
                           "process with GAN2014_FLOATX set")
    nets = build("legacy_aesara")
    rval = {f"init/{k}": v for k, v in param_arrays("legacy_aesara", nets).items()}
    variables = {"x_d": make_theano_batch(nets["D"].get_input_space(), "x_d"),
                 "x_g": at.matrix("x_g"), "real": make_theano_batch(nets["real"].get_input_space())}
    graph = {}
    for net in NETS:
        mlp = nets[net]
        for param in mlp.get_params():
            param.set_value(inputs[f"param/{net}/{param.name}"].astype(floatx))
        x = variables[input_of(net)]
        states = mlp.fprop(x, return_all=True)
        for layer, below, state in zip(mlp.layers, [x] + states[:-1], states):
            graph[f"{net}/{layer.layer_name}/out"] = state
            if layer.layer_name in CONV_LAYERS.get(net, ()):
                graph[f"{net}/{layer.layer_name}/pre"] = layer.detector(below)
        R = variables["R_" + net] = at.tensor(floatx, shape=(None,) * states[-1].ndim,
                                               name="R_" + net)
        loss = (states[-1] * R).sum()
        params = mlp.get_params()
        for param, grad in zip(params + [x], at.grad(loss, params + [x])):
            graph[f"{net}/grad/" + ("input" if param is x else param.name)] = grad
    real_states = nets["real"].fprop(variables["real"], return_all=True)
    for layer, state in zip(nets["real"].layers, real_states):
        graph[f"real/{layer.layer_name}/out"] = state
    names = sorted(graph)
    fed = [variables[k] for k in ("x_d", "x_g", "R_D", "R_G", "R_G2", "real")]
    function = aesara.function(fed, [graph[k] for k in names], name="conv_values")
    values = function(*[inputs[k].astype(floatx) for k in ("x_d", "x_g", "R_D", "R_G", "R_G2",
                                                         "real")])
    rval.update({k: np.asarray(v) for k, v in zip(names, values)})
    for layer in REAL_LAYERS:   # the values themselves are not compared, their sizes are
        rval[f"real/{layer}/shape"] = np.array(rval.pop(f"real/{layer}/out").shape)
    return rval


# ------------------------------------------------------------------------------------ PyTorch
def torch_values(inputs, floatx):
    import torch

    dtype = torch.float64 if floatx == "float64" else torch.float32
    nets = build("port_torch")
    rval = {f"init/{k}": v for k, v in param_arrays("port_torch", nets).items()}
    for net in NETS:
        mlp = nets[net].to(dtype)
        named = list(mlp.named_pylearn2_params())
        with torch.no_grad():
            for name, param in named:
                param.copy_(torch.as_tensor(inputs[f"param/{net}/{name}"]))
        x = torch.tensor(inputs[input_of(net)], dtype=dtype, requires_grad=True)
        state = x
        for layer in mlp.layers:
            pre = layer.affine(state)
            state = layer.activate(pre)
            rval[f"{net}/{layer.layer_name}/out"] = state.detach().numpy()
            if layer.layer_name in CONV_LAYERS.get(net, ()):
                rval[f"{net}/{layer.layer_name}/pre"] = pre.detach().numpy()
        loss = (state * torch.as_tensor(inputs["R_" + net], dtype=dtype)).sum()
        grads = torch.autograd.grad(loss, [p for _, p in named] + [x])
        for (name, _), grad in zip(named + [("input", x)], grads):
            rval[f"{net}/grad/{name}"] = grad.numpy()
    with torch.no_grad():
        state = torch.as_tensor(inputs["real"], dtype=torch.float32)
        for layer in nets["real"].layers:
            state = layer(state)
            rval[f"real/{layer.layer_name}/shape"] = np.array(state.shape)
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
