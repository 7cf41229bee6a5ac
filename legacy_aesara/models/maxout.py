"""Maxout layers as Aesara graphs (mirrors pylearn2/models/maxout.py, June 2014).

* Maxout: z = x.W + b over `num_units * num_pieces` detector columns, one bias per column (per
  piece); output unit k is the max over the adjacent columns k*pool_stride ... + num_pieces - 1.
* MaxoutConvC01B: a cuda-convnet convolution of a c01b input into `num_channels * num_pieces`
  detector channels, a max over each group of `num_pieces` ADJACENT channels, and spatial max
  pooling with cuda-convnet's output size (legacy_aesara/linear/conv2d_c01b.py).
"""
from collections import OrderedDict

import aesara.tensor as at
from aesara.gradient import disconnected_grad
import numpy as np

from gan2014.config.checks import check_layer_numbers, check_positive_int
from gan2014.linear.conv2d_c01b import (C01B, DetectorGeometry, PoolGeometry, initial_conv_bias,
                                        make_random_filters)
from gan2014.models.init import draw_weights, initial_bias
from legacy_aesara.linear.conv2d_c01b import lmul, max_pool_c01b
from legacy_aesara.models.mlp import (Layer, VectorSpace, activation_channels, clip_column_norms,
                                      shared_floatx, weight_bias_lr_scalers,
                                      weight_norm_channels)
from legacy_aesara.space import Conv2DSpace, format_as


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
        check_layer_numbers(layer_name, W_lr_scale=W_lr_scale, b_lr_scale=b_lr_scale,
                            sparse_stdev=sparse_stdev, include_prob=include_prob,
                            max_col_norm=max_col_norm)
        self.layer_name = layer_name
        owner = f"Maxout {layer_name!r}"
        self.num_units = check_positive_int(owner, "num_units", num_units, allow_none=False)
        self.num_pieces = check_positive_int(owner, "num_pieces", num_pieces, allow_none=False)
        self.pool_size = self.num_pieces
        self.pool_stride = check_positive_int(owner, "pool_stride", pool_stride) or self.num_pieces
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
        self.b = shared_floatx(initial_bias(self.detector_layer_dim, init_bias, layer_name),
                               layer_name + "_b")

    def set_input_space(self, space):
        """Validate the pooling geometry and draw W from the MLP's RandomState."""
        self.input_space = space
        self.input_dim = space.get_total_dimension()
        # A conv layer's output is flattened in ('b', 0, 1, 'c') order (Pylearn2's reformat).
        self.requires_reformat = not isinstance(space, VectorSpace)
        self.desired_space = VectorSpace(self.input_dim)
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
        return weight_bias_lr_scalers(self)

    def _modify_updates(self, updates):
        if self.max_col_norm is not None and self.W in updates:
            updates[self.W] = clip_column_norms(updates[self.W], 0, self.max_col_norm)

    def fprop(self, state_below):
        """Max over each unit's adjacent pieces, written as Pylearn2 wrote it: strided slices."""
        if self.requires_reformat:
            state_below = format_as(state_below, self.input_space, self.desired_space)
        z = at.dot(state_below, self.W) + self.b
        if self.randomize_pools:
            z = at.dot(z, self.permute)
        pieces = [0.] if self.min_zero else []
        last_start = self.detector_layer_dim - self.pool_size
        for piece in range(self.pool_size):
            cur = z[:, piece:last_start + piece + 1:self.pool_stride]
            pieces.append(cur)
        p = maximum_of(pieces)
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


