"""Environment variables set for the length of a block (as pylearn2/utils/environ.py's putenv)."""
import contextlib
import os


@contextlib.contextmanager
def variable_set(name, value):
    """``os.environ[name] = value`` inside the block; afterwards the previous value, or none, again.
    ``value`` None leaves the variable as it is."""
    if value is None:
        yield
        return
    previous = os.environ.get(name)
    os.environ[name] = os.fspath(value)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous
