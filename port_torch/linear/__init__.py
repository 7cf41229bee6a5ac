"""Pylearn2's linear transforms (pylearn2/linear/) for the torch port."""
