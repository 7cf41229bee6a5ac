"""adversarial/deconv.py :: Deconv as a torch module (legacy_aesara/deconv.py is its twin).

The transpose of a cuda-convnet convolution (Conv2D.lmul_T, ImageActs): a c01b input -- 80
channels of 10x10 in cifar10_convolutional.yaml -- becomes an image of `num_channels` channels and
stride*(in - 1) - 2*pad_out + kernel pixels per side (3x32x32); no nonlinearity.

* W: (num_channels, rows, cols, input channels), one U(-irange, irange) draw from the MLP's
  RandomState when the input space is set (the filters of the convolution it transposes).
* b: (num_channels, rows, cols) per output pixel when `tied_b` is false (the config's tied_b: 0),
  else one per channel.
* `max_kernel_norm` clips the norm of W[..., k] for each input channel k; `partial_sum` and
  `fix_kernel_shape` are accepted and unused, as in the original.
"""
import numpy as np
import torch
from torch import nn

from gan2014.config.checks import check_layer_numbers
from gan2014.linear.conv2d_c01b import DeconvGeometry, initial_conv_bias, make_random_filters
from port_torch.linear.conv2d_c01b import lmul_T
from port_torch.models.maxout import (c01b_state_channels, clip_kernel_norms_, conv_bias,
                                      kernel_norm_channels)


class Deconv(nn.Module):
    """adversarial/deconv.py :: Deconv(num_channels, kernel_shape, layer_name, irange, ...)."""

    kind = "deconv"
    param_suffixes = ("W", "b")

    def __init__(self, num_channels, kernel_shape, layer_name, irange=None, init_bias=0.,
                 W_lr_scale=None, b_lr_scale=None, pad_out=0, fix_kernel_shape=False,
                 partial_sum=1, tied_b=False, max_kernel_norm=None, output_stride=(1, 1)):
        super().__init__()
        if irange is None:
            raise ValueError(f"layer {layer_name!r}: Deconv needs irange (its filters are drawn "
                             "from U(-irange, irange))")
        check_layer_numbers(layer_name, W_lr_scale=W_lr_scale, b_lr_scale=b_lr_scale,
                            max_kernel_norm=max_kernel_norm)
        self.layer_name = layer_name
        self.num_channels = int(num_channels)
        self.kernel_shape, self.output_stride, self.pad_out = kernel_shape, output_stride, pad_out
        self.irange, self.init_bias = irange, init_bias
        self.lr_scales = {"W": W_lr_scale, "b": b_lr_scale}
        self.fix_kernel_shape, self.partial_sum = fix_kernel_shape, partial_sum
        self.tied_b = bool(tied_b)
        self.max_kernel_norm = max_kernel_norm
        self.W = self.b = None

    def set_input_space(self, rng, space):
        """setup_deconv_detector_layer_c01b: output geometry, W's draw, b."""
        geometry = DeconvGeometry(space, self.kernel_shape, self.output_stride, self.pad_out,
                                  self.num_channels, self.layer_name)
        self.input_space, self.geometry = space, geometry
        self.output_space = geometry.output_space
        W = make_random_filters(rng, self.num_channels, geometry.kernel_shape, space.num_channels,
                                self.irange, self.layer_name)
        self.W = nn.Parameter(torch.from_numpy(W.astype(np.float32)))
        self.b = nn.Parameter(torch.from_numpy(initial_conv_bias(self.output_space, self.tied_b,
                                                                 self.init_bias)))

    def affine(self, x):
        g = self.geometry
        return lmul_T(x, self.W, g.pad_out, g.output_stride[0]) + conv_bias(self.b, self.tied_b)

    def activate(self, a):
        return a

    def forward(self, x):
        return self.affine(x)

    @torch.no_grad()
    def constrain_(self):
        if self.max_kernel_norm is not None:
            clip_kernel_norms_(self.W, self.max_kernel_norm)

    def has_constraint(self):
        return self.max_kernel_norm is not None

    @torch.no_grad()
    def monitoring_channels(self, state):
        """Per-channel statistics of the output, then kernel_norms_* (the original's order)."""
        channels = c01b_state_channels(state)
        channels.update(kernel_norm_channels(self.W))
        return channels
