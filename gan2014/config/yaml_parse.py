"""A safe, Pylearn2-compatible YAML loader for the 2014 experiment files.

It reads the configs of goodfeli/adversarial unmodified and behaves like
``pylearn2/config/yaml_parse.py`` (June 2014) in everything a config can observe:

* ``!obj:dotted.Name {mapping}`` is parsed into an :class:`ObjectProxy` (the name is resolved at
  parse time), then built depth-first by calling the callable with the mapping as keyword
  arguments only (``instantiate_all`` / ``checked_call``).
* ``!import 'a.b.c'``, ``!import:a.b.c`` give the named object uncalled; ``!float '1e-3'`` a float.
* An anchor and its aliases are the same proxy, hence the same built Python object.
* ``${VAR}`` is replaced in string values (``pylearn2/utils/string_utils.py :: preprocess``).
* Plain scalars follow YAML 1.1 as PyYAML's SafeLoader resolves them: ``.05`` is a float,
  ``1e-6`` a string.

Where it deliberately differs from Pylearn2 (all of these only turn silent or unsafe behaviour
into errors, except the ``${}`` scope):

* Names are looked up ONLY in the ``registry`` dict the caller passes (original dotted name ->
  callable). Nothing is imported, ``eval``-ed or unpickled on the strength of the file's text.
* ``!pkl:`` is refused unless ``allow_pickle=True``; then a caller-supplied ``pickle_loader``
  loads the file, when the tree is built rather than at parse time.
* Duplicate keys are rejected in every mapping, not only in ``!obj:`` mappings.
* ``${VAR}`` is substituted in mapping values (as in 2014) and also in list items and in a
  top-level string (as Pylearn2 did from July 2014); never in mapping keys.
* Values are built in file order (Python 2's dict order was arbitrary; no config depends on it).
* Every error is a :class:`YAMLConfigError` carrying file, line and column; when building an
  object fails, it also names the plain scalars inside that object that YAML 1.1 read as text
  though ``float()`` reads them (``-.05``, ``1e-3``), the likeliest cause.
"""
import difflib
import inspect
import os
import re

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

__all__ = [
    "ObjectProxy",
    "PickleProxy",
    "YAMLConfigError",
    "load",
    "load_path",
    "preprocess",
    "train_file_variables",
]

_MERGE_TAG = "tag:yaml.org,2002:merge"   # the `<<` key
# What YAML 1.1 leaves as text but Python's float() reads: `1e-3` (no dot), `-.05` (a sign, then
# the dot). Pylearn2 handed such text on as a string.
_NUMBER_AS_TEXT = re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")
_VALUE_TAG = "tag:yaml.org,2002:value"   # the `=` key, which SafeLoader turns into the string "="


# --------------------------------------------------------------------------------------- errors
class YAMLConfigError(Exception):
    """The one error the loader raises: bad syntax, unknown name, bad arguments, failed build.

    ``filename``, ``line`` and ``column`` say where (line and column are 1-based, or ``None`` when
    unknown); ``str(error)`` is ``"<filename>:<line>:<column>: <message>"``. When the cause is an
    exception raised by a configured object, it is chained as ``__cause__``.
    """

    def __init__(self, message, filename=None, line=None, column=None):
        super().__init__(message)
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column

    def __str__(self):
        where = self.filename or "<string>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"

    def __reduce__(self):
        # Keep the location when the error crosses a process boundary.
        return type(self), (self.message, self.filename, self.line, self.column)


def _error_at(message, filename, mark):
    """A YAMLConfigError at a PyYAML mark (0-based line/column) or with no position."""
    if mark is None:
        return YAMLConfigError(message, filename)
    return YAMLConfigError(message, filename, mark.line + 1, mark.column + 1)


def _closest(word, candidates):
    """The nearest candidate by difflib's ratio, or None (stands in for ``string_utils.match``)."""
    matches = difflib.get_close_matches(word, list(candidates), n=1)
    return matches[0] if matches else None


