"""Row 8 through the real server: ``peerchange serve --store DIR`` started twice at once,
on a damaged store, and killed in the middle of a build."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, clean_env, free_port, start_server, stop_and_check
from tests.store.conftest import builds, current, pointer, stores

# every test starts `peerchange serve` (seconds each)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

COUNT = {"query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"}


def serve_store(folder: Path, log: Path, *extra: str):
    """``peerchange serve --store folder`` with its progress lines in the log."""
    port = free_port()
    return start_server(["--port", str(port), "--workers", "2", "--store", str(folder),
                         *extra], log=log, port=port, defaults=False)


def count(srv) -> int:
    resp = requests.get(srv.sparql, params=COUNT, timeout=30,
                        headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp.text
    return int(resp.json()["results"]["bindings"][0]["n"]["value"])


def health(srv) -> dict:
    return requests.get(srv.health, timeout=10).json()


def test_two_first_starts_serve_one_complete_store_and_a_third_reuses_it(tmp_path,
                                                                        shipped_graph):
    folder = tmp_path / "store"
    with ThreadPoolExecutor(2) as pool:
        started = [pool.submit(serve_store, folder, tmp_path / f"start{i}.log")
                   for i in (1, 2)]
        servers = [f.result(timeout=120) for f in started]
    try:
        for srv in servers:
            h = health(srv)
            assert h["store"] == "disk" and h["data_version"] == shipped_graph.version
            assert h["triples"] == shipped_graph.triples
            assert count(srv) == shipped_graph.triples
        logs = [srv.output() for srv in servers]
        assert sum("building an on-disk store" in log for log in logs) == 1, logs
        assert sum("reusing the on-disk store" in log for log in logs) == 1, logs
    finally:
        for srv in servers:
            stop_and_check(srv)
    assert pointer(folder)["version"] == shipped_graph.version
    assert stores(folder) == [current(folder).name] and builds(folder) == []

    third = serve_store(folder, tmp_path / "start3.log")
    try:
        assert "reusing the on-disk store" in third.output()
        assert "building" not in third.output()
        assert count(third) == shipped_graph.triples
        print(f"\nthird start on the built store answered after {third.started_in:.2f} s")
    finally:
        stop_and_check(third)


def test_a_damaged_store_is_reported_and_rebuilt_by_serve(built, shipped_graph, tmp_path):
    damaged = current(built)
    table = max(damaged.glob("*.sst"), key=lambda p: p.stat().st_size)
    with table.open("r+b") as fh:
        fh.truncate(table.stat().st_size // 2)
    (built / "stray.txt").write_text("left here by someone\n", encoding="utf-8")
    (damaged / "stray.bin").write_bytes(b"\0" * 64)

    srv = serve_store(built, tmp_path / "serve.log")
    try:
        log = srv.output()
        assert "changed since it was built" in log and "rebuilding it" in log, log
        assert "building an on-disk store" in log
        assert count(srv) == shipped_graph.triples
    finally:
        stop_and_check(srv)  # no traceback in the log
    assert current(built) != damaged and not damaged.exists()


def big_file(path: Path, triples: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(triples):
            fh.write(f'<http://example.org/big/{i}> <http://example.org/value> "row {i}" .\n')
    return path


def test_a_build_killed_midway_leaves_the_store_it_replaced(built, shipped_graph, tmp_path):
    big = big_file(tmp_path / "big.nt", 600_000)
    before = pointer(built)
    log = tmp_path / "killed.log"
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            [sys.executable, "-m", "peerchange", "serve", "--port", str(free_port()),
             "--store", str(built), str(big)],
            cwd=ROOT, env=clean_env(), stdout=handle, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        # the shipped files are in (13 of 14); the big one is loading into build-*
        while "[13/14" not in log.read_text(encoding="utf-8", errors="replace"):
            assert proc.poll() is None, log.read_text(encoding="utf-8", errors="replace")
            assert time.monotonic() < deadline, "the build did not start"
            time.sleep(0.02)
        time.sleep(0.3)
        assert "loaded big.nt" not in log.read_text(encoding="utf-8", errors="replace"), \
            "the big file loaded before it could be killed: make it bigger"
        assert builds(built), "no build folder while building"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert pointer(built) == before  # the record still names the complete old store

    srv = serve_store(built, tmp_path / "after.log")
    try:
        out = srv.output()
        assert "removing an unfinished build left by a stopped process" in out, out
        assert "reusing the on-disk store" in out
        assert count(srv) == shipped_graph.triples
    finally:
        stop_and_check(srv)
    assert builds(built) == []
    assert json.loads((current(built) / "peerchange-store.json").read_text())["quads"] == \
        shipped_graph.triples
