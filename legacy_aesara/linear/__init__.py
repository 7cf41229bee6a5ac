"""Pylearn2's linear transforms (pylearn2/linear/) as Aesara graphs."""
