"""The access log: one JSON line per request, with the query's hash but, by default, neither
the client's address nor the query's text (personal notes may be written into queries)."""

from __future__ import annotations

import hashlib
import io
import json
import logging

import pytest

from peerchange.web.access_log import ACCESS_LOGGER, configure_access_log, query_hash
from tests.observability.conftest import LOOPBACK

pytestmark = pytest.mark.timeout(60)

# a query with something personal in it: it must never reach the log unless configured
NOTE = "my therapist said I should try this"
QUERY = f"SELECT ?s WHERE {{ ?s a ?type }} LIMIT 3 # {NOTE}"
CLIENT = {"REMOTE_ADDR": "198.51.100.23"}
JSON = {"Accept": "application/sparql-results+json"}
FIELDS = {"time", "method", "route", "status", "duration_ms", "bytes", "version",
          "query_hash", "rows", "truncated"}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _only(lines: list[dict]) -> dict:
    assert len(lines) == 1, lines
    return lines[0]


def test_a_query_gives_one_line_with_its_hash_and_nothing_private(client, access_lines,
                                                                  shipped_graph):
    resp = client.get("/sparql", query_string={"query": QUERY}, headers=JSON,
                      environ_base=CLIENT, buffered=True)
    assert resp.status_code == 200
    line = _only(access_lines)
    assert line["method"] == "GET" and line["route"] == "sparql" and line["status"] == 200
    assert line["bytes"] == len(resp.data) > 0
    assert 0 < line["duration_ms"] < 60_000
    assert line["version"] == shipped_graph.version
    assert line["time"].endswith("Z") and line["time"][:2] == "20"
    assert line["query_hash"] == _sha(QUERY) == query_hash(QUERY)
    assert (line["rows"], line["truncated"]) == (3, False)
    assert set(line) == FIELDS
    text = json.dumps(line)
    assert NOTE not in text and "198.51.100.23" not in text and "?type" not in text


def test_rows_and_truncation_of_an_answered_query(make_app, access_lines):
    client = make_app(max_rows=2).test_client()
    many = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10"
    few = "SELECT ?s WHERE { ?s a ?type } LIMIT 1"
    cut = client.get("/sparql", query_string={"query": many}, headers=JSON, buffered=True)
    whole = client.get("/sparql", query_string={"query": few}, headers=JSON, buffered=True)
    assert cut.headers.get("Peerchange-Truncated") == "true"
    assert len(whole.get_json()["results"]["bindings"]) == 1
    first, second = access_lines
    assert (first["rows"], first["truncated"]) == (2, True)
    assert (second["rows"], second["truncated"]) == (1, False)
    # the answers stream from the query process: the bytes are counted as they go out
    assert (first["bytes"], second["bytes"]) == (len(cut.data), len(whole.data))


def test_the_hash_is_the_same_for_every_way_of_sending_a_query(client, access_lines):
    client.get("/sparql", query_string={"query": QUERY}, headers=JSON, buffered=True)
    client.post("/sparql", data={"query": QUERY}, headers=JSON, buffered=True)
    client.post("/sparql", data=QUERY.encode(), buffered=True,
                headers={**JSON, "Content-Type": "application/sparql-query"})
    assert [(line["method"], line["status"]) for line in access_lines] == [
        ("GET", 200), ("POST", 200), ("POST", 200)]
    assert {line["query_hash"] for line in access_lines} == {_sha(QUERY)}


def test_a_refused_query_is_logged_with_its_hash(client, access_lines):
    bad = "SELECT WHERE { this is not sparql"
    resp = client.get("/sparql", query_string={"query": bad}, buffered=True)
    assert resp.status_code == 400
    line = _only(access_lines)
    assert line["status"] == 400 and line["query_hash"] == _sha(bad)
    assert line["bytes"] == len(resp.data)


def test_pages_without_a_query_have_no_hash(client, access_lines):
    client.get("/health", buffered=True)
    client.get("/no/such/page", buffered=True)
    client.head("/health", buffered=True)
    health, missing, head = access_lines
    assert health["route"] == "health" and health["status"] == 200
    assert missing["route"] == "unmatched" and missing["status"] == 404
    assert head["method"] == "HEAD" and head["bytes"] == 0
    assert not any("query_hash" in line for line in access_lines)
    assert "/no/such/page" not in json.dumps(access_lines)


