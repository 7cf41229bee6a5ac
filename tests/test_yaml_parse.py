"""Tests of the Pylearn2-compatible YAML loader (gan2014/config/yaml_parse.py) and its registry.

Each feature of pylearn2/config/yaml_parse.py that the 2014 configs rely on, each error the loader
must raise instead of doing something unsafe or silent, and the five original configs themselves.
"""
import contextlib
import os
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gan2014.config import registry as registry_module
from gan2014.config.registry import KNOWN_NAMES, backend_registry, not_implemented
from gan2014.config.yaml_parse import (
    ObjectProxy,
    PickleProxy,
    YAMLConfigError,
    load,
    load_path,
    preprocess,
    train_file_variables,
)

REPO = Path(__file__).resolve().parent.parent
ORIGINAL = REPO / "yaml_experiments" / "original"
CONFIGS = [
    "mnist.yaml",
    "tfd_pretrain/pretrain.yaml",
    "tfd_pretrain/train.yaml",
    "cifar10_fully_connected.yaml",
    "cifar10_convolutional.yaml",
]
TRAIN_FILE_VARIABLES = ["PYLEARN2_TRAIN_FILE_FULL_STEM", "PYLEARN2_TRAIN_DIR",
                        "PYLEARN2_TRAIN_BASE_NAME", "PYLEARN2_TRAIN_FILE_STEM"]


# ------------------------------------------------------------------------------------ helpers
class Built:
    """What a recording stub returns: its name and the keyword arguments it got."""

    def __init__(self, name, kwargs):
        self.name = name
        self.kwargs = kwargs


def recording_registry(names, calls):
    """A registry whose callables append (name, args, kwargs) to ``calls`` and return a Built."""

    def make(name):
        def stub(*args, **kwargs):
            calls.append((name, args, kwargs))
            return Built(name, kwargs)
        return stub

    return {name: make(name) for name in names}


@pytest.fixture
def calls():
    return []


@pytest.fixture
def reg(calls):
    return recording_registry(["m.f", "m.g", "m.Outer", "m.Inner"] + list(KNOWN_NAMES), calls)


@pytest.fixture
def clean_train_variables(monkeypatch):
    # load_path writes into os.environ; monkeypatch restores the previous state afterwards.
    for name in TRAIN_FILE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# Audit events that would mean the loader imported, executed, unpickled, opened or spawned
# something (PEP 578). "import" fires only when a module is actually loaded, successfully or not.
FORBIDDEN_EVENTS = {"import", "exec", "compile", "open", "os.system", "os.exec", "os.fork",
                    "os.posix_spawn", "os.spawn", "subprocess.Popen", "pickle.find_class",
                    "marshal.loads", "ctypes.dlopen", "socket.connect", "webbrowser.open"}
_audit_log = None


def _audit_hook(event, args):
    if _audit_log is not None and event in FORBIDDEN_EVENTS:
        _audit_log.append((event, args[:1]))


sys.addaudithook(_audit_hook)


@contextlib.contextmanager
def forbidden_events():
    """Collects forbidden audit events raised inside the block."""
    global _audit_log
    _audit_log = log = []
    try:
        yield log
    finally:
        _audit_log = None


def walk(value, seen=None):
    """Every value reachable from a parsed tree (through proxies, containers and Built objects)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    yield value
    children = []
    if isinstance(value, ObjectProxy):
        children = list(value.kwargs.values())
    elif isinstance(value, Built):
        children = list(value.kwargs.values())
    elif isinstance(value, dict):
        children = list(value.keys()) + list(value.values())
    elif isinstance(value, (list, tuple)):
        children = list(value)
    for child in children:
        yield from walk(child, seen)


def proxy_names(tree):
    return {value.name for value in walk(tree) if isinstance(value, ObjectProxy)}


def names_in_file_text(path):
    """Every !obj: name on a non-comment part of a line (a plain-text reading of the file)."""
    names = set()
    for line in path.read_text().splitlines():
        code = line.split("#", 1)[0]
        names.update(re.findall(r"!obj:([A-Za-z0-9_.]+)", code))
    return names


# ------------------------------------------------------------------------- !obj: two phases
def test_obj_is_called_with_keyword_arguments_only(reg, calls):
    """!obj:m.f {mapping} calls the registered callable once, with the mapping as keyword arguments
    and nothing positional, and gives back its result. Exact: the call is recorded as made."""
    result = load("!obj:m.f {a: 1, b: [x, y]}", reg)
    assert calls == [("m.f", (), {"a": 1, "b": ["x", "y"]})]
    assert isinstance(result, Built) and result.kwargs == {"a": 1, "b": ["x", "y"]}


def test_instantiate_false_returns_proxies_and_calls_nothing(reg, calls):
    """instantiate=False gives the parsed tree of ObjectProxy nodes (name, registry target, 1-based
    line and column, nested proxies, yaml_src) without calling anything or substituting ${}. Exact:
    a parse-only check must not act, and the tree is plain data."""
    tree = load("!obj:m.Outer {inner: !obj:m.Inner {n: 1}, path: '${NOT_SET_ANYWHERE}'}", reg,
                instantiate=False)
    assert calls == []
    assert isinstance(tree, ObjectProxy)
    assert tree.name == "m.Outer" and tree.target is reg["m.Outer"]
    assert (tree.line, tree.column) == (1, 1)
    inner = tree.kwargs["inner"]
    assert isinstance(inner, ObjectProxy) and inner.name == "m.Inner" and inner.kwargs == {"n": 1}
    assert tree.kwargs["path"] == "${NOT_SET_ANYWHERE}"  # no substitution without building
    assert tree.yaml_src.startswith("!obj:m.Outer")


def test_children_are_built_before_parents_in_file_order(reg, calls):
    """Arguments are built before the object that takes them, in the order of the file (b before a),
    not sorted. Exact (call order): an order holds or it does not."""
    result = load("!obj:m.Outer {b: !obj:m.Inner {n: 1}, a: !obj:m.Inner {n: 2}}", reg)
    assert [(name, kwargs.get("n")) for name, _, kwargs in calls] == [
        ("m.Inner", 1), ("m.Inner", 2), ("m.Outer", None)]
    assert result.kwargs["b"].kwargs == {"n": 1}


@pytest.mark.parametrize("text, kind", [("!obj:m.f [1, 2]", "list"), ("!obj:m.f 'x'", "scalar"),
                                        ("a:\n  !obj:m.f\n", "scalar")])
def test_obj_must_be_followed_by_a_mapping(reg, calls, text, kind):
    """Parametrized over a list, a quoted scalar and no value after the tag (an empty scalar): each
    is refused while parsing, naming what was found, and nothing is called. Exact (error type and
    message): the message is the user's only guide."""
    with pytest.raises(YAMLConfigError, match=f"must be followed by a mapping.*not a {kind}"):
        load(text, reg, instantiate=False)
    assert calls == []


