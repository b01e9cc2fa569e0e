"""A store that goes away, cuts answers or holds nothing: clear errors, never partial
answers served as complete; a real ``peerchange serve --endpoint`` recovers by itself."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import app_settings, start_server, stop_and_check
from tests.remote.conftest import publish_by_gsp

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_virtuoso(tmp_path_factory, shipped_graph):
    """A Virtuoso that cuts answers at 50 rows (ResultSetMaxRows), holding the data."""
    from tests.virtuoso import running_virtuoso

    with running_virtuoso(tmp_path_factory, "small-virtuoso", max_rows=50) as server:
        publish_by_gsp(server, shipped_graph)
        yield server


def _app(virtuoso, folder, **settings):
    from peerchange.web import create_app

    return create_app(app_settings(folder, endpoint=virtuoso.sparql, **settings))


MANY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


def test_a_store_cut_select_is_a_502(small_virtuoso, tmp_path):
    client = _app(small_virtuoso, tmp_path, max_rows=1000).test_client()
    answer = client.get("/sparql", query_string={"query": MANY})
    assert answer.status_code == 502
    assert "cut the answer at 50 rows" in answer.get_data(as_text=True)


def test_our_smaller_cap_is_ordinary_truncation(small_virtuoso, tmp_path):
    client = _app(small_virtuoso, tmp_path, max_rows=10).test_client()
    answer = client.get("/sparql", query_string={"query": MANY},
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200
    assert answer.headers["Peerchange-Truncated"]


def test_a_cut_graph_is_never_a_dump(small_virtuoso, tmp_path):
    client = _app(small_virtuoso, tmp_path).test_client()
    answer = client.get("/dumps/latest/peerchange.ttl")
    assert answer.status_code == 502
    assert "void:triples" in answer.get_data(as_text=True)


def test_no_publication_record_refuses_to_start(small_virtuoso, shipped_graph, cli):
    from tests.remote.conftest import drop_publication

    drop_publication(small_virtuoso)
    try:
        result = cli("serve", "--endpoint", small_virtuoso.sparql, "--port", "1")
    finally:
        publish_by_gsp(small_virtuoso, shipped_graph)
    assert result.returncode == 2
    assert "peerchange publish" in result.stderr


def test_endpoint_with_extra_files_is_a_usage_error(cli, tmp_path):
    extra = tmp_path / "x.ttl"
    extra.write_text("")
    result = cli("serve", "--endpoint", "http://127.0.0.1:9/sparql", str(extra))
    assert result.returncode == 2
    assert "--endpoint" in result.stderr


def test_a_paused_store_gives_503_then_recovers(small_virtuoso, tmp_path):
    server = start_server(["--endpoint", small_virtuoso.sparql, "--timeout", "4"],
                          log=tmp_path / "serve.log")
    try:
        ok = requests.get(server.base + "/sparql", params={"query": "ASK {}"}, timeout=30)
        assert ok.status_code == 200
        small_virtuoso.pause()
        try:
            down = requests.get(server.base + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                                timeout=30)
            assert down.status_code == 503
            assert down.headers["Retry-After"]
            health = requests.get(server.base + "/health", timeout=30)
            assert health.status_code == 503
            assert health.json()["ready"] is False
        finally:
            small_virtuoso.resume()
        back = requests.get(server.base + "/health", timeout=30)
        assert back.status_code == 200
        again = requests.get(server.base + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                             timeout=30)
        assert again.status_code == 200
    finally:
        stop_and_check(server)


def test_a_store_that_freezes_mid_query_is_given_up_long_before_the_deadline(
        small_virtuoso, tmp_path):
    # a 60 s deadline: the query waits while the store is probed every few seconds, and a
    # failed probe ends it with 503 (the client's 20 s would run out if it waited for 60)
    server = start_server(["--endpoint", small_virtuoso.sparql, "--timeout", "60"],
                          log=tmp_path / "serve.log")
    try:
        assert requests.get(server.base + "/health", timeout=30).status_code == 200
        small_virtuoso.pause()
        try:
            down = requests.get(server.base + "/sparql",
                                params={"query": "ASK { ?s ?p <urn:frozen> }"}, timeout=20)
        finally:
            small_virtuoso.resume()
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "5"
        assert "unavailable" in down.text
        again = requests.get(server.base + "/sparql",
                             params={"query": "ASK { ?s ?p <urn:thawed> }"}, timeout=30)
        assert again.status_code == 200
    finally:
        stop_and_check(server)


SLOW = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f "
        "FILTER(STRLEN(STR(?c)) > STRLEN(STR(?f))) }")


def test_the_stores_partial_anytime_answer_is_a_timeout(small_virtuoso, tmp_path):
    # half our deadline reaches Virtuoso as its timeout parameter; it answers 200 with a
    # partial count and X-SQL-State: S1TAT, which must not be served as the count
    client = _app(small_virtuoso, tmp_path, query_timeout=8.0).test_client()
    answer = client.get("/sparql", query_string={"query": SLOW},
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 503
    assert "partial answer" in answer.get_data(as_text=True)  # X-SQL-State: S1TAT


def test_reload_rereads_the_publication_record(small_virtuoso, shipped_graph, tmp_path, cli):
    pid_file = tmp_path / "serve.pid"
    server = start_server(["--endpoint", small_virtuoso.sparql, "--pid-file", str(pid_file)],
                          log=tmp_path / "serve.log")
    try:
        before = requests.get(server.base + "/health", timeout=30).json()["data_version"]
        etag = requests.get(server.base + "/api/mechanisms", timeout=30).headers["ETag"]
        publish_by_gsp(small_virtuoso, shipped_graph, version="republished0001")
        result = cli("reload", "--pid-file", str(pid_file), "--timeout", "60")
        assert result.returncode == 0, result.stderr
        after = requests.get(server.base + "/health", timeout=30).json()["data_version"]
        assert (before, after) == (shipped_graph.version, "republished0001")
        assert requests.get(server.base + "/api/mechanisms", timeout=30).headers["ETag"] != etag
    finally:
        publish_by_gsp(small_virtuoso, shipped_graph)
        stop_and_check(server)
