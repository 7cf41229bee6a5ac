"""Maxout layer as an Aesara graph (mirrors pylearn2/models/maxout.py :: Maxout, June 2014).

z = x.W + b over `num_units * num_pieces` detector columns, one bias per column (per piece); output
unit k is the max over the adjacent columns k*pool_stride ... k*pool_stride + num_pieces - 1.
"""
from collections import OrderedDict

import aesara.tensor as at
import numpy as np

from gan2014.models.init import draw_weights, initial_bias
from legacy_aesara.models.mlp import (Layer, VectorSpace, activation_channels, clip_column_norms,
                                      shared_floatx, weight_norm_channels)


class Maxout(Layer):
    """pylearn2/models/maxout.py :: Maxout (dense input)."""

    def __init__(self, layer_name, num_units, num_pieces, pool_stride=None,
                 randomize_pools=False, irange=None, sparse_init=None, sparse_stdev=1.,
                 include_prob=1.0, init_bias=0., W_lr_scale=None, b_lr_scale=None,
                 max_col_norm=None, max_row_norm=None, mask_weights=None, min_zero=False):
        if max_row_norm is not None:
            # As in Pylearn2 of June 2014.
            raise NotImplementedError("Maxout: max_row_norm is not implemented")
        if mask_weights is not None:
            raise NotImplementedError(f"layer {layer_name!r}: mask_weights is not supported by "
                                      "the legacy_aesara backend (no 2014 GAN config uses it)")
        self.layer_name = layer_name
        self.num_units = int(num_units)
        self.num_pieces = int(num_pieces)
        self.pool_size = self.num_pieces
        self.pool_stride = self.num_pieces if pool_stride is None else int(pool_stride)
        self.randomize_pools = randomize_pools
        self.irange = irange
        self.sparse_init = sparse_init
        self.sparse_stdev = sparse_stdev
        self.include_prob = include_prob
        self.W_lr_scale = W_lr_scale
        self.b_lr_scale = b_lr_scale
        self.max_col_norm = max_col_norm
        self.min_zero = min_zero
        self.detector_layer_dim = self.num_units * self.num_pieces
        # One bias per piece, created before the input space is known (as in Pylearn2).
        self.b = shared_floatx(initial_bias(self.detector_layer_dim, init_bias),
                               layer_name + "_b")

    def set_input_space(self, space):
        """Validate the pooling geometry and draw W from the MLP's RandomState."""
        self.input_space = space
        self.input_dim = space.get_total_dimension()
        remainder = (self.detector_layer_dim - self.pool_size) % self.pool_stride
        if remainder != 0:
            raise ValueError("detector_layer_dim = %d, pool_size = %d, pool_stride = %d: the "
                             "pools do not tile the detector layer (remainder %d)"
                             % (self.detector_layer_dim, self.pool_size, self.pool_stride,
                                remainder))
        self.pool_layer_dim = (self.detector_layer_dim - self.pool_size) // self.pool_stride + 1
        self.output_space = VectorSpace(self.pool_layer_dim)
        rng = self.mlp.rng
        W = draw_weights(rng, (self.input_dim, self.detector_layer_dim), irange=self.irange,
                         sparse_init=self.sparse_init, sparse_stdev=self.sparse_stdev,
                         include_prob=self.include_prob, layer_name=self.layer_name)
        self.W = shared_floatx(W, self.layer_name + "_W")
        if self.randomize_pools:
            # One randint per detector column, drawn after W, as Pylearn2 did.
            permute = np.zeros((self.detector_layer_dim, self.detector_layer_dim))
            for column in range(self.detector_layer_dim):
                permute[rng.randint(self.detector_layer_dim), column] = 1
            self.permute = shared_floatx(permute, self.layer_name + "_permute")

    def get_params(self):
        return [self.W, self.b]

    def get_lr_scalers(self):
        rval = OrderedDict()
        if self.W_lr_scale is not None:
            rval[self.W] = self.W_lr_scale
        if self.b_lr_scale is not None:
            rval[self.b] = self.b_lr_scale
        return rval

    def _modify_updates(self, updates):
        if self.max_col_norm is not None and self.W in updates:
            updates[self.W] = clip_column_norms(updates[self.W], 0, self.max_col_norm)

    def fprop(self, state_below):
        """Max over each unit's adjacent pieces, written as Pylearn2 wrote it: strided slices."""
        z = at.dot(state_below, self.W) + self.b
        if self.randomize_pools:
            z = at.dot(z, self.permute)
        p = 0. if self.min_zero else None
        last_start = self.detector_layer_dim - self.pool_size
        for piece in range(self.pool_size):
            cur = z[:, piece:last_start + piece + 1:self.pool_stride]
            p = cur if p is None else at.maximum(cur, p)
        p.name = self.layer_name + "_p_"
        return p

    def get_layer_monitoring_channels(self, state_below=None, state=None, targets=None):
        rval = weight_norm_channels(self.W)
        if state is None and state_below is not None:
            state = self.fprop(state_below)
        if state is not None:
            prefix = "" if self.pool_size == 1 else "p_"
            for key, value in activation_channels(state, separator=".").items():
                rval[prefix + key] = value
        return rval