def test_obj_keys_must_be_strings(reg):
    """A keyword name that is not a string (the integer 1) is refused, naming the key and pointing
    at it (line 2, column 3). Exact (message and position): the position is how the user finds the
    line."""
    with pytest.raises(YAMLConfigError, match="keyword names must be strings, got 1") as info:
        load("!obj:m.f {a: 2,\n  1: x}", reg)
    assert (info.value.line, info.value.column) == (2, 3)


def test_proxy_keys_of_plain_mappings_are_built(reg):
    """An !obj: used as a key of a plain mapping is built like a value: the key becomes the built
    object. Exact: the key's type and arguments are discrete."""
    result = load("{? !obj:m.f {n: 1} : value}", reg)
    [(key, value)] = result.items()
    assert isinstance(key, Built) and key.kwargs == {"n": 1} and value == "value"


# ------------------------------------------------------------------ !import, !float, scalars
def test_import_returns_the_registered_object_uncalled(reg, calls):
    """!import 'm.f', and !import:m.g with no value or an empty one, give the registry's object
    itself, uncalled. Exact (identity): it must be the very object registered."""
    result = load("[!import 'm.f', !import:m.g , !import:m.g '']", reg)
    assert result[0] is reg["m.f"] and result[1] is reg["m.g"] and result[2] is reg["m.g"]
    assert calls == []


@pytest.mark.parametrize("text, message", [
    ("!import 'nodot'", "needs a dotted name"),
    ("!import:nodot", "needs a dotted name"),
    ("!import 'm.nope'", "unknown name 'm.nope'"),
    ("!import [m.f]", "expected a scalar node"),
])
def test_bad_imports(reg, text, message):
    """Parametrized over a name without a dot (both spellings), an unregistered dotted name and a
    list as argument: each raises YAMLConfigError with its own message. Exact (error type and
    message): the message is the user's only guide."""
    with pytest.raises(YAMLConfigError, match=message):
        load(text, reg)


def test_float_tag():
    """!float reads '1e-3' (quoted or plain; plain YAML 1.1 leaves it a string) and '.5' as floats,
    and a non-number is refused at line 2, column 4. Exact: float('1e-3') and the literal 1e-3 are
    the same double; the position is how the user finds the line."""
    assert load("[!float '1e-3', !float 1e-3, !float '.5']", {}) == [1e-3, 1e-3, 0.5]
    with pytest.raises(YAMLConfigError, match="!float needs a number, got 'abc'") as info:
        load("a: 1\nb: !float abc", {})
    assert (info.value.line, info.value.column) == (2, 4)


@pytest.mark.parametrize("text, expected", [
    (".05", 0.05), ("55.", 55.0), ("1.000004", 1.000004), (".000001", 1e-6),
    ("1e-6", "1e-6"), ("1.0e6", "1.0e6"), ("1.0e-6", 1e-6), ("1.0e+6", 1e6),
    ("True", True), ("0", 0), ("1", 1), ("-2.0", -2.0), ("'train'", "train"), ("null", None),
])
def test_scalars_follow_yaml_1_1_as_pyyaml_safeloader(text, expected):
    """Parametrized over plain scalars: floats need a dot, and an exponent needs a sign (1e-6 and
    1.0e6 stay strings), plus booleans, integers, a quoted string and null; value and type both
    match. Exact: one literal, one parse."""
    value = load(f"v: {text}", {})["v"]
    assert value == expected and type(value) is type(expected)


