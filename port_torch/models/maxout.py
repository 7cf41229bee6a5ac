"""pylearn2/models/maxout.py :: Maxout and MaxoutConvC01B as torch modules.

Maxout: a unit's pieces are ADJACENT columns of the detector layer: unit k is the max over columns
k*num_pieces ... k*num_pieces + num_pieces - 1, so a reshape to (batch, units, pieces) groups them.
There is one bias per piece (per detector column), as in Pylearn2.

MaxoutConvC01B: the same grouping over the channels of a cuda-convnet convolution's detector
layer (channel j = max over detector channels j*num_pieces ... + num_pieces - 1), followed by max
pooling; tensors are c01b (port_torch/linear/conv2d_c01b.py).
"""
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from gan2014.config.checks import check_layer_numbers
from gan2014.config.checks import check_positive_int
from gan2014.linear.conv2d_c01b import (C01B, DetectorGeometry, PoolGeometry, initial_conv_bias,
                                        make_random_filters)
from port_torch.linear.conv2d_c01b import lmul, max_pool_c01b
from port_torch.models.mlp import Linear, state_channels, weight_norm_channels
from port_torch.space import Conv2DSpace


class _MaxWithTheanoGradient(torch.autograd.Function):
    """max over `dim` whose gradient goes, whole, to EVERY entry equal to the max.

    That is what Pylearn2's Maxout got from the 2014 Theano, which differentiated its chain
    maximum(cur, maximum(...)) with Maximum.grad `gx = eq(output, x) * gz; gy = eq(output, y) *
    gz` (theano/scalar/basic.py). torch's amax divides the gradient evenly among equal entries
    instead, which matters where pieces tie exactly: in the conditional model's D, a row whose
    one-hot label dropout removed gives the label branch's units an input of zeros, so each unit's
    pieces all equal their biases, which start at 0."""

    @staticmethod
    def forward(ctx, x, dim):
        out = x.amax(dim=dim, keepdim=True)
        ctx.save_for_backward(x, out)
        ctx.dim = dim
        return out.squeeze(dim)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return grad.unsqueeze(ctx.dim) * (x == out).to(grad.dtype), None


def max_over_pieces(x, dim):
    """x.amax(dim), differentiated as Theano differentiated a max (see _MaxWithTheanoGradient)."""
    return _MaxWithTheanoGradient.apply(x, dim)


class Maxout(Linear):
    """Maxout(layer_name, num_units, num_pieces, ...): z = x @ W + b, then a max over each group."""

    kind = "maxout"

    def __init__(self, layer_name, num_units, num_pieces, pool_stride=None, randomize_pools=False,
                 irange=None, sparse_init=None, sparse_stdev=1., include_prob=1., init_bias=0.,
                 W_lr_scale=None, b_lr_scale=None, max_col_norm=None, max_row_norm=None,
                 mask_weights=None, min_zero=False):
        if max_row_norm is not None:
            raise NotImplementedError("Maxout: max_row_norm (Pylearn2 raised this too)")
        owner = f"Maxout {layer_name!r}"
        num_units = check_positive_int(owner, "num_units", num_units, allow_none=False)
        num_pieces = check_positive_int(owner, "num_pieces", num_pieces, allow_none=False)
        if pool_stride not in (None, num_pieces) or randomize_pools or min_zero:
            raise NotImplementedError(f"Maxout {layer_name!r}: only non-overlapping pools of "
                                      "adjacent columns (pool_stride = num_pieces, no "
                                      "randomize_pools, no min_zero) are implemented")
        self.num_units, self.num_pieces = num_units, num_pieces
        super().__init__(dim=self.num_units, layer_name=layer_name, irange=irange,
                         sparse_init=sparse_init, sparse_stdev=sparse_stdev,
                         include_prob=include_prob, init_bias=init_bias, W_lr_scale=W_lr_scale,
                         b_lr_scale=b_lr_scale, max_col_norm=max_col_norm,
                         mask_weights=mask_weights)

    def output_width(self):
        """The detector width (columns of W, entries of b)."""
        return self.num_units * self.num_pieces

    def output_width_after_pooling(self):
        return self.num_units

    def activate(self, a):
        return max_over_pieces(a.view(*a.shape[:-1], self.num_units, self.num_pieces), dim=-1)

    @torch.no_grad()
    def monitoring_channels(self, state):
        """Maxout.get_layer_monitoring_channels: norms, then 'p_' stats with dotted names."""
        channels = weight_norm_channels(self.W)
        channels.update(state_channels(state, prefix="p_" if self.num_pieces > 1 else "", sep="."))
        return channels