# ----------------------------------------------------------------------- ${VAR} substitution
_NO_DATA_PATH_MESSAGE = (
    "the environment variable PYLEARN2_DATA_PATH is not set. It must name the folder that holds "
    "the datasets (for example mnist/train-images-idx3-ubyte lives in "
    "$PYLEARN2_DATA_PATH/mnist/). Set it in the shell, e.g. "
    "`export PYLEARN2_DATA_PATH=/path/to/data`, or pass environ={'PYLEARN2_DATA_PATH': ...} "
    "to the loader."
)
_NO_VIEWER_MESSAGE = (
    "the environment variable PYLEARN2_VIEWER_COMMAND is not set. It must be a command that "
    "opens an image file, e.g. `export PYLEARN2_VIEWER_COMMAND=\"eog --new-instance\"`."
)


def preprocess(string, environ=None):
    """Replace every ``${NAME}`` in ``string`` by its value; as ``string_utils.py :: preprocess``.

    Values come from ``environ`` (a dict) first, then ``os.environ``. The result is not scanned
    again (no recursive expansion) and ``~`` is left alone, as in Pylearn2.

    Raises YAMLConfigError (with no position; the loader adds one) for an unterminated ``${``,
    or for an unknown variable (suggesting the closest known name, and explaining how to set
    ``PYLEARN2_DATA_PATH`` when that is the one missing).
    """
    head, *pieces = string.split("${")
    out = [head]
    for piece in pieces:
        name, closed, rest = piece.partition("}")
        if not closed:
            raise YAMLConfigError(f"open '${{' not followed by '}}' in {string!r}")
        out.append(_variable_value(name, environ))
        out.append(rest)
    return "".join(out)


def _variable_value(name, environ):
    if environ is not None and name in environ:
        return str(environ[name])
    value = _os_environ_get(name)
    if value is not None:
        return value
    if name == "PYLEARN2_DATA_PATH":
        raise YAMLConfigError(_NO_DATA_PATH_MESSAGE)
    if name == "PYLEARN2_VIEWER_COMMAND":
        raise YAMLConfigError(_NO_VIEWER_MESSAGE)
    message = f'unrecognized environment variable "{name}"'
    suggestion = _closest(name, list(environ or ()) + list(os.environ))
    if suggestion is not None:
        message += f'. Did you mean "{suggestion}"?'
    raise YAMLConfigError(message)


def _os_environ_get(name):
    # A YAML escape can produce a lone surrogate, which os.environ cannot even encode as a key.
    try:
        return os.environ.get(name)
    except (UnicodeError, ValueError):
        return None


# -------------------------------------------------------------------------------- parse phase
class ObjectProxy:
    """A parsed ``!obj:`` node, not yet built; as ``yaml_parse.py :: ObjectProxy``.

    ``name`` is the dotted name as written, ``target`` the registry's callable, ``kwargs`` the
    parsed mapping (it may hold further proxies), ``yaml_src`` the node re-serialised as YAML.
    ``line`` and ``column`` are 1-based.
    """

    def __init__(self, name, target, kwargs, yaml_src, filename, line, column, end_line=None):
        self.name = name
        self.target = target
        self.kwargs = kwargs
        self.yaml_src = yaml_src
        self.filename = filename
        self.line = line
        self.column = column
        self.end_line = line if end_line is None else end_line   # the last line of its mapping

    def __repr__(self):
        return f"ObjectProxy({self.name!r}, {self.kwargs!r})"


class PickleProxy:
    """A parsed ``!pkl: "path"`` node; ``loader(preprocess(path))`` runs when the tree is built.

    Pylearn2 (``yaml_parse.py :: multi_constructor_pkl``) loaded the pickle at parse time; waiting
    lets ``instantiate=False`` check a file without touching the pickle.
    """

    def __init__(self, path, loader, filename, line, column):
        self.path = path
        self.loader = loader
        self.filename = filename
        self.line = line
        self.column = column

    def __repr__(self):
        return f"PickleProxy({self.path!r})"