# ------------------------------------------------------------------------ anchors and aliases
def test_alias_sites_receive_the_identical_object(reg, calls):
    """An anchored !obj: and its aliases (in another object's arguments, twice in a list) are one
    proxy when parsed and one object, built once. Exact (identity and call count): the configs share
    the training set this way."""
    text = textwrap.dedent("""\
        !obj:m.Outer {
            dataset: &train !obj:m.Inner {which_set: 'train'},
            bias: !obj:m.f {dataset: *train},
            again: [*train, *train],
        }
    """)
    tree = load(text, reg, instantiate=False)
    assert tree.kwargs["dataset"] is tree.kwargs["bias"].kwargs["dataset"]
    result = load(text, reg)
    dataset = result.kwargs["dataset"]
    assert result.kwargs["bias"].kwargs["dataset"] is dataset
    assert result.kwargs["again"][0] is dataset and result.kwargs["again"][1] is dataset
    assert [name for name, _, _ in calls].count("m.Inner") == 1  # built once


def test_aliased_plain_containers_stay_shared_and_recursive_ones_terminate():
    """An aliased plain list is the same object at both sites, and a list that contains itself is
    built as a list that contains itself instead of recursing forever. Exact (identity)."""
    result = load("a: &l [1, {k: v}]\nb: *l\nc: &r [0, *r]", {})
    assert result["a"] is result["b"]
    assert result["c"][1] is result["c"]


def test_an_object_that_contains_itself_is_rejected(reg):
    """An !obj: whose arguments hold an alias of itself is refused with an error about recursion
    (PyYAML's, raised while parsing). Exact (error type and message word): such an object cannot be
    built."""
    with pytest.raises(YAMLConfigError, match="recursive"):
        load("&p !obj:m.f {k: [*p]}", reg)


def test_merge_keys_work_and_explicit_keys_override_them(reg):
    """A << merge key in !obj: arguments brings in the anchored mapping's keys, and an explicit key
    overrides a merged one instead of counting as a duplicate. Exact: parsed values."""
    result = load("base: &b {x: 1, y: 2}\nobj: !obj:m.f {<<: *b, y: 3}", reg)
    assert result["obj"].kwargs == {"x": 1, "y": 3}


# ------------------------------------------------------------------------------ duplicate keys
@pytest.mark.parametrize("text, line", [
    ("!obj:m.f {a: 1, b: 2, a: 3}", 1),                       # in an !obj mapping
    ("a: 1\nb: 2\na: 3\n", 3),                                # top-level block mapping
    ("x:\n  y: {k: 1,\n    k: 2}\n", 3),                      # nested flow mapping
    ("- !obj:m.f {d: {'z': 1, z: 2}}", 1),                    # inside an !obj value
    ("{1: a, 1.0: b}", 1),                                    # equal keys of other spellings
])
def test_duplicate_keys_are_rejected_everywhere(reg, calls, text, line):
    """Parametrized over an !obj: mapping, a top-level block mapping, a nested flow mapping, a
    mapping inside an !obj: value and equal keys spelt differently (1, 1.0): each is refused at the
    repeated key's line, nothing called. Exact (message and line): a silent overwrite would change
    the experiment."""
    with pytest.raises(YAMLConfigError, match="duplicate key") as info:
        load(text, reg, instantiate=False)
    assert info.value.line == line
    assert calls == []


# ---------------------------------------------------------------------------- ${} substitution
def test_preprocess_prefers_environ_then_os_environ(monkeypatch):
    """preprocess takes a variable from the given dict before os.environ, replaces several in one
    string, and leaves a text without '${' as it is. Exact (strings): substitution is text."""
    monkeypatch.setenv("GAN2014_TEST_VAR", "from-os")
    assert preprocess("${GAN2014_TEST_VAR}/x") == "from-os/x"
    assert preprocess("${GAN2014_TEST_VAR}/x", {"GAN2014_TEST_VAR": "mine"}) == "mine/x"
    assert preprocess("a${A}b${B}c", {"A": "1", "B": "2"}) == "a1b2c"
    assert preprocess("no variables, $ and } alone") == "no variables, $ and } alone"


def test_preprocess_does_not_expand_recursively_nor_tilde():
    """A substituted value is not scanned again ('${B}' stays) and '~' is not expanded, as in
    Pylearn2. Exact (strings): substitution is text."""
    assert preprocess("${A}", {"A": "${B}"}) == "${B}"
    assert preprocess("~/${A}", {"A": "x"}) == "~/x"


def test_preprocess_errors(monkeypatch):
    """An unterminated '${', an unknown variable (the closest known name suggested) and an unset
    PYLEARN2_DATA_PATH (with the export line that fixes it) each raise YAMLConfigError. Exact
    (message text): the message is the user's only guide."""
    with pytest.raises(YAMLConfigError, match=r"open '\$\{' not followed by '\}'"):
        preprocess("${A}/${B", {"A": "1", "B": "2"})
    with pytest.raises(YAMLConfigError, match='unrecognized environment variable "MY_VARIABEL". '
                                              'Did you mean "MY_VARIABLE"'):
        preprocess("${MY_VARIABEL}", {"MY_VARIABLE": "x"})
    monkeypatch.delenv("PYLEARN2_DATA_PATH", raising=False)
    with pytest.raises(YAMLConfigError, match="PYLEARN2_DATA_PATH is not set") as info:
        preprocess("${PYLEARN2_DATA_PATH}/mnist")
    assert "export PYLEARN2_DATA_PATH=" in str(info.value)


