"""The fused step's maxout backward (port_torch/training_algorithms/fused_step.py ::
activation_backward): Theano's rule for the gradient of a max, every piece equal to its unit's max
gets the unit's whole delta and the others +0."""
import pytest
import torch

from port_torch.training_algorithms.fused_step import activation_backward, smallest_subnormal


def reference(a, out, delta, pieces):
    """The rule written out element by element."""
    routed = torch.zeros_like(a)
    for row in range(a.shape[0]):
        for unit in range(out.shape[1]):
            for piece in range(pieces):
                column = unit * pieces + piece
                if a[row, column] == out[row, unit]:
                    routed[row, column] = delta[row, unit]
    return routed


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ties_and_near_ties_are_routed_by_the_2014_rule(dtype):
    """Ties (two and three pieces equal to the max) each get the full delta; pieces below the max
    by one ulp, and by the smallest subnormal next to a max of 0, get none; a negative delta gives
    -delta at winners and +0 (not -0) elsewhere. Exact, signs of zero included: selection is a
    comparison, never arithmetic on delta."""
    pieces, tiny = 3, smallest_subnormal(dtype)
    one_below = torch.nextafter(torch.tensor(1.0, dtype=dtype), torch.tensor(0.0, dtype=dtype))
    a = torch.tensor([[1.0, 1.0, 0.5, 0.0, -tiny, -1.0],
                      [2.0, 2.0, 2.0, one_below.item(), 1.0, -3.0]], dtype=dtype)
    out = a.unflatten(-1, (-1, pieces)).amax(dim=-1)
    delta = torch.tensor([[-0.75, 2.5], [1.25, -4.0]], dtype=dtype)
    routed = activation_backward("maxout", pieces, a, out, delta)
    expected = reference(a, out, delta, pieces)
    assert torch.equal(routed, expected)
    assert torch.equal(torch.signbit(routed), torch.signbit(expected))
    assert routed[0, 4].item() == 0.0 and routed[1, 3].item() == 0.0


def test_random_batches_match_the_rule_with_a_model_axis():
    """A (K, rows, units * pieces) batch, as the batched path passes it, with ties planted in a
    tenth of the units. Exact."""
    g = torch.Generator().manual_seed(0)
    K, rows, units, pieces = 2, 6, 7, 5
    a = torch.randn(K, rows, units * pieces, generator=g)
    a[..., 1::10] = a[..., 0::10][..., :a[..., 1::10].shape[-1]]
    out = a.unflatten(-1, (-1, pieces)).amax(dim=-1)
    delta = torch.randn(K, rows, units, generator=g)
    routed = activation_backward("maxout", pieces, a, out, delta)
    for k in range(K):
        assert torch.equal(routed[k], reference(a[k], out[k], delta[k], pieces))
