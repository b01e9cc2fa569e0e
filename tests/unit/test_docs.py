"""The README documents every setting and every command (datasette's test_docs idea)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from peerchange.cli import main
from peerchange.core.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
CONFIG_ONLY = {"extra_files", "graphs"}  # given as arguments/options, not variables


@pytest.mark.parametrize("name", [f.name for f in fields(Settings) if f.name not in CONFIG_ONLY])
def test_every_setting_is_in_the_readme(name):
    assert f"PEERCHANGE_{name.upper()}" in README


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_in_the_readme(command):
    assert f"peerchange {command}" in README


def test_readme_has_exactly_two_setup_commands():
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    setup = [line for line in quick_start.splitlines() if line.startswith("python3 -m venv")]
    assert len(setup) == 2
    assert setup[0].endswith("pip install . && peerchange serve")
    assert setup[1].endswith("sh tests/setup.sh && python -m pytest")


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    quick_start = README.split("## Quick start", 1)[1]
    test_command = next(
        line for line in quick_start.splitlines() if "tests/setup.sh" in line
    )
    assert test_command.strip() in ci
