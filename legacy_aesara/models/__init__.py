"""Models (mirrors pylearn2/models/): the MLP and its layers, and the maxout layer."""
