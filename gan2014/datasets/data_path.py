"""Where datasets live: ``$PYLEARN2_DATA_PATH``, or ``./data`` when it is not set.

Pylearn2 found every dataset through the ``${PYLEARN2_DATA_PATH}`` template
(``pylearn2/utils/string_utils.py :: preprocess``) and failed when the variable was unset. This
project keeps the variable but falls back to ``data`` *relative to the current working directory*,
which is the repository's git-ignored ``data/`` folder when commands run from the repository root
(as ``python -m gan2014.datasets.fetch mnist`` and the run scripts do). An empty variable counts as
unset.
"""
import os

DATA_PATH_VARIABLE = "PYLEARN2_DATA_PATH"
DEFAULT_DATA_PATH = "data"

# Appended to "file not found" messages so a user knows both ways out.
HOW_TO_GET_MNIST = (
    "Set %s to the folder that holds mnist/ (currently it falls back to ./data relative to the "
    "working directory), or create the files with: python -m gan2014.datasets.fetch mnist"
    % DATA_PATH_VARIABLE
)


def data_path(environ=None):
    """The absolute dataset root: ``$PYLEARN2_DATA_PATH`` if set and non-empty, else ``./data``.

    A relative value (of the variable or the default) is resolved against the current working
    directory at the time of the call.
    """
    environ = os.environ if environ is None else environ
    root = environ.get(DATA_PATH_VARIABLE) or DEFAULT_DATA_PATH
    return os.path.abspath(root)


def dataset_dir(name, root=None, environ=None):
    """``<root>/<name>``, with ``root`` defaulting to :func:`data_path`."""
    return os.path.join(data_path(environ) if root is None else os.path.abspath(root), name)
