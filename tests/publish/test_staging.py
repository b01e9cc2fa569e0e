"""Publishing twice, and a batch the store refuses, through the publish service into a real
Virtuoso (the data validated once for the module)."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest
import requests

from peerchange.core.errors import StoreUnavailable
from peerchange.services.publish import BatchLimits, Prepared, prepare, publish, staging_graph
from peerchange.services.publish_http import StoreRefused, StoreWriter
from peerchange.services.validation import Report
from tests.publish.conftest import PASSWORD_VARIABLE, graph_counts, record, select, snapshot

pytestmark = pytest.mark.slow

GENID = "https://w3id.org/peerchange/.well-known/genid/"


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's password in the variable the writers name (as ``--password-env``)."""
    monkeypatch.setenv(PASSWORD_VARIABLE, "dba")


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    data = prepare(reasoner=False)
    assert data.report.conforms()
    return data


def writer(store: Any, *, gsp: bool = False, update_url: str | None = None) -> StoreWriter:
    return StoreWriter(store.sparql, update_url or store.sparql_auth,
                       store.graph_store if gsp else None, user="dba",
                       password_env=PASSWORD_VARIABLE)


def genids(store: Any) -> list[str]:
    rows = select(store, f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                         f"FILTER(STRSTARTS(STR(?s), \"{GENID}\")) }} ORDER BY ?s")
    return [row["s"] for row in rows]


@pytest.mark.parametrize("gsp", [False, True], ids=["insert-data", "graph-store"])
def test_publishing_twice_leaves_the_same_store(store, prepared, shipped_graph, gsp):
    first = publish(writer(store, gsp=gsp), prepared, limits=BatchLimits(triples=250))
    counts, published = snapshot(store)
    ids = genids(store)
    again = writer(store, gsp=gsp)
    second = publish(again, prepared, limits=BatchLimits(triples=250))
    assert graph_counts(store) == counts
    assert {k: v for k, v in record(store).items() if k != "time"} == {
        k: v for k, v in published.items() if k != "time"}
    assert genids(store) == ids
    assert bool(ids) is not gsp  # INSERT DATA skolemises; a PUT keeps the blank nodes
    # the counts the store confirmed are the embedded store's
    assert {g.graph: g.triples for g in second.graphs} == shipped_graph.graph_counts
    assert {g.graph: g.triples for g in first.graphs} == shipped_graph.graph_counts
    if not gsp:  # many bounded batches: the largest graph alone needs 8
        assert again.requests_sent > 2 * len(shipped_graph.graph_counts) + 8


@pytest.fixture
def failing_proxy(store, request) -> Iterator[tuple[str, list[int]]]:
    """A local HTTP proxy to the store's update endpoint that fails the third INSERT DATA
    that carries a login (and forwards everything else): it answers 500, or with the
    parameter ``"hang-up"`` closes the connection without an answer. Yields its URL and
    the list of INSERT requests seen."""
    seen: list[int] = []
    hang_up = getattr(request, "param", "") == "hang-up"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if b"INSERT" in body and "Authorization" in self.headers:
                seen.append(len(body))
                if len(seen) == 3:
                    if hang_up:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self._reply(500, {}, b"refused on purpose by the test")
                    return
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in {"host", "content-length", "connection"}}
            answer = requests.post(store.base + self.path, data=body, headers=headers,
                                   timeout=60)
            self._reply(answer.status_code, answer.headers, answer.content)

        def _reply(self, status: int, headers: Any, body: bytes) -> None:
            self.send_response(status)
            for key in ("WWW-Authenticate", "Content-Type"):
                if key in headers:
                    self.send_header(key, headers[key])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql-auth", seen
    finally:
        server.shutdown()
        server.server_close()


def one_graph(graph: str, values: list[str]) -> Prepared:
    """Data of one graph (already valid: this test is about the store, not validation)."""
    data = ox.Store()
    for value in values:
        data.add(ox.Quad(ox.NamedNode("https://example.org/thing"),
                         ox.NamedNode("https://example.org/value"), ox.Literal(value),
                         ox.NamedNode(graph)))
    return Prepared(data, [], "test-" + values[0], Report())


def test_a_refused_batch_leaves_the_target_as_it_was(store, prepared, failing_proxy):
    url, seen = failing_proxy
    graph = "https://example.org/a-graph"
    publish(writer(store), one_graph(graph, ["old"]))
    before = snapshot(store)
    assert before[0][graph] == 1

    new = one_graph(graph, [f"new {i}" for i in range(250)])
    with pytest.raises(StoreRefused) as failure:
        publish(writer(store, update_url=url), new, limits=BatchLimits(triples=50))
    assert len(seen) == 3
    assert failure.value.exit_code == 1
    assert f"Graph {graph} was not published" in failure.value.message
    assert "500" in failure.value.message
    assert "refused on purpose" in (failure.value.detail or "")
    # the target, the record and every other graph as they were; no staging graph left
    assert snapshot(store) == before
    assert select(store, "SELECT ?o WHERE { GRAPH <https://example.org/a-graph> "
                         "{ ?s ?p ?o } }") == [{"o": "old"}]
    assert staging_graph(graph) not in graph_counts(store)
    assert not [g for g in graph_counts(store) if "/graph/staging/" in g]


def test_a_batch_too_large_for_the_store_is_split(store, prepared, shipped_graph):
    # Virtuoso refuses (400) an update whose SQL translation passes 10,000 lines: the
    # 1,910 triples of the references graph in one request; halves go in
    result = publish(writer(store), prepared, limits=BatchLimits(triples=5_000))
    assert {g.graph: g.triples for g in result.graphs} == shipped_graph.graph_counts
    counts = graph_counts(store)
    assert {g: counts[g] for g in shipped_graph.graph_counts} == shipped_graph.graph_counts


@pytest.mark.parametrize("failing_proxy", ["hang-up"], indirect=True)
def test_a_store_that_stops_answering_leaves_the_target_as_it_was(store, failing_proxy):
    url, seen = failing_proxy
    graph = "https://example.org/a-graph"
    publish(writer(store), one_graph(graph, ["old"]))
    before = snapshot(store)
    with pytest.raises(StoreUnavailable) as failure:
        publish(writer(store, update_url=url), one_graph(graph, [f"new {i}" for i in
                                                                range(250)]),
                limits=BatchLimits(triples=50))
    assert len(seen) == 3
    assert failure.value.exit_code == 2
    assert f"Graph {graph} was not published" in failure.value.message
    assert snapshot(store) == before
