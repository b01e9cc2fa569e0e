"""Answers capped in bytes as well as rows, streamed, and marked when cut (issue 8, rows 14
and 17).

- Row 14: 10,000 rows of 8 KB literals made a 79 MB answer from a 453-byte query, all
  built before the first byte; now the answer stops before ``max_answer_bytes`` (16 MiB by
  default), says so (``Peerchange-Truncated``, ``Peerchange-Byte-Limit`` and in the body)
  and leaves the query process in pieces of about 64 KB.
- Row 17 (truncation): a cut answer is marked in the body in every format that has room
  for it, JSON-LD included (a top-level ``peerchange`` member that JSON-LD processors
  ignore); CSV and TSV carry the header only.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
import requests

from peerchange.core import execution
from peerchange.core.execution import QueryJob, run_with_timeout
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, find_format
from peerchange.core.framing import CHUNK_BYTES
from peerchange.core.results import TRUNCATION_LINK
from tests.conftest import close_executors

MIB = 1024 * 1024
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def big_rows(size_power: int = 13, rows: int = 10_000) -> str:
    """Row 14: ``rows`` rows, each a literal of ``2**size_power`` characters."""
    steps = " ".join(f"BIND(CONCAT(?b{i}, ?b{i}) AS ?b{i + 1})" for i in range(size_power))
    return (f'SELECT ?s ?big WHERE {{ ?s ?p ?o BIND("x" AS ?b0) {steps} '
            f"BIND(?b{size_power} AS ?big) }} LIMIT {rows}")


LABELS = f"CONSTRUCT {{ ?s <{RDFS_LABEL}> ?l }} WHERE {{ ?s <{RDFS_LABEL}> ?l }}"


def result_format(name: str):
    return find_format(name, RESULT_FORMATS)


# ------------------------------------------------------------------------ the byte cap

@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_select_is_cut_before_the_byte_limit_and_marked(shipped_store, name):
    fmt = result_format(name)
    cap = 200_000
    answer = run_with_timeout(shipped_store, QueryJob(big_rows(10, 1000), "SELECT", fmt=fmt,
                                                      max_bytes=cap), 30)
    assert answer.truncated and answer.limit == "bytes"
    assert len(answer.body) <= cap
    assert 100 < answer.count < 200  # rows of 1 KB: as many as fit
    body = answer.body.decode()
    if name == "json":
        doc = json.loads(body)
        assert TRUNCATION_LINK in doc["head"]["link"]
        assert doc["peerchange"] == {"truncated": True, "rows": answer.count}
        assert len(doc["results"]["bindings"]) == answer.count
    elif name == "xml":
        assert f'<link href="{TRUNCATION_LINK}"/>' in body and "<!-- truncated" in body
        assert body.count("<result>") == answer.count
    else:  # CSV and TSV have no room for a mark: the header says it
        assert len(body.splitlines()) == answer.count + 1


def test_a_value_bigger_than_the_cap_gives_the_rows_before_it(shipped_store):
    cap = 5000  # the literals are 8 KB: not one fits
    answer = run_with_timeout(shipped_store, QueryJob(big_rows(13, 10), "SELECT",
                                                      fmt=result_format("json"),
                                                      max_bytes=cap), 30)
    assert (answer.truncated, answer.limit, answer.count) == (True, "bytes", 0)
    assert json.loads(answer.body)["results"]["bindings"] == []


def test_under_the_caps_nothing_is_cut(shipped_store):
    answer = run_with_timeout(shipped_store, QueryJob(big_rows(10, 50), "SELECT",
                                                      fmt=result_format("json"),
                                                      max_bytes=MIB, max_rows=50), 30)
    assert not answer.truncated and answer.limit is None and answer.count == 50
    assert "peerchange" not in json.loads(answer.body)


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.name for f in RDF_FORMATS])
def test_graphs_are_cut_at_the_byte_limit_and_marked(shipped_store, fmt):
    cap = 20_000
    answer = run_with_timeout(shipped_store, QueryJob(LABELS, "CONSTRUCT", fmt=fmt,
                                                      max_bytes=cap), 30)
    assert answer.truncated and answer.limit == "bytes" and answer.count > 10
    assert len(answer.body) <= cap * 1.2  # estimated per triple while collecting
    assert_marked(fmt, answer.body, answer.count)


def assert_marked(fmt, body: bytes, count: int) -> None:
    """The body of a cut graph says so, and still parses to ``count`` triples in the
    default graph."""
    text = body.decode()
    if fmt.name == "jsonld":
        doc = json.loads(text)
        assert doc["peerchange"] == {"truncated": True, "triples": count}
        assert doc["@context"] == {"peerchange": None}
    else:
        assert "truncated: the answer has more triples" in text
    quads = list(ox.parse(body, format=fmt.rdf))
    assert len(quads) == count
    assert all(isinstance(q.graph_name, ox.DefaultGraph) for q in quads)


# ------------------------------------------------------------------------ streaming

def test_the_body_leaves_the_query_process_in_pieces(shipped_store):
    close_executors()
    answer = run_with_timeout(shipped_store, QueryJob(big_rows(13, 200), "SELECT",
                                                      fmt=result_format("json"),
                                                      max_bytes=16 * MIB), 30, stream=True)
    assert answer.body == b"" and answer.count == 200 and not answer.truncated
    pieces = list(answer.chunks)
    assert len(pieces) > 10 and max(map(len, pieces)) < CHUNK_BYTES + 16 * 1024
    assert len(json.loads(b"".join(pieces))["results"]["bindings"]) == 200


def test_a_stream_closed_early_leaves_the_query_process_usable(shipped_store):
    """A client that goes away (or a HEAD request): the rest of the body is dropped and
    the same query process answers the next query."""
    close_executors()
    answer = run_with_timeout(shipped_store, QueryJob(big_rows(13, 200), "SELECT",
                                                      fmt=result_format("json")), 30,
                              stream=True)
    [pid] = execution._executor_for(shipped_store).pids
    next(answer.chunks)
    answer.chunks.close()
    again = run_with_timeout(shipped_store, QueryJob(big_rows(3, 2), "SELECT",
                                                     fmt=result_format("csv")), 30)
    assert again.count == 2
    assert execution._executor_for(shipped_store).pids == [pid]


# ------------------------------------------------------------------------ over HTTP

@pytest.fixture(scope="module")
def small_answers(make_app):
    """An app whose answers are cut at 3 rows or 100 KB."""
    return make_app(max_rows=3, max_answer_bytes=100_000).test_client()


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.name for f in RDF_FORMATS])
def test_row_17_a_cut_graph_is_marked_in_the_body(small_answers, fmt):
    resp = small_answers.post("/sparql", data={"query": LABELS, "format": fmt.name})
    assert resp.status_code == 200
    assert resp.headers["Peerchange-Truncated"] == "true"
    assert resp.headers["Peerchange-Row-Limit"] == "3"
    assert_marked(fmt, resp.get_data(), 3)


@pytest.mark.parametrize("name", ["csv", "tsv"])
def test_row_17_csv_and_tsv_keep_the_header_only(small_answers, name):
    resp = small_answers.post("/sparql", data={"query": big_rows(3, 10), "format": name})
    assert resp.headers["Peerchange-Truncated"] == "true"
    assert len(resp.get_data(as_text=True).splitlines()) == 1 + 3


def test_row_14_a_byte_cut_says_which_limit(small_answers):
    resp = small_answers.post("/sparql", data={"query": big_rows(16, 3), "format": "json"})
    assert resp.status_code == 200
    assert resp.headers["Peerchange-Truncated"] == "true"
    assert resp.headers["Peerchange-Byte-Limit"] == "100000"
    assert "Peerchange-Row-Limit" not in resp.headers
    assert "Peerchange-Byte-Limit" in resp.headers["Access-Control-Expose-Headers"]
    doc = json.loads(resp.get_data())
    assert doc["peerchange"] == {"truncated": True, "rows": 1}
    assert len(resp.get_data()) <= 100_000


@pytest.mark.slow
def test_row_14_through_a_real_server(start_live_server):
    """10,000 rows of 8 KB literals (a 79 MB answer before): 16 MiB at most, marked."""
    server = start_live_server()
    query = big_rows(13, 10_000)
    assert len(query) < 1000
    resp = requests.post(server.sparql, data={"query": query},
                         headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert resp.status_code == 200
    assert resp.headers["Peerchange-Truncated"] == "true"
    assert resp.headers["Peerchange-Byte-Limit"] == str(16 * MIB)
    assert 15 * MIB < len(resp.content) <= 16 * MIB
    doc = resp.json()
    assert doc["peerchange"]["truncated"] is True
    assert 1900 < len(doc["results"]["bindings"]) < 2100
