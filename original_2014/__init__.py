"""The original 2014 stack (goodfeli/adversarial + Pylearn2 + Theano 0.7 on Python 2.7), built in
its own folder beside the project and run on the unmodified YAML files.

    python -m original_2014 build [--python python2.7] [--pylearn2 SRC] [--adversarial SRC]
    python -m original_2014 run [--epochs N] [--dump-steps 1-500 --dump-dir DIR]

Nothing of the original code is in this repository: ``build`` downloads the two repositories at
their pinned commits (or takes local copies: a git repository holding the commit, or a folder with
the source tree) and the Python packages of 2014-2015 from PyPI into ``build/original_2014/``
(git-ignored). See ``python -m original_2014 --help`` and REPRODUCING.md.
"""
