"""A real ``peerchange serve`` with two workers: ``/metrics`` adds up the counts of every
worker (prometheus-client's multi-process mode), the access log goes to standard error as
JSON lines, and ``-q`` writes none."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict

from peerchange.core.metrics import PRIVATE_PREFIX
from tests.conftest import Server, free_port, start_server, stop_and_check
from tests.observability.conftest import parse, sample

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

JSON = {"Accept": "application/sparql-results+json"}
ROUND = 16  # queries sent at once: enough for both workers to take some
MAX_ROUNDS = 10


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory):
    """A server with the access log on (no ``-q``), an operator's metrics folder, a client
    budget wide enough for :data:`ROUND` queries at once, and loopback as a trusted proxy."""
    folder = tmp_path_factory.mktemp("observed")
    metrics_dir = folder / "prometheus"
    metrics_dir.mkdir()
    port = free_port()
    srv = start_server(["--port", str(port), "--workers", "2"], defaults=False, port=port,
                       log=folder / "serve.log",
                       env={"PEERCHANGE_DUMPS_DIR": str(folder / "dumps"),
                            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                            # one test client sends ROUND queries at once
                            "PEERCHANGE_CLIENT_CONCURRENCY": str(ROUND * 2),
                            # as if a proxy on this machine passed requests on
                            "PEERCHANGE_TRUSTED_PROXIES": "127.0.0.1"})
    yield srv, metrics_dir
    stop_and_check(srv)


def _ask(srv: Server, i: int) -> int:
    # a new connection each time, so the kernel may hand it to either worker
    query = f"ASK {{ ?s ?p {i} }}"
    return requests.get(srv.sparql, params={"query": query}, headers=JSON,
                        timeout=30).status_code


def _sparql_counts_by_process(metrics_dir: Path) -> dict[str, float]:
    """``requests_total{route="sparql"}`` in each process's file."""
    counts: dict[str, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = path.stem.split("_", 1)[1]
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            metric, name, labels, *_ = json.loads(key)
            if name == "peerchange_requests_total" and labels.get("route") == "sparql":
                counts[pid] = counts.get(pid, 0.0) + value
    return counts


def _scrape(srv: Server) -> dict[str, Any]:
    resp = requests.get(srv.base + "/metrics", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    return parse(resp.text)


def test_counts_add_up_across_workers(observed):
    srv, metrics_dir = observed
    sent = 0
    with ThreadPoolExecutor(ROUND) as pool:
        for round_ in range(MAX_ROUNDS):
            statuses = list(pool.map(lambda i: _ask(srv, i), range(sent, sent + ROUND)))
            assert statuses == [200] * ROUND
            sent += ROUND
            if len(_sparql_counts_by_process(metrics_dir)) >= 2 and round_ >= 1:
                break
    by_process = _sparql_counts_by_process(metrics_dir)
    assert len(by_process) >= 2, f"one worker took all {sent} queries: {by_process}"
    assert all(count < sent for count in by_process.values()), by_process
    total = sample(_scrape(srv), "peerchange_requests", "_total", route="sparql",
                   status="200")
    assert total >= sent == sum(by_process.values())
    families = _scrape(srv)
    assert sample(families, "peerchange_store_triples") > 0
    assert sample(families, "peerchange_request_seconds", "_count", route="sparql") >= sent


def test_access_log_lines_on_stderr(observed):
    srv, _ = observed
    marker = "a personal note 7c1f"
    query = f"SELECT ?s WHERE {{ ?s ?p ?o }} LIMIT 2 # {marker}"
    assert requests.get(srv.sparql, params={"query": query}, headers=JSON,
                        timeout=30).status_code == 200
    lines: list[dict[str, Any]] = []
    for _ in range(50):  # the worker writes the line when the answer has been handed over
        lines = [json.loads(text) for text in srv.output().splitlines()
                 if text.startswith("{") and '"route"' in text]
        if any(line.get("query_hash") for line in lines[-5:]):
            break
        time.sleep(0.1)
    digest = hashlib.sha256(query.encode()).hexdigest()[:16]
    mine = [line for line in lines if line.get("query_hash") == digest]
    assert len(mine) == 1, lines[-5:]
    assert mine[0]["status"] == 200 and mine[0]["route"] == "sparql"
    assert (mine[0]["rows"], mine[0]["truncated"]) == (2, False) and mine[0]["bytes"] > 0
    assert "client" not in mine[0] and marker not in srv.output()


def test_metrics_follow_the_client_a_trusted_proxy_reports(observed):
    """Behind a proxy on the same machine every request comes from loopback: the client
    the proxy reports decides, so /metrics is not public through the proxy."""
    srv, _ = observed
    direct = requests.get(srv.base + "/metrics", timeout=10)
    assert direct.status_code == 200
    relayed = requests.get(srv.base + "/metrics", timeout=10,
                           headers={"X-Forwarded-For": "203.0.113.5"})
    assert relayed.status_code == 404
    assert "peerchange_" not in relayed.text
    inside = requests.get(srv.base + "/metrics", timeout=10,
                          headers={"X-Forwarded-For": "::1"})
    assert inside.status_code == 200


def test_metrics_folder_of_the_operator_is_used_and_kept(observed):
    _, metrics_dir = observed
    assert list(metrics_dir.glob("counter_*.db"))


def test_the_private_metrics_folder_goes_with_the_server(tmp_path):
    """Without an operator's folder the master makes its own and removes it at exit."""
    port = free_port()
    srv = start_server(["--port", str(port), "--workers", "2", "-q"], defaults=False,
                       port=port, log=tmp_path / "serve.log",
                       env={"PEERCHANGE_DUMPS_DIR": str(tmp_path / "dumps")})
    try:
        assert _ask(srv, 1) == 200
        folders = list(Path(tempfile.gettempdir()).glob(
            f"{PRIVATE_PREFIX}{srv.process.pid}-*"))
        assert len(folders) == 1 and list(folders[0].glob("counter_*.db"))
    finally:
        stop_and_check(srv)
    assert not folders[0].exists()


def test_quiet_server_writes_no_access_log(start_live_server):
    srv = start_live_server()  # the shared server: started with -q
    for i in range(3):
        assert _ask(srv, i) == 200
    assert requests.get(srv.health, timeout=10).status_code == 200
    assert not [text for text in srv.output().splitlines() if '"route":' in text]
