"""cuda-convnet's convolution, its transpose and its max pooling as Aesara graphs on c01b tensors
(mirrors pylearn2/linear/conv2d_c01b.py :: Conv2D.lmul / lmul_T and
pylearn2/sandbox/cuda_convnet/pool.py :: max_pool_c01b).

The 2014 code ran these as cuda-convnet GPU kernels (FilterActs, ImageActs, MaxPool) on tensors laid
out (channels, rows, columns, batch) with filters (input channels, rows, columns, output channels).
Here they are Aesara's abstract convolution and pooling on the same layouts, dimshuffled to the
(batch, channels, rows, columns) order those ops use:

* `lmul` = FilterActs: a correlation (`filter_flip=False`: cuda-convnet does not flip the kernel),
  zero padding `pad` on every side, stride `stride`.
* `lmul_T` = ImageActs, the gradient of that correlation with respect to its input
  (AbstractConv2d_gradInputs): what adversarial/deconv.py :: Deconv used as its forward pass.
* `max_pool_c01b` = MaxPool: ceil((in - pool) / stride) + 1 outputs per axis, the last window
  covering only the pixels that exist. Aesara's pool with ignore_border=False computes the same
  windows plus, when the pool is wider than the stride, extra ones that start inside the last
  pool-stride pixels; the result is cut to cuda-convnet's size. Ties pass the gradient to every
  tied input, as cuda-convnet's MaxPoolGrad did.

On the CPU Aesara runs the convolutions as CorrMM (im2col + BLAS GEMM). Aesara 2.9.4's
`CorrMM.make_node` calls `tuple()` with four arguments, a TypeError that makes every CPU forward
convolution fail to compile; `_repair_corrmm_make_node` replaces that one method by the same code
with the tuple written correctly (only when the bug is present; the gradient ops are unaffected).
"""
import warnings

import aesara.tensor as at

from gan2014.linear.conv2d_c01b import pooled_shape

with warnings.catch_warnings():
    # aesara.tensor.nnet / aesara.tensor.signal are deprecated, but they are Aesara's convolution.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from aesara.tensor.nnet import corr
    from aesara.tensor.nnet.abstract_conv import AbstractConv2d_gradInputs, conv2d
    from aesara.tensor.signal.pool import pool_2d

# (c, 0, 1, b) <-> (b, c, 0, 1)
C01B_TO_BC01 = (3, 0, 1, 2)
BC01_TO_C01B = (1, 2, 3, 0)
# Filters (in, rows, cols, out) -> the (out, in, rows, cols) of Aesara's conv2d.
FILTERS_TO_OIRC = (3, 0, 1, 2)


def _repair_corrmm_make_node():
    from aesara.graph.basic import Apply
    from aesara.tensor.type import TensorType

    try:
        corr.CorrMM()(at.tensor4(), at.tensor4())
        return  # a fixed Aesara: nothing to do
    except TypeError as error:
        if "tuple expected" not in str(error):
            raise

    def make_node(self, img, kern):
        img, kern = self.as_common_dtype(at.as_tensor_variable(img), at.as_tensor_variable(kern))
        if img.type.ndim != 4:
            raise TypeError("img must be 4D tensor")
        if kern.type.ndim != (6 if self.unshared is True else 4):
            raise TypeError("kern must be %dD tensor" % (6 if self.unshared is True else 4))
        out_shape = (1 if img.type.shape[0] == 1 else None,
                     1 if kern.type.shape[0] == 1 else None, None, None)
        return Apply(self, [img, kern], [TensorType(img.type.dtype, shape=out_shape)()])

    corr.CorrMM.make_node = make_node


_repair_corrmm_make_node()


def lmul(x, filters, pad, stride, image_shape, filter_shape, input_channels=None):
    """FilterActs: the c01b correlation of x (images of `image_shape` (rows, cols)) with filters of
    `filter_shape` (in, rows, cols, out), zero-padded by `pad`. `input_channels` < filter_shape[0]
    drops the filters' dummy channels (they multiply the zero channels cuda-convnet appended to the
    input, so they add nothing). The static shapes spare Aesara's shape inference a lot of work."""
    channels = filter_shape[0] if input_channels is None else input_channels
    if channels != filter_shape[0]:
        filters = filters[:channels]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        rval = conv2d(x.dimshuffle(*C01B_TO_BC01), filters.dimshuffle(*FILTERS_TO_OIRC),
                      input_shape=(None, channels, image_shape[0], image_shape[1]),
                      filter_shape=(filter_shape[3], channels, filter_shape[1], filter_shape[2]),
                      border_mode=(pad, pad), subsample=(stride, stride), filter_flip=False)
    return rval.dimshuffle(*BC01_TO_C01B)


def lmul_T(h, filters, pad, stride, image_shape, filter_shape):
    """ImageActs: the transpose of `lmul` -- h (c01b, the correlation's output) mapped back to an
    image of `image_shape` (rows, cols) with filters of `filter_shape` (image channels, rows, cols,
    h channels)."""
    op = AbstractConv2d_gradInputs(imshp=(None, filter_shape[0], image_shape[0], image_shape[1]),
                                   kshp=(filter_shape[3], filter_shape[0], filter_shape[1],
                                         filter_shape[2]),
                                   border_mode=(pad, pad), subsample=(stride, stride),
                                   filter_flip=False)
    rval = op(filters.dimshuffle(*FILTERS_TO_OIRC), h.dimshuffle(*C01B_TO_BC01),
              at.as_tensor_variable(list(image_shape)))
    return rval.dimshuffle(*BC01_TO_C01B)


def max_pool_c01b(c01b, pool_shape, pool_stride, image_shape):
    """MaxPool over the two spatial axes of a c01b tensor with cuda-convnet's output size."""
    outputs = [pooled_shape(size, pool_shape[0], pool_stride[0]) for size in image_shape]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        # pool_2d pools the last two axes: (c, 0, 1, b) -> (c, b, 0, 1).
        pooled = pool_2d(c01b.dimshuffle(0, 3, 1, 2), ws=tuple(pool_shape), ignore_border=False,
                         stride=tuple(pool_stride), mode="max")
    return pooled[:, :, :outputs[0], :outputs[1]].dimshuffle(0, 2, 3, 1)
