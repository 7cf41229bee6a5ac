"""port_torch's one norm projection (models/mlp.py :: clip_norms_), which both the layers'
constrain_ and the fused / CUDA-graph step apply: Pylearn2's Linear._modify_updates."""
import pytest

torch = pytest.importorskip("torch")

from port_torch.models.mlp import clip_norms_  # noqa: E402

REL = 1e-6   # float32: W * clip(n) / (1e-7 + n) is the limit to a few ulps


def weights(*shape):
    generator = torch.Generator().manual_seed(2014)
    return torch.randn(*shape, generator=generator) * torch.linspace(0.2, 3.0, shape[-1])


def test_max_col_norm_clips_only_the_long_columns():
    """Property: after the projection every column's norm is at most max_col_norm (relative 1e-6:
    float32 rounding of the scale); columns longer than the limit end at it, the others keep their
    norm (their scale n / (1e-7 + n) is 1 to within 1e-6)."""
    W = weights(30, 12)
    before = W.norm(dim=0)
    clip_norms_(W, max_col_norm=1.9365)
    after = W.norm(dim=0)
    expected = before.clamp(max=1.9365)
    assert torch.allclose(after, expected, rtol=REL, atol=0)
    assert (before > 1.9365).any() and (before < 1.9365).any()   # both cases occur


def test_min_col_norm_alone_lifts_short_columns_up_to_the_longest():
    """Property: with only min_col_norm, short columns are scaled up to it and the bound above is
    the longest column's own norm, so no column shrinks (relative 1e-6)."""
    W = weights(30, 12)
    before = W.norm(dim=0)
    clip_norms_(W, min_col_norm=float(before.median()))
    assert torch.allclose(W.norm(dim=0), before.clamp(min=float(before.median())), rtol=REL,
                          atol=0)


def test_max_row_norm_clips_rows():
    """Property: max_row_norm bounds each row (an input's weights), not each column (rel 1e-6)."""
    W = weights(12, 30)
    before = W.norm(dim=1)
    clip_norms_(W, max_row_norm=2.5)
    assert torch.allclose(W.norm(dim=1), before.clamp(max=2.5), rtol=REL, atol=0)


@pytest.mark.parametrize("limits", [{"max_col_norm": 1.9365}, {"min_col_norm": 1.0},
                                    {"max_row_norm": 2.5}])
def test_stacked_models_are_projected_each_on_its_own(limits):
    """Property: K models stacked on a leading axis (the batched path's layout) come out exactly,
    bit for bit, as each model projected alone: the reductions run over the last two axes only."""
    stacked = weights(3, 20, 8)
    alone = [stacked[k].clone() for k in range(3)]
    clip_norms_(stacked, **limits)
    for k, W in enumerate(alone):
        clip_norms_(W, **limits)
        assert torch.equal(stacked[k], W)
