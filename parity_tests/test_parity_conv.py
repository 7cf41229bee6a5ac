"""The convolutional layers of cifar10_convolutional.yaml: Aesara and PyTorch agree, and both do
what the 2014 code (cuda-convnet through Pylearn2, goodfeli/adversarial's Deconv) did.

parity_tests/conv_worker.py builds, with each backend's own classes, small MLPs made of the layers
the conv config uses -- MaxoutConvC01B (tied and untied biases, dummy input channels, both orders of
channel max and pooling, partial last pooling windows), SpaceConverter (VectorSpace -> c01b and
bc01 -> c01b), Deconv (tied and untied), a dense layer on a conv output -- gives them the same
parameters and inputs, and returns every layer's output and the gradients of sum(output * R) for a
fixed random R with respect to every parameter and the input.

What is checked, and the tolerance of each check (errors are max |a - b| / max |b| per array):

* initial parameters: equal between the backends bit for bit, and equal to numpy's draws in
  Pylearn2's order and layout (make_random_conv2D: ONE uniform draw of (in [+ dummy], rows, cols,
  out) per conv layer, no mask draw; biases zero; the dense layer after them its two draws);
* the pooled sizes of the real discriminator: 32 -> 33 -> 16, 16 -> 15 -> 7, 7 -> 9 -> 5;
* each backend against a direct numpy reference, in float64 to 1e-12: the detector values are a
  correlation (no kernel flip) with zero padding plus the bias; each output channel is the max over
  ADJACENT detector channels and cuda-convnet's windowed max with partial last windows (compared
  exactly: maxima select values, they do not round); Deconv is the transposed correlation
  (scatter-add of W * h, cropped by pad_out) plus the bias; SpaceConverter reads a row in
  ('b', 0, 1, 'c') order; a dense layer flattens a c01b input in ('b', 0, 1, 'c') order. 1e-12
  leaves four orders of magnitude over float64 summation-order differences (~1e-16 per operation,
  sums of at most a few hundred terms).
* Aesara vs PyTorch, forward values and gradients: float32 within 1e-5, float64 within 1e-10.
  float32: the two backends' convolutions (Aesara's CorrMM = im2col + OpenBLAS GEMM, PyTorch's
  oneDNN/MKL kernels) sum products of up to 144 terms (and the weight gradients up to a few hundred)
  in different orders, ~1e-7 .. 1e-6 relative (measured 4.8e-7 at worst); the channel max and
  pooling select values. float64: the same differences at ~1e-16 per operation (measured 1.0e-15
  at worst); 1e-10 is margin, far below any formula error (a flipped kernel, a wrong channel
  grouping or a wrong bias layout differs at 1e-1). With a batch of 3, the few thousand max
  comparisons make a float32 near-tie (which would re-route a gradient) improbable; the whole-model
  step is compared in float64 (test_parity_conv_model.py says why).
"""
import math

import numpy as np
import pytest

from parity_tests.children import AesaraChild
from parity_tests.conv_worker import NETS, build, compute, param_arrays
from parity_tests.helpers import relative_error

BOUNDS = {"float32": 1e-5, "float64": 1e-10}
REFERENCE_BOUND = 1e-12
BACKENDS = ("legacy_aesara", "port_torch")
BATCH = 3


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Parameters (the initial draws plus noise, so that biases are not zero), inputs and R."""
    rng = np.random.RandomState(20140610)
    initial = param_arrays("port_torch", build("port_torch"))
    arrays = {f"param/{name}": value + 0.1 * rng.standard_normal(value.shape)
              for name, value in initial.items()}
    arrays.update(x_d=rng.randn(5, 9, 9, BATCH), x_g=rng.randn(BATCH, 256),
                  R_D=rng.randn(BATCH, 4), R_G=rng.randn(3, 12, 12, BATCH),
                  R_G2=rng.randn(4, 10, 10, BATCH), real=rng.randn(3, 32, 32, 2))
    path = tmp_path_factory.mktemp("conv") / "inputs.npz"
    np.savez(path, **arrays)
    return arrays, path


@pytest.fixture(scope="module")
def float64_aesara_child(inputs, tmp_path_factory):
    """Start Aesara's float64 run in a child process at once; it compiles while this one works."""
    _, in_path = inputs
    out_path = tmp_path_factory.mktemp("conv64") / "aesara64.npz"
    with AesaraChild("conv_worker", ["legacy_aesara", in_path, out_path, "float64"],
                     out_path) as child:
        yield child


