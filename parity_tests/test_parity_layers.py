"""Forward values of every layer: Aesara and PyTorch agree layer by layer.

Both backends are built from the unmodified mnist.yaml and given the same perturbed parameters, the
same real MNIST batch X, the same noise z and the same dropout masks (parity_tests/trajectory.py ::
make_inputs, step 0). parity_tests/layers_worker.py computes, with each backend's own layer code
(the Aesara layers' fprop in the backend's MLP.fprop / MLP.dropout_fprop graph, compiled into one
aesara.function; the torch layers' affine/activate inside the backend's MLP.logits loop):

* G on z: h0, h1 (rectified linear) and y (sigmoid), pre-activation and output of each;
* D on X and on S = G(z) (each backend's own S, as in training): h0 and h1 (maxout: the pre-max
  detector values x.W + b and the maxout output) and y (logit and sigmoid);
* D with dropout as in training -- each layer's input multiplied by its 0/1 mask and the cost's
  scale: include .8 -> x1.25 on D's input (h0), .5 -> x2 on h1's and y's inputs -- and without.
  G has no dropout in mnist.yaml (AdversaryCost2's generator include probability is 1), so training
  runs it as a plain forward pass and it is compared once.

Error measure: max |a - b| / max |b| per array (relative to the array's absmax, so a near-zero
entry is not divided by itself).

Tolerances, and why:
* float32: 1e-5. Each layer is a matrix product of length 100 (G/h0), 1200 (G/h1, G/y), 784 (D/h0)
  or 240 (D/h1, D/y); the two backends' BLAS libraries (SciPy's OpenBLAS linked by Aesara's Gemm,
  PyTorch's MKL) block and order those sums differently, and float32 rounding (6e-8 per operation)
  then differs by ~1e-7 .. 1e-6 of the array's scale (measured: 6.0e-7 at worst, D/h0 on S, which
  also inherits G's differences through S; G/h0, a length-100 product, agreed exactly). ReLU and
  maxout are 1-Lipschitz (a near-tie between pieces that rounding flips changes the max by no more
  than the rounding itself) and the sigmoid is 1/4-Lipschitz, so nothing amplifies the rounding
  along the chain. A wrong formula (a
  missing bias, a wrong piece grouping, a mask on the wrong layer or a wrong scale) shows up at
  1e-2 or more.
* float64: 1e-9. The same sums in float64 (1.1e-16 per operation) differ by ~1e-15 of the array's
  scale (measured: 6.1e-15 at worst, G/y's pre-activation); 1e-9 leaves six orders of margin for
  summation order and threading, and is still seven orders below any formula error. The float64
  Aesara side runs in a child process started with GAN2014_FLOATX=float64, since Aesara fixes
  floatX at import.

Every measurement goes through the `parity_record` fixture (pair "aesara/torch").
"""
import numpy as np
import pytest

from parity_tests.children import AesaraChild
from parity_tests.conftest import mnist_or_skip
from parity_tests.layers_worker import D_LAYERS, G_LAYERS, HALVES, compute
from parity_tests.trajectory import build, make_inputs
from parity_tests.helpers import relative_error

F32_BOUND = 1e-5
F64_BOUND = 1e-9
BOUNDS = {"float32": F32_BOUND, "float64": F64_BOUND}
# The dropout of mnist.yaml's AdversaryCost2 on D's layer inputs: (include probability, scale).
TRAINING_DROPOUT = [(.8, 1.25), (.5, 2.), (.5, 2.)]
G_NAMES = {"h0": ("G/h0 pre-activation", "G/h0 output (rectified linear)"),
           "h1": ("G/h1 pre-activation", "G/h1 output (rectified linear)"),
           "y": ("G/y pre-activation", "G/y output (sigmoid, = S)")}
D_NAMES = {"h0": ("D/h0 pre-max detector values", "D/h0 maxout output"),
           "h1": ("D/h1 pre-max detector values", "D/h1 maxout output"),
           "y": ("D/y logit", "D/y output (sigmoid)")}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    mnist_or_skip()
    arrays = make_inputs(build("port_torch"), 1)
    path = tmp_path_factory.mktemp("layers") / "inputs.npz"
    np.savez(path, **arrays)
    return arrays, path


@pytest.fixture(scope="module")
def float32(inputs):
    arrays, _ = inputs
    return {backend: compute(backend, arrays, "float32")
            for backend in ("legacy_aesara", "port_torch")}


@pytest.fixture(scope="module")
def float64(inputs, tmp_path_factory):
    arrays, in_path = inputs
    out_path = tmp_path_factory.mktemp("layers64") / "aesara64.npz"
    with AesaraChild("layers_worker", ["legacy_aesara", in_path, out_path, "float64"],
                     out_path) as child:
        torch64 = compute("port_torch", arrays, "float64")
        return {"legacy_aesara": child.arrays(), "port_torch": torch64}


def check_dtype(values, floatx):
    for side in ("legacy_aesara", "port_torch"):
        for key, array in values[side].items():
            if key != "settings":
                assert array.dtype == np.dtype(floatx), f"{side} {key}: {array.dtype}, not {floatx}"