class MaxoutConvC01B(nn.Module):
    """pylearn2/models/maxout.py :: MaxoutConvC01B on c01b tensors (legacy_aesara's twin).

    * W: (input channels [+ dummy channels], rows, cols, num_channels * num_pieces), one
      U(-irange, irange) draw from the MLP's RandomState when the input space is set; b: one per
      detector channel (`tied_b`) or one per detector channel and position; no draw.
    * affine: the detector layer, correlation(x, W) (zero padding `pad`) + b.
    * activate: channel j = max over the adjacent detector channels j*num_pieces ...; then max
      pooling with cuda-convnet's sizes. As in 2014 the channel max comes first when num_channels
      is a multiple of 16 and after the pooling otherwise (the same values either way).
    * `partial_sum` (a cuda-convnet speed/memory trade-off) is accepted and ignored;
      `max_kernel_norm` clips each output kernel's norm after every update.
    """

    kind = "maxout_conv_c01b"
    param_suffixes = ("W", "b")

    def __init__(self, num_channels, num_pieces, kernel_shape, pool_shape, pool_stride, layer_name,
                 irange=None, init_bias=0., W_lr_scale=None, b_lr_scale=None, pad=0,
                 fix_pool_shape=False, fix_pool_stride=False, fix_kernel_shape=False,
                 partial_sum=1, tied_b=False, max_kernel_norm=None, input_normalization=None,
                 detector_normalization=None, min_zero=False, output_normalization=None,
                 kernel_stride=(1, 1)):
        super().__init__()
        used = [name for name, value in (("input_normalization", input_normalization),
                                         ("detector_normalization", detector_normalization),
                                         ("output_normalization", output_normalization))
                if value is not None]
        if used:
            raise NotImplementedError(f"layer {layer_name!r}: {used} not implemented in port_torch "
                                      "(no 2014 GAN config uses them)")
        if irange is None:
            raise ValueError(f"layer {layer_name!r}: MaxoutConvC01B needs irange (its filters are "
                             "drawn from U(-irange, irange))")
        check_layer_numbers(layer_name, W_lr_scale=W_lr_scale, b_lr_scale=b_lr_scale,
                            max_kernel_norm=max_kernel_norm)
        self.layer_name = layer_name
        self.num_channels, self.num_pieces = int(num_channels), int(num_pieces)
        self.detector_channels = self.num_channels * self.num_pieces
        self.kernel_shape, self.pool_shape, self.pool_stride = kernel_shape, pool_shape, pool_stride
        self.kernel_stride, self.pad = kernel_stride, pad
        self.irange, self.init_bias = irange, init_bias
        self.lr_scales = {"W": W_lr_scale, "b": b_lr_scale}
        self.fix = dict(fix_pool_shape=fix_pool_shape, fix_pool_stride=fix_pool_stride)
        self.fix_kernel_shape = fix_kernel_shape
        self.partial_sum = partial_sum
        self.tied_b = bool(tied_b)
        self.max_kernel_norm = max_kernel_norm
        self.min_zero = bool(min_zero)
        self.W = self.b = None

    def set_input_space(self, rng, space):
        """setup_detector_layer_c01b (draws W), then the pooling checks and the output space."""
        geometry = DetectorGeometry(space, self.kernel_shape, self.pad, self.detector_channels,
                                    self.layer_name, self.kernel_stride, self.fix_kernel_shape)
        self.input_space, self.geometry = space, geometry
        self.detector_space = geometry.detector_space
        W = make_random_filters(rng, geometry.filter_shape[0], geometry.kernel_shape,
                                self.detector_channels, self.irange, self.layer_name)
        self.W = nn.Parameter(torch.from_numpy(W.astype(np.float32)))
        self.b = nn.Parameter(torch.from_numpy(initial_conv_bias(self.detector_space, self.tied_b,
                                                                 self.init_bias)))
        self.pool = PoolGeometry(self.detector_space.shape, self.pool_shape, self.pool_stride,
                                 self.layer_name, **self.fix)
        self.output_space = Conv2DSpace(self.pool.output_shape, num_channels=self.num_channels,
                                        axes=C01B)

    def affine(self, x):
        g = self.geometry
        z = lmul(x, self.W, g.pad, g.kernel_stride[0], input_channels=g.input_channels)
        return z + conv_bias(self.b, self.tied_b)

    def activate(self, z):
        if self.num_channels % 16 == 0:
            p = self._pool(channel_maxout(z, self.num_pieces))
        else:
            p = channel_maxout(self._pool(z), self.num_pieces)
        return p * (p > 0) if self.min_zero else p

    def _pool(self, z):
        return max_pool_c01b(z, self.pool.pool_shape, self.pool.pool_stride)

    def forward(self, x):
        return self.activate(self.affine(x))

    @torch.no_grad()
    def constrain_(self):
        if self.max_kernel_norm is not None:
            clip_kernel_norms_(self.W, self.max_kernel_norm)

    def has_constraint(self):
        return self.max_kernel_norm is not None

    @torch.no_grad()
    def monitoring_channels(self, state):
        """kernel_norms_{min,mean,max}, then per-channel statistics of the output."""
        channels = kernel_norm_channels(self.W)
        channels.update(c01b_state_channels(state))
        return channels


