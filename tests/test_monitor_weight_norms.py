"""The monitor computes each weight's norm channels once per pass (port_torch/models/mlp.py ::
weights_fixed): the values are those of a fresh computation, and nothing is kept after the pass,
so the next pass sees the weights as training left them."""
import torch

from port_torch.models.mlp import weight_norm_channels, weights_fixed


def test_norms_are_reused_within_a_pass_and_recomputed_after_it():
    """Within a pass, a weight's channels are computed on first use and reused (the weights are
    fixed while the monitor runs); after it, a change made to the weights through `.data` (as the
    SGD updates them) shows at once. Exact: the same operations on the same values."""
    W = torch.rand(784, 240, generator=torch.Generator().manual_seed(0))
    fresh = weight_norm_channels(W)
    with weights_fixed():
        first = weight_norm_channels(W)
        W.data.mul_(2)
        again = weight_norm_channels(W)
    after = weight_norm_channels(W)
    assert list(first) == list(fresh)
    for key in fresh:
        assert torch.equal(first[key], fresh[key]) and torch.equal(again[key], fresh[key]), key
        assert torch.equal(after[key], fresh[key] * 2), key


def test_passes_do_not_share_norms():
    """A second pass (or one nested in another) starts empty: it computes the weights afresh.
    Exact: a row of 2.0s sums to exactly 8 and both sides take the float32 square root of 8; a
    reused norm (of the row of 1.0s) would be sqrt(2)."""
    W = torch.ones(3, 2)
    with weights_fixed():
        weight_norm_channels(W)
        W.data.fill_(2.0)
        with weights_fixed():
            inner = weight_norm_channels(W)
    assert inner["row_norms_max"].item() == torch.tensor(8.0).sqrt().item()
