"""Property test of the YAML loader's safety: whatever the text, load() returns or raises
YAMLConfigError, and nothing outside the registry runs or gets imported.

Two families of documents (10,000 in all, reproducible with derandomize=True):
* structured: flow-style YAML mixing !obj:/!import/!pkl:/!float, anchors, aliases, merge keys,
  ${VAR} strings and both registered and foreign dotted names (os.system, builtins.eval, ...),
  sometimes with a random edit so that near-valid broken text is covered too;
* raw: random text made of YAML punctuation, Pylearn2 tags and arbitrary characters.

Checks after every load:
* the only exception is YAMLConfigError, with a 1-based position when it has one;
* no module was imported and no import/exec/compile/open/spawn/unpickle audit event fired
  (PEP 578 audit hooks, so even a failed import attempt would be seen);
* only registry callables ran, never the foreign sentinels; a built tree holds no proxies.
"""
import collections
import contextlib
import json
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gan2014.config.registry import not_implemented
from gan2014.config.yaml_parse import ObjectProxy, PickleProxy, YAMLConfigError, load

STRUCTURED_EXAMPLES = 6000
RAW_EXAMPLES = 4000
COUNTS = collections.Counter()

# ------------------------------------------------------------------ registry and its tracing
CALLS = []            # (name, kwargs) of every registry callable that ran
FOREIGN_CALLS = []    # must stay empty: these functions are NOT in the registry


class Traced:
    def __init__(self, name, kwargs):
        self.name = name
        self.kwargs = kwargs


def _tracer(name):
    def build(**kwargs):
        CALLS.append((name, kwargs))
        return Traced(name, kwargs)
    return build


def _strict(layer_name, dim, irange=0.05):
    CALLS.append(("m.Strict", {"layer_name": layer_name, "dim": dim, "irange": irange}))
    return Traced("m.Strict", {})


def _fails(**kwargs):
    CALLS.append(("m.Fails", kwargs))
    raise ValueError("configured object refused its arguments")


def _returns_int(**kwargs):
    CALLS.append(("m.Int", kwargs))
    return 3  # an int takes no yaml_src attribute


def forbidden(*args, **kwargs):
    FOREIGN_CALLS.append((args, kwargs))


REGISTRY = {name: _tracer(name) for name in [
    "pylearn2.train.Train", "pylearn2.models.mlp.MLP", "pylearn2.datasets.mnist.MNIST",
    "adversarial.AdversaryPair", "m.f", "a.b.c"]}
REGISTRY.update({"m.Strict": _strict, "m.Fails": _fails, "m.Int": _returns_int,
                 "m.Stub": not_implemented("m.Stub", "fuzz")})

FOREIGN_NAMES = ["os.system", "builtins.eval", "builtins.exec", "subprocess.call",
                 "subprocess.Popen", "importlib.import_module", "pickle.loads", "sys.exit",
                 "antigravity.fly", "shutil.rmtree", "tests.test_yaml_fuzz.forbidden",
                 "test_yaml_fuzz.forbidden", "__import__", "Train", "pylearn2.train.Trian"]

# ------------------------------------------------------------------------------ the watchers
FORBIDDEN_EVENTS = {"import", "exec", "compile", "open", "os.system", "os.exec", "os.fork",
                    "os.posix_spawn", "os.spawn", "subprocess.Popen", "pickle.find_class",
                    "marshal.loads", "ctypes.dlopen", "socket.connect", "webbrowser.open"}
_audit_log = None


def _audit_hook(event, args):
    if _audit_log is not None and event in FORBIDDEN_EVENTS:
        _audit_log.append(event)


sys.addaudithook(_audit_hook)


@contextlib.contextmanager
def forbidden_events():
    global _audit_log
    _audit_log = log = []
    try:
        yield log
    finally:
        _audit_log = None


def _pickle_loader(path):
    CALLS.append(("<pickle_loader>", {"path": path}))
    if "missing" in path or path.startswith("x/"):   # x/ comes from '${X}/model.pkl'
        raise FileNotFoundError(path)
    return Traced("<pickle>", {})


def _no_proxy_left(value, seen):
    if id(value) in seen:
        return True
    seen.add(id(value))
    if isinstance(value, (ObjectProxy, PickleProxy)):
        return False
    if isinstance(value, Traced):
        children = list(value.kwargs.values())
    elif isinstance(value, dict):
        children = list(value.keys()) + list(value.values())
    elif isinstance(value, (list, tuple, set, frozenset)):
        children = list(value)
    else:
        return True
    return all(_no_proxy_left(child, seen) for child in children)


