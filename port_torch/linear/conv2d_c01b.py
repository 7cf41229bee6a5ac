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
  window covering only the pixels that exist. Its gradient is MaxPoolGrad's (conv_util.cu ::
  kLocalMaxUndo: `prod += (img == ma) * mg`): every input equal to its window's maximum gets the
  window's whole gradient, as Aesara's pool gradient does too. torch's own max_pool2d backward
  would give it to one of the tied inputs only. Exact ties need exactly repeated values and are
  rare on continuous inputs (REPRODUCING.md §6 counts them), but where they occur the 2014 rule
  holds, so it is written out here.
"""
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

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
    """MaxPool over the spatial axes of a c01b tensor, cuda-convnet's output size and gradient."""
    out = MaxPool.apply(c01b.permute(*C01B_TO_BC01), tuple(pool_shape), tuple(pool_stride))
    return out.permute(*BC01_TO_C01B)


def _window_views(padded, out_shape, pool, stride):
    """For each offset (i, j) inside a window, the strided view of `padded` (bc01) that holds,
    for every output position, the input pixel at that offset of its window."""
    rows, cols = out_shape
    for i in range(pool[0]):
        for j in range(pool[1]):
            yield padded[:, :, i:i + stride[0] * (rows - 1) + 1:stride[0],
                         j:j + stride[1] * (cols - 1) + 1:stride[1]]


class MaxPool(torch.autograd.Function):
    """Max pooling of a bc01 tensor (ceil mode) whose gradient goes to every tied maximum."""

    @staticmethod
    def forward(ctx, x, pool, stride):
        out = F.max_pool2d(x, kernel_size=pool, stride=stride, ceil_mode=True)
        ctx.save_for_backward(x, out)
        ctx.pool, ctx.stride = pool, stride
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, out = ctx.saved_tensors
        pool, stride = ctx.pool, ctx.stride
        rows, cols = out.shape[2:]
        # The last windows may hang over the edge: pad with -inf (never a maximum) so that every
        # window is whole, then, offset by offset, give each input that equals its window's
        # maximum that window's gradient; overlapping windows add up.
        hang = [stride[a] * (out.shape[2 + a] - 1) + pool[a] - x.shape[2 + a] for a in (0, 1)]
        padded = F.pad(x, (0, hang[1], 0, hang[0]), value=float("-inf"))
        grad = torch.zeros_like(padded)
        for value, target in zip(_window_views(padded, (rows, cols), pool, stride),
                                 _window_views(grad, (rows, cols), pool, stride)):
            target += (value == out) * grad_out
        return grad[:, :, :x.shape[2], :x.shape[3]], None, None
