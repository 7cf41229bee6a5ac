"""Pylearn2's spaces, as framework-free metadata (mirrors pylearn2/space/__init__.py, June 2014).

A space says what a batch looks like: `VectorSpace(dim)` is a (batch, dim) matrix and
`Conv2DSpace(shape, num_channels, axes)` a 4-D tensor whose axes are named 'b' (batch), 'c'
(channels), 0 (rows) and 1 (columns) in the order `axes` gives. Both backends use these classes
as they are (the YAML name `pylearn2.space.Conv2DSpace` builds one); what differs per backend is
only how a batch *tensor* is rearranged, so that part is expressed here as a list of steps
(`conversion`) that legacy_aesara/space.py and port_torch/space.py apply to their own tensors and
`np_format_as` applies to numpy arrays.

The element order of a conversion is Pylearn2's, and it matters:

* VectorSpace -> Conv2DSpace (`VectorSpace._format_as_impl`) reshapes each row into the DEFAULT
  axes ('b', 0, 1, 'c'), i.e. the channel index varies fastest (row position (i*cols + j)*channels
  + c), and only then transposes into the target's axes. The CIFAR-10 conv generator's
  SpaceConverter (8000 -> 80x10x10 c01b) reads its input this way.
* Conv2DSpace -> VectorSpace (`Conv2DSpace._format_as_impl`) transposes into ('b', 0, 1, 'c') and
  flattens, the inverse of the above (a dense layer on a conv layer's output sees it this way).
* Conv2DSpace -> Conv2DSpace only transposes.

A dataset's design matrix is NOT read that way: Pylearn2's DefaultViewConverter stores each image
channel-planar (column c*rows*cols + i*cols + j), see `DesignBatchFormatter`.
"""
import numpy as np

from gan2014.config.checks import ExperimentSetupError, is_whole_number

BATCH, CHANNEL = "b", "c"
DEFAULT_AXES = (BATCH, 0, 1, CHANNEL)     # Conv2DSpace.default_axes
VIEW_CONVERTER_AXES = (BATCH, CHANNEL, 0, 1)   # how a design-matrix row is laid out (planar)


class VectorSpace:
    """pylearn2/space/__init__.py :: VectorSpace -- batches are (batch, dim) matrices."""

    def __init__(self, dim, sparse=False, dtype="floatX"):
        if sparse:
            raise NotImplementedError("VectorSpace(sparse=True): no 2014 GAN config uses sparse "
                                      "batches")
        if int(dim) != dim or dim <= 0:
            raise ValueError(f"VectorSpace: dim must be a positive integer, got {dim!r}")
        self.dim = int(dim)
        self.dtype = dtype

    def get_total_dimension(self):
        return self.dim

    def get_batch_axis(self):
        return 0

    def batch_shape(self, batch_size):
        """The shape of a batch of `batch_size` points."""
        return (batch_size, self.dim)

    def get_origin(self):
        return np.zeros(self.dim)

    def get_origin_batch(self, batch_size):
        return np.zeros(self.batch_shape(batch_size))

    def __eq__(self, other):
        return isinstance(other, VectorSpace) and other.dim == self.dim

    def __hash__(self):
        return hash(("VectorSpace", self.dim))

    def __repr__(self):
        return f"VectorSpace(dim={self.dim})"


