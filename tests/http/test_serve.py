"""``peerchange serve``: zero-configuration start on port 8000, the on-disk store, extra
files, and refusing a bad file."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import IN_CI, ROOT
from tests.http.conftest import clean_env, free_port, start_server

# every test starts its own gunicorn server or runs `peerchange serve` (seconds each)
pytestmark = pytest.mark.slow

ASK = "/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D"
STARTUP_LIMIT = 15.0  # "within seconds": generous for a loaded CI machine


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def serve_and_exit(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``peerchange serve`` expecting it to refuse to start."""
    return subprocess.run([sys.executable, "-m", "peerchange", "serve", "-q", *args],
                          cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60)


def test_serve_without_options_answers_on_port_8000(tmp_path):
    if not port_is_free(8000):
        message = "port 8000 is busy on this machine; `peerchange serve` needs it for this test"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    start = time.perf_counter()
    srv = start_server([], log=tmp_path / "serve.log", port=8000, defaults=False, wait_for=ASK)
    try:
        first_answer = time.perf_counter() - start
        resp = requests.get(srv.base + ASK, timeout=10)
        assert resp.status_code == 200 and resp.json()["boolean"] is True
        assert srv.base == "http://127.0.0.1:8000"
        print(f"\nfirst answer from `peerchange serve` after {first_answer:.2f} s")
        assert first_answer < STARTUP_LIMIT, first_answer
        log = srv.output()
        assert "SPARQL endpoint: http://127.0.0.1:8000/sparql" in log
        assert "Loaded" in log and "triples" in log  # progress is shown without -q
    finally:
        srv.stop()


def health(srv) -> dict:
    return requests.get(srv.health, timeout=10).json()


def test_on_disk_store_is_built_then_reused(server, tmp_path):
    store = tmp_path / "store"
    first = start_server(["--store", str(store)], log=tmp_path / "first.log")
    try:
        h1 = health(first)
        assert h1["store"] == "disk"
        assert h1["triples"] == health(server)["triples"]
        resp = requests.get(first.base + ASK, timeout=10)
        assert resp.json()["boolean"] is True
    finally:
        first.stop()
    marker = json.loads((store / "peerchange-store.json").read_text())
    assert marker["version"] == h1["data_version"]
    built = {p.name: p.stat().st_mtime_ns for p in store.iterdir()}

    # the second start reuses it (nothing rebuilt), serves the same graph, and the
    # per-query process still stops a runaway query on a disk store
    second = start_server(["--store", str(store), "--timeout", "1"],
                          log=tmp_path / "second.log")
    try:
        h2 = health(second)
        assert h2["store"] == "disk" and h2["triples"] == h1["triples"]
        assert h2["data_version"] == h1["data_version"]
        count = requests.get(second.sparql, timeout=10, params={
            "query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"}).json()
        assert int(count["results"]["bindings"][0]["n"]["value"]) == h1["triples"]
        slow = requests.post(second.sparql, timeout=30, data={
            "query": "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"})
        assert slow.status_code == 503
        assert requests.get(second.base + ASK, timeout=10).json()["boolean"] is True
    finally:
        second.stop()
    assert (store / "peerchange-store.json").stat().st_mtime_ns == built["peerchange-store.json"]
    for srv in (first, second):
        assert "SIGSEGV" not in srv.output() and "Traceback" not in srv.output()


def test_progress_when_building_and_reusing(tmp_path):
    store = tmp_path / "store"
    for log, expected in (("a.log", "building an on-disk store"),
                          ("b.log", "reusing the on-disk store")):
        port = free_port()
        srv = start_server(["--store", str(store), "--port", str(port)], port=port,
                           log=tmp_path / log, defaults=False)
        srv.stop()
        assert expected in srv.output()
        # workers holding the disk store leave cleanly (no crash when they exit)
        assert "SIGSEGV" not in srv.output() and "Traceback" not in srv.output()


def test_bad_extra_file_exits_2_and_keeps_the_built_store(tmp_path):
    store = tmp_path / "store"
    srv = start_server(["--store", str(store)], log=tmp_path / "build.log")
    triples = health(srv)["triples"]
    srv.stop()
    marker = (store / "peerchange-store.json").read_text()

    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\n\nex:a ex:b ex:c ;\n  ex:d .\n",
                   encoding="utf-8")
    proc = serve_and_exit("--store", str(store), str(bad))
    assert proc.returncode == 2, proc.stderr
    assert "bad.ttl" in proc.stderr and "line 4" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    # the store built before is untouched and still serves
    assert (store / "peerchange-store.json").read_text() == marker
    srv = start_server(["--store", str(store)], log=tmp_path / "again.log")
    try:
        assert health(srv)["triples"] == triples
    finally:
        srv.stop()