def check_generator(values, floatx, parity_record):
    check_dtype(values, floatx)
    a, t = values["legacy_aesara"], values["port_torch"]
    assert a["G/y/out"].shape == t["G/y/out"].shape == (100, 784)
    for layer in G_LAYERS:
        for kind, name in zip(("pre", "out"), G_NAMES[layer]):
            key = f"G/{layer}/{kind}"
            parity_record(f"{name} on z ({floatx})", "aesara/torch", relative_error(a[key], t[key]),
                          BOUNDS[floatx])
    # `pre` is taken before the activation on both sides: negative entries that ReLU zeroes.
    for side in (a, t):
        for layer in ("h0", "h1"):
            pre, out = side[f"G/{layer}/pre"], side[f"G/{layer}/out"]
            assert (pre < 0).any() and np.array_equal(out, np.maximum(pre, 0)), layer


def check_discriminator(values, floatx, mode, parity_record):
    check_dtype(values, floatx)
    a, t = values["legacy_aesara"], values["port_torch"]
    # Both backends resolve the cost's dropout options to the training settings.
    for side in (a, t):
        np.testing.assert_allclose(side["settings"], TRAINING_DROPOUT)
    assert a[f"D/X/{mode}/h0/pre"].shape == t[f"D/X/{mode}/h0/pre"].shape == (100, 1200)
    assert a[f"D/S/{mode}/h1/out"].shape == t[f"D/S/{mode}/h1/out"].shape == (100, 240)
    assert a[f"D/X/{mode}/y/out"].shape == t[f"D/X/{mode}/y/out"].shape == (100, 1)
    label = "dropout" if mode == "dropout" else "no dropout"
    for half in HALVES:
        for layer in D_LAYERS:
            for kind, name in zip(("pre", "out"), D_NAMES[layer]):
                key = f"D/{half}/{mode}/{layer}/{kind}"
                parity_record(f"{name} on {half} ({floatx}, {label})", "aesara/torch",
                              relative_error(a[key], t[key]), BOUNDS[floatx])
    if mode == "dropout":
        # The masks matter: with them D's layers differ from the plain pass by far more than the
        # tolerance, so the comparison above really checks the masked computation.
        for half in HALVES:
            for layer in D_LAYERS:
                key = f"D/{half}/dropout/{layer}/pre"
                assert relative_error(t[key], t[key.replace("dropout", "nodrop")]) > 1e-2, key


def test_float32_generator_layers(float32, parity_record):
    """G's h0, h1, y on z (pre-activations and outputs), float32: agree within 1e-5 of each array's
    absmax. Why 1e-5: float32 BLAS products of length 100/1200 summed in different orders by the two
    backends differ by ~1e-7 .. 1e-6 relative (measured 4.4e-7 at worst); ReLU and sigmoid do not
    amplify it."""
    check_generator(float32, "float32", parity_record)


def test_float32_discriminator_layers_with_dropout(float32, parity_record):
    """D's h0, h1 (pre-max detector values and maxout outputs) and y (logit and sigmoid) on X and on
    S = G(z), with the training dropout masks on each layer's input (x1.25 on h0's, x2 on h1's and
    y's), float32: agree within 1e-5 of each array's absmax. Why 1e-5: BLAS summation order over
    products of length 784/240 (5.2e-7 measured at worst, D on S including G's rounding through S);
    maxout and sigmoid are Lipschitz with constant <= 1, so they do not amplify it."""
    check_discriminator(float32, "float32", "dropout", parity_record)


def test_float32_discriminator_layers_without_dropout(float32, parity_record):
    """D's h0, h1 (pre-max detector values and maxout outputs) and y (logit and sigmoid) on X and on
    S = G(z) without dropout (plain fprop), float32: agree within 1e-5 of each array's absmax, for
    the same reason as with dropout (BLAS summation order, 6.0e-7 measured at worst)."""
    check_discriminator(float32, "float32", "nodrop", parity_record)


def test_float64_generator_layers(float64, parity_record):
    """G's h0, h1, y on z (pre-activations and outputs), float64 (Aesara in a GAN2014_FLOATX=float64
    child): agree within 1e-9 of each array's absmax. Why 1e-9: the same sums in float64 differ by
    ~1e-15 relative (6.1e-15 measured); 1e-9 is a wide margin for summation order, far below any
    formula error."""
    check_generator(float64, "float64", parity_record)


def test_float64_discriminator_layers_with_dropout(float64, parity_record):
    """D's h0, h1 (detector values, maxout outputs) and y (logit, sigmoid) on X and on S = G(z),
    with the training dropout masks and scales, float64: agree within 1e-9 of each array's absmax.
    Why: float64 summation-order differences are ~1e-15 relative; 1e-9 is margin, not slack for
    errors."""
    check_discriminator(float64, "float64", "dropout", parity_record)


def test_float64_discriminator_layers_without_dropout(float64, parity_record):
    """D's h0, h1 (detector values, maxout outputs) and y (logit, sigmoid) on X and on S = G(z),
    without dropout, float64: agree within 1e-9 of each array's absmax (float64 summation order,
    ~1e-15 relative, with a wide margin)."""
    check_discriminator(float64, "float64", "nodrop", parity_record)