class Conv2DSpace:
    """pylearn2/space/__init__.py :: Conv2DSpace -- batches of images with named axes.

    `shape` is (rows, columns); `num_channels` (or its synonym `channels`) the channel count;
    `axes` a permutation of ('b', 0, 1, 'c'), default ('b', 0, 1, 'c') as in Pylearn2.
    """

    default_axes = DEFAULT_AXES

    def __init__(self, shape, channels=None, num_channels=None, axes=None, dtype="floatX"):
        if (channels is None) == (num_channels is None):
            raise ValueError("Conv2DSpace: give exactly one of num_channels and channels")
        num_channels = channels if num_channels is None else num_channels
        if not _is_positive_int(num_channels):
            raise ValueError(f"Conv2DSpace: num_channels must be a positive integer, got "
                             f"{num_channels!r}")
        if not hasattr(shape, "__len__") or len(shape) != 2 \
                or not all(_is_positive_int(size) for size in shape):
            raise ValueError(f"Conv2DSpace: shape must be two positive integers (rows, columns), "
                             f"got {shape!r}")
        axes = self.default_axes if axes is None else tuple(axes)
        if len(axes) != 4 or set(axes) != set(DEFAULT_AXES):
            raise ValueError(f"Conv2DSpace: axes must be a permutation of ('b', 0, 1, 'c'), got "
                             f"{axes!r}")
        self.shape = tuple(int(size) for size in shape)
        self.num_channels = int(num_channels)
        self.axes = axes
        self.dtype = dtype

    def get_total_dimension(self):
        return self.shape[0] * self.shape[1] * self.num_channels

    def get_batch_axis(self):
        return self.axes.index(BATCH)

    def axis_sizes(self, batch_size):
        return {BATCH: batch_size, CHANNEL: self.num_channels, 0: self.shape[0], 1: self.shape[1]}

    def batch_shape(self, batch_size):
        """The shape of a batch of `batch_size` images, in this space's axis order."""
        sizes = self.axis_sizes(batch_size)
        return tuple(sizes[axis] for axis in self.axes)

    def get_origin(self):
        """zeros of one image (the axes without 'b'): the shape of an untied conv bias."""
        sizes = self.axis_sizes(None)
        return np.zeros([sizes[axis] for axis in self.axes if axis != BATCH])

    def get_origin_batch(self, batch_size):
        return np.zeros(self.batch_shape(batch_size))

    def __eq__(self, other):
        return (isinstance(other, Conv2DSpace) and self.shape == other.shape
                and self.num_channels == other.num_channels and self.axes == other.axes)

    def __hash__(self):
        return hash(("Conv2DSpace", self.shape, self.num_channels, self.axes))

    def __repr__(self):
        return (f"Conv2DSpace(shape={list(self.shape)}, num_channels={self.num_channels}, "
                f"axes={list(self.axes)})")


def _is_positive_int(value):
    return is_whole_number(value) and value > 0


def permutation(source_axes, target_axes):
    """The transpose that takes a tensor laid out in `source_axes` to `target_axes`
    (Conv2DSpace.convert: target axis k is source axis permutation[k])."""
    return tuple(tuple(source_axes).index(axis) for axis in target_axes)


def conversion(source, target):
    """How Pylearn2's `source.format_as(batch, target)` rearranges a batch, as a list of steps.

    Each step is ("reshape", sizes) -- sizes name the batch size BATCH ('b'), known only at run
    time -- or ("transpose", permutation). An empty list means the batch is used as it is.
    A mismatch of total dimensions raises ValueError, as in Pylearn2.
    """
    for space in (source, target):
        if not isinstance(space, (VectorSpace, Conv2DSpace)):
            raise NotImplementedError(f"cannot format a batch between {source!r} and {target!r}")
    if source.get_total_dimension() != target.get_total_dimension():
        raise ValueError(f"{source!r} with total dimension {source.get_total_dimension()} can't "
                         f"format a batch into {target!r} because its total dimension is "
                         f"{target.get_total_dimension()}")
    steps = []
    if isinstance(source, VectorSpace) and isinstance(target, Conv2DSpace):
        # Always through the default axes, channel fastest (VectorSpace._format_as_impl).
        steps.append(("reshape", target.batch_shape(BATCH) if target.axes == DEFAULT_AXES
                      else Conv2DSpace(target.shape, num_channels=target.num_channels)
                      .batch_shape(BATCH)))
        if target.axes != DEFAULT_AXES:
            steps.append(("transpose", permutation(DEFAULT_AXES, target.axes)))
    elif isinstance(source, Conv2DSpace) and isinstance(target, VectorSpace):
        if source.axes != DEFAULT_AXES:
            steps.append(("transpose", permutation(source.axes, DEFAULT_AXES)))
        steps.append(("reshape", (BATCH, target.dim)))
    elif isinstance(source, Conv2DSpace) and isinstance(target, Conv2DSpace):
        if source.shape != target.shape or source.num_channels != target.num_channels:
            raise ValueError(f"cannot format a batch of {source!r} as {target!r}: the images "
                             "differ (only the axis order may)")
        if source.axes != target.axes:
            steps.append(("transpose", permutation(source.axes, target.axes)))
    return steps


