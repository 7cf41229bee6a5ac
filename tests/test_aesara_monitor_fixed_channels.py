"""legacy_aesara's monitor evaluates the channels that cannot change during a pass (weight norms,
the learning rate) once a pass instead of on every batch (legacy_aesara/monitor.py ::
PassFunctions), and accumulates them batch by batch as Pylearn2 did, so every channel keeps its
bits."""
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np

import legacy_aesara  # noqa: F401  (Aesara flags first)
import aesara
import aesara.tensor as at
from aesara.sandbox.rng_mrg import MRG_RandomStream

from legacy_aesara.monitor import Monitor, is_fixed_in_a_pass

ROWS, WIDTH, BATCH = 7, 5, 3     # 3 batches, the last one short: the weights differ per batch


def channels(seed):
    """A batch channel, a weight norm, a learning rate and a random channel of no batch, built
    afresh with the given MRG seed."""
    X = at.matrix("X")
    W = aesara.shared(np.linspace(-1, 1, WIDTH * 2, dtype="float32").reshape(WIDTH, 2), name="W")
    lr = aesara.shared(np.float32(0.1), name="lr")
    stream = MRG_RandomStream(seed)
    return X, OrderedDict([
        ("batch_mean", at.dot(X, W).mean()),
        ("W_norm", at.sqrt(at.square(W).sum())),
        ("learning_rate", lr),
        ("noise_mean", stream.uniform(size=(4,)).mean()),
    ])


def test_only_graphs_of_neither_batch_nor_random_stream_are_fixed():
    """The batch channel reads X, the noise channel a random stream (its state has a default
    update): both change per batch; the norm and the learning rate do not. Exact."""
    X, graphs = channels(seed=1)
    fixed = {name for name, graph in graphs.items() if is_fixed_in_a_pass(graph, X)}
    assert fixed == {"W_norm", "learning_rate"}


def test_a_pass_gives_the_bits_of_every_channel_on_every_batch():
    """The monitor's pass against Pylearn2's way written out: one function of every channel called
    on each batch, acc <- acc + value * batch_size / examples in float32. Two passes, so that the
    random channel's draws continue across them as before. Exact: the same float32 operations in
    the same order."""
    data = np.arange(ROWS * WIDTH, dtype="float32").reshape(ROWS, WIDTH) / 10
    dataset = SimpleNamespace(X=data)
    X, graphs = channels(seed=3)
    monitor = Monitor({"valid": dataset}, BATCH, None, lambda _dataset: lambda rows: rows)
    monitor._X, monitor._functions = X, [(dataset, graphs, None)]
    monitor.compile()

    X_ref, graphs_ref = channels(seed=3)
    everything = aesara.function([X_ref], [at.cast(g, "float32") for g in graphs_ref.values()],
                                 on_unused_input="ignore")
    f32 = np.float32
    for _pass in range(2):
        expected = [f32(0)] * len(graphs_ref)
        for start in range(0, ROWS, BATCH):
            rows = data[start:start + BATCH]
            for i, value in enumerate(everything(rows)):
                expected[i] = f32(expected[i] + f32(value) * f32(len(rows)) / f32(ROWS))
        got = monitor()
        assert list(got) == list(graphs)
        for name, value in zip(graphs, expected):
            assert got[name] == float(value), name
