"""Layers and MLPs (pylearn2/models/mlp.py, pylearn2/models/maxout.py) as torch modules."""
