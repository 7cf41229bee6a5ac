"""Framework-free arithmetic of Pylearn2's linear transforms (pylearn2/linear/), shared by both
backends: shapes, cuda-convnet's constraints and the initial filter draws."""
