"""The import graph: arrows point one way (functions -> helpdesk domain -> helpdesk.db) and never
in a circle. Function-level imports count: a lazy import hides a cycle, it does not remove it."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {"helpdesk": ROOT / "layers" / "helpdesk" / "helpdesk", "functions": ROOT / "functions"}


def _modules() -> dict[str, Path]:
    found = {}
    for top, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder.parent).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in MODULES else base)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_the_tree():
    assert "helpdesk.tickets.commands" in GRAPH and "functions.api.app" in GRAPH
    assert "helpdesk.db.client" in GRAPH["helpdesk.tickets.commands"]


def test_no_import_cycles():
    assert _cycles() == []


def test_the_domain_never_imports_a_handler():
    offenders = {m: sorted(d for d in deps if d.startswith("functions")) for m, deps in GRAPH.items()
                 if m.startswith("helpdesk")}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_the_data_layer_imports_only_itself_the_errors_and_settings():
    allowed = ("helpdesk.db", "helpdesk.errors", "helpdesk.config", "helpdesk.aws_sdk")  # aws_sdk: its rds-data client
    offenders = {m: sorted(d for d in deps if not d.startswith(allowed)) for m, deps in GRAPH.items()
                 if m.startswith("helpdesk.db")}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_handlers_reach_the_database_only_through_the_domain():
    """No route runs SQL: a handler may build a DataApi (helpdesk.db.client) or run the migrations,
    but statements are the domain's business."""
    allowed = {"helpdesk.db.client", "helpdesk.db.migrate"}
    offenders = {m: sorted(d for d in deps if d.startswith("helpdesk.db") and d not in allowed)
                 for m, deps in GRAPH.items() if m.startswith("functions")}
    assert {m: d for m, d in offenders.items() if d} == {}
