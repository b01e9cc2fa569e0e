"""Shared fixtures: the real command line as a subprocess, and the shipped graph."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_tool(name: str, why: str) -> None:
    """Skip the test when ``name`` is missing locally; fail it under ``CI=true``."""
    if shutil.which(name):
        return
    message = f"{name} is not installed ({why}); tests/setup.sh installs it"
    if IN_CI:
        pytest.fail(message + " — CI must install it", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def java() -> None:
    """Require a Java runtime (HermiT)."""
    require_tool("java", "HermiT, the OWL reasoner, runs in Java")


CliRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def cli() -> CliRun:
    """Run ``python -m peerchange ARGS...`` as a user would and return the finished process."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "peerchange", *args],
            cwd=cwd or ROOT,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def shipped_store():
    """The shipped ontology and data loaded into a store, as the services load them."""
    from peerchange.core.sources import shipped_sources
    from peerchange.core.store import build_store

    store, _ = build_store(shipped_sources())
    return store
