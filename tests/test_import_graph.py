"""The project's import graph: no circles, and neither backend imports the other.

Read statically (ast) from every module of gan2014, legacy_aesara, port_torch and parity_tests, so
the test needs neither Aesara nor torch to run. Every `import` counts, including those inside
functions: a circle closed by a deferred import is still a circle, only hidden until run time.
"""
import ast
import functools
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("gan2014", "legacy_aesara", "port_torch", "parity_tests")


def project_modules():
    """Dotted module name -> file, for every .py file of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _owner(name, modules):
    """The project module that `name` (a module or a name inside one) belongs to, or None."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module, path, modules):
    """The project modules `module` imports (anywhere in its file)."""
    found = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            # `from package import submodule` imports the submodule; `from module import name`
            # imports the module.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                     for alias in node.names]
        for name in names:
            owner = _owner(name, modules)
            if owner and owner != module:
                found.add(owner)
    return found


def import_graph():
    modules = project_modules()
    return {module: imports_of(module, path, modules) for module, path in modules.items()}


def circles(graph):
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_finder_sees_a_circle():
    """The detector itself: a two-module circle and a three-module one are found, a chain is not.
    Exact: lists of module names."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(circles(graph)) == [["a", "b"], ["c", "d", "e"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    """No set of project modules imports itself round (package __init__ files included). Exact: the
    list of circles must be empty; one circle is enough to break an import."""
    assert circles(import_graph()) == []


@pytest.mark.parametrize("backend, other", [("legacy_aesara", "port_torch"),
                                            ("port_torch", "legacy_aesara")])
def test_backends_do_not_import_each_other(backend, other):
    """Neither backend imports the other, and gan2014 imports neither (it is framework-free).
    Exact: the lists of crossing imports must be empty."""
    graph = import_graph()
    crossing = sorted((module, target) for module, targets in graph.items()
                      for target in targets
                      if module.startswith(backend + ".") or module == backend
                      if target.split(".")[0] == other)
    assert crossing == []
    shared = sorted((module, target) for module, targets in graph.items()
                    if module.split(".")[0] == "gan2014"
                    for target in targets if target.split(".")[0] == backend)
    assert shared == [], shared


@functools.lru_cache(maxsize=1)
def shared_graph():
    """import_graph() read once for the tests below (it parses every module)."""
    return import_graph()


@pytest.mark.parametrize("leaf", ["gan2014.fileio", "gan2014.exit_codes", "gan2014.seeds",
                                  "gan2014.datasets.safe_pickle"])
def test_shared_helpers_are_leaves(leaf):
    """Property: the file-writing helpers, the exit statuses, the 2014 seeds and the safe
    unpickler import no project module, so that checkpoint, the dataset readers, both backends and
    every command can use them without closing a circle.
    Exact: the module's set of project imports is empty."""
    assert shared_graph()[leaf] == set()


def test_the_table1_modules_do_not_import_their_package():
    """Property: no module of gan2014.table1 imports the package itself (only the package's
    __init__ gathers them), so importing any one of them never needs the others half-built.
    Exact."""
    graph = shared_graph()
    inner = [module for module in graph if module.startswith("gan2014.table1.")]
    assert len(inner) >= 8
    assert [module for module in inner if "gan2014.table1" in graph[module]] == []
