"""pylearn2/monitor.py :: Monitor as the SGD uses it (port_torch/monitor.py is its twin).

Per monitoring dataset, one compiled function returns the channels of a batch and a second one,
called once a pass, those that cannot change during it (weight norms, the learning rate); each
channel is averaged over the dataset's 'sequential' batches as Pylearn2 accumulated it, in floatX:
acc <- acc + value * batch_size / num_examples, batch by batch for both kinds. The cost's and the
model's channel graphs are built once on one symbolic batch and shared by every dataset; each
dataset gets its own `objective` graph (cost.expr), and the first one also carries the
data-independent channels the SGD adds (learning_rate, momentum).

The graphs are built in `setup`, which the SGD calls at Pylearn2's point in SGD.setup: every
dropout graph draws its MRG seed from its MLP's RandomState when it is built
(docs/pylearn2_semantics.md#random-streams), so moving the call would change the seeds.
"""
import time
from collections import OrderedDict

import aesara
import aesara.tensor as at
import numpy as np
from aesara.graph.basic import graph_inputs

from gan2014.iteration import sequential_batches
from legacy_aesara.space import make_theano_batch


def design_matrix(dataset):
    return dataset.get_design_matrix() if hasattr(dataset, "get_design_matrix") else dataset.X


def _log(message):
    print(message, flush=True)


class Monitor:
    """The channels of every monitoring dataset ({name: dataset}, name "" for a single one)."""

    def __init__(self, monitoring_dataset, batch_size, num_batches, input_formatter):
        """`input_formatter(dataset)` turns design-matrix rows into batches of the model's input
        space; `num_batches` (None: all) limits the batches per dataset."""
        self.monitoring_dataset = monitoring_dataset or {}
        self.batch_size = batch_size
        self.num_batches = num_batches
        self.input_formatter = input_formatter
        self.compile_seconds = 0.0
        self._functions = []        # (dataset, channels, compiled function or None)
        self._X = None

    def setup(self, model, cost, extra_channels):
        """Monitor.setup: the channel graphs of each dataset. `extra_channels` (name -> graph)
        are data-independent and go with the first dataset."""
        self._functions = []
        if not self.monitoring_dataset:
            return
        X = self._X = make_theano_batch(model.get_input_space(), "monitor_features")
        shared_channels = OrderedDict(cost.get_monitoring_channels(model, X))
        shared_channels.update(model.get_monitoring_channels(X))
        first = True
        for name, dataset in self.monitoring_dataset.items():
            prefix = name + "_" if name else ""
            channels = OrderedDict()
            objective = cost.expr(model, X)
            if objective is not None:
                channels[prefix + "objective"] = objective
            for key, value in shared_channels.items():
                channels[prefix + key] = value
            if first:
                channels.update(extra_channels)
                first = False
            self._functions.append((dataset, channels, None))

    def compile(self):
        """One function per dataset, every channel cast to floatX (Pylearn2's `accum`)."""
        self.compile_seconds = 0.0
        if not self._functions:
            return
        floatx = aesara.config.floatX
        began = time.time()
        _log("Monitored channels: ")
        for _dataset, channels, _function in self._functions:
            for key in sorted(channels):
                _log("\t" + key)
        _log("Compiling accum...")
        compiled = []
        for dataset, channels, _none in self._functions:
            outputs = [at.cast(value, floatx) if value.dtype != floatx else value
                       for value in channels.values()]
            fixed = [i for i, output in enumerate(outputs) if is_fixed_in_a_pass(output, self._X)]
            per_batch = sorted(set(range(len(outputs))) - set(fixed))
            function = aesara.function([self._X], [outputs[i] for i in per_batch],
                                       name="Monitor.accum", on_unused_input="ignore")
            once = aesara.function([], [outputs[i] for i in fixed], name="Monitor.accum_fixed")
            compiled.append((dataset, channels, PassFunctions(function, once, per_batch, fixed)))
        self._functions = compiled
        self.compile_seconds = time.time() - began
        _log("Compiling accum done. Time elapsed: %f seconds" % self.compile_seconds)

    def __call__(self):
        """Every channel averaged over its dataset's sequential batches, as Pylearn2 did.

        Each batch draws fresh noise, samples and masks (the channel graphs are random).
        """
        floatx = np.dtype(aesara.config.floatX).type
        values = OrderedDict()
        for dataset, channels, function in self._functions:
            X = design_matrix(dataset)
            as_input = self.input_formatter(dataset)
            slices = sequential_batches(X.shape[0], self.batch_size)
            if self.num_batches is not None:
                slices = slices[:self.num_batches]
            num_examples = floatx(sum(s.stop - s.start for s in slices))
            accumulated = [floatx(0)] * len(channels)
            fixed = function.fixed_values()
            for batch_slice in slices:
                weight = floatx(batch_slice.stop - batch_slice.start)
                batch = np.ascontiguousarray(as_input(X[batch_slice]), dtype=aesara.config.floatX)
                for index, value in function.batch_values(batch, fixed):
                    accumulated[index] = floatx(accumulated[index]
                                                + floatx(value) * weight / num_examples)
            values.update((name, float(total)) for name, total in zip(channels, accumulated))
        return values


def is_fixed_in_a_pass(output, X):
    """True when a channel's graph reads neither the batch nor a random stream (the weight norms,
    the learning rate): its value is the same on every batch of a pass."""
    for variable in graph_inputs([output]):
        if variable is X or getattr(variable, "default_update", None) is not None:
            return False
    return True


class PassFunctions:
    """A dataset's compiled channels: those that change from batch to batch in one function of the
    batch, those fixed during a pass in another, evaluated once a pass. Pylearn2 evaluated every
    channel on every batch; the fixed ones give the same value each time, so the pass accumulates
    that value batch by batch exactly as before (the same float32 sums, the same bits) without
    recomputing it: mnist.yaml's weight norms squared and summed every 3.6 million weights on each
    of its 100 batches."""

    def __init__(self, per_batch_function, fixed_function, per_batch, fixed):
        self.per_batch_function, self.fixed_function = per_batch_function, fixed_function
        self.per_batch, self.fixed = per_batch, fixed

    def fixed_values(self):
        return list(zip(self.fixed, self.fixed_function())) if self.fixed else []

    def batch_values(self, batch, fixed_values):
        """(channel index, value) of every channel on this batch (each channel accumulates on its
        own, so their order does not matter)."""
        return fixed_values + list(zip(self.per_batch, self.per_batch_function(batch)))
