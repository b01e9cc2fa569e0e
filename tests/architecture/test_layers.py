"""The layers of docs/architecture.md, checked from the code's own imports.

core ← services ← (cli, web): imports point one way; core never imports Flask or click;
web and cli never touch pyoxigraph or SPARQLWrapper; no import circles; no module over 500
lines. Imports are read with :mod:`ast` (module level and inside functions alike).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "peerchange"
MAX_LINES = 500


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            for alias in node.names:  # from peerchange.services import trace
                if f"{base}.{alias.name}" in MODULES:
                    out.add(f"{base}.{alias.name}")
    return out


IMPORTS = {name: _imports(path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2:
        return "top"
    return {"core": "core", "services": "services", "web": "web", "cli": "cli",
            "server": "web", "serving": "web"}.get(parts[1], "top")


def _internal(names: set[str]) -> set[str]:
    return {n for n in names if n in MODULES}


# the only crossings: ``peerchange serve`` starts the web app, ``python -m peerchange``
# runs the CLI
ALLOWED_CROSSINGS = {
    ("peerchange.cli.serve", "peerchange.web"),
    ("peerchange.cli.serve", "peerchange.serving.gunicorn_app"),
    ("peerchange.cli.serve", "peerchange.serving.reload"),
    ("peerchange.__main__", "peerchange.cli"),
    # the entry starts a restart's early answerer before the CLI is imported
    ("peerchange.__main__", "peerchange.serving.launch"),
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_one_way(module):
    allowed = {
        "core": {"core", "top"},
        "services": {"core", "services", "top"},
        "web": {"core", "services", "web", "top"},
        "cli": {"core", "services", "cli", "top"},
        "top": {"top", "core"},
    }[_layer(module)]
    wrong = sorted(n for n in _internal(IMPORTS[module])
                   if _layer(n) not in allowed and (module, n) not in ALLOWED_CROSSINGS)
    assert not wrong, f"{module} ({_layer(module)}) imports {wrong}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_faces_use_no_engine_and_core_no_framework(module):
    external = {n.split(".")[0] for n in IMPORTS[module]}
    layer = _layer(module)
    if layer in ("web", "cli"):
        assert not external & {"pyoxigraph", "SPARQLWrapper"}, module
    if layer in ("core", "services"):
        assert not external & {"flask", "click", "werkzeug", "flask_cors"}, module


def test_no_import_circles():
    graph = {m: _internal(IMPORTS[m]) - {m} for m in MODULES}
    # a package's __init__ that re-exports its own modules is not a circle with them
    for m in MODULES:
        graph[m] = {n for n in graph[m] if not m.startswith(n + ".")}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
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
                circles.append(sorted(component))

    for v in graph:
        if v not in index:
            strongconnect(v)
    assert not circles, f"import circles: {circles}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"


def test_no_dynamic_imports():
    offenders = defaultdict(list)
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
                offenders[name].append(node.lineno)
    assert not offenders, dict(offenders)


def test_the_checks_can_fail():
    """The circle and layer checks see what they are meant to see."""
    assert "peerchange.core.errors" in _internal(IMPORTS["peerchange.services.sparql"])
    assert _layer("peerchange.web.sparql") == "web"
    assert _layer("peerchange.services.sparql") == "services"