def test_substitution_in_mapping_values_and_lists_but_not_keys(reg):
    """${X} is replaced in plain-mapping values, list items, nested mappings, !obj: arguments and a
    top-level string, but not in mapping keys. Exact (strings): substitution is text."""
    text = "{'${X}': ['${X}', {k: '${X}'}], o: !obj:m.f {p: '${X}.pkl', q: ['${X}']}}"
    result = load(text, reg, environ={"X": "v"})
    assert result["${X}"] == ["v", {"k": "v"}]
    assert result["o"].kwargs == {"p": "v.pkl", "q": ["v"]}
    assert load("'${X}'", {}, environ={"X": "v"}) == "v"  # a top-level string too


def test_substitution_errors_point_at_the_value(reg, monkeypatch):
    """A substitution error points at the value that holds it: an unset PYLEARN2_DATA_PATH at the
    file, line 3, column 9; an unterminated '${' in a list item at line 2, column 3. Exact
    (positions): they are how the user finds the line."""
    monkeypatch.delenv("PYLEARN2_DATA_PATH", raising=False)
    with pytest.raises(YAMLConfigError, match="PYLEARN2_DATA_PATH is not set") as info:
        load("!obj:m.f {\n  a: 1,\n  path: '${PYLEARN2_DATA_PATH}/x'}", reg, filename="c.yaml")
    assert (info.value.filename, info.value.line, info.value.column) == ("c.yaml", 3, 9)
    with pytest.raises(YAMLConfigError, match="not followed by") as info:
        load("- ok\n- '${oops'", reg)
    assert (info.value.line, info.value.column) == (2, 3)


# ------------------------------------------------------------------------------------ load_path
@pytest.mark.parametrize("path, expected", [
    ("tfd_pretrain/pretrain.yaml", ("tfd_pretrain/pretrain", "tfd_pretrain/", "pretrain.yaml",
                                    "pretrain")),
    ("mnist.yaml", ("mnist", "", "mnist.yaml", "mnist")),
    ("/abs/dir/exp.yml", ("/abs/dir/exp.yml", "/abs/dir/", "exp.yml", "exp.yml")),
])
def test_train_file_variables(path, expected):
    """Parametrized over a path in a subfolder, a bare file name (empty directory) and an absolute
    .yml path (only .yaml is stripped, so the stem keeps .yml): each gives the four PYLEARN2_TRAIN_*
    values. Exact (strings): the configs build save paths from them."""
    assert train_file_variables(path) == dict(zip(TRAIN_FILE_VARIABLES, expected))


def test_load_path_publishes_the_train_file_variables(tmp_path, monkeypatch, clean_train_variables):
    """load_path publishes the PYLEARN2_TRAIN_* variables of a relative path before reading it, so
    the file can use all four (save path sub/exp.pkl), and leaves them in os.environ. Exact
    (strings): they become file names."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "exp.yaml").write_text(
        "{save: '${PYLEARN2_TRAIN_FILE_FULL_STEM}.pkl', dir: '${PYLEARN2_TRAIN_DIR}',\n"
        " base: '${PYLEARN2_TRAIN_BASE_NAME}', stem: '${PYLEARN2_TRAIN_FILE_STEM}'}\n")
    monkeypatch.chdir(tmp_path)
    result = load_path("sub/exp.yaml", {})
    assert result == {"save": "sub/exp.pkl", "dir": "sub/", "base": "exp.yaml", "stem": "exp"}
    assert os.environ["PYLEARN2_TRAIN_FILE_FULL_STEM"] == "sub/exp"


def test_load_path_reports_the_file_name(tmp_path, clean_train_variables):
    """An error in a loaded file starts with that file's path, line 2, column 4 and the unknown
    name; a missing file is reported as unreadable. Exact (message and position): they are how the
    user finds the problem."""
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: !obj:no.Such {}\n")
    with pytest.raises(YAMLConfigError) as info:
        load_path(path, {})
    assert (info.value.filename, info.value.line, info.value.column) == (str(path), 2, 4)
    assert str(info.value).startswith(f"{path}:2:4: unknown name 'no.Such'")
    with pytest.raises(YAMLConfigError, match="cannot read the config file"):
        load_path(tmp_path / "missing.yaml", {})


# ------------------------------------------------------------------------ names and safety
def test_unknown_name_error_names_file_line_column_and_suggests(reg, calls):
    """A misspelt !obj: name (MPL) is reported with file, line 2, column 12 and the closest
    registered name (MLP), and nothing is called. Exact (message and position): the message is the
    user's only guide."""
    text = "!obj:pylearn2.train.Train {\n    model: !obj:pylearn2.models.mlp.MPL {}\n}"
    with pytest.raises(YAMLConfigError) as info:
        load(text, reg, filename="mnist.yaml", instantiate=False)
    error = info.value
    assert (error.filename, error.line, error.column) == ("mnist.yaml", 2, 12)
    assert "unknown name 'pylearn2.models.mlp.MPL'" in str(error)
    assert "Did you mean 'pylearn2.models.mlp.MLP'?" in str(error)
    assert calls == []


