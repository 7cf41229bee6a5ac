"""A labelled design-matrix dataset whose rows carry their one-hot label: [pixels | one-hot].

Pylearn2's conditional experiments asked MNIST for two sources, ('features', 'targets'), with
``one_hot`` targets, and the cost's data specs joined them. Both backends' SGD serve batches of a
single design matrix (rows formatted to the model's input space); this wrapper hands them the two
sources joined column-wise, which is exactly a batch of the conditional discriminator's input
space CompositeSpace([VectorSpace(pixels), VectorSpace(classes)]) (gan2014/composite_space.py).
The wrapped dataset itself is kept (``.dataset``) for what needs the pixels alone (the sigmoid
bias initialisation, the Parzen evaluation).
"""
import numpy as np

from gan2014.config.checks import check_whole_number

__all__ = ["LabelsAsFeatures", "one_hot"]


def one_hot(labels, num_classes, dtype=np.float32):
    """(N,) or (N, 1) integer labels -> (N, num_classes) 0/1 rows; out-of-range labels refused."""
    labels = np.asarray(labels).reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got the range "
                         f"[{labels.min()}, {labels.max()}]")
    rows = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    rows[np.arange(labels.shape[0]), labels.astype(np.int64)] = 1
    return rows


class LabelsAsFeatures:
    """LabelsAsFeatures(dataset, num_classes=None): X = [dataset.X | one_hot(dataset.y)].

    ``num_classes`` defaults to the dataset's ``y_labels`` (10 for MNIST). Attributes: ``X``
    (float32, N x (pixels + classes)), ``y`` (the dataset's labels), ``labels`` (N int64),
    ``num_classes``, ``pixels`` (the width of the feature part), ``dataset``.
    """

    def __init__(self, dataset, num_classes=None):
        if not hasattr(dataset, "X") or not hasattr(dataset, "y"):
            raise TypeError(f"LabelsAsFeatures: {type(dataset).__name__} has no X and y "
                            "(a labelled design-matrix dataset is needed)")
        num_classes = getattr(dataset, "y_labels", None) if num_classes is None else num_classes
        self.dataset = dataset
        self.num_classes = check_whole_number("LabelsAsFeatures", "num_classes", num_classes,
                                              minimum=2)
        self.labels = np.asarray(dataset.y).reshape(-1).astype(np.int64)
        self.y = dataset.y
        features = np.asarray(dataset.X, dtype=np.float32)
        self.pixels = features.shape[1]
        self.X = np.ascontiguousarray(np.hstack([features, one_hot(self.labels, self.num_classes)]))

    def get_design_matrix(self):
        return self.X

    def get_num_examples(self):
        return self.X.shape[0]
