"""The broadcast checks of Aesara's shape inference go through a cache of equal ops
(legacy_aesara/shape_composites.py), and the graphs Aesara compiles are the same as without it."""
import io

import legacy_aesara.aesara_flags  # noqa: F401  (Aesara's flags before Aesara)
from legacy_aesara import shape_composites
from parity_tests.helpers import write_tiny_mnist
from parity_tests.trajectory import REPO

TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"


def scalar_check(dtype="int64", constant=1, swap=False):
    """A scalar graph shaped like the ones shape inference builds: is either size 1, or are they
    equal (`swap` exchanges the operands of one comparison: a different graph)?"""
    import aesara.scalar as aes

    a, b = aes.get_scalar_type(dtype)(), aes.get_scalar_type(dtype)()
    one = aes.ScalarConstant(aes.get_scalar_type(dtype), constant)
    ordered = aes.lt(b, a) if swap else aes.lt(a, b)
    return [a, b], [aes.or_(aes.or_(aes.eq(a, one), aes.eq(b, one)), ordered)]


def test_the_key_tells_graphs_apart_exactly_by_structure():
    """Property: two scalar graphs built separately have the same key when their input types,
    ops, wiring and constants are the same, and different keys when any one of these differs.
    Exact (keys are compared with ==)."""
    key = shape_composites.graph_key
    assert key(*scalar_check()) == key(*scalar_check())
    assert hash(key(*scalar_check())) == hash(key(*scalar_check()))
    for other in (scalar_check(dtype="int32"), scalar_check(constant=2),
                  scalar_check(swap=True)):
        assert key(*other) != key(*scalar_check())


def test_a_graph_reading_a_free_variable_is_built_without_the_cache():
    """Property: a scalar graph that reads a variable outside its inputs (not a constant) gets a
    new op from Aesara's own class, and nothing is kept. Exact."""
    import aesara.scalar as aes
    from aesara.scalar.basic import Composite

    a, free = aes.float64(), aes.float64()
    cache = shape_composites.CompositeCache(Composite)
    first, second = cache([a], [a * free]), cache([a], [a * free])
    assert isinstance(first, Composite) and first is not second
    assert cache.ops == {} and cache.built == cache.reused == 0


def test_equal_graphs_get_the_same_op_equal_to_a_fresh_one():
    """Property: the cache returns one op for graphs of one key, equal (same C code, same hash) to
    the op Aesara builds for that graph. Exact."""
    from aesara.scalar.basic import Composite

    cache = shape_composites.CompositeCache(Composite)
    op = cache(*scalar_check())
    assert cache(*scalar_check()) is op and (cache.built, cache.reused) == (1, 1)
    fresh = Composite(*scalar_check())
    assert fresh == op and hash(fresh) == hash(op)
    assert cache(*scalar_check(constant=2)) is not op and cache.built == 2


def test_turned_off_aesara_builds_its_ops_as_shipped(monkeypatch):
    """Property: with GAN2014_REUSE_SHAPE_COMPOSITES=0 the shape-inference module keeps Aesara's
    own class; turned on (the default, set at import) it has the cache. Exact."""
    from aesara.scalar.basic import Composite
    from aesara.tensor import extra_ops

    assert isinstance(extra_ops.Composite, shape_composites.CompositeCache)
    shape_composites.plain_shape_composites()
    try:
        monkeypatch.setenv(shape_composites.VARIABLE, "0")
        assert shape_composites.reuse_shape_composites() is None
        assert extra_ops.Composite is Composite
    finally:
        monkeypatch.delenv(shape_composites.VARIABLE)
        assert isinstance(shape_composites.reuse_shape_composites(),
                          shape_composites.CompositeCache)


def compiled_training_graph():
    """The tiny MNIST model's training function (`sgd_update`, as legacy_aesara.run compiles it,
    without the monitor), built anew from the YAML: its optimized graph printed with types (the
    outer graph: the inner graphs of fused ops are listed once per op object, so their listing
    depends on how many objects there are) and its nodes in order."""
    import aesara

    from gan2014.config.yaml_parse import load, train_file_variables
    from legacy_aesara.registry import REGISTRY

    train = load(TINY_YAML.read_text(encoding="utf-8"), REGISTRY, filename=str(TINY_YAML),
                 environ=train_file_variables(str(TINY_YAML)))
    train.algorithm.monitoring_dataset = {}
    train.algorithm.setup(train.model, train.dataset)
    fgraph = train.algorithm.sgd_update.maker.fgraph
    text = io.StringIO()
    aesara.printing.debugprint(fgraph, file=text, print_type=True)
    return text.getvalue().split("Inner graphs:")[0], fgraph.toposort()


def test_the_training_function_compiles_to_the_same_graph(tmp_path, monkeypatch):
    """Property: the tiny MNIST model's training function, compiled once with Aesara's own ops and
    once through the cache, has the same optimized graph: the same printout (with types, line for
    line) and, node by node in order, equal ops (a fused op is equal when its generated C code
    is); and the cache was used. Exact: an op equal to the one Aesara would build changes no
    rewrite."""
    write_tiny_mnist(tmp_path / "data")
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path / "data"))
    shape_composites.plain_shape_composites()
    try:
        plain, plain_nodes = compiled_training_graph()
    finally:
        cache = shape_composites.reuse_shape_composites()
    reused = cache.reused
    cached, nodes = compiled_training_graph()
    assert cache.reused > reused, "the compile never asked the cache"
    assert len(plain.splitlines()) > 100
    assert cached.splitlines() == plain.splitlines()
    assert len(nodes) == len(plain_nodes)
    for node, plain_node in zip(nodes, plain_nodes):
        assert node.op == plain_node.op, (node, plain_node)
        assert [v.type for v in node.outputs] == [v.type for v in plain_node.outputs]
