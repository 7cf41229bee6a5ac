"""The monitor computes each weight's norm channels once per pass, and propagates a batch through an
MLP once however many channels ask for it (port_torch/models/mlp.py :: weights_fixed): the values
are those of a fresh computation, and nothing is kept after the pass, so the next pass sees the
weights as training left them."""
import torch

from port_torch.models.maxout import Maxout
from port_torch.models.mlp import MLP, Sigmoid, weight_norm_channels, weights_fixed


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


def small_mlp():
    return MLP(layers=[Maxout(layer_name="h0", num_units=4, num_pieces=3, irange=.5),
                       Sigmoid(layer_name="y", dim=1, irange=.5)], nvis=6, seed=3)


def counting(mlp):
    """Count the affine maps the MLP computes (one per layer per propagation)."""
    calls = []
    for layer in mlp.layers:
        affine = layer.affine
        layer.affine = lambda x, affine=affine: calls.append(1) or affine(x)
    return calls


@torch.no_grad()
def test_a_batch_is_propagated_once_per_pass():
    """Within a pass, the same batch tensor given twice (D(X) for the error rate, then D's layer
    channels on X, with another batch between them as in the monitor) is propagated once, and the
    states are those of a fresh propagation; an equal but distinct tensor is propagated afresh.
    Exact: the same operations on the same values."""
    mlp = small_mlp()
    X = torch.rand(5, 6, generator=torch.Generator().manual_seed(1))
    other = torch.rand(5, 6, generator=torch.Generator().manual_seed(2))
    fresh = [state.clone() for state in mlp.layer_states(X)]
    calls = counting(mlp)
    with weights_fixed():
        out = mlp(X)
        mlp(other)
        channels = mlp.monitoring_channels(X)
        assert len(calls) == 2 * len(mlp.layers)
        mlp(X.clone())
        assert len(calls) == 3 * len(mlp.layers)
    assert torch.equal(out, fresh[-1])
    assert torch.equal(channels["h0_p_max_x.max_u"], fresh[0].max(dim=0).values.max())


def test_nothing_is_kept_outside_a_pass_or_under_autograd():
    """Outside a pass every call propagates (training changes the weights between calls); inside
    one, a call that records gradients (the monitor's sample_grad_norm) propagates too, so that its
    graph exists. After the pass, a weight change shows at once. Exact."""
    mlp = small_mlp()
    X = torch.rand(5, 6, generator=torch.Generator().manual_seed(1))
    calls = counting(mlp)
    with torch.no_grad():
        mlp(X)
        mlp(X)
    assert len(calls) == 2 * len(mlp.layers)
    with weights_fixed():
        first = mlp(X)
        second = mlp(X)
        assert second.requires_grad and len(calls) == 4 * len(mlp.layers)
    with torch.no_grad():
        with weights_fixed():
            before = mlp(X)
        mlp.layers[-1].b.data.add_(1.0)
        with weights_fixed():
            after = mlp(X)
    assert torch.equal(first, second) and not torch.equal(before, after)