@pytest.fixture(scope="module")
def float32(inputs, float64_aesara_child):
    arrays, _ = inputs
    return {backend: compute(backend, arrays, "float32") for backend in BACKENDS}


@pytest.fixture(scope="module")
def float64(inputs, float64_aesara_child):
    arrays, _ = inputs
    torch64 = compute("port_torch", arrays, "float64")
    return {"legacy_aesara": float64_aesara_child.arrays(), "port_torch": torch64}


# --------------------------------------------------------------------------- numpy references
def correlation_c01b(x, W, b, pad, tied):
    """cuda-convnet FilterActs + bias by brute force: x (C, H, W, B) zero-padded (and given zero
    dummy channels up to W's input channels), correlated with W (in, k, k, out), no flip."""
    channels, rows, cols, batch = x.shape
    k = W.shape[1]
    padded = np.zeros((W.shape[0], rows + 2 * pad, cols + 2 * pad, batch))
    padded[:channels, pad:pad + rows, pad:pad + cols] = x
    out_rows, out_cols = rows + 2 * pad - k + 1, cols + 2 * pad - k + 1
    out = np.zeros((W.shape[3], out_rows, out_cols, batch))
    for i in range(k):
        for j in range(k):
            out += np.einsum("cxyb,co->oxyb", padded[:, i:i + out_rows, j:j + out_cols], W[:, i, j])
    return out + (b[:, None, None, None] if tied else b[..., None])


def windowed_max(c01b, pool, stride):
    """cuda-convnet MaxPool by brute force: ceil((n - pool) / stride) + 1 windows per axis, each the
    max over the pixels that exist (the last window may be cut by the border)."""
    _, rows, cols, _ = c01b.shape
    out_rows = math.ceil((rows - pool) / stride) + 1
    out_cols = math.ceil((cols - pool) / stride) + 1
    out = np.empty((c01b.shape[0], out_rows, out_cols, c01b.shape[3]))
    for i in range(out_rows):
        for j in range(out_cols):
            window = c01b[:, i * stride:min(i * stride + pool, rows),
                          j * stride:min(j * stride + pool, cols)]
            out[:, i, j] = window.max(axis=(1, 2))
    return out


