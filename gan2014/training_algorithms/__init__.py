"""Backend-independent arithmetic of Pylearn2's training schedules."""
