"""pylearn2/models/maxout.py :: Maxout as a torch module.

A unit's pieces are ADJACENT columns of the detector layer: unit k is the max over columns
k*num_pieces ... k*num_pieces + num_pieces - 1, so a reshape to (batch, units, pieces) groups them.
There is one bias per piece (per detector column), as in Pylearn2.
"""
import torch

from port_torch.models.mlp import Linear, state_channels, weight_norm_channels


class Maxout(Linear):
    """Maxout(layer_name, num_units, num_pieces, ...): z = x @ W + b, then a max over each group."""

    kind = "maxout"

    def __init__(self, layer_name, num_units, num_pieces, pool_stride=None, randomize_pools=False,
                 irange=None, sparse_init=None, sparse_stdev=1., include_prob=1., init_bias=0.,
                 W_lr_scale=None, b_lr_scale=None, max_col_norm=None, max_row_norm=None,
                 mask_weights=None, min_zero=False):
        if max_row_norm is not None:
            raise NotImplementedError("Maxout: max_row_norm (Pylearn2 raised this too)")
        if pool_stride not in (None, num_pieces) or randomize_pools or min_zero:
            raise NotImplementedError(f"Maxout {layer_name!r}: only non-overlapping pools of adjacent "
                                      "columns (pool_stride = num_pieces, no randomize_pools, "
                                      "no min_zero) are implemented")
        self.num_units, self.num_pieces = int(num_units), int(num_pieces)
        super().__init__(dim=self.num_units, layer_name=layer_name, irange=irange,
                         sparse_init=sparse_init, sparse_stdev=sparse_stdev,
                         include_prob=include_prob, init_bias=init_bias, W_lr_scale=W_lr_scale,
                         b_lr_scale=b_lr_scale, max_col_norm=max_col_norm, mask_weights=mask_weights)

    def output_width(self):
        """The detector width (columns of W, entries of b)."""
        return self.num_units * self.num_pieces

    def output_width_after_pooling(self):
        return self.num_units

    def activate(self, a):
        return a.view(*a.shape[:-1], self.num_units, self.num_pieces).amax(dim=-1)

    @torch.no_grad()
    def monitoring_channels(self, state):
        """Maxout.get_layer_monitoring_channels: norms, then 'p_' stats with dotted names."""
        channels = weight_norm_channels(self.W)
        channels.update(state_channels(state, prefix="p_" if self.num_pieces > 1 else "", sep="."))
        return channels
