"""cuda-convnet's convolution, its transpose and its max pooling on c01b tensors, in torch (mirrors
pylearn2/linear/conv2d_c01b.py :: Conv2D.lmul / lmul_T and
pylearn2/sandbox/cuda_convnet/pool.py :: max_pool_c01b; legacy_aesara/linear/conv2d_c01b.py is the
Aesara twin).

Tensors are (channels, rows, columns, batch) and filters (input channels, rows, columns, output
channels), the 2014 layouts; each function permutes to torch's (batch, channels, rows, columns) and
back:

* `lmul` = FilterActs: F.conv2d, which like cuda-convnet computes a correlation (no kernel flip),
  zero padding `pad` on every side.
* `lmul_T` = ImageActs, the transpose of that correlation (its gradient with respect to the input):
  F.conv_transpose2d with the same stride and padding; output size stride*(in-1) - 2*pad + kernel.
* `max_pool_c01b` = MaxPool: F.max_pool2d(ceil_mode=True) has cuda-convnet's output size
  ceil((in - pool) / stride) + 1 whenever stride <= pool (which cuda-convnet required), the last
  window covering only the pixels that exist. On ties torch passes the gradient to one input where
  cuda-convnet (and Aesara) passed it to each tied input; ties have probability zero here.
"""
import torch.nn.functional as F

C01B_TO_BC01 = (3, 0, 1, 2)
BC01_TO_C01B = (1, 2, 3, 0)
FILTERS_TO_OIRC = (3, 0, 1, 2)   # (in, rows, cols, out) -> F.conv2d's (out, in, rows, cols)


def lmul(x, filters, pad, stride=1, input_channels=None):
    """FilterActs: the c01b correlation of x with filters (in, rows, cols, out). `input_channels`
    below filters.shape[0] drops the filters' dummy channels (they multiply the zero channels
    cuda-convnet appended to the input)."""
    if input_channels is not None and input_channels != filters.shape[0]:
        filters = filters[:input_channels]
    out = F.conv2d(x.permute(*C01B_TO_BC01), filters.permute(*FILTERS_TO_OIRC), stride=stride,
                   padding=pad)
    return out.permute(*BC01_TO_C01B)


def lmul_T(h, filters, pad, stride):
    """ImageActs: h (c01b, a correlation's output) mapped back to the image by the transposed
    correlation with filters (image channels, rows, cols, h channels)."""
    # F.conv_transpose2d takes weights (in = h channels, out = image channels, rows, cols).
    out = F.conv_transpose2d(h.permute(*C01B_TO_BC01), filters.permute(*FILTERS_TO_OIRC),
                             stride=stride, padding=pad)
    return out.permute(*BC01_TO_C01B)


def max_pool_c01b(c01b, pool_shape, pool_stride):
    """MaxPool over the spatial axes of a c01b tensor, cuda-convnet's output size."""
    out = F.max_pool2d(c01b.permute(*C01B_TO_BC01), kernel_size=tuple(pool_shape),
                       stride=tuple(pool_stride), ceil_mode=True)
    return out.permute(*BC01_TO_C01B)
