"""Spaces for the torch port (mirrors pylearn2/space/__init__.py).

The space classes are gan2014's framework-free ones (gan2014/space.py says what they are and in
which element order Pylearn2 converted between them); this module applies those conversions to
torch tensors. Batches keep Pylearn2's layouts in this port too -- a Conv2DSpace batch is a tensor
in the space's axis order (c01b for the CIFAR-10 conv model) -- so that every state, mask and sample
has the same shape as in legacy_aesara; the convolution routines permute to torch's (batch,
channels, rows, cols) internally (port_torch/linear/conv2d_c01b.py).
"""
from gan2014.space import (Conv2DSpace, VectorSpace, apply_conversion,  # noqa: F401 (re-exported)
                           conversion)


def as_space(space_or_dim):
    """A Space as it is; an int width as VectorSpace(width) (the dense layers' older interface)."""
    if isinstance(space_or_dim, (VectorSpace, Conv2DSpace)):
        return space_or_dim
    return VectorSpace(int(space_or_dim))


def batch_size(space, batch):
    """The number of examples in `batch`: its length along the space's batch axis."""
    return batch.shape[space.get_batch_axis()]


def format_as(batch, source, target):
    """Space.format_as on a torch tensor (a reshape and/or a permute, in Pylearn2's element order;
    see gan2014.space.conversion)."""
    return apply_steps(batch, conversion(source, target), batch_size(source, batch))


def apply_steps(batch, steps, size):
    """gan2014.space conversion steps with torch's reshape and permute."""
    if not steps:
        return batch
    return apply_conversion(batch, steps, size, reshape=lambda x, sizes: x.reshape(sizes),
                            transpose=lambda x, order: x.permute(*order))
