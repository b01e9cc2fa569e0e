"""The bounded load test in reduced form (the full one: bench/load.py, 16 clients × 60 s,
bench/results/load.md): 8 clients × 10 s of the query mix, 0 errors, the workers' memory
flat within 30 MB, and the server stops cleanly after it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, clean_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_a_bounded_load_is_held_with_flat_memory():
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--clients", "8", "--seconds",
         "10", "--max-growth-mb", "30", "--json"],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=150)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["errors"] == 0, result["error_kinds"]
    assert result["requests"] > 200
    assert result["memory"]["growth_mb"] <= 30, result["memory"]
    assert result["alive_after"], "the server did not stop cleanly after the load"
    assert run.returncode == 0
