# -*- coding: utf-8 -*-
"""Runs an unmodified Pylearn2 YAML file of the 2014 code for N epochs (Python 2.7, inside the
stack that ``python -m original_2014 build`` made).

It is started by ``python -m original_2014 run``; it is not part of the Python 3 project and
imports nothing from it. What it adds to the run, none of which changes a number the run computes:

* ``train.algorithm.termination_criterion`` is set to Pylearn2's own ``EpochCounter(N)`` (the file
  itself has no termination criterion: the 2014 run was stopped by hand);
* with ``--dump-steps``, an update callback appended after the file's own (``ExponentialDecay``)
  writes the parameters after each chosen SGD step (counted from 1 over the whole run) to
  ``<dump-dir>/step_<k>.npz``, named ``G/<layer>_<W|b>`` and ``D/<layer>_<W|b>``; it only reads the
  shared variables (``get_value`` copies them);
* ``Train.run_callbacks_and_monitoring`` and ``SGD.train`` are timed from outside (wrapped on the
  instance), and one line per epoch is printed: training seconds, monitoring seconds.
"""
from __future__ import print_function

import argparse
import os
import sys
import time


def parse_steps(text):
    """'1-500' or '1,2,10-20' -> a set of positive ints."""
    steps = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            low, high = part.split("-", 1)
            low, high = int(low), int(high)
            if low < 1 or high < low:
                raise ValueError("bad step range %r (steps count from 1)" % part)
            steps.update(range(low, high + 1))
        else:
            value = int(part)
            if value < 1:
                raise ValueError("bad step %r (steps count from 1)" % part)
            steps.add(value)
    return steps


def named_params(model):
    generator = model.generator.get_params()
    discriminator = model.discriminator.get_params()
    names = ["G/" + p.name for p in generator] + ["D/" + p.name for p in discriminator]
    return list(zip(names, generator + discriminator))


class DumpParameters(object):
    """An SGD update callback: after step k (k in ``steps``) saves every parameter."""

    def __init__(self, model, steps, folder):
        self.model, self.steps, self.folder = model, steps, folder
        self.done = 0

    def __call__(self, algorithm):
        import numpy as np
        self.done += 1
        if self.done not in self.steps:
            return
        arrays = dict((name, p.get_value()) for name, p in named_params(self.model))
        final = os.path.join(self.folder, "step_%d.npz" % self.done)
        partial = final + ".part.npz"
        np.savez(partial, **arrays)
        os.rename(partial, final)  # a reader never sees half a file


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("yaml")
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--out", required=True, help="folder for the saved model (.pkl)")
    parser.add_argument("--dump-steps", default="")
    parser.add_argument("--dump-dir", default=None)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    steps = parse_steps(args.dump_steps)
    if steps and not args.dump_dir:
        parser.error("--dump-steps needs --dump-dir")

    stem = os.path.splitext(os.path.basename(args.yaml))[0]
    # Pylearn2's train.py sets this variable from the file name; save_path uses it.
    os.environ["PYLEARN2_TRAIN_FILE_FULL_STEM"] = os.path.join(os.path.abspath(args.out), stem)

    import theano
    from pylearn2.config import yaml_parse
    from pylearn2.termination_criteria import EpochCounter

    print("original: Python %s, numpy %s, Theano %s; floatX=%s, blas.ldflags=%r, "
          "gcc.cxxflags=%r; OMP_NUM_THREADS=%s OPENBLAS_NUM_THREADS=%s OPENBLAS_CORETYPE=%s" % (
              sys.version.split()[0], __import__("numpy").__version__, theano.__version__,
              theano.config.floatX, theano.config.blas.ldflags, theano.config.gcc.cxxflags,
              os.environ.get("OMP_NUM_THREADS"), os.environ.get("OPENBLAS_NUM_THREADS"),
              os.environ.get("OPENBLAS_CORETYPE")))
    sys.stdout.flush()
    began = time.time()
    train = yaml_parse.load_path(args.yaml)
    train.algorithm.termination_criterion = EpochCounter(args.epochs)
    if steps:
        if not os.path.isdir(args.dump_dir):
            os.makedirs(args.dump_dir)
        train.algorithm.update_callbacks.append(
            DumpParameters(train.model, steps, args.dump_dir))
    print("original: YAML loaded in %.1f s" % (time.time() - began))

    records = {"monitor": [], "train": []}

    def timed(function, key, label):
        def wrapper(*a, **k):
            start = time.time()
            result = function(*a, **k)
            seconds = time.time() - start
            records[key].append(seconds)
            print("original: %s %d: %.2f s" % (label, len(records[key]) - (key == "monitor"),
                                               seconds))
            sys.stdout.flush()
            return result
        return wrapper

    train.run_callbacks_and_monitoring = timed(train.run_callbacks_and_monitoring, "monitor",
                                               "monitoring pass after epoch")
    train.algorithm.train = timed(train.algorithm.train, "train", "training epoch")
    start = time.time()
    train.main_loop()
    print("original: main loop %.1f s (set-up and compilation included)" % (time.time() - start))
    if records["train"]:
        # The epoch-0 pass also compiles the monitor: the median is over the passes after it.
        ordered, passes = sorted(records["train"]), sorted(records["monitor"][1:])
        print("original: training s/epoch median %.2f over %d epochs; monitoring pass median "
              "%.2f s (after epoch 1 on)" % (ordered[len(ordered) // 2], len(ordered),
                                             passes[len(passes) // 2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
