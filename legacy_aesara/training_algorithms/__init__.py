"""Training algorithms (mirrors pylearn2/training_algorithms/): SGD and its learning rules."""