def conv_bias(b, tied_b):
    """A conv bias broadcast over a c01b tensor: per channel (tied) or per channel and position."""
    return b[:, None, None, None] if tied_b else b[..., None]


def channel_maxout(z, num_pieces):
    """c01b: output channel j = max over channels j*k ... j*k + k - 1 (k = num_pieces)."""
    if num_pieces == 1:
        return z
    return max_over_pieces(z.unflatten(0, (-1, num_pieces)), dim=1)


@torch.no_grad()
def clip_kernel_norms_(W, max_kernel_norm):
    """_modify_updates' max_kernel_norm: W[..., o] *= clip(n_o, 0, limit) / (1e-7 + n_o), in
    place."""
    norms = W.square().sum(dim=(0, 1, 2)).sqrt()
    W.mul_(norms.clamp(0, max_kernel_norm) / (1e-7 + norms))


def kernel_norm_channels(W):
    norms = W.square().sum(dim=(0, 1, 2)).sqrt()
    return OrderedDict([("kernel_norms_min", norms.min()), ("kernel_norms_mean", norms.mean()),
                        ("kernel_norms_max", norms.max())])


def c01b_state_channels(state):
    """Per channel the max/min/mean over rows, columns and examples, each reduced over channels
    (the conv layers' dotted names, max_x.max_u ...)."""
    flat = state.flatten(1)
    per_channel = OrderedDict([("max_x", flat.amax(dim=1)), ("min_x", flat.amin(dim=1))])
    per_channel["range_x"] = per_channel["max_x"] - per_channel["min_x"]
    per_channel["mean_x"] = flat.mean(dim=1)
    channels = OrderedDict()
    for stat, values in per_channel.items():
        channels[stat + ".max_u"] = values.max()
        channels[stat + ".mean_u"] = values.mean()
        channels[stat + ".min_u"] = values.min()
    return channels