def check_document(text, options):
    """Load ``text`` and assert the safety properties listed in the module docstring.

    Returns the error message, or "ok".
    """
    del CALLS[:]
    modules_before = set(sys.modules)
    with forbidden_events() as events:
        try:
            result = load(text, REGISTRY, filename="fuzz.yaml", pickle_loader=_pickle_loader,
                          **options)
        except YAMLConfigError as error:
            assert error.filename == "fuzz.yaml"
            assert error.line is None or (error.line >= 1 and error.column >= 1)
            assert str(error).startswith("fuzz.yaml")
            outcome = error.message
        else:
            if options["instantiate"]:
                assert _no_proxy_left(result, set())
            else:
                assert CALLS == []
            outcome = "ok"
    assert events == []
    assert set(sys.modules) == modules_before
    assert FOREIGN_CALLS == []
    registered = set(REGISTRY) | {"<pickle_loader>"}
    assert all(name in registered for name, _ in CALLS)
    return outcome


# --------------------------------------------------------------------------- the strategies
# Two kinds of structured documents: "wild" ones mix every oddity (foreign names, bad scalars,
# duplicate keys, dangling aliases) and mostly fail early; "tame" ones use registered names and
# valid scalars only, so that they get through parsing and exercise building and its errors.
# (sampled_from picks uniformly by position, so repeating an entry weights it.)
identifier = st.text("abcxyzABC_019", min_size=1, max_size=5)
random_dotted = st.lists(identifier, min_size=1, max_size=4).map(".".join)
registered_names = st.sampled_from(sorted(REGISTRY))
wild_names = st.one_of(registered_names, st.sampled_from(FOREIGN_NAMES), random_dotted)

plain_scalars = st.sampled_from([
    "0", "1", ".05", "55.", "1e-6", "1.0e-6", "-2.0", "True", "null", "~", "'train'", "h0",
    "'${X}'", "\"${X}/${Y}\"", "'${PYLEARN2_DATA_PATH}/mnist'", "2014-06-09", "!float 1e-3"])
odd_scalars = st.sampled_from([
    "'${NOT_SET_ANYWHERE}'", "'${unterminated'", "'${}'", "2001-02-30", "!!int x", "!!float abc",
    "!!timestamp x", "!!binary '???'", "!!str 1", "!!bool maybe", "\"\\ud800\"",
    "\"${\\ud800}\"", "!float 'abc'", "!float [1]", "[]", "{}", "=",
    "!!python/object/apply:os.system ['echo pwned']", "!!python/name:os.system ''",
    "!!set {a, b}", "!!omap [a: 1, b: 2]", "!!pairs [a: 1]", "!nosuchtag x",
])
# Whole nodes whose building fails in each possible way.
call_problems = st.sampled_from([
    "!obj:m.Strict {layer_name: h0, dim: 2, irnage: .05}", "!obj:m.Strict {layer_name: h0}",
    "!obj:m.Strict {layer_name: h0, dim: 2}", "!obj:m.Fails {a: 1}", "!obj:m.Stub {}",
    "!obj:m.Int {}", "!pkl: 'missing.pkl'", "'${NOT_SET_ANYWHERE}'", "'${unterminated'"])
wild_leaves = st.one_of(
    plain_scalars, odd_scalars, call_problems,
    st.integers(-10**6, 10**6).map(str),
    st.text(max_size=6).map(json.dumps),  # double-quoted, with escapes (even lone surrogates)
)

plain_keys = st.sampled_from(["a", "b", "dim", "layer_name", "irange", "dataset", "layers",
                              "save_path"])
wild_keys = st.one_of(plain_keys, st.sampled_from(["'1'", "1", "<<", "'${X}'", "? [k]", "!!int 2"]))
wild_anchors = st.sampled_from([""] * 8 + ["&a ", "&b ", "&t "])
wild_aliases = st.sampled_from(["*a", "*b", "*t", "*undefined"])


def _flow_mapping(pairs):
    return "{" + ", ".join(f"{key}: {value}" for key, value in pairs) + "}"


def _flow_sequence(items):
    return "[" + ", ".join(items) + "]"


def yaml_values(tame):
    """Flow-style YAML values (st.recursive over tagged nodes), wild or tame as described above."""
    names = registered_names if tame else wild_names
    leaves = st.one_of(plain_scalars, call_problems) if tame else wild_leaves
    keys = plain_keys if tame else wild_keys
    anchors = st.just("") if tame else wild_anchors
    aliases = st.nothing() if tame else wild_aliases
    pkl_nodes = ["!pkl: 'model.pkl'", "!pkl: '${X}/model.pkl'"]
    if not tame:
        pkl_nodes += ["!pkl:model.pkl ''", "!pkl: [a]", "!pkl: '${'"]

    def extend(children):
        pairs = st.lists(st.tuples(keys, children), max_size=4,
                         unique_by=(lambda pair: pair[0]) if tame else None)
        mapping = pairs.map(_flow_mapping)
        sequence = st.lists(children, max_size=4).map(_flow_sequence)
        bodies = mapping if tame else st.one_of(mapping, sequence, st.sampled_from(["'x'", ""]))
        obj = st.builds(lambda anchor, name, body: f"{anchor}!obj:{name} {body}",
                        anchors, names, bodies)
        tagged_import = st.one_of(
            names.map(lambda name: f"!import '{name}'"),
            # After `!import:name` a space is needed: in a flow collection `,` would join the tag.
            names.map(lambda name: f"!import:{name} ''"),
            st.builds(lambda name, body: f"!import:{name} {body}", names, mapping),
        )
        anchored = st.builds(lambda anchor, body: anchor + body, anchors,
                             st.one_of(mapping, sequence))
        return st.one_of(obj, anchored, tagged_import, st.sampled_from(pkl_nodes), aliases)

    return st.recursive(leaves, extend, max_leaves=10)