class _Loader(yaml.SafeLoader):
    """SafeLoader plus Pylearn2's tags; as ``yaml_parse.py :: initialize`` (which used the unsafe
    default loader). Besides the tags it rejects duplicate keys and remembers, for every built
    dict and list, the node it came from, so that later errors can point at the right line."""

    def __init__(self, text, registry, filename, allow_pickle, pickle_loader):
        super().__init__(text)
        self.registry = registry
        self.filename = filename
        self.allow_pickle = allow_pickle
        self.pickle_loader = pickle_loader
        self.sources = {}        # id(dict or list) -> (that object, its node)
        self.root_node = None
        self.text_numbers = []   # (line, text): plain scalars that are text but read as numbers

    def error(self, message, node):
        return _error_at(message, self.filename, node.start_mark)

    def construct_document(self, node):
        self.root_node = node
        return super().construct_document(node)

    def construct_object(self, node, deep=False):
        try:
            data = super().construct_object(node, deep=deep)
        except (yaml.YAMLError, YAMLConfigError, RecursionError):
            raise
        except Exception as exc:
            # SafeLoader's own scalar constructors can fail with plain exceptions, e.g. the
            # date 2001-02-30 (ValueError) or `!!timestamp x` (AttributeError).
            raise self.error(f"cannot read this {node.tag!r} value: {type(exc).__name__}: {exc}",
                             node) from exc
        if isinstance(data, (dict, list)):
            self.sources[id(data)] = (data, node)
        elif (isinstance(data, str) and isinstance(node, ScalarNode) and node.style is None
              and _NUMBER_AS_TEXT.match(data)):
            self.text_numbers.append((node.start_mark.line + 1, data))
        return data

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            self._reject_duplicate_keys(node, deep)
        return super().construct_mapping(node, deep=deep)

    def _reject_duplicate_keys(self, node, deep):
        """As ``yaml_parse.py :: construct_mapping`` (used for ``!obj:``), but for every mapping.

        Runs before merge keys (``<<``) are expanded, so an explicit key may still override a
        merged one, as YAML intends.
        """
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if key_node.tag == _VALUE_TAG:
                key = key_node.value
            else:
                key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue  # unhashable: SafeConstructor reports it with its own message
            if first is not key_node:
                raise self.error(f"duplicate key {key!r} (first given at line "
                                 f"{first.start_mark.line + 1})", key_node)

    def lookup_name(self, name, node, tag):
        """The registry's object for ``name``; replaces ``yaml_parse.py :: try_to_import``."""
        if name in self.registry:
            return self.registry[name]
        message = f"unknown name {name!r} in {tag}{name}: it is not in this backend's registry"
        suggestion = _closest(name, self.registry)
        if suggestion is not None:
            message += f". Did you mean {suggestion!r}?"
        raise self.error(message, node)

    def import_name(self, name, node, tag):
        # Pylearn2 raised yaml.YAMLError for an !import name without a dot.
        if "." not in name:
            raise self.error(f"{tag} needs a dotted name such as 'a.b.c', got {name!r}", node)
        return self.lookup_name(name, node, tag)


def _node_kind(node):
    return {ScalarNode: "scalar", SequenceNode: "list", MappingNode: "mapping"}[type(node)]


def _serialise(node):
    """The node as YAML text (Pylearn2 stored ``yaml.serialize(node)``); None if that fails."""
    try:
        return yaml.serialize(node, Dumper=yaml.SafeDumper)
    except Exception:
        return None


