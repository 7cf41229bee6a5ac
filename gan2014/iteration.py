"""Minibatch orders of Pylearn2's iterators (pylearn2/utils/iteration.py)."""
import math

import numpy as np


def shuffled_sequential_batches(num_examples, batch_size, rng):
    """Index arrays of one epoch of ShuffledSequentialSubsetIterator.

    The SGD passes its persistent RandomState([2012, 10, 5]); each epoch shuffles a fresh arange(N)
    with it, so epoch e uses the e-th shuffle of that stream. Batch j is perm[j*B:(j+1)*B], in
    permutation order (not sorted); a last partial batch keeps N mod B rows.
    """
    perm = np.arange(num_examples)
    rng.shuffle(perm)
    return [perm[start:start + batch_size] for start in range(0, num_examples, batch_size)]


def sequential_batches(num_examples, batch_size):
    """Slices of the 'sequential' mode the monitor uses (no RNG involved)."""
    return [slice(start, min(start + batch_size, num_examples))
            for start in range(0, num_examples, batch_size)]


def num_batches(num_examples, batch_size):
    return math.ceil(num_examples / batch_size)
