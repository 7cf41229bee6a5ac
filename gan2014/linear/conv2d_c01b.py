"""Geometry and initial filters of the cuda-convnet layers (mirrors pylearn2/linear/conv2d_c01b.py,
pylearn2/sandbox/cuda_convnet/{filter_acts,img_acts,pool}.py and goodfeli/adversarial deconv.py).

Both backends compute these layers with their own convolution routines; what must be identical --
the shapes, the checks cuda-convnet made, and the numpy draws of the initial filters -- lives here.

Facts of the 2014 code this module encodes:

* Filters are stored as (input channels, rows, columns, output channels), the kernel layout of
  cuda-convnet's FilterActs, drawn by `make_random_conv2D` as ONE `rng.uniform(-irange, irange,
  shape)` call (no include mask, unlike the dense layers' two draws). FilterActs computes a
  correlation: the kernel is not flipped.
* The detector (convolution output) size per axis is ceil((in + 2*pad - kernel) / stride) + 1
  (setup_detector_layer_c01b); the layer needs at least 16 detector channels, in multiples of 16
  (FilterActs), square kernels, and a stride no larger than the kernel.
* An input with more than 3 channels that is not a multiple of 4 gets zero "dummy" channels
  appended (setup_detector_layer_c01b); the filters are drawn with those channels included.
* Max pooling (MaxPool in cuda_convnet/pool.py) has ceil((in - pool) / stride) + 1 outputs per
  axis, so the last window may hang over the edge and then covers only the pixels that exist;
  pool and stride must be square and the stride no larger than the pool.
* Deconv (adversarial/deconv.py) is the transpose of a FilterActs convolution from its output
  image to its input: output size stride*(in - 1) - 2*pad_out + kernel per axis, filters
  (output image channels, rows, columns, input channels); cuda-convnet's ImageActs needs the
  input channels to be a multiple of 16 (at least 16), and the output channels <= 3 or a
  multiple of 4.
"""
import math

import numpy as np

from gan2014.config.checks import check_number
from gan2014.space import Conv2DSpace

C01B = ("c", 0, 1, "b")
CUDA_CONVNET_CHANNEL_GROUP = 16


def make_random_filters(rng, input_channels, kernel_shape, output_channels, irange,
                        layer_name="?"):
    """conv2d_c01b.py :: make_random_conv2D's draw: U(-irange, irange) of shape
    (input_channels, rows, cols, output_channels), float64 (the caller casts to floatX)."""
    irange = check_number(f"layer {layer_name!r}", "irange", irange)
    return rng.uniform(-irange, irange,
                       (input_channels, kernel_shape[0], kernel_shape[1], output_channels))


def _pair(value, name, layer_name):
    try:
        pair = [int(v) for v in value]
    except (TypeError, ValueError):
        raise ValueError(f"layer {layer_name!r}: {name} must be two integers, got {value!r}") \
            from None
    if len(pair) != 2 or [int(v) for v in value] != list(value):
        raise ValueError(f"layer {layer_name!r}: {name} must be two integers, got {value!r}")
    return pair


def check_c01b_input(space, layer_name):
    """The input of a cuda-convnet layer: a Conv2DSpace in ('c', 0, 1, 'b')."""
    if not isinstance(space, Conv2DSpace):
        raise TypeError(f"The input to a convolutional layer should be a Conv2DSpace, but layer "
                        f"{layer_name!r} got {space!r}")
    if space.axes != C01B:
        # Pylearn2's Conv2D.lmul meant to transpose other layouts to c01b, but its dimshuffle was
        # the identity, so cuda-convnet would have read them in the wrong order.
        raise NotImplementedError(f"layer {layer_name!r}: cuda-convnet layers take c01b input; "
                                  f"got axes {space.axes}")


