"""Aesara's shape inference, made cheaper: the small scalar ops it builds to check broadcasting are
built once per shape of check instead of once per elementwise node.

Every graph Aesara compiles goes through its `ShapeFeature`, which infers the shape of each
variable as the graph is imported and rewritten. For an elementwise node with several inputs whose
sizes are not known in advance (the batch dimension of every layer), Aesara 2.9's
`aesara.tensor.extra_ops.broadcast_shape_iter` writes, per dimension, a scalar graph that checks
that the inputs can broadcast and packs it into a new fused scalar op (`Composite`). The graph only
depends on how many inputs take part, their dtypes and a constant, so the same few ops are built
thousands of times, and building one clones its scalar graph: a large share of the time to compile
the MNIST model's functions (REPRODUCING.md §5 has the figures).

`reuse_shape_composites` makes that module build its `Composite`s through a small cache keyed by
the structure of the scalar graph: its input types, each node's op and where each of its inputs
comes from (a graph input, an earlier node's output, or a constant's type and bytes). Two graphs
with the same key generate the same C code, and a `Composite` is compared and hashed by that C
code, so the op returned is equal to the one Aesara would have built: the rewritten graphs, the
compiled modules and every number are the same (tests/test_aesara_shape_composites.py checks the
optimized graphs side by side). Only the ops of this one module go through the cache; the fusion
of the model's own elementwise computations builds its ops as before.

`GAN2014_REUSE_SHAPE_COMPOSITES=0` turns the cache off (Aesara as shipped, for comparisons).
"""
import os

import numpy as np

VARIABLE = "GAN2014_REUSE_SHAPE_COMPOSITES"


class _NotCached(Exception):
    """The scalar graph reads a variable that is neither one of its inputs nor a constant."""


def graph_key(inputs, outputs):
    """A hashable description of the scalar graph from `inputs` to `outputs` that is equal for two
    graphs exactly when they have the same input types, the same ops wired the same way and the
    same constants."""
    from aesara.graph.basic import Constant, io_toposort

    where = {variable: ("input", index) for index, variable in enumerate(inputs)}
    nodes = []
    for position, node in enumerate(io_toposort(inputs, outputs)):
        sources = []
        for variable in node.inputs:
            if variable in where:
                sources.append(where[variable])
            elif isinstance(variable, Constant):
                data = np.asarray(variable.data)
                sources.append(("constant", variable.type, str(data.dtype), data.tobytes()))
            else:
                raise _NotCached(variable)
        nodes.append((node.op, tuple(sources)))
        for index, output in enumerate(node.outputs):
            where[output] = ("node", position, index)
    if any(output not in where for output in outputs):
        raise _NotCached(outputs)
    return (tuple(variable.type for variable in inputs), tuple(nodes),
            tuple(where[output] for output in outputs))


class CompositeCache:
    """Stands in for the `Composite` class where shape inference calls it: returns the op built
    for an earlier graph of the same key, or builds (and keeps) a new one."""

    def __init__(self, composite):
        self.composite = composite
        self.ops = {}
        self.built = 0
        self.reused = 0

    def __call__(self, inputs, outputs):
        try:
            key = graph_key(inputs, outputs)
        except _NotCached:
            return self.composite(inputs, outputs)
        op = self.ops.get(key)
        if op is None:
            op = self.ops[key] = self.composite(inputs, outputs)
            self.built += 1
        else:
            self.reused += 1
        return op


def enabled():
    return os.environ.get(VARIABLE, "1") != "0"


def reuse_shape_composites():
    """Route the broadcast checks of Aesara's shape inference through a `CompositeCache` (once per
    process; nothing is done when turned off or when the module does not build its checks with
    `Composite`). Returns the cache in use, or None."""
    from aesara.scalar.basic import Composite
    from aesara.tensor import extra_ops

    current = getattr(extra_ops, "Composite", None)
    if isinstance(current, CompositeCache):
        return current
    if not enabled() or current is not Composite:
        return None
    extra_ops.Composite = CompositeCache(Composite)
    return extra_ops.Composite


def plain_shape_composites():
    """Undo `reuse_shape_composites` (for side-by-side comparisons in one process)."""
    from aesara.tensor import extra_ops

    current = getattr(extra_ops, "Composite", None)
    if isinstance(current, CompositeCache):
        extra_ops.Composite = current.composite