def test_the_audit_watch_sees_imports_and_opens(monkeypatch):
    """The control for the safety test below: an import and an open() inside forbidden_events() are
    seen (import, exec and open events). Exact (event names): unless the watch sees these, an empty
    log below proves nothing."""
    # The control for the safety tests below: the watch does detect these events.
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    with forbidden_events() as events:
        __import__("colorsys")
        open(os.devnull).close()
    assert {"import", "exec", "open"} <= {event for event, _ in events}


@pytest.mark.parametrize("text", [
    "!obj:os.system {command: 'echo pwned'}",
    "!import 'os.system'",
    "!import:subprocess.call",
    "!obj:antigravity.fly {}",
    "{a: !obj:builtins.eval {source: '1'}}",
    "!obj:m.f {x: !obj:subprocess.Popen {args: [ls]}}",
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/name:os.system ''",
    "!!python/module:antigravity ''",
    "!pkl: 'evil.pkl'",
])
def test_names_outside_the_registry_import_and_call_nothing(reg, calls, monkeypatch, text):
    """Parametrized over unregistered names via !obj: (also nested) and both !import forms, PyYAML's
    python/object/apply, python/name and python/module tags, and a !pkl: path: each raises
    YAMLConfigError with no forbidden audit event (import, exec, open, spawn, unpickling and the
    like), no new module and no call. Exact: one event would be a hole."""
    system_calls = []
    monkeypatch.setattr(os, "system", lambda *args: system_calls.append(args))
    modules_before = set(sys.modules)
    with forbidden_events() as events:
        with pytest.raises(YAMLConfigError):
            load(text, reg)
    assert events == []
    assert set(sys.modules) == modules_before and "antigravity" not in sys.modules
    assert system_calls == [] and calls == []


# ----------------------------------------------------------------------------------------- !pkl:
def test_pkl_is_refused_by_default_even_without_building(reg):
    """Without allow_pickle, !pkl: is refused while parsing, even with instantiate=False, at line 2,
    column 4, and the loader is never called. Exact: unpickling can run any code, so the refusal
    must be certain."""
    loads = []
    with pytest.raises(YAMLConfigError, match="!pkl: is refused") as info:
        load("a: 1\nb: !pkl: 'model.pkl'", reg, instantiate=False, pickle_loader=loads.append)
    assert (info.value.line, info.value.column) == (2, 4)
    assert loads == []


def test_pkl_calls_the_hook_when_allowed(reg):
    """With allow_pickle, parsing leaves a PickleProxy and loads nothing; building calls the given
    loader once, with the substituted path, and the anchor and its aliases share the result. Exact
    (calls and identity)."""
    loads = []

    def pickle_loader(path):
        loads.append(path)
        return {"loaded": path}

    text = "{a: &p !pkl: '${DIR}/model.pkl', b: *p, c: !obj:m.f {pretrained: *p}}"
    tree = load(text, reg, allow_pickle=True, pickle_loader=pickle_loader, instantiate=False)
    assert isinstance(tree["a"], PickleProxy) and loads == []
    result = load(text, reg, environ={"DIR": "/d"}, allow_pickle=True, pickle_loader=pickle_loader)
    assert loads == ["/d/model.pkl"]  # loaded once for the anchor and its aliases
    assert result["a"] is result["b"] is result["c"].kwargs["pretrained"]


@pytest.mark.parametrize("text, options, message", [
    ("!pkl:model.pkl ''", {"pickle_loader": print}, "with a space after the colon"),
    ("!pkl: 'model.pkl'", {}, "needs a pickle_loader"),
    ("!pkl: [a]", {"pickle_loader": print}, "expected a scalar node"),
])
def test_pkl_misuse(text, options, message):
    """Parametrized over '!pkl:path' without the space, no pickle_loader, and a list as argument:
    each is refused with its own message. Exact (error type and message): the message is the user's
    only guide."""
    with pytest.raises(YAMLConfigError, match=message):
        load(text, {}, allow_pickle=True, **options)


def test_pkl_loader_failures_are_wrapped_with_location():
    """An exception from the pickle loader becomes a YAMLConfigError naming the path and the
    exception, at the !pkl: node (line 2, column 5), with the original as __cause__. Exact (message,
    position, cause): the user needs both where and why."""
    def pickle_loader(path):
        raise FileNotFoundError(path)

    with pytest.raises(YAMLConfigError, match="could not load 'x.pkl': FileNotFoundError") as info:
        load("a:\n  - !pkl: 'x.pkl'", {}, allow_pickle=True, pickle_loader=pickle_loader)
    assert (info.value.line, info.value.column) == (2, 5)
    assert isinstance(info.value.__cause__, FileNotFoundError)