class DetectorGeometry:
    """setup_detector_layer_c01b's arithmetic for a MaxoutConvC01B layer.

    Attributes: kernel_shape, kernel_stride, pad, dummy_channels, filter_shape (the W shape),
    detector_space (Conv2DSpace c01b of the convolution output).
    """

    def __init__(self, input_space, kernel_shape, pad, detector_channels, layer_name,
                 kernel_stride=(1, 1), fix_kernel_shape=False):
        check_c01b_input(input_space, layer_name)
        kernel_shape = _pair(kernel_shape, "kernel_shape", layer_name)
        kernel_stride = _pair(kernel_stride, "kernel_stride", layer_name)
        if int(pad) != pad or pad < 0:
            raise ValueError(f"layer {layer_name!r}: pad must be a non-negative integer, "
                             f"got {pad!r}")
        pad = int(pad)
        if kernel_stride[0] != kernel_stride[1]:
            raise ValueError(f"layer {layer_name!r}: only values of kernel_stride with both "
                             f"elements equal are supported, got {kernel_stride}")
        channels = input_space.num_channels
        self.dummy_channels = 4 - channels % 4 if channels > 3 and channels % 4 else 0
        output_shape = [int(math.ceil((size + 2. * pad - kernel) / stride)) + 1
                        for size, kernel, stride in zip(input_space.shape, kernel_shape,
                                                        kernel_stride)]
        for axis in (0, 1):
            if kernel_shape[axis] < 1:
                raise ValueError(f"layer {layer_name!r}: kernel must have strictly positive size "
                                 f"on all axes but has shape {kernel_shape}")
            if output_shape[axis] <= 0:
                if not fix_kernel_shape:
                    raise ValueError(f"layer {layer_name!r}: kernel {kernel_shape} too big for "
                                     f"input {input_space.shape} (even with zero padding {pad})")
                kernel_shape[axis] = input_space.shape[axis] + 2 * pad
                output_shape[axis] = 1
        if detector_channels < CUDA_CONVNET_CHANNEL_GROUP:
            raise ValueError(f"layer {layer_name!r}: Cuda-convnet requires the detector layer to "
                             f"have at least 16 channels, got {detector_channels}")
        if detector_channels % CUDA_CONVNET_CHANNEL_GROUP:
            raise ValueError(f"layer {layer_name!r}: cuda-convnet's FilterActs needs a multiple of "
                             f"16 detector channels (num_channels * num_pieces), got "
                             f"{detector_channels}")
        check_square_kernel(kernel_shape, kernel_stride[0], layer_name)
        for size, kernel, stride in zip(input_space.shape, kernel_shape, kernel_stride):
            if (size + 2 * pad - kernel) % stride:
                # cuda-convnet then adds a last, partly outside, module; not reproduced here.
                raise NotImplementedError(f"layer {layer_name!r}: kernel_stride {stride} does not "
                                          f"tile the padded input {size} + 2*{pad} with kernel "
                                          f"{kernel} exactly")
        self.kernel_shape = tuple(kernel_shape)
        self.kernel_stride = tuple(kernel_stride)
        self.pad = pad
        self.input_channels = channels
        self.filter_shape = (channels + self.dummy_channels, kernel_shape[0], kernel_shape[1],
                             detector_channels)
        self.detector_space = Conv2DSpace(output_shape, num_channels=detector_channels, axes=C01B)


def check_square_kernel(kernel_shape, stride, layer_name):
    """FilterActs / ImageActs: square filters, stride <= filter size."""
    if kernel_shape[0] != kernel_shape[1]:
        raise ValueError(f"layer {layer_name!r}: cuda-convnet filters must be square, got "
                         f"{tuple(kernel_shape)}")
    if stride > kernel_shape[0]:
        raise ValueError(f"layer {layer_name!r}: stride {stride} greater than filter size "
                         f"{tuple(kernel_shape)}")


def pooled_shape(size, pool, stride):
    """cuda-convnet MaxPool's output size on one axis: ceil((size - pool) / stride) + 1."""
    return int(math.ceil((size - pool) / float(stride))) + 1


