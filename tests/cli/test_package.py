"""The shape of the ``peerchange.cli`` package: a group that registers its commands with
plain imports, a ``common`` module that imports no command, command modules that import
``common`` but never the group, and small modules that say what they hold."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from peerchange.cli import main
from tests.conftest import ROOT

CLI = ROOT / "src" / "peerchange" / "cli"
COMMANDS = {"validate", "serve", "query", "export", "trace", "diagram", "reload", "synth",
            "publish"}
MODULES = sorted(CLI.glob("*.py"))


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_every_command_is_registered():
    assert set(main.commands) == COMMANDS


def test_common_imports_no_command_module():
    wrong = {m for m in imported(CLI / "common.py")
             if m.startswith("peerchange.cli.") and m != "peerchange.cli.common"}
    assert not wrong


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "__init__.py"],
                         ids=lambda p: p.name)
def test_command_modules_never_import_the_group(path):
    assert "peerchange.cli" not in imported(path)
    assert "peerchange.cli.main" not in imported(path)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_are_small_and_say_what_they_hold(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300, f"{path.name}: split it (at most 300 lines)"
    assert ast.get_docstring(ast.parse(text))
    assert "__import__" not in text


def test_python_dash_m_runs_the_group():
    proc = subprocess.run([sys.executable, "-m", "peerchange", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert all(f"  {name} " in proc.stdout for name in COMMANDS)