def adjacent_maxout(c01b, pieces):
    """Output channel j = max over channels j*pieces ... j*pieces + pieces - 1."""
    return c01b.reshape(c01b.shape[0] // pieces, pieces, *c01b.shape[1:]).max(axis=1)


def transposed_correlation_c01b(h, W, b, stride, pad, tied):
    """Deconv by brute force: each input pixel (y, x) adds W[..., f] * h[f, y, x] to the output
    window starting at (stride*y, stride*x); the border `pad` is cut off; plus the bias."""
    filters, rows, cols, batch = h.shape
    channels, k = W.shape[0], W.shape[1]
    full = np.zeros((channels, stride * (rows - 1) + k, stride * (cols - 1) + k, batch))
    for y in range(rows):
        for x in range(cols):
            full[:, stride * y:stride * y + k, stride * x:stride * x + k] += \
                np.einsum("cijf,fb->cijb", W, h[:, y, x])
    out = full[:, pad:full.shape[1] - pad, pad:full.shape[2] - pad]
    return out + (b[:, None, None, None] if tied else b[..., None])


def b01c_rows(c01b):
    return c01b.transpose(3, 1, 2, 0).reshape(c01b.shape[3], -1)


# ------------------------------------------------------------------------------------ tests
def test_initial_parameters_equal_between_backends_and_follow_pylearn2_draws(float32):
    """Bit-equal initial parameters in both backends (tolerance 0: the same numpy draws, cast to
    float32), equal to Pylearn2's draws: per MLP one RandomState(seed); per conv layer ONE
    uniform(-irange, irange) array of shape (in [+ dummy], rows, cols, out) in layer order; a dense
    layer after them its uniform draw and its include mask (both drawn); zero biases, tied (one per
    channel) or untied (one per channel and position)."""
    aesara, torch_ = float32["legacy_aesara"], float32["port_torch"]
    for key in aesara:
        if key.startswith("init/"):
            np.testing.assert_array_equal(aesara[key], torch_[key], err_msg=key)
    rng = np.random.RandomState([2014, 6, 10])
    expected = {"D/c1_W": rng.uniform(-.5, .5, (8, 4, 4, 16)),   # 5 channels + 3 dummy
                "D/c2_W": rng.uniform(-.5, .5, (8, 3, 3, 32))}
    dense = rng.uniform(-.5, .5, (144, 4))
    expected["D/flat_W"] = dense * (rng.uniform(0., 1., (144, 4)) < 1.)
    expected.update({"D/c1_b": np.zeros(16), "D/c2_b": np.zeros((32, 5, 5)),
                     "D/flat_b": np.zeros(4)})
    expected["G/untied_W"] = np.random.RandomState([2014, 6, 11]).uniform(-.5, .5, (3, 5, 5, 16))
    expected["G/untied_b"] = np.zeros((3, 12, 12))
    expected["G2/tied_W"] = np.random.RandomState([2014, 6, 12]).uniform(-.5, .5, (4, 4, 4, 16))
    expected["G2/tied_b"] = np.zeros(4)
    for side in (aesara, torch_):
        assert sorted(k[5:] for k in side if k.startswith("init/")) == sorted(expected)
        for name, value in expected.items():
            assert side[f"init/{name}"].dtype == np.float32
            np.testing.assert_array_equal(side[f"init/{name}"], value.astype(np.float32),
                                          err_msg=name)


def test_pooled_sizes_of_the_cifar10_conv_discriminator(float32):
    """cifar10_convolutional.yaml's conv layers on 32x32 c01b images (exact sizes): dh0 32 -> 33
    (pad 4, 8x8) -> 16 (pool 4 stride 2, ceil((33-4)/2)+1); h1 16 -> 15 (pad 3, 8x8) -> 7; h2
    7 -> 9 (pad 3, 5x5) -> 5 (pool 2 stride 2), in both backends' spaces and outputs."""
    expected = {"dh0": ((33, 33), (32, 16, 16, 2)), "h1": ((15, 15), (32, 7, 7, 2)),
                "h2": ((9, 9), (192, 5, 5, 2))}
    for backend in BACKENDS:
        for layer in build(backend)["real"].layers:
            detector, output = expected[layer.layer_name]
            assert layer.detector_space.shape == detector, (backend, layer.layer_name)
            assert layer.output_space.shape == output[1:3], (backend, layer.layer_name)
            assert tuple(float32[backend][f"real/{layer.layer_name}/shape"]) == output


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_matches_the_direct_numpy_reference(float64, inputs, backend):
    """float64, per backend: detector = correlation (no flip) + bias, within 1e-12 relative; output
    = adjacent-channel max of cuda-convnet's windowed max (partial last windows), EXACTLY (both
    orders: c1 pools first, c2 takes the channel max first -- the same values); the dense layer
    reads the c01b input flattened as ('b', 0, 1, 'c'); SpaceConverter's rows are (i*cols + j) *
    channels + c; Deconv = transposed correlation + bias (1e-12)."""
    arrays, _ = inputs
    values = float64[backend]
    p = {k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")}
    # Partial last windows: c1 pools a 10x10 detector layer (pool 3, stride 2) into 5x5, the last
    # window covering rows 8-9 only; c2 a 5x5 one (pool 2, stride 2) into 3x3, the last row 4 only.
    assert values["D/c1/pre"].shape[1:3] == (10, 10) and values["D/c1/out"].shape[1:3] == (5, 5)
    assert values["D/c2/pre"].shape[1:3] == (5, 5) and values["D/c2/out"].shape[1:3] == (3, 3)
    for layer, below, pad, tied, pool, pieces in (("c1", arrays["x_d"], 2, True, (3, 2), 2),
                                                  ("c2", values["D/c1/out"], 1, False, (2, 2), 2)):
        pre = values[f"D/{layer}/pre"]
        reference = correlation_c01b(below, p[f"D/{layer}_W"], p[f"D/{layer}_b"], pad, tied)
        assert relative_error(pre, reference) <= REFERENCE_BOUND, layer
        np.testing.assert_array_equal(values[f"D/{layer}/out"],
                                      adjacent_maxout(windowed_max(pre, *pool), pieces), layer)
    flat = b01c_rows(values["D/c2/out"]) @ p["D/flat_W"] + p["D/flat_b"]
    assert relative_error(values["D/flat/out"], flat) <= REFERENCE_BOUND
    rows = arrays["x_g"]
    np.testing.assert_array_equal(values["G/converter/out"],
                                  rows.reshape(BATCH, 4, 4, 16).transpose(3, 1, 2, 0))
    np.testing.assert_array_equal(values["G2/to_bc01/out"],
                                  rows.reshape(BATCH, 4, 4, 16).transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(values["G2/to_c01b/out"], values["G/converter/out"])
    for net, layer, stride, pad, tied in (("G", "untied", 3, 1, False), ("G2", "tied", 2, 0, True)):
        reference = transposed_correlation_c01b(values["G/converter/out"], p[f"{net}/{layer}_W"],
                                                p[f"{net}/{layer}_b"], stride, pad, tied)
        assert relative_error(values[f"{net}/{layer}/out"], reference) <= REFERENCE_BOUND, layer


def compare(values, floatx, parity_record, kind):
    a, t = values["legacy_aesara"], values["port_torch"]
    keys = [k for k in t if k.split("/")[0] in NETS and ("/grad/" in k) == (kind == "gradients")]
    assert len(keys) == (13 if kind == "gradients" else 10)
    for key in sorted(keys):
        assert a[key].dtype == t[key].dtype == np.dtype(floatx), key
        assert a[key].shape == t[key].shape, key
        parity_record(f"conv layers: {key} ({floatx})", "aesara/torch",
                      relative_error(a[key], t[key]), BOUNDS[floatx])


def test_float32_forward_values_agree(float32, parity_record):
    """Every layer's detector values and output (MaxoutConvC01B, SpaceConverter, Deconv, the dense
    layer on a conv output), float32: within 1e-5 of each array's absmax (convolution sums of up to
    144 products in different orders: ~1e-7 .. 1e-6; max and pooling select exactly)."""
    compare(float32, "float32", parity_record, "forward")


def test_float32_gradients_agree(float32, parity_record):
    """Gradients of sum(output * R) w.r.t. every W and b (tied and untied) and the input, through
    pooling, channel max, Deconv and SpaceConverter, float32: within 1e-5 of each array's absmax
    (the weight gradients sum up to a few hundred products per entry: ~1e-7 .. 1e-6)."""
    compare(float32, "float32", parity_record, "gradients")


def test_float64_forward_values_and_gradients_agree(float64, parity_record):
    """The same forward values and gradients in float64 (Aesara in a GAN2014_FLOATX=float64 child):
    within 1e-10 of each array's absmax (summation order at ~1e-16 per operation)."""
    compare(float64, "float64", parity_record, "forward")
    compare(float64, "float64", parity_record, "gradients")