# ---------------------------------------------------------------------------------- yaml_src
def test_yaml_src_is_set_when_the_object_allows_it():
    """A built object that takes attributes gets yaml_src, which parses back to the same name and
    arguments; objects that refuse attributes (a numpy array, a __slots__ class) still build. Exact
    (parsed values and types)."""
    class Slotted:
        __slots__ = ()

    registry = {"m.obj": lambda **kw: Built("m.obj", kw), "m.array": lambda **kw: np.zeros(3),
                "m.slotted": lambda **kw: Slotted()}
    result = load("[!obj:m.obj {a: 1, b: [x]}, !obj:m.array {}, !obj:m.slotted {}]", registry)
    reparsed = load(result[0].yaml_src, registry, instantiate=False)
    assert reparsed.name == "m.obj" and reparsed.kwargs == {"a": 1, "b": ["x"]}
    assert isinstance(result[1], np.ndarray) and isinstance(result[2], Slotted)


# ------------------------------------------------------------------------------- call errors
class Layer:
    def __init__(self, layer_name, dim, irange=None, init_bias=0.0):
        self.layer_name = layer_name


@pytest.mark.parametrize("body, message", [
    ("{layer_name: h0, dim: 3, irnage: .05}",
     "m.Layer does not support the following keywords: irnage. Did you mean irange?"),
    ("{layer_name: h0, dim: 3, irnage: .05, init_bais: 1}",
     "m.Layer does not support the following keywords: irnage, init_bais. "
     "Did you mean irange (for irnage), init_bias (for init_bais)?"),
    ("{layer_name: h0}", "m.Layer did not get these expected arguments: dim."),
    ("{layer: h0}", "m.Layer does not support the following keywords: layer. Did you mean "
                    "layer_name? m.Layer did not get these expected arguments: layer_name, dim."),
])
def test_keyword_errors_name_the_class_and_suggest(body, message):
    """Parametrized over one misspelt keyword, two, a missing required argument, and a wrong keyword
    with missing ones: each error's whole text (location, class, keywords, suggestions) is checked,
    and its cause is the TypeError. Exact (full string): the message is the user's only guide."""
    with pytest.raises(YAMLConfigError) as info:
        load(f"layers:\n  - !obj:m.Layer {body}", {"m.Layer": Layer}, filename="c.yaml")
    assert str(info.value) == f"c.yaml:2:5: {message}"
    assert isinstance(info.value.__cause__, TypeError)


def test_other_exceptions_are_wrapped_with_location_and_cause():
    """A ValueError from a configured callable becomes a YAMLConfigError with location, name and the
    original message, chained as __cause__; a TypeError raised inside a callable that accepts its
    arguments is reported as that TypeError. Exact (full string and cause)."""
    def boom_type(**kwargs):
        raise TypeError("inner type problem")

    def boom_value(which_set):
        raise ValueError(f"MNIST has no {which_set!r} set")

    registry = {"m.type": boom_type, "m.value": boom_value}
    with pytest.raises(YAMLConfigError) as info:
        load("{a: 1,\n b: !obj:m.value {which_set: valid}}", registry, filename="c.yaml")
    assert str(info.value) == ("c.yaml:2:5: building !obj:m.value failed: "
                               "ValueError: MNIST has no 'valid' set")
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(YAMLConfigError, match="TypeError: inner type problem") as info:
        load("!obj:m.type {}", registry)
    assert isinstance(info.value.__cause__, TypeError)


def test_a_nested_yaml_config_error_passes_through_unchanged():
    """A YAMLConfigError raised while building (e.g. by a nested load) reaches the caller as the
    same object, keeping its own file and line. Exact (identity)."""
    inner = YAMLConfigError("inner problem", "other.yaml", 7, 3)

    def nested(**kwargs):
        raise inner

    with pytest.raises(YAMLConfigError) as info:
        load("!obj:m.nested {}", {"m.nested": nested})
    assert info.value is inner


# ------------------------------------------------------------------------- syntax and others
def test_syntax_errors_become_yaml_config_errors_with_line():
    """PyYAML syntax errors become YAMLConfigErrors with the file name and position (an unclosed
    flow list at line 3; 'b: c: d' at line 2, column 5). Exact (message and position): they are how
    the user finds the line."""
    text = "a: 1\nb: [1, 2\nc: 3\n"
    with pytest.raises(YAMLConfigError, match="while parsing a flow sequence") as info:
        load(text, {}, filename="s.yaml")
    assert info.value.filename == "s.yaml" and info.value.line == 3
    with pytest.raises(YAMLConfigError, match="mapping values are not allowed") as info:
        load("a: 1\nb: c: d\n", {})
    assert (info.value.line, info.value.column) == (2, 5)


@pytest.mark.parametrize("text, message, line", [
    ("a: 1\nb: \x00", "character #x0000", 2),
    ("a: 1\n---\nb: 2", "expected a single document", 2),
    ("a: !nosuchtag x", "could not determine a constructor", 1),
    ("a: *nowhere", "found undefined alias", 1),
    ("a: 2001-02-30", "day is out of range", 1),
    ("a: !!int abc", "invalid literal", 1),
    ("[" * 2000 + "]" * 2000, "nested too deeply", None),
])
def test_other_yaml_problems_are_converted(text, message, line):
    """Parametrized over a NUL character, a second document, an unknown tag, an undefined alias, an
    impossible date, a bad !!int and 2,000 nested lists: each becomes a YAMLConfigError with the
    reason and line (none for the nesting). Exact (message and line)."""
    with pytest.raises(YAMLConfigError, match=message) as info:
        load(text, {})
    assert info.value.line == line