def _construct_obj(loader, name, node):
    """``!obj:name {mapping}`` -> ObjectProxy; as ``yaml_parse.py :: multi_constructor_obj``."""
    if not isinstance(node, MappingNode):
        raise loader.error(f"!obj:{name} must be followed by a mapping of keyword arguments, "
                           f"not a {_node_kind(node)}", node)
    target = loader.lookup_name(name, node, "!obj:")
    yaml_src = _serialise(node)  # before construction, which expands `<<` merge keys in place
    kwargs = loader.construct_mapping(node, deep=True)
    for key in kwargs:
        if not isinstance(key, str):
            raise loader.error(f"!obj:{name}: keyword names must be strings, got {key!r}",
                               _key_node(loader, node, key))
    loader.sources[id(kwargs)] = (kwargs, node)
    mark = node.start_mark
    return ObjectProxy(name, target, kwargs, yaml_src, loader.filename, mark.line + 1,
                       mark.column + 1, node.end_mark.line + 1)


def _key_node(loader, node, key):
    """The key node of ``node`` that built ``key`` (the mapping node itself if not found)."""
    for key_node, _ in node.value:
        if loader.constructed_objects.get(key_node) is key:
            return key_node
    return node


def _construct_import(loader, node):
    """``!import 'a.b.c'``; as ``yaml_parse.py :: constructor_import``."""
    return loader.import_name(loader.construct_scalar(node), node, "!import ")


def _construct_import_suffix(loader, name, node):
    """``!import:a.b.c`` (the node's value is ignored); as ``multi_constructor_import``."""
    return loader.import_name(name, node, "!import:")


def _construct_float(loader, node):
    """``!float '1e-3'``; as ``yaml_parse.py :: constructor_float``. Needed because YAML 1.1
    reads ``1e-3`` as a string."""
    text = loader.construct_scalar(node)
    try:
        return float(text)
    except ValueError:
        raise loader.error(f"!float needs a number, got {text!r}", node) from None


def _construct_pkl(loader, suffix, node):
    """``!pkl: "path"``; as ``yaml_parse.py :: multi_constructor_pkl``, but opt-in."""
    if not loader.allow_pickle:
        raise loader.error("!pkl: is refused: unpickling a file can run arbitrary code. Pass "
                           "allow_pickle=True and a pickle_loader to load files you trust", node)
    if suffix:
        raise loader.error(f"write '!pkl: \"path\"' with a space after the colon, not "
                           f"'!pkl:{suffix}'", node)
    if loader.pickle_loader is None:
        raise loader.error("!pkl: needs a pickle_loader (a callable path -> object) "
                           "next to allow_pickle=True", node)
    path = loader.construct_scalar(node)
    mark = node.start_mark
    return PickleProxy(path, loader.pickle_loader, loader.filename, mark.line + 1, mark.column + 1)


_Loader.add_multi_constructor("!obj:", _construct_obj)
_Loader.add_multi_constructor("!pkl:", _construct_pkl)
_Loader.add_multi_constructor("!import:", _construct_import_suffix)
_Loader.add_constructor("!import", _construct_import)
_Loader.add_constructor("!float", _construct_float)


def _parse(text, registry, filename, allow_pickle, pickle_loader):
    """Phase 1: text -> tree of plain values and proxies. Returns (tree, sources, root node, the
    (line, text) of plain scalars that are text to YAML 1.1 but read as numbers)."""
    loader = None
    try:
        loader = _Loader(text, registry, filename, allow_pickle, pickle_loader)
        tree = loader.get_single_data()
        return tree, loader.sources, loader.root_node, loader.text_numbers
    except YAMLConfigError:
        raise
    except yaml.MarkedYAMLError as exc:
        raise _from_marked_error(exc, filename) from exc
    except yaml.reader.ReaderError as exc:
        raise _from_reader_error(exc, text, filename) from exc
    except yaml.YAMLError as exc:
        raise YAMLConfigError(f"invalid YAML: {exc}", filename) from exc
    except RecursionError:
        raise YAMLConfigError("the document is nested too deeply", filename) from None
    finally:
        if loader is not None:
            loader.dispose()