class MaxoutConvC01B(Layer):
    """pylearn2/models/maxout.py :: MaxoutConvC01B -- convolutional maxout on c01b tensors.

    * W: (input channels [+ dummy channels], rows, cols, num_channels * num_pieces), one
      U(-irange, irange) draw from the MLP's RandomState when the input space is set
      (conv2d_c01b.py :: make_random_conv2D); b: one per detector channel (`tied_b`), or one per
      detector channel and position, created with W (no draw).
    * fprop: z = correlation(x, W) (zero padding `pad`) + b; output channel j is the max over the
      adjacent detector channels j*num_pieces ... j*num_pieces + num_pieces - 1 (z[i::num_pieces]);
      then max pooling (cuda-convnet sizes, the last window partial). As in 2014 the channel max
      comes first when num_channels is a multiple of 16 and after the pooling otherwise (both orders
      give the same values: max is max).
    * `partial_sum` only traded speed for memory in cuda-convnet's weight gradient: accepted,
      ignored.
    * `max_kernel_norm` clips each output kernel's L2 norm (over input channels, rows, cols).
    """

    def __init__(self, num_channels, num_pieces, kernel_shape, pool_shape, pool_stride, layer_name,
                 irange=None, init_bias=0., W_lr_scale=None, b_lr_scale=None, pad=0,
                 fix_pool_shape=False, fix_pool_stride=False, fix_kernel_shape=False,
                 partial_sum=1, tied_b=False, max_kernel_norm=None, input_normalization=None,
                 detector_normalization=None, min_zero=False, output_normalization=None,
                 kernel_stride=(1, 1)):
        refuse_conv_options(layer_name, input_normalization=input_normalization,
                            detector_normalization=detector_normalization,
                            output_normalization=output_normalization)
        if irange is None:
            raise ValueError(f"layer {layer_name!r}: MaxoutConvC01B needs irange (its filters are "
                             "drawn from U(-irange, irange))")
        check_layer_numbers(layer_name, W_lr_scale=W_lr_scale, b_lr_scale=b_lr_scale,
                            max_kernel_norm=max_kernel_norm)
        self.layer_name = layer_name
        self.num_channels = int(num_channels)
        self.num_pieces = int(num_pieces)
        self.detector_channels = self.num_channels * self.num_pieces
        self.kernel_shape, self.pool_shape, self.pool_stride = kernel_shape, pool_shape, pool_stride
        self.kernel_stride = kernel_stride
        self.irange, self.init_bias, self.pad = irange, init_bias, pad
        self.W_lr_scale, self.b_lr_scale = W_lr_scale, b_lr_scale
        self.fix_pool_shape, self.fix_pool_stride = fix_pool_shape, fix_pool_stride
        self.fix_kernel_shape = fix_kernel_shape
        self.partial_sum = partial_sum
        self.tied_b = bool(tied_b)
        self.max_kernel_norm = max_kernel_norm
        self.min_zero = min_zero

    def set_input_space(self, space):
        """setup_detector_layer_c01b (draws W), then the pooling checks and the output space."""
        geometry = DetectorGeometry(space, self.kernel_shape, self.pad, self.detector_channels,
                                    self.layer_name, self.kernel_stride, self.fix_kernel_shape)
        self.input_space = space
        self.geometry = geometry
        self.detector_space = geometry.detector_space
        W = make_random_filters(self.mlp.rng, geometry.filter_shape[0], geometry.kernel_shape,
                                self.detector_channels, self.irange, self.layer_name)
        self.W = shared_floatx(W, self.layer_name + "_W")
        self.b = shared_floatx(initial_conv_bias(self.detector_space, self.tied_b, self.init_bias),
                               self.layer_name + "_b")
        self.pool = PoolGeometry(self.detector_space.shape, self.pool_shape, self.pool_stride,
                                 self.layer_name, self.fix_pool_shape, self.fix_pool_stride)
        self.output_space = Conv2DSpace(self.pool.output_shape, num_channels=self.num_channels,
                                        axes=C01B)

    def get_params(self):
        return [self.W, self.b]

    def get_lr_scalers(self):
        return weight_bias_lr_scalers(self)

    def _modify_updates(self, updates):
        if self.max_kernel_norm is not None and self.W in updates:
            updates[self.W] = clip_kernel_norms(updates[self.W], self.max_kernel_norm)

    def detector(self, state_below):
        """z = correlation(x, W) + b: the detector layer, c01b (named `<layer>_z` as in 2014)."""
        g = self.geometry
        z = lmul(state_below, self.W, g.pad, g.kernel_stride[0], self.input_space.shape,
                 g.filter_shape, input_channels=g.input_channels)
        b = self.b.dimshuffle(0, "x", "x", "x") if self.tied_b else self.b.dimshuffle(0, 1, 2, "x")
        z = z + b
        z.name = self.layer_name + "_z"
        return z

    def fprop(self, state_below):
        z = self.detector(state_below)
        if self.num_channels % 16 == 0:
            p = self._pool(channel_maxout(z, self.num_pieces))
        else:
            p = channel_maxout(self._pool(z), self.num_pieces)
        if self.min_zero:
            p = p * (p > 0.)
        return p

    def _pool(self, z):
        return max_pool_c01b(z, self.pool.pool_shape, self.pool.pool_stride,
                             self.detector_space.shape)

    def get_layer_monitoring_channels(self, state_below=None, state=None, targets=None):
        """kernel_norms_{min,mean,max}, then per-channel statistics of the output."""
        rval = kernel_norm_channels(self.W)
        if state is None and state_below is not None:
            state = self.fprop(state_below)
        if state is not None:
            rval.update(c01b_activation_channels(state))
        return rval


