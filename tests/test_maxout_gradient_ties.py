"""Where a maxout unit's pieces tie, every tied piece gets the unit's whole gradient.

Pylearn2's Maxout took the max as a chain maximum(cur, maximum(...)), and the 2014 Theano
differentiated maximum with `gx = eq(output, x) * gz; gy = eq(output, y) * gz`: each input equal
to the output got the whole gradient. torch's amax would share it out equally instead, and
Aesara's maximum gives it to one input; both backends are held to the 2014 rule here. Ties are
not a corner case of the conditional model: a row whose one-hot label D's input dropout removed
feeds the label branch zeros, so each unit's pieces equal their biases, all 0 at the start.
Tolerance: none (the gradients here are exact small integers).

The spatial max pooling of the convolutional maxout layers follows the same rule: cuda-convnet's
MaxPoolGrad (conv_util.cu :: kLocalMaxUndo) gave every pixel equal to its window's maximum that
window's whole gradient, and Aesara's pool gradient does the same; torch's max_pool2d backward would
pick one of them."""
import numpy as np
import pytest
import torch

from port_torch.models.maxout import Maxout, channel_maxout
from port_torch.training_algorithms.fused_step import activation_backward


def maxout_layer(num_units, num_pieces):
    return Maxout(layer_name="h", num_units=num_units, num_pieces=num_pieces, irange=0.005)


def test_dense_maxout_sends_the_whole_gradient_to_every_tied_piece():
    # Two units of four pieces: the first has a three-way tie at 3, the second one winner.
    a = torch.tensor([[3.0, 1.0, 3.0, 3.0, 0.5, 2.0, -1.0, 0.0]], requires_grad=True)
    out = maxout_layer(2, 4).activate(a)
    assert out.tolist() == [[3.0, 2.0]]
    (out * torch.tensor([[1.0, 10.0]])).sum().backward()
    assert a.grad.tolist() == [[1.0, 0.0, 1.0, 1.0, 0.0, 10.0, 0.0, 0.0]]


def test_channel_maxout_sends_the_whole_gradient_to_every_tied_piece():
    # c01b: 4 detector channels -> 2 output channels of 2 pieces; channel pair (0, 1) ties.
    z = torch.tensor([2.0, 2.0, -1.0, 5.0]).reshape(4, 1, 1, 1).requires_grad_()
    out = channel_maxout(z, 2)
    out.sum().backward()
    assert z.grad.flatten().tolist() == [1.0, 1.0, 0.0, 1.0]


def test_the_fused_backward_routes_ties_as_autograd_now_does():
    """fused_step.activation_backward (the hand-written maxout backward) and autograd through
    Maxout.activate give the same gradient, ties included."""
    a = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0, 1.5, 1.5, -2.0, 0.7, 0.1]], requires_grad=True)
    layer = maxout_layer(2, 5)
    out = layer.activate(a)
    delta = torch.tensor([[0.25, -4.0]])
    (out * delta).sum().backward()
    fused = activation_backward("maxout", 5, a.detach(), out.detach(), delta)
    assert torch.equal(fused, a.grad)
    assert a.grad.tolist() == [[0.25] * 5 + [-4.0, -4.0, 0.0, 0.0, 0.0]]


def test_the_aesara_maximum_chain_sends_the_whole_gradient_to_every_tied_piece():
    """legacy_aesara's Maxout (models/maxout.py :: maximum_of) on the same two units as above: the
    value is the plain maximum, the gradient the 2014 rule's."""
    import legacy_aesara  # noqa: F401  (sets Aesara's flags before Aesara is imported)
    import aesara
    import aesara.tensor as at
    from legacy_aesara.models.maxout import maximum_of

    x = at.matrix()
    out = maximum_of([x[:, piece::4] for piece in range(4)])
    weights = np.array([[1.0, 10.0]], dtype=aesara.config.floatX)
    value, grad = aesara.function([x], [out, aesara.grad((out * weights).sum(), x)])(
        np.array([[3.0, 1.0, 3.0, 3.0, 0.5, 2.0, -1.0, 0.0]], dtype=aesara.config.floatX))
    assert value.tolist() == [[3.0, 2.0]]
    assert grad.tolist() == [[1.0, 0.0, 1.0, 1.0, 0.0, 10.0, 0.0, 0.0]]


# ---------------------------------------------------------------- spatial max pooling (c01b)
# 2 channels, 7x7 pixels, 3 images, values in {0, 1, 2}: most windows have tied maxima. Pool 4,
# stride 2 (the CIFAR-10 discriminator's): 3 windows an axis, overlapping, the last one covering
# the 3 pixels that exist (cuda-convnet's partial last window).
POOL, STRIDE, SIZE = (4, 4), (2, 2), 7


def tied_pool_input():
    rng = np.random.RandomState(7)
    x = rng.randint(0, 3, size=(2, SIZE, SIZE, 3)).astype(np.float64)
    weights = rng.randint(1, 5, size=(2, 3, 3, 3)).astype(np.float64)
    return x, weights


def pool_reference(x, weights):
    """MaxPool and kLocalMaxUndo written out: value and gradient of sum(pool(x) * weights)."""
    out = np.zeros(weights.shape)
    grad = np.zeros(x.shape)
    for r in range(out.shape[1]):
        for c in range(out.shape[2]):
            rows = slice(r * STRIDE[0], min(r * STRIDE[0] + POOL[0], SIZE))
            cols = slice(c * STRIDE[1], min(c * STRIDE[1] + POOL[1], SIZE))
            window = x[:, rows, cols, :]
            out[:, r, c, :] = window.max(axis=(1, 2))
            grad[:, rows, cols, :] += (window == out[:, r, c, None, None, :]) \
                * weights[:, r, c, None, None, :]
    return out, grad


def test_the_pool_reference_has_ties_to_route():
    """The input is a real test of the rule: many windows tie, and giving the gradient to one
    tied pixel per window instead changes the answer."""
    x, weights = tied_pool_input()
    out, grad = pool_reference(x, weights)
    assert grad.sum() > (weights.sum() + 10)      # ties add gradient beyond one pixel a window


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_max_pool_sends_the_whole_gradient_to_every_tied_pixel(dtype):
    from port_torch.linear.conv2d_c01b import max_pool_c01b

    x, weights = tied_pool_input()
    expected_out, expected_grad = pool_reference(x, weights)
    xt = torch.tensor(x, dtype=dtype, requires_grad=True)
    out = max_pool_c01b(xt, POOL, STRIDE)
    (out * torch.tensor(weights, dtype=dtype)).sum().backward()
    assert np.array_equal(out.detach().double().numpy(), expected_out)
    assert np.array_equal(xt.grad.double().numpy(), expected_grad)


def test_the_aesara_max_pool_sends_the_whole_gradient_to_every_tied_pixel():
    import legacy_aesara  # noqa: F401  (sets Aesara's flags before Aesara is imported)
    import aesara
    import aesara.tensor as at
    from legacy_aesara.linear.conv2d_c01b import max_pool_c01b

    x, weights = tied_pool_input()
    expected_out, expected_grad = pool_reference(x, weights)
    floatx = aesara.config.floatX
    xs = at.tensor4(dtype=floatx)
    out = max_pool_c01b(xs, POOL, STRIDE, (SIZE, SIZE))
    value, grad = aesara.function([xs], [out, aesara.grad((out * weights.astype(floatx)).sum(),
                                                          xs)])(x.astype(floatx))
    assert np.array_equal(value, expected_out)
    assert np.array_equal(grad, expected_grad)
