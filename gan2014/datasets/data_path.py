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


def where_from(environ=None):
    """A sentence saying how the data path was chosen, for "file not found" messages."""
    environ = os.environ if environ is None else environ
    if environ.get(DATA_PATH_VARIABLE):
        return "%s is set to %r." % (DATA_PATH_VARIABLE, environ[DATA_PATH_VARIABLE])
    return "%s is not set, so ./data under the working directory (%s) is used." % (
        DATA_PATH_VARIABLE, data_path(environ))


def how_to_get_mnist(environ=None):
    """Appended to "MNIST file not found" messages so that a user knows both ways out."""
    return ("%s Set %s to the folder that holds mnist/, or create the files with: "
            "python -m gan2014.datasets.fetch mnist" % (where_from(environ), DATA_PATH_VARIABLE))
