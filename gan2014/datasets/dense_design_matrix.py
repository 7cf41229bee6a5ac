"""What Pylearn2's ``DenseDesignMatrix`` gave the image datasets (``pylearn2/datasets/
dense_design_matrix.py``, with its ``DefaultViewConverter``), as far as the experiments use it.

A dataset holds ``X``, one image a row. A row stores the channels one after another, each a
row-major rows x columns image (``DefaultViewConverter`` read them so, channel by channel; with one
channel that is plain row-major order). The topological view lays the rows out as images in the
dataset's ``axes``, a permutation of ('b', 0, 1, 'c').
"""
import numpy as np

DEFAULT_AXES = ("b", 0, 1, "c")


def check_axes(axes):
    """``axes`` as a tuple, or a ValueError when it is not a permutation of ('b', 0, 1, 'c')."""
    axes = tuple(axes)
    if len(axes) != 4 or set(axes) != set(DEFAULT_AXES):
        raise ValueError("axes must be a permutation of ('b', 0, 1, 'c'), got %r" % (axes,))
    return axes


class DenseDesignMatrix:
    """The design-matrix methods of MNIST, TFD and CIFAR-10. A subclass sets ``X``, ``axes`` and
    ``view_shape`` (rows, columns, channels: the shape given to ``DefaultViewConverter``)."""

    view_shape = None

    def get_design_matrix(self, topo=None):
        """``X``, or the design matrix of a topological batch laid out in ``self.axes``."""
        if topo is None:
            return self.X
        b01c = np.transpose(topo, [self.axes.index(axis) for axis in DEFAULT_AXES])
        return np.ascontiguousarray(b01c.transpose(0, 3, 1, 2)).reshape(b01c.shape[0], -1)

    def get_topological_view(self, mat=None):
        """``mat`` (default ``X``) as images of ``view_shape``, axes ordered as ``self.axes``."""
        mat = self.X if mat is None else mat
        rows, columns, channels = self.view_shape
        b01c = np.asarray(mat).reshape(-1, channels, rows, columns).transpose(0, 2, 3, 1)
        return np.transpose(b01c, [DEFAULT_AXES.index(axis) for axis in self.axes])

    def get_num_examples(self):
        return self.X.shape[0]

    def adjust_for_viewer(self, X):
        """Scaled so that the largest magnitude is 1 (the base class's; MNIST and CIFAR-10 have
        their own)."""
        return X / np.abs(X).max()

    def adjust_to_be_viewed_with(self, X, ref, per_example=None):
        """``X`` scaled by ``ref``'s largest magnitude, clipped to [-1, 1] (``per_example`` is
        ignored, as the base class ignored it)."""
        return np.clip(X / np.abs(ref).max(), -1.0, 1.0)