def _block_document(pairs):
    return "\n".join(f"{key}: {value}" for key, value in pairs) + "\n"


def documents(tame):
    values = yaml_values(tame)
    keys = plain_keys if tame else wild_keys
    pairs = st.lists(st.tuples(keys, values), min_size=1, max_size=4,
                     unique_by=(lambda pair: pair[0]) if tame else None)
    return st.one_of(
        values,
        pairs.map(_block_document),
        # The shape of the real configs: an anchored object reused through an alias.
        st.tuples(values, values).map(lambda pair: f"!obj:pylearn2.train.Train "
                                                   f"{{dataset: &t {pair[0]}, model: *t, "
                                                   f"algorithm: {pair[1]}}}"),
    )


@st.composite
def edited(draw, texts):
    """A document with one random edit: a deletion, an insertion or a duplicated slice."""
    text = draw(texts)
    where = draw(st.integers(0, len(text)))
    length = draw(st.integers(0, 6))
    edit = draw(st.sampled_from(["delete", "insert", "duplicate"]))
    if edit == "delete":
        return text[:where] + text[where + length:]
    if edit == "insert":
        inserted = draw(st.sampled_from(["{", "}", "[", ":", ",", "\n  ", "&a ", "*a", "!obj:", "'",
                                         "${", "<<: ", "- "]))
        return text[:where] + inserted + text[where:]
    return text[:where] + text[where:where + length] + text[where:]


wild_documents = documents(tame=False)
tame_documents = documents(tame=True)
structured = st.one_of(wild_documents, tame_documents, edited(wild_documents),
                       edited(tame_documents))

RAW_TOKENS = ["!obj:", "!obj:m.f ", "!obj:os.system ", "!pkl: ", "!import ", "!import:", "!float ",
              "!!python/object:os.system ", "&a ", "*a", "<<", "${", "}", "{", "[", "]", ",",
              ": ", "- ", "\n", "  ", "\t", "'", '"', "#", "|", ">", "?", "%YAML 1.1\n",
              "%TAG ! !obj:\n", "---\n", "...\n", "\\", "\x00", "\ufeff", "m.f", "a"]
raw = st.one_of(
    st.lists(st.one_of(st.sampled_from(RAW_TOKENS), st.text(max_size=3)), max_size=25)
    .map("".join),
    st.text(max_size=40),
)

options = st.fixed_dictionaries({
    "instantiate": st.booleans(),
    "allow_pickle": st.booleans(),
    "environ": st.sampled_from([None, {"X": "x", "Y": "${X}"}, {"PYLEARN2_DATA_PATH": "/data"}]),
})

# Substrings of load()'s outcomes; each must occur in the structured run.
OUTCOMES = ["ok", "invalid YAML", "unknown name", "duplicate key", "must be followed by",
            "does not support", "did not get these expected arguments", "building !obj:",
            "!pkl: is refused", "could not load", "environment variable", "not followed by"]

FUZZ_SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=True,
                     suppress_health_check=list(HealthCheck))


@settings(max_examples=STRUCTURED_EXAMPLES, **FUZZ_SETTINGS)
@given(text=structured, opts=options)
def _check_structured(text, opts):
    COUNTS["structured"] += 1
    outcome = check_document(text, opts)
    COUNTS.update(marker for marker in OUTCOMES if marker in outcome)


@settings(max_examples=RAW_EXAMPLES, **FUZZ_SETTINGS)
@given(text=raw, opts=options)
def _check_raw(text, opts):
    COUNTS["raw"] += 1
    check_document(text, opts)


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
def test_structured_documents_are_safe():
    """For STRUCTURED_EXAMPLES (6,000) derandomized structured documents and random load options,
    check_document's safety checks hold, and each outcome of OUTCOMES occurs at least 10 times, so
    the documents reach every stage of the loader. Exact: the checks are yes or no; the 10 is a
    floor on coverage, not a tolerance."""
    before = COUNTS.copy()
    _check_structured()
    seen = COUNTS - before
    assert seen["structured"] >= STRUCTURED_EXAMPLES
    # The documents reach every stage of the loader, not just the syntax check.
    assert all(seen[marker] >= 10 for marker in OUTCOMES), seen


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
def test_raw_text_is_safe():
    """For RAW_EXAMPLES (4,000) derandomized raw texts (YAML punctuation, tags and arbitrary
    characters) and random load options, check_document's safety checks hold. Exact: the checks are
    yes or no (only YAMLConfigError, no import or audit event, no call outside the registry)."""
    before = COUNTS["raw"]
    _check_raw()
    assert COUNTS["raw"] - before >= RAW_EXAMPLES