def test_bad_file_without_a_store(tmp_path):
    bad = tmp_path / "broken.nt"
    bad.write_text("<http://example.org/a> <http://example.org/b> .\n", encoding="utf-8")
    proc = serve_and_exit(str(bad))
    assert proc.returncode == 2
    assert "broken.nt" in proc.stderr and "line 1" in proc.stderr, proc.stderr
    missing = serve_and_exit(str(tmp_path / "missing.ttl"))
    assert missing.returncode == 2 and "missing.ttl" in missing.stderr


def test_extra_files_keep_or_get_their_graphs(tmp_path):
    quads = tmp_path / "extra.nq"
    quads.write_text("<http://example.org/s> <http://example.org/p> \"in g1\" "
                     "<http://example.org/g1> .\n", encoding="utf-8")
    jsonld = tmp_path / "people.jsonld"
    jsonld.write_text(json.dumps({"@id": "http://example.org/alice",
                                  "http://xmlns.com/foaf/0.1/name": "Alice"}), encoding="utf-8")
    turtle = tmp_path / "named.ttl"
    turtle.write_text("<http://example.org/x> <http://example.org/y> 1 .\n", encoding="utf-8")
    nested = tmp_path / "nested.ttl"
    nested.write_text(
        "@prefix ex: <http://example.org/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        'ex:thing ex:has [ ex:part [ rdfs:label "inner" ] ] ; ex:linked ex:other .\n'
        'ex:other rdfs:label "the other" ; ex:more "not part of the description" .\n',
        encoding="utf-8")
    srv = start_server([str(quads), str(jsonld), "--graph", f"http://example.org/named={turtle}",
                        "--graph", f"http://example.org/nested={nested}"],
                       log=tmp_path / "serve.log")
    try:
        resp = requests.get(srv.sparql, timeout=10, params={
            "query": "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } FILTER(!STRSTARTS("
                     "STR(?g), 'https://w3id.org/peerchange/graph/') || CONTAINS(STR(?g), "
                     "'/extra/')) } GROUP BY ?g ORDER BY ?g"})
        graphs = {b["g"]["value"]: int(b["n"]["value"])
                  for b in resp.json()["results"]["bindings"]}
        assert graphs == {
            "http://example.org/g1": 1,  # the N-Quads file keeps its graph
            "http://example.org/named": 1,  # --graph IRI=FILE
            "https://w3id.org/peerchange/graph/extra/people": 1,  # a graph of its own
            "http://example.org/nested": 6,
        }
        # DESCRIBE: the concise bounded description follows blank nodes to any depth and
        # adds the labels (only) of linked resources
        resp = requests.get(srv.sparql, timeout=10, headers={"Accept": "application/n-triples"},
                            params={"query": "DESCRIBE <http://example.org/thing>"})
        lines = set(resp.text.splitlines())
        assert len(lines) == 5, resp.text
        assert any(line.endswith('"inner" .') for line in lines)
        assert ('<http://example.org/other> <http://www.w3.org/2000/01/rdf-schema#label> '
                '"the other" .') in lines
        assert "not part of the description" not in resp.text
    finally:
        srv.stop()


def test_configuration_from_peerchange_variables(tmp_path):
    srv = start_server([], log=tmp_path / "serve.log", env={
        "PEERCHANGE_MAX_ROWS": "3", "PEERCHANGE_QUERY_TIMEOUT": "7",
        "PEERCHANGE_MAX_QUERY_BYTES": "1000"})
    try:
        resp = requests.get(srv.sparql, params={"query": "SELECT * { ?s ?p ?o }"}, timeout=10)
        assert resp.headers["Peerchange-Row-Limit"] == "3"
        assert len(resp.json()["results"]["bindings"]) == 3
        sd = requests.get(srv.sparql, headers={"Accept": "text/turtle"}, timeout=10).text
        assert "7 s per query" in sd and "1,000 bytes per query" in sd
        big = requests.get(srv.sparql, params={"query": "ASK {} #" + "x" * 1000}, timeout=10)
        assert big.status_code == 413
    finally:
        srv.stop()