def test_empty_document_is_none():
    """An empty text and a text of only a comment both load as None. Exact."""
    assert load("", {}) is None
    assert load("# only a comment\n", {}) is None


def test_error_message_format_and_pickling():
    """str() of a YAMLConfigError is 'file:line:column: message' ('<string>' with no file), and a
    pickle round trip keeps message, file, line and column. Exact (strings and fields)."""
    error = YAMLConfigError("problem", "f.yaml", 3, 7)
    assert str(error) == "f.yaml:3:7: problem"
    assert str(YAMLConfigError("problem")) == "<string>: problem"
    again = pickle.loads(pickle.dumps(error))
    assert (again.message, again.filename, again.line, again.column) == ("problem", "f.yaml", 3, 7)


# ----------------------------------------------------------------------------- the registry
def test_not_implemented_stub():
    """A not_implemented stub raises NotImplementedError naming the dotted name and the backend;
    built from a config it surfaces as a YAMLConfigError with that error as cause. Exact (full
    message): it tells the user what is missing."""
    stub = not_implemented("pylearn2.models.maxout.MaxoutConvC01B", "torch")
    with pytest.raises(NotImplementedError, match=r"^pylearn2.models.maxout.MaxoutConvC01B is not "
                                                  r"implemented in the torch backend yet$"):
        stub(layer_name="h0")
    with pytest.raises(YAMLConfigError, match="not implemented in the torch backend yet") as info:
        load("!obj:x.Y {a: 1}", {"x.Y": not_implemented("x.Y", "torch")})
    assert isinstance(info.value.__cause__, NotImplementedError)


def test_backend_registry_covers_every_known_name(monkeypatch):
    """backend_registry holds every KNOWN_NAMES entry plus the backend's extras; the backend's own
    entries win over the shared ones, shared ones fill in, and a name neither gives is a stub naming
    the backend. Exact (keys and entries)."""
    shared = {"pylearn2.datasets.mnist.MNIST": "shared MNIST",
              "pylearn2.models.dbm.init_sigmoid_bias_from_marginals": "shared init"}
    monkeypatch.setattr(registry_module, "shared_registry", lambda: dict(shared))
    own = {"pylearn2.models.mlp.MLP": "own MLP", "pylearn2.datasets.mnist.MNIST": "own MNIST",
           "pylearn2.termination_criteria.MonitorBased": "own extra"}
    registry = backend_registry(own, "aesara")
    assert set(registry) == set(KNOWN_NAMES) | {"pylearn2.termination_criteria.MonitorBased"}
    assert registry["pylearn2.models.mlp.MLP"] == "own MLP"
    assert registry["pylearn2.datasets.mnist.MNIST"] == "own MNIST"  # own wins over shared
    assert registry["pylearn2.models.dbm.init_sigmoid_bias_from_marginals"] == "shared init"
    with pytest.raises(NotImplementedError, match="adversarial.deconv.Deconv is not implemented "
                                                  "in the aesara backend yet"):
        registry["adversarial.deconv.Deconv"]()


def test_shared_registry_holds_the_framework_free_entries():
    """SHARED maps exactly the eight framework-free names to gan2014's objects, and a backend with
    no entries of its own gets gan2014's MNIST. Exact (dict equality and identity)."""
    from gan2014.config.registry import SHARED  # computed on access (module __getattr__)
    from gan2014.datasets import cifar10, mnist, tfd
    from gan2014 import termination_criteria
    from gan2014.models import dbm
    from gan2014 import composite_space, space
    from gan2014.datasets import labels_as_features

    assert SHARED == {"pylearn2.datasets.mnist.MNIST": mnist.MNIST,
                      "pylearn2.datasets.tfd.TFD": tfd.TFD,
                      "pylearn2.datasets.cifar10.CIFAR10": cifar10.CIFAR10,
                      "pylearn2.models.dbm.init_sigmoid_bias_from_marginals":
                          dbm.init_sigmoid_bias_from_marginals,
                      "pylearn2.termination_criteria.EpochCounter":
                          termination_criteria.EpochCounter,
                      "pylearn2.space.VectorSpace": space.VectorSpace,
                      "pylearn2.space.CompositeSpace": composite_space.CompositeSpace,
                      "conditional.LabelsAsFeatures": labels_as_features.LabelsAsFeatures}
    assert backend_registry({}, "torch")["pylearn2.datasets.mnist.MNIST"] is mnist.MNIST


def test_registry_module_imports_without_the_shared_modules():
    """In a fresh interpreter where the dataset and model modules cannot be imported, the registry
    module still imports and gives KNOWN_NAMES; only reading SHARED needs them (ImportError). Exact
    (printed text)."""
    # In a fresh interpreter where the dataset and model modules cannot be imported.
    code = ("import sys; sys.modules['gan2014.datasets.mnist'] = None; "
            "sys.modules['gan2014.models.dbm'] = None; "
            "import gan2014.config.registry as r; assert r.KNOWN_NAMES; "
            "assert 'gan2014.datasets.mnist' not in [m for m in sys.modules if sys.modules[m]]\n"
            "try:\n    r.SHARED\nexcept ImportError:\n    print('lazy')")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "lazy"