class PoolGeometry:
    """MaxoutConvC01B.set_input_space's checks of the pooling, and the pooled output shape."""

    def __init__(self, detector_shape, pool_shape, pool_stride, layer_name, fix_pool_shape=False,
                 fix_pool_stride=False):
        pool_shape = _pair(pool_shape, "pool_shape", layer_name)
        pool_stride = _pair(pool_stride, "pool_stride", layer_name)
        for axis in (0, 1):
            if pool_shape[axis] < 1:
                raise ValueError(f"layer {layer_name!r}: bad pool shape {pool_shape}")
            if pool_shape[axis] > detector_shape[axis]:
                if not fix_pool_shape:
                    raise ValueError(f"layer {layer_name!r}: pool shape {pool_shape} exceeds the "
                                     f"detector layer shape {tuple(detector_shape)} on axis {axis}")
                pool_shape[axis] = detector_shape[axis]
        if pool_shape[0] != pool_shape[1]:
            raise ValueError(f"layer {layer_name!r}: cuda-convnet pools must be square, got "
                             f"{pool_shape}")
        if pool_stride[0] != pool_stride[1]:
            raise ValueError(f"layer {layer_name!r}: pool strides must match, "
                             f"but got {pool_stride}")
        if pool_stride[0] < 1:
            raise ValueError(f"layer {layer_name!r}: bad pool stride {pool_stride}")
        if pool_stride[0] > pool_shape[0]:
            if not fix_pool_stride:
                raise ValueError(f"layer {layer_name!r}: pool stride {pool_stride} too big for "
                                 f"pool shape {pool_shape}")
            pool_stride = [pool_shape[0], pool_shape[0]]
        self.pool_shape = tuple(pool_shape)
        self.pool_stride = tuple(pool_stride)
        self.output_shape = tuple(pooled_shape(size, pool_shape[0], pool_stride[0])
                                  for size in detector_shape)


class DeconvGeometry:
    """adversarial/deconv.py :: setup_deconv_detector_layer_c01b's arithmetic.

    Attributes: kernel_shape, output_stride, pad_out, filter_shape (the W shape: output channels,
    rows, columns, input channels), output_space (Conv2DSpace c01b).
    """

    def __init__(self, input_space, kernel_shape, output_stride, pad_out, num_channels, layer_name):
        check_c01b_input(input_space, layer_name)
        kernel_shape = _pair(kernel_shape, "kernel_shape", layer_name)
        output_stride = _pair(output_stride, "output_stride", layer_name)
        if int(pad_out) != pad_out or pad_out < 0:
            raise ValueError(f"layer {layer_name!r}: pad_out must be a non-negative integer, got "
                             f"{pad_out!r}")
        if num_channels > 3 and num_channels % 4:
            raise NotImplementedError(f"layer {layer_name!r}: Need to do dummy channels on the "
                                      f"output ({num_channels} channels: cuda-convnet needs <= 3 "
                                      "or a multiple of 4)")
        if output_stride[0] != output_stride[1]:
            raise ValueError(f"layer {layer_name!r}: only equal output_stride values are "
                             f"supported, got {output_stride}")
        in_channels = input_space.num_channels
        if in_channels < CUDA_CONVNET_CHANNEL_GROUP:
            raise ValueError(f"layer {layer_name!r}: Cuda-convnet requires the input to lmul_T to "
                             f"have at least 16 channels, got {in_channels}")
        if in_channels % CUDA_CONVNET_CHANNEL_GROUP:
            raise ValueError(f"layer {layer_name!r}: cuda-convnet's ImageActs needs a multiple "
                             f"of 16 input channels, got {in_channels}")
        check_square_kernel(kernel_shape, output_stride[0], layer_name)
        output_shape = [stride * (size - 1) - 2 * int(pad_out) + kernel
                        for size, kernel, stride in zip(input_space.shape, kernel_shape,
                                                        output_stride)]
        if min(output_shape) <= 0:
            raise ValueError(f"layer {layer_name!r}: pad_out {pad_out} leaves no output "
                             f"({output_shape})")
        self.kernel_shape = tuple(kernel_shape)
        self.output_stride = tuple(output_stride)
        self.pad_out = int(pad_out)
        self.filter_shape = (int(num_channels), kernel_shape[0], kernel_shape[1], in_channels)
        self.output_space = Conv2DSpace(output_shape, num_channels=int(num_channels), axes=C01B)


def bias_shape(space, tied_b):
    """Tied: one bias per channel; untied: one per channel and position (Conv2DSpace.get_origin)."""
    return (space.num_channels,) if tied_b else space.get_origin().shape


def initial_conv_bias(space, tied_b, init_bias):
    """zeros + init_bias in the bias shape, float32 (sharedX)."""
    return (np.zeros(bias_shape(space, tied_b)) + init_bias).astype(np.float32)