def test_clients_and_queries_only_when_configured(make_app, access_lines):
    client = make_app(log_clients=True, log_queries=True).test_client()
    resp = client.get("/sparql", query_string={"query": QUERY}, headers=JSON,
                      environ_base=CLIENT, buffered=True)
    assert resp.status_code == 200
    line = _only(access_lines)
    assert line["client"] == "198.51.100.23"
    assert line["query"] == QUERY
    assert line["target"].startswith("/sparql?query=")
    assert line["query_hash"] == _sha(QUERY)


def test_clients_without_queries(make_app, access_lines):
    client = make_app(log_clients=True).test_client()
    client.post("/sparql", data={"query": QUERY}, headers=JSON, environ_base=CLIENT,
                buffered=True)
    line = _only(access_lines)
    assert line["client"] == "198.51.100.23"
    assert "query" not in line and "target" not in line and NOTE not in json.dumps(line)


def test_metrics_requests_are_logged_too(client, access_lines):
    client.get("/metrics", environ_base=LOOPBACK, buffered=True)
    assert _only(access_lines)["route"] == "metrics"


@pytest.fixture
def restore_logger():
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    yield logger
    logger.setLevel(saved[0])
    logger.propagate = saved[1]
    logger.handlers[:] = saved[2]


def test_configure_writes_json_lines_to_the_stream_and_quiet_writes_none(client,
                                                                         restore_logger):
    out = io.StringIO()
    configure_access_log(True, stream=out)
    configure_access_log(True, stream=out)  # a second call replaces the first handler
    client.get("/health", buffered=True)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["route"] == "health"
    configure_access_log(False)
    client.get("/health", buffered=True)
    assert out.getvalue().splitlines() == lines


def test_rows_truncation_and_streamed_bytes_from_what_the_view_sets(access_lines):
    """The contract with the views: ``g.query_text``, ``g.query_rows`` and
    ``g.query_truncated``, read when the answer is closed, so a streamed answer can set
    them while it is being sent; its bytes are counted as they go out."""
    from flask import Flask, Response, g, stream_with_context

    from peerchange.web import access_log

    app = Flask(__name__)
    access_log.install(app)

    @app.get("/streamed")
    def streamed() -> Response:
        g.query_text = "SELECT * {}"

        def chunks():
            for _ in range(3):
                yield b"x" * 1000
            g.query_rows = 3
            g.query_truncated = True

        return Response(stream_with_context(chunks()), content_type="text/csv")

    resp = app.test_client().get("/streamed", buffered=True)
    assert len(resp.data) == 3000
    line = _only(access_lines)
    assert line["bytes"] == 3000
    assert line["rows"] == 3 and line["truncated"] is True
    assert line["query_hash"] == _sha("SELECT * {}")
    assert line["route"] == "streamed" and line["version"] is None


def test_an_exception_through_the_app_is_logged_as_500(access_lines):
    from flask import Flask

    from peerchange.web import access_log

    app = Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    access_log.install(app)

    @app.get("/boom")
    def boom():
        raise RuntimeError("raised on purpose by a test")

    with pytest.raises(RuntimeError):
        app.test_client().get("/boom", buffered=True)
    assert _only(access_lines)["status"] == 500


def test_a_filter_on_the_access_logger_still_applies(client, restore_logger):
    """The access log's own stream gets each line directly only while nothing else is
    set up on the logger: a filter an operator adds (here one that drops /health) is
    honoured, as it would be with every line logged as a record."""
    out = io.StringIO()
    configure_access_log(True, stream=out)
    client.get("/health", buffered=True)
    assert len(out.getvalue().splitlines()) == 1

    def not_health(record: logging.LogRecord) -> bool:
        return '"route":"health"' not in record.getMessage()

    restore_logger.addFilter(not_health)
    try:
        client.get("/health", buffered=True)
        client.get("/sparql", query_string={"query": "ASK {}"}, buffered=True)
    finally:
        restore_logger.removeFilter(not_health)
    routes = [json.loads(line)["route"] for line in out.getvalue().splitlines()]
    assert routes == ["health", "sparql"]
