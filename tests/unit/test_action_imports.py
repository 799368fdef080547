"""The action modules import one another in one direction only.

Rasa's action server imports every module of the `actions` package; a cycle among them works
only as long as the import order happens to suit it, and hiding one edge inside a function (a
"lazy" import) keeps the tangle while making it invisible. So the graph is read from the source,
imports inside functions included.
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Dict, Iterator, Set, Tuple

import pytest

import actions

PACKAGE = Path(actions.__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE)]))


def sibling_imports(module: str) -> Iterator[Tuple[str, bool]]:
    """(imported action module, whether the import is inside a function) for each import."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(), filename=f"actions/{module}.py")
    in_function: Set[int] = {
        id(node) for scope in ast.walk(tree) if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(scope)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "actions":
            names = [f"actions.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if len(parts) >= 2 and parts[0] == "actions" and parts[1] in MODULES and parts[1] != module:
                yield parts[1], id(node) in in_function


def import_graph() -> Dict[str, Set[str]]:
    return {module: {imported for imported, _ in sibling_imports(module)} for module in MODULES}


def test_every_action_module_imports() -> None:
    for module in MODULES:
        importlib.import_module(f"actions.{module}")


def test_the_action_modules_import_each_other_without_a_cycle() -> None:
    graph = import_graph()
    assert "tracker_state" in graph["safety"]  # the graph is read from the real package
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        raise AssertionError(f"actions/* import each other in a circle: {' -> '.join(cycle.args[1])}") from None


def test_no_action_module_imports_a_sibling_inside_a_function() -> None:
    hidden = [(module, imported) for module in MODULES
              for imported, in_function in sibling_imports(module) if in_function]
    assert hidden == []


def test_the_graph_includes_an_import_inside_a_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "one.py").write_text("from actions import two\n")
    (tmp_path / "two.py").write_text("def later():\n    from actions.one import something\n")
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path)
    monkeypatch.setitem(globals(), "MODULES", ["one", "two"])
    assert import_graph() == {"one": {"two"}, "two": {"one"}}
    assert list(sibling_imports("two")) == [("one", True)]
