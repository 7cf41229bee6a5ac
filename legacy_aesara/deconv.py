"""adversarial/deconv.py :: Deconv as an Aesara graph (goodfeli/adversarial, June 2014).

The CIFAR-10 convolutional generator ends in this layer: the TRANSPOSE of a cuda-convnet
convolution (Conv2D.lmul_T, i.e. ImageActs), mapping its c01b input -- 80 channels of 10x10 in
cifar10_convolutional.yaml -- to an image of `num_channels` channels, stride*(in - 1) - 2*pad_out +
kernel pixels per side (3x32x32). There is no nonlinearity.

* W: (num_channels, rows, cols, input channels) -- the filters of the convolution it transposes,
  which runs from the output image to the input -- one U(-irange, irange) draw from the MLP's
  RandomState (make_random_conv2D), when the input space is set.
* b: (num_channels, rows, cols) per output pixel when `tied_b` is false (the config's tied_b: 0),
  else one per channel; no draw.
* `max_kernel_norm` clips the norm of W[..., k] for each input channel k (the original's
  _modify_updates; unused by the config); `partial_sum` and `fix_kernel_shape` were accepted and
  not used by the original either.
"""
from collections import OrderedDict

from gan2014.config.checks import check_layer_numbers
from gan2014.linear.conv2d_c01b import DeconvGeometry, initial_conv_bias, make_random_filters
from legacy_aesara.linear.conv2d_c01b import lmul_T
from legacy_aesara.models.maxout import (c01b_activation_channels, clip_kernel_norms,
                                         kernel_norm_channels)
from legacy_aesara.models.mlp import Layer, shared_floatx, weight_bias_lr_scalers


class Deconv(Layer):
    """adversarial/deconv.py :: Deconv(num_channels, kernel_shape, layer_name, irange, ...)."""

    def __init__(self, num_channels, kernel_shape, layer_name, irange=None, init_bias=0.,
                 W_lr_scale=None, b_lr_scale=None, pad_out=0, fix_kernel_shape=False,
                 partial_sum=1, tied_b=False, max_kernel_norm=None, output_stride=(1, 1)):
        if irange is None:
            raise ValueError(f"layer {layer_name!r}: Deconv needs irange (its filters are drawn "
                             "from U(-irange, irange))")
        check_layer_numbers(layer_name, W_lr_scale=W_lr_scale, b_lr_scale=b_lr_scale,
                            max_kernel_norm=max_kernel_norm)
        self.layer_name = layer_name
        self.num_channels = int(num_channels)
        self.kernel_shape, self.output_stride, self.pad_out = kernel_shape, output_stride, pad_out
        self.irange, self.init_bias = irange, init_bias
        self.W_lr_scale, self.b_lr_scale = W_lr_scale, b_lr_scale
        self.fix_kernel_shape, self.partial_sum = fix_kernel_shape, partial_sum
        self.tied_b = bool(tied_b)
        self.max_kernel_norm = max_kernel_norm

    def set_input_space(self, space):
        """setup_deconv_detector_layer_c01b: output geometry, W's draw, b."""
        geometry = DeconvGeometry(space, self.kernel_shape, self.output_stride, self.pad_out,
                                  self.num_channels, self.layer_name)
        self.input_space = space
        self.geometry = geometry
        self.output_space = self.detector_space = geometry.output_space
        W = make_random_filters(self.mlp.rng, self.num_channels, geometry.kernel_shape,
                                space.num_channels, self.irange, self.layer_name)
        self.W = shared_floatx(W, self.layer_name + "_W")
        self.b = shared_floatx(initial_conv_bias(self.output_space, self.tied_b, self.init_bias),
                               self.layer_name + "_b")

    def get_params(self):
        return [self.W, self.b]

    def get_lr_scalers(self):
        return weight_bias_lr_scalers(self)

    def _modify_updates(self, updates):
        if self.max_kernel_norm is not None and self.W in updates:
            updates[self.W] = clip_kernel_norms(updates[self.W], self.max_kernel_norm)

    def fprop(self, state_below):
        g = self.geometry
        z = lmul_T(state_below, self.W, g.pad_out, g.output_stride[0], self.output_space.shape,
                   g.filter_shape)
        b = self.b.dimshuffle(0, "x", "x", "x") if self.tied_b else self.b.dimshuffle(0, 1, 2, "x")
        return z + b

    def get_layer_monitoring_channels(self, state_below=None, state=None, targets=None):
        """Per-channel statistics of the output, then kernel_norms_* (the original's order)."""
        if state is None and state_below is not None:
            state = self.fprop(state_below)
        rval = OrderedDict() if state is None else c01b_activation_channels(state)
        rval.update(kernel_norm_channels(self.W))
        return rval
