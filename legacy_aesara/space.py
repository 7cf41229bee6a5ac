"""Spaces for the Aesara backend (mirrors pylearn2/space/__init__.py).

The space classes are gan2014's framework-free ones (gan2014/space.py says what they are and in
which element order Pylearn2 converted between them); this module adds what needs Aesara: a symbolic
batch variable of a space (`make_theano_batch`), the symbolic `format_as`, and a batch's size.
"""
import aesara
import aesara.tensor as at

from gan2014.space import (Conv2DSpace, VectorSpace, apply_conversion,  # noqa: F401 (re-exported)
                           conversion)


def make_theano_batch(space, name=None):
    """Space.make_theano_batch: a floatX matrix for a VectorSpace; a 4-D tensor for a Conv2DSpace.

    The 4-D tensor's static shape is the space's image shape with the batch size left open (a
    single channel is broadcastable, as Pylearn2 made it); the static sizes change no value, they
    spare Aesara's shape inference most of its work on the convolutional graphs.
    """
    if isinstance(space, VectorSpace):
        return at.matrix(name)
    if isinstance(space, Conv2DSpace):
        return at.TensorType(aesara.config.floatX, shape=space.batch_shape(None))(name)
    raise NotImplementedError(f"no symbolic batch for {space!r}")


def batch_size(space, batch):
    """The (symbolic) number of examples in `batch`: its length along the space's batch axis."""
    return batch.shape[space.get_batch_axis()]


def format_as(batch, source, target):
    """Space.format_as: `batch` of `source` rearranged as a batch of `target` (a reshape and/or a
    dimshuffle, in Pylearn2's element order; see gan2014.space.conversion)."""
    steps = conversion(source, target)
    if not steps:
        return batch
    return apply_conversion(batch, steps, batch_size(source, batch),
                            reshape=lambda x, sizes: x.reshape(sizes, ndim=len(sizes)),
                            transpose=lambda x, order: x.dimshuffle(*order))