def apply_conversion(batch, steps, batch_size, reshape, transpose):
    """Run `conversion` steps on a tensor with the backend's `reshape(x, sizes)` and
    `transpose(x, permutation)`; `batch_size` replaces BATCH in the sizes."""
    for kind, argument in steps:
        if kind == "reshape":
            batch = reshape(batch, tuple(batch_size if size == BATCH else size
                                         for size in argument))
        else:
            batch = transpose(batch, argument)
    return batch


def np_format_as(batch, source, target):
    """Space.np_format_as for numpy arrays."""
    batch = np.asarray(batch)
    return apply_conversion(batch, conversion(source, target),
                            batch.shape[source.get_batch_axis()],
                            reshape=np.reshape, transpose=np.transpose)


class DesignBatchFormatter:
    """Design-matrix rows -> a batch in the model's input space, as Pylearn2's iterator served it.

    Pylearn2's SGD asked the dataset for batches in the cost's data specs (the model's input space);
    DenseDesignMatrix.iterator then ran `view_converter.get_formatted_batch`: the rows viewed as
    images by DefaultViewConverter (channel-planar rows: column c*rows*cols + i*cols + j is pixel
    (i, j) of channel c), transposed into the space's axes. A VectorSpace takes its rows as is.

    `steps` describe that rearrangement (see `conversion`); `__call__` applies it to numpy rows, and
    a backend applies the same steps to its own tensors. The planar reading is checked once against
    the dataset's own `get_topological_view` when it has one.
    """

    def __init__(self, dataset, space):
        design = dataset.get_design_matrix() if hasattr(dataset, "get_design_matrix") \
            else dataset.X
        width = design.shape[1]
        if width != space.get_total_dimension():
            raise ExperimentSetupError(f"the model's input space {space!r} has "
                                       f"{space.get_total_dimension()} dimensions but the "
                                       f"dataset's rows have {width}")
        self.space = space
        if isinstance(space, VectorSpace):
            self.steps = []
        elif isinstance(space, Conv2DSpace):
            planar = Conv2DSpace(space.shape, num_channels=space.num_channels,
                                 axes=VIEW_CONVERTER_AXES)
            self.steps = [("reshape", planar.batch_shape(BATCH))]
            if space.axes != VIEW_CONVERTER_AXES:
                self.steps.append(("transpose", permutation(VIEW_CONVERTER_AXES, space.axes)))
            self._check_against_view_converter(dataset, design[:2])
        else:
            raise NotImplementedError(f"cannot serve dataset batches in {space!r}")

    def __call__(self, rows):
        rows = np.asarray(rows)
        return apply_conversion(rows, self.steps, rows.shape[0], reshape=np.reshape,
                                transpose=np.transpose)

    def _check_against_view_converter(self, dataset, rows):
        if not hasattr(dataset, "get_topological_view") or not hasattr(dataset, "axes"):
            return
        topo = np.asarray(dataset.get_topological_view(rows))
        expected = np.transpose(topo, permutation(tuple(dataset.axes), self.space.axes))
        mine = self(rows)
        if expected.shape != mine.shape or not np.array_equal(expected, mine):
            raise ValueError(f"the dataset's images ({topo.shape} in axes {tuple(dataset.axes)}) "
                             f"do not match the model's input space {self.space!r}")
