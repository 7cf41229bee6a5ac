"""SGD, Momentum and their schedules (pylearn2/training_algorithms/) for the torch port."""
