"""The benchmark harness's smoke run, as CI runs it (not the benchmark itself).

``python -m bench.harness --smoke`` writes a 10^4-triple file with ``peerchange synth -n
7``, starts every server on it (peerchange, peerchange again on its store without its
answer cache, Oxigraph server, Virtuoso through ``tests/virtuoso.py``, rdflib-endpoint), and
has each answer every query of both mixes once (the varied mix with its first three
parameter sets), equal to peerchange's; peerchange also serves its canned API and trace
pages. Nothing is timed here. A server that is not installed is a skip locally and a
failure under ``CI=true``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ["peerchange", "peerchange-nocache", "oxigraph", "virtuoso", "rdflib-endpoint"]
MIX = sorted(p.stem for p in (ROOT / "bench" / "queries" / "mix").glob("*.rq"))
VARIED = sorted(p.stem for p in (ROOT / "bench" / "queries" / "varied").glob("*.rq"))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_every_server_answers_every_query_of_the_mix(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.harness", "--smoke", "--work", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.stdout, proc.stderr
    size = json.loads(proc.stdout)["sizes"][0]
    assert size["lines"] > 10_000
    assert VARIED == MIX  # the same five kinds of query
    assert size["varied"]["studies"] == 7
    servers = size["servers"]
    assert list(servers) == SERVERS
    missing = []
    for name in SERVERS:
        result = servers[name]
        if "skipped" in result:
            missing.append(f"{name}: {result['skipped']}")
            continue
        assert "error" not in result, f"{name}: {result['error']}"
        assert sorted(result["rows"]) == MIX
        assert all(result["rows"].values()), f"{name} gave an empty answer: {result['rows']}"
        varied = result["rows_varied"]
        assert sorted({key.split("#")[0] for key in varied}) == VARIED
        assert len(varied) == 3 * len(VARIED)
        assert all(varied.values()), f"{name} gave an empty answer: {varied}"
        assert result["problems"] == [], f"{name} answers unlike peerchange"
        assert result["load_average_1m"] >= 0
        if name == "peerchange-nocache":
            assert result["on_built_store"]  # a restart on peerchange's store
        else:
            assert result["peak_memory_mb"] > 0
    assert "skipped" not in servers["peerchange"]
    assert all(n > 0 for n in servers["peerchange"]["page_bytes"].values())
    assert proc.returncode == 0, proc.stderr
    if missing:
        message = "; ".join(missing) + " — tests/setup.sh installs it"
        if IN_CI:
            pytest.fail(message + " (CI must install it)", pytrace=False)
        pytest.skip(message)
