"""Imports at the top of the module, and no import cycles (issue 16, item 5).

An import inside a function is for a heavy optional library, or for code that must wait for
Django (AppConfig.ready wiring, a process that sets Django up itself), never for hiding a
cycle: a function-local import of beatdesk fails here unless its statement says why with a
`# local import: <reason>` comment. And no module of beatdesk reaches, through any chain of
imports, a module that imports it: imports inside functions count, imports made only for
type checking do not (they never run). Tests and migrations are left out of both.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

SRC = Path(__file__).resolve().parents[1] / "src" / "beatdesk"
REASON = "# local import:"


def _is_project_import(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "beatdesk"
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "beatdesk" for alias in node.names)
    return False


def unexplained_local_imports(text: str) -> list[int]:
    """Lines of function-local project imports without a `# local import:` reason."""
    lines = text.splitlines()
    found = set()
    for function in ast.walk(ast.parse(text)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Import | ast.ImportFrom) or not _is_project_import(node):
                continue
            if not any(REASON in line for line in lines[node.lineno - 1 : node.end_lineno]):
                found.add(node.lineno)
    return sorted(found)


def _product_modules() -> list[Path]:
    return [
        path
        for path in sorted(SRC.rglob("*.py"))
        if not {"tests", "migrations"}.intersection(path.relative_to(SRC).parts)
    ]


def test_project_imports_are_at_the_top_unless_a_comment_says_why() -> None:
    modules = _product_modules()
    assert len(modules) > 100  # the walk found the product, not an empty folder
    places = [
        f"src/beatdesk/{path.relative_to(SRC)}:{line}"
        for path in modules
        for line in unexplained_local_imports(path.read_text())
    ]
    assert places == [], (
        "move these imports to the top of the module, or say why they wait "
        f"(`{REASON} <reason>`):\n" + "\n".join(places)
    )


def test_the_check_sees_a_local_import_and_its_reason() -> None:
    assert unexplained_local_imports("def f():\n    from beatdesk.core import clock\n") == [2]
    assert unexplained_local_imports("def f():\n    import beatdesk.core.clock\n") == [2]
    assert unexplained_local_imports("def f():\n    from . import clock\n") == [2]
    assert unexplained_local_imports("class A:\n    def f(self):\n        from beatdesk import x\n")
    explained = "def f():\n    from beatdesk.core import clock  # local import: ready() wiring\n"
    assert unexplained_local_imports(explained) == []
    assert unexplained_local_imports("def f():\n    import numpy\n") == []  # not ours
    assert unexplained_local_imports("from beatdesk.core import clock\n") == []


def test_no_module_imports_one_that_imports_it() -> None:
    graph = grimp.build_graph("beatdesk", cache_dir=None, exclude_type_checking_imports=True)
    for module in list(graph.modules):
        if {"tests", "migrations"}.intersection(module.split(".")):
            graph.remove_module(module)
    assert len(graph.modules) > 100
    cycles = sorted(
        " -> ".join((importer, *back))
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported != importer
        and (back := graph.find_shortest_chain(importer=imported, imported=importer))
    )
    assert cycles == [], (
        "import cycles (one of the two modules is in the wrong place; a signal, a registry "
        "or a move breaks it):\n" + "\n".join(cycles)
    )