def _from_marked_error(exc, filename):
    """PyYAML's scanner/parser/composer/constructor errors, re-expressed with our location."""
    message = "invalid YAML: " + ", ".join(part for part in (exc.context, exc.problem) if part)
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and exc.problem_mark is not None \
            and exc.context_mark.line != exc.problem_mark.line:
        message += f" (the enclosing construct starts at line {exc.context_mark.line + 1})"
    snippet = mark.get_snippet() if mark is not None else None
    if snippet:
        message += "\n" + snippet
    return _error_at(message, filename, mark)


def _from_reader_error(exc, text, filename):
    """A character PyYAML refuses (e.g. NUL); its position is an index into the text."""
    message = f"invalid YAML: character #x{exc.character:04x}: {exc.reason}"
    if isinstance(text, str) and 0 <= exc.position <= len(text):
        before = text[:exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        return YAMLConfigError(message, filename, line, column)
    return YAMLConfigError(message, filename)


# -------------------------------------------------------------------------- instantiate phase
class _Builder:
    """Phase 2: builds the parsed tree depth-first; as ``yaml_parse.py :: instantiate_all``.

    Each proxy, dict and list is built once (memo by identity), so every alias site receives
    the same object, and self-referencing lists or dicts are reproduced instead of recursing
    forever.
    """

    def __init__(self, filename, environ, sources, root_node, text_numbers=()):
        self.filename = filename
        self.environ = environ
        self.sources = sources
        self.root_node = root_node
        self.text_numbers = list(text_numbers)
        self.memo = {}
        self.in_progress = set()

    def build_document(self, tree):
        return self.build_value(tree, None, None)

    def build_value(self, value, container, key):
        """A value found at ``container[key]``: strings get ``${}`` substitution."""
        if isinstance(value, str):
            return self.substitute(value, container, key)
        return self.build(value)

    def build(self, value):
        if isinstance(value, ObjectProxy):
            return self.build_proxy(value)
        if isinstance(value, PickleProxy):
            return self.load_pickle(value)
        if isinstance(value, dict):
            return self.build_dict(value)
        if isinstance(value, list):
            return self.build_list(value)
        # Only !!omap/!!pairs (tuples) and !!set make these; no config uses them, but a proxy
        # inside must not escape unbuilt. Their strings are left as they are (keys, mostly).
        if isinstance(value, tuple):
            return tuple(self.build(item) for item in value)
        if isinstance(value, (set, frozenset)):
            return type(value)(self.hashable(self.build(item), value) for item in value)
        return value

    def build_dict(self, mapping):
        if id(mapping) in self.memo:
            return self.memo[id(mapping)]
        built = self.memo[id(mapping)] = {}
        for key, value in mapping.items():
            # Keys are built (a proxy key becomes its object) but never substituted.
            built_key = self.hashable(self.build(key), mapping)
            built[built_key] = self.build_value(value, mapping, key)
        return built

    def build_list(self, items):
        if id(items) in self.memo:
            return self.memo[id(items)]
        built = self.memo[id(items)] = []
        for index, item in enumerate(items):
            built.append(self.build_value(item, items, index))
        return built

    def hashable(self, value, container):
        try:
            hash(value)
        except TypeError:
            raise self.error_in(f"a mapping key or set item was built into an unhashable "
                                f"{type(value).__name__}", container, None) from None
        return value

    def build_proxy(self, proxy):
        if id(proxy) in self.memo:
            return self.memo[id(proxy)]
        if id(proxy) in self.in_progress:
            raise self.error_at_proxy(f"!obj:{proxy.name} contains itself", proxy)
        self.in_progress.add(id(proxy))
        kwargs = self.build_dict(proxy.kwargs)
        result = self.call(proxy, kwargs)
        try:
            result.yaml_src = proxy.yaml_src
        except Exception:
            pass  # e.g. numpy arrays and ints take no attributes; Pylearn2 ignored that too
        self.in_progress.discard(id(proxy))
        self.memo[id(proxy)] = result
        return result

    def call(self, proxy, kwargs):
        """Keyword-only call with Pylearn2's diagnostics; as ``call_check.py :: checked_call``."""
        try:
            return proxy.target(**kwargs)
        except YAMLConfigError:
            raise  # e.g. a nested load; it already says where
        except TypeError as exc:
            problem = _keyword_problem(proxy.name, proxy.target, kwargs)
            if problem is None:
                problem = f"building !obj:{proxy.name} failed: TypeError: {exc}"
                problem += self.text_number_note(proxy, problem)
            raise self.error_at_proxy(problem, proxy) from exc
        except Exception as exc:
            problem = f"building !obj:{proxy.name} failed: {type(exc).__name__}: {exc}"
            raise self.error_at_proxy(problem + self.text_number_note(proxy, problem),
                                      proxy) from exc

    def text_number_note(self, proxy, problem):
        """A hint when the object that failed holds values YAML 1.1 reads as text though they look
        like numbers (the likeliest cause of a TypeError deep inside it), unless the message
        already says so."""
        suspects = [(line, text) for line, text in self.text_numbers
                    if proxy.line <= line <= proxy.end_line]
        if not suspects or "text to YAML 1.1" in problem:
            return ""
        shown = ", ".join(f"{text} (line {line})" for line, text in suspects[:3])
        more = f" and {len(suspects) - 3} more" if len(suspects) > 3 else ""
        return (f". Note: YAML 1.1 reads {shown}{more} as text, not numbers: write each with a "
                f"digit on each side of a dot (-0.05, 1.0e-3) or as !float '1e-3'")

    def load_pickle(self, proxy):
        if id(proxy) in self.memo:
            return self.memo[id(proxy)]
        try:
            path = preprocess(proxy.path, self.environ)
        except YAMLConfigError as exc:
            raise self.error_at_proxy(f"in !pkl: {exc.message}", proxy) from None
        try:
            result = proxy.loader(path)
        except YAMLConfigError:
            raise
        except Exception as exc:
            raise self.error_at_proxy(f"!pkl: could not load {path!r}: "
                                      f"{type(exc).__name__}: {exc}", proxy) from exc
        self.memo[id(proxy)] = result
        return result

    def substitute(self, text, container, key):
        try:
            return preprocess(text, self.environ)
        except YAMLConfigError as exc:
            if container is None:
                where = ""
            elif isinstance(container, list):
                where = f" (in list item {key})"
            else:
                where = f" (in the value of {key!r})"
            raise self.error_in(exc.message + where, container, key) from None

    # -- locations
    def error_at_proxy(self, message, proxy):
        return YAMLConfigError(message, self.filename, proxy.line, proxy.column)

    def error_in(self, message, container, key):
        return _error_at(message, self.filename, self.mark_of(container, key))

    def mark_of(self, container, key):
        """The mark of ``container[key]``'s node, else of the container's node, else None."""
        if container is None:
            return self.root_node.start_mark if self.root_node is not None else None
        source = self.sources.get(id(container))
        if source is None:
            return None
        node = source[1]
        if isinstance(node, MappingNode):
            # Search from the end: after `<<` expansion, a later pair overrides an earlier one.
            for key_node, value_node in reversed(node.value):
                if isinstance(key_node, ScalarNode) and key_node.value == key:
                    return value_node.start_mark
        if isinstance(node, SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            return node.value[key].start_mark
        return node.start_mark


def _keyword_problem(name, target, kwargs):
    """Why ``target(**kwargs)`` cannot work, or None if its signature accepts them.

    Mirrors ``pylearn2/utils/call_check.py :: check_call_arguments``: unknown keywords (with the
    closest accepted name) and required arguments that were not given.
    """
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return None
    by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    accepted = [p.name for p in parameters if p.kind in by_keyword]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    unknown = [] if takes_any else [k for k in kwargs if k not in accepted]
    missing = [p.name for p in parameters
               if p.default is inspect.Parameter.empty and p.name not in kwargs
               and p.kind in by_keyword + (inspect.Parameter.POSITIONAL_ONLY,)]
    sentences = []
    if unknown:
        sentences.append(f"{name} does not support the following keywords: {', '.join(unknown)}."
                         + _did_you_mean(unknown, [a for a in accepted if a not in kwargs]))
    if missing:
        sentences.append(f"{name} did not get these expected arguments: {', '.join(missing)}.")
    return " ".join(sentences) or None


def _did_you_mean(unknown, candidates):
    guesses = [(word, _closest(word, candidates)) for word in unknown]
    guesses = [(word, guess) for word, guess in guesses if guess is not None]
    if not guesses:
        return ""
    if len(unknown) == 1:
        return f" Did you mean {guesses[0][1]}?"
    return " Did you mean " + ", ".join(f"{guess} (for {word})" for word, guess in guesses) + "?"


# ------------------------------------------------------------------------------------ entry points
def load(text, registry, *, filename=None, environ=None, allow_pickle=False, pickle_loader=None,
         instantiate=True):
    """Parse Pylearn2 YAML ``text`` and build it; as ``pylearn2/config/yaml_parse.py :: load``.

    registry:      ``{original dotted name: callable or object}``, the only names ``!obj:`` and
                   ``!import`` can reach.
    filename:      used in error messages (default ``"<string>"``).
    environ:       dict consulted before ``os.environ`` for ``${VAR}``.
    allow_pickle:  permit ``!pkl:``; ``pickle_loader(path) -> object`` then loads the file.
    instantiate:   False returns the parsed tree (dicts, lists, scalars, :class:`ObjectProxy`,
                   :class:`PickleProxy`) without calling anything or substituting ``${}``.

    Raises YAMLConfigError for every problem in the text or in building it.
    """
    filename = filename or "<string>"
    tree, sources, root_node, text_numbers = _parse(text, registry, filename, allow_pickle,
                                                    pickle_loader)
    if not instantiate:
        return tree
    try:
        return _Builder(filename, environ, sources, root_node,
                        text_numbers).build_document(tree)
    except RecursionError:
        raise YAMLConfigError("the document is nested too deeply to build", filename) from None


def train_file_variables(path):
    """The four variables ``pylearn2/utils/serial.py :: load_train_file`` derives from a path.

    Computed from the path string exactly as given (a relative path stays relative), splitting
    on ``/`` as Pylearn2 did.
    """
    full_stem = path[:-len(".yaml")] if path.endswith(".yaml") else path
    directory = "/".join(path.split("/")[:-1])
    return {
        "PYLEARN2_TRAIN_FILE_FULL_STEM": full_stem,
        "PYLEARN2_TRAIN_DIR": directory + "/" if directory else "",
        "PYLEARN2_TRAIN_BASE_NAME": path.split("/")[-1],
        "PYLEARN2_TRAIN_FILE_STEM": full_stem.split("/")[-1],
    }


def load_path(path, registry, *, environ=None, allow_pickle=False, pickle_loader=None,
              instantiate=True):
    """Load a config file as ``pylearn2/scripts/train.py`` did via ``serial.load_train_file``.

    First publishes :func:`train_file_variables` in ``os.environ`` (so that
    ``${PYLEARN2_TRAIN_FILE_FULL_STEM}.pkl`` works), then reads the file as UTF-8 and calls
    :func:`load` with ``filename=path``. The other arguments are those of :func:`load`.
    """
    path = os.fsdecode(path)
    os.environ.update(train_file_variables(path))
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise YAMLConfigError(f"cannot read the config file: {exc}", path) from exc
    return load(text, registry, filename=path, environ=environ, allow_pickle=allow_pickle,
                pickle_loader=pickle_loader, instantiate=instantiate)