# ---------------------------------------------------------------------- the five 2014 configs
@pytest.mark.parametrize("config", CONFIGS)
def test_original_configs_parse_unmodified(config, clean_train_variables):
    """Parametrized over the five 2014 configs: each parses unmodified, unbuilt, to a Train proxy
    whose !obj: names are exactly those in the file's text outside comments, all in KNOWN_NAMES,
    with save_path still unsubstituted. Exact (sets of names)."""
    stubs = {name: not_implemented(name, "test") for name in KNOWN_NAMES}
    tree = load_path(ORIGINAL / config, stubs, instantiate=False)
    assert isinstance(tree, ObjectProxy) and tree.name == "pylearn2.train.Train"
    used = proxy_names(tree)
    assert used == names_in_file_text(ORIGINAL / config)
    assert used <= set(KNOWN_NAMES)
    assert tree.kwargs["save_path"] == "${PYLEARN2_TRAIN_FILE_FULL_STEM}.pkl"


def test_known_names_are_exactly_the_names_the_configs_use():
    """KNOWN_NAMES is exactly the set of !obj: names in the five configs (EpochCounter included),
    with no repeats. Exact (set equality): a missing name would break a config, an extra one would
    never be exercised."""
    used = set().union(*(names_in_file_text(ORIGINAL / config) for config in CONFIGS))
    assert used == set(KNOWN_NAMES) and len(KNOWN_NAMES) == len(set(KNOWN_NAMES))
    assert "pylearn2.termination_criteria.EpochCounter" in KNOWN_NAMES


@pytest.mark.parametrize("config", CONFIGS)
def test_original_configs_build_with_recording_stubs(config, calls, reg, monkeypatch,
                                                     clean_train_variables):
    """Parametrized over the five configs: built from their own folder with recording stubs, each
    gives a Train with save_path '<config stem>.pkl' and its yaml_src, every proxy built exactly
    once and none left unbuilt. Exact (strings and counts)."""
    monkeypatch.chdir(ORIGINAL)
    train = load_path(config, reg)
    assert train.name == "pylearn2.train.Train"
    assert train.kwargs["save_path"] == config[:-len(".yaml")] + ".pkl"
    assert "!obj:pylearn2.train.Train" in train.yaml_src
    built = [value for value in walk(train) if isinstance(value, Built)]
    assert len(built) == len(calls)  # every proxy built exactly once, none left unbuilt
    assert not any(isinstance(value, (ObjectProxy, PickleProxy)) for value in walk(train))


@pytest.mark.parametrize("config, path_to_bias", [
    ("mnist.yaml", ["model", "generator", "mlp", "layers", 2, "init_bias"]),
    ("tfd_pretrain/pretrain.yaml", ["model", "generator", "mlp", "layers", 2, "init_bias"]),
])
def test_training_set_is_one_object_shared_with_init_bias(config, path_to_bias, reg,
                                                         clean_train_variables):
    """For mnist.yaml and tfd_pretrain/pretrain.yaml, the dataset given to the init_bias of G's
    layers[2] (init_sigmoid_bias_from_marginals) is the very training set object. Exact (identity):
    the configs share it through an alias."""
    train = load_path(ORIGINAL / config, reg)
    node = train
    for step in path_to_bias:
        node = node[step] if isinstance(step, int) else node.kwargs[step]
    assert node.name == "pylearn2.models.dbm.init_sigmoid_bias_from_marginals"
    assert node.kwargs["dataset"] is train.kwargs["dataset"]


def test_a_build_failure_names_the_values_yaml_read_as_text_inside_the_failing_object():
    """`-.05` and `1e-3` are text to YAML 1.1 (as Pylearn2 read them); when an object holding one
    fails to build, the error names each with its line. Values outside that object, and quoted
    text, are not named. Exact: the note's text."""
    class Inner:
        def __init__(self, scale, name):
            self.scale = scale

    def outer(inner, rate):
        return -inner.scale          # a TypeError for text, as numpy's uniform(-irange) was

    registry = {"Inner": Inner, "Outer": outer, "Other": dict}
    text = ("a: !obj:Other { x: 2e-3 }\n"
            "b: !obj:Outer {\n"
            "  inner: !obj:Inner { scale: -.05, name: '1e-3' },\n"
            "  rate: 1e-3\n"
            "}\n")
    with pytest.raises(YAMLConfigError) as error:
        load(text, registry, filename="f.yaml")
    message = str(error.value)
    assert message.startswith("f.yaml:2:4: building !obj:Outer failed: TypeError: bad operand")
    assert message.endswith(". Note: YAML 1.1 reads -.05 (line 3), 1e-3 (line 4) as text, not "
                            "numbers: write each with a digit on each side of a dot (-0.05, "
                            "1.0e-3) or as !float '1e-3'")

