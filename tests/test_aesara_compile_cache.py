"""Fused elementwise ops pickled into Aesara's compile cache keep their generated C code
(legacy_aesara/compile_cache.py), so reading the cache's keys does not rebuild it."""
import pickle

import legacy_aesara.aesara_flags  # noqa: F401  (Aesara's flags before Aesara)


def fused_op():
    """The Composite of a function fusing three elementwise operations, its C code generated."""
    import aesara
    import aesara.tensor as at
    from aesara.scalar.basic import Composite

    x = at.vector("x")
    f = aesara.function([x], at.exp(x * 2.5) + at.tanh(x))
    ops = [node.op.scalar_op for node in f.maker.fgraph.apply_nodes
           if isinstance(getattr(node.op, "scalar_op", None), Composite)]
    assert ops, "the elementwise operations were not fused"
    return ops[0]


def test_a_pickled_composite_keeps_its_c_code_and_stays_equal():
    """Property: after a pickle round trip the op carries the same C code without rebuilding it,
    and it is equal to the original with the same hash (so it finds the same cached module).
    Exact."""
    op = fused_op()
    code = op.c_code_template
    loaded = pickle.loads(pickle.dumps(op))
    assert loaded.__dict__.get("_c_code") == code
    assert "_fgraph" not in loaded.__dict__          # nothing else rides along
    assert loaded == op and hash(loaded) == hash(op)


def test_a_composite_without_generated_code_pickles_as_before():
    """Property: an op whose C code was never generated pickles without it and rebuilds the same
    code when asked. Exact."""
    op = fused_op()
    fresh = pickle.loads(pickle.dumps(op))
    fresh.__dict__.pop("_c_code", None)
    again = pickle.loads(pickle.dumps(fresh))
    assert "_c_code" not in again.__dict__
    assert again.c_code_template == op.c_code_template