def refuse_conv_options(layer_name, **options):
    used = [name for name, value in options.items() if value is not None]
    if used:
        raise NotImplementedError(f"layer {layer_name!r}: {used} not supported by legacy_aesara "
                                  "(no 2014 GAN config uses them)")


def channel_maxout(z, num_pieces):
    """Output channel j = max over detector channels j*k ... j*k + k - 1 (k = num_pieces), written
    as Pylearn2 wrote it: the elementwise max of the strided slices z[i::k]."""
    if num_pieces == 1:
        return z
    return maximum_of([z[piece::num_pieces, :, :, :] for piece in range(num_pieces)])


def maximum_of(pieces):
    """The elementwise maximum of `pieces`, differentiated as the 2014 Theano differentiated the
    chain maximum(cur, maximum(...)) that Pylearn2 wrote: its Maximum.grad gave gz to each input
    equal to the output (theano/scalar/basic.py, `gx = eq(output, x) * gz; gy = eq(output, y) *
    gz`), so EVERY piece equal to the maximum receives the whole gradient. Aesara's maximum gives
    a tie's gradient to one input only; ties are real in the conditional model's D, whose label
    branch sees all-zero inputs where dropout removed the label (its pieces then equal their
    biases, all 0 at the start).

    The value is the chain's, plus exact zeros: each (piece - piece) term is 0, and carries the
    gradient eq(piece, maximum) * gz to its piece alone."""
    chain = None
    for piece in pieces:
        chain = piece if chain is None else at.maximum(piece, chain)
    held = disconnected_grad(chain)
    routed = [(piece - disconnected_grad(piece)) * at.eq(piece, held) for piece in pieces
              if not isinstance(piece, float)]
    return held + sum(routed[1:], routed[0])


def clip_kernel_norms(updated_W, max_kernel_norm):
    """MaxoutConvC01B._modify_updates: each output kernel W[..., o] rescaled to norm <= limit,
    W * clip(n, 0, limit) / (1e-7 + n)."""
    norms = at.sqrt(at.sum(at.square(updated_W), axis=(0, 1, 2)))
    scales = at.clip(norms, 0, max_kernel_norm) / (1e-7 + norms)
    return updated_W * scales.dimshuffle("x", "x", "x", 0)


def kernel_norm_channels(W):
    norms = at.sqrt(at.square(W).sum(axis=(0, 1, 2)))
    return OrderedDict([("kernel_norms_min", norms.min()), ("kernel_norms_mean", norms.mean()),
                        ("kernel_norms_max", norms.max())])


def c01b_activation_channels(state):
    """The conv layers' activation statistics: per channel the max/min/mean over rows, columns
    and examples (axes 1, 2, 3 of c01b), each reduced over channels; dotted names (max_x.max_u)."""
    v_max = state.max(axis=(1, 2, 3))
    v_min = state.min(axis=(1, 2, 3))
    v_mean = state.mean(axis=(1, 2, 3))
    v_range = v_max - v_min
    rval = OrderedDict()
    for stat, per_channel in (("max_x", v_max), ("min_x", v_min), ("range_x", v_range),
                              ("mean_x", v_mean)):
        rval[stat + ".max_u"] = per_channel.max()
        rval[stat + ".mean_u"] = per_channel.mean()
        rval[stat + ".min_u"] = per_channel.min()
    return rval
