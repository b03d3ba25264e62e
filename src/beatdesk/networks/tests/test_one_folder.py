"""A network is its folder: code outside networks/ asks the network, never checks its kind.

Templates, tests, test support (testing/, the networks' fakes), the demo's data and
migrations may name a kind; any other module that compares with a kind, keeps a table of
kinds, filters on one or asks the registry for a named one fails here, with the place.
"""

from __future__ import annotations

import ast
from pathlib import Path

from beatdesk.networks.registry import CONNECTORS

SRC = Path(__file__).resolve().parents[2]  # src/beatdesk
KINDS = frozenset(CONNECTORS)
EXEMPT_DIRS = frozenset({"networks", "tests", "migrations", "testing", "demo", "templates"})
EXEMPT_FILES = frozenset({"demo.py", "conftest.py"})
# Keyword arguments that select by network (Django lookups and constructors).
SELECTING = ("kind", "network", "via")


def _kinds_in(node: ast.AST) -> set[str]:
    """The network kinds a constant, or a literal collection of constants, names."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value} & KINDS
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return set().union(*(_kinds_in(element) for element in node.elts))
    collection = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args
    if collection and node.func.id in {"frozenset", "set", "tuple", "list"}:  # type: ignore[attr-defined]
        return _kinds_in(node.args[0])  # type: ignore[attr-defined]
    return set()


def _about_networks(operands: list[ast.expr], text: str) -> bool:
    """Whether the other side is a network's kind: an account's or message's kind or
    network, or a variable named so (a span's or a post's kind is something else)."""
    for operand in operands:
        if isinstance(operand, ast.Name) and operand.id in {"kind", "network", "kinds"}:
            return True
        source = ast.get_source_segment(text, operand) or ""
        if any(word in source for word in ("account", "network", "via")):
            return True
    return False


def branches_on_kind(tree: ast.AST, text: str) -> list[tuple[int, str]]:
    """(line, what) for every place in one module that names a network kind to decide."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            named = set().union(*(_kinds_in(o) for o in operands))
            if named and _about_networks(operands, text):
                found.append((node.lineno, f"compares with {sorted(named)}"))
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and len(_kinds_in(node)) >= 2:
            found.append((node.lineno, f"a table of kinds {sorted(_kinds_in(node))}"))
        elif isinstance(node, ast.Dict):
            keys = set().union(*(_kinds_in(k) for k in node.keys if k is not None))
            if len(keys) >= 2:
                found.append((node.lineno, f"a table keyed by kinds {sorted(keys)}"))
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = node.func.id if isinstance(node.func, ast.Name) else name
            if name in {"connector", "known"} and node.args and _kinds_in(node.args[0]):
                found.append(
                    (node.lineno, f"asks the registry for {sorted(_kinds_in(node.args[0]))}")
                )
            for keyword in node.keywords:
                selects = keyword.arg is not None and any(
                    part in SELECTING for part in keyword.arg.split("__")
                )
                if selects and _kinds_in(keyword.value):
                    found.append(
                        (node.lineno, f"selects {keyword.arg}={sorted(_kinds_in(keyword.value))}")
                    )
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "NetworkKind"
            and node.attr.isupper()
        ):
            found.append((node.lineno, f"names NetworkKind.{node.attr}"))
    return sorted(set(found))


def _product_modules() -> list[Path]:
    return [
        path
        for path in sorted(SRC.rglob("*.py"))
        if not EXEMPT_DIRS.intersection(path.relative_to(SRC).parts[:-1])
        and path.name not in EXEMPT_FILES
    ]


def test_no_code_outside_networks_branches_on_a_network_kind() -> None:
    modules = _product_modules()
    assert len(modules) > 100  # the walk found the product, not an empty folder
    places = []
    for path in modules:
        text = path.read_text()
        for line, what in branches_on_kind(ast.parse(text), text):
            places.append(f"{path.relative_to(SRC)}:{line}: {what}")
    assert places == [], "ask the network (networks/base.py), not its kind:\n" + "\n".join(places)


def test_the_check_sees_each_way_of_branching() -> None:
    """The check is only as good as what it recognises: each of these is caught."""
    branching = [
        'if account.kind == "mastodon": pass',
        'if message.network in ("x", "bluesky"): pass',
        'LIMITS = {"x": 280, "bluesky": 300}',
        'THREADED = frozenset({"x", "bluesky"})',
        'connector("bluesky").find_post(account, key)',
        'NetworkAccount.objects.filter(kind__in=["mastodon"])',
        "seed(NetworkKind.X)",
    ]
    for source in branching:
        assert branches_on_kind(ast.parse(source), source), source
    plain = [
        'if span.kind == "email": pass',  # a kind of personal data, not a network
        'chart = {"x": steps, "y": values}',
        "connector(account.kind).publish(account, text)",
    ]
    for source in plain:
        assert not branches_on_kind(ast.parse(source), source), source
