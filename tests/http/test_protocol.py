"""The SPARQL 1.1 Protocol at ``/sparql``, rule by rule, over raw HTTP (requests).

Every status code the endpoint can answer, every content-negotiation case, the dataset
parameters, the service description (parsed as RDF), DESCRIBE, the read-only and SERVICE
refusals, the timeout and row limits, CORS, caching headers, ``/health`` and the error
format. Answers are parsed, not only status-checked.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import rdflib
import requests
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from tests.backends import expected_for
from tests.http.conftest import (
    LIMITED_ROWS,
    LIMITED_TIMEOUT,
    Server,
    assert_no_trace,
)

# rdflib 7's own JSON-LD, N-Quads and TriG parsers use APIs rdflib deprecates: not our warnings
pytestmark = [
    # every test here talks to a gunicorn server (started once per session, seconds each)
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Dataset.identifier is deprecated:DeprecationWarning"),
]

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
FORMATS = rdflib.Namespace("http://www.w3.org/ns/formats/")
PC = "https://w3id.org/peerchange/"
GRAPH = PC + "graph/"
PCM = rdflib.Namespace(PC + "onto/")
MECHANISM = URIRef(PC + "id/mechanism/role-modelling")
SRX = "{http://www.w3.org/2005/sparql-results#}"

JSON_RESULTS = "application/sparql-results+json"
XML_RESULTS = "application/sparql-results+xml"

ASK_ANY = "ASK { ?s ?p ?o }"
SELECT_MECHANISMS = (
    "PREFIX pcm: <https://w3id.org/peerchange/onto/>\n"
    "SELECT ?m WHERE { ?m a pcm:ChangeMechanism } ORDER BY ?m"
)
CONSTRUCT_ONE = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
# a 4-way cross product of the whole graph (~10^15 rows): it would run for days
CROSS_ORDER_BY = (
    "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } ORDER BY ?l ?i ?f ?c"
)
CROSS_GROUP_BY = (
    "SELECT ?a (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } GROUP BY ?a"
)
UPDATE = "INSERT DATA { <http://example.org/s> <http://example.org/p> <http://example.org/o> }"


# ------------------------------------------------------------------------ helpers

def get(server: Server, query: str | None = None, *, accept: str | None = None,
        path: str = "/sparql", params: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None, method: str = "GET") -> requests.Response:
    pairs = ([("query", query)] if query is not None else []) + (params or [])
    hdrs = dict(headers or {})
    if accept is not None:
        hdrs["Accept"] = accept
    return requests.request(method, server.base + path, params=pairs, headers=hdrs, timeout=30)


def post_form(server: Server, query: str | None = None, *, accept: str | None = None,
              data: list[tuple[str, str]] | None = None, url_params=None,
              headers: dict[str, str] | None = None) -> requests.Response:
    pairs = ([("query", query)] if query is not None else []) + (data or [])
    hdrs = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if accept is not None:
        hdrs["Accept"] = accept
    return requests.post(server.sparql, data=pairs, params=url_params, headers=hdrs, timeout=30)


def post_direct(server: Server, body: str | bytes, *, accept: str | None = None,
                content_type: str | None = "application/sparql-query", url_params=None,
                ) -> requests.Response:
    hdrs = {}
    if content_type is not None:
        hdrs["Content-Type"] = content_type
    if accept is not None:
        hdrs["Accept"] = accept
    data = body.encode("utf-8") if isinstance(body, str) else body
    return requests.post(server.sparql, data=data, params=url_params, headers=hdrs, timeout=30)


def raw_request(server: Server, method: str, path_and_query: str, *, body: bytes = b"",
                headers: dict[str, str] | None = None) -> requests.Response:
    """Send a request whose URL is used exactly as given (no re-encoding by requests)."""
    session = requests.Session()
    req = requests.Request(method, server.base + "/", data=body or None, headers=headers or {})
    prepared = session.prepare_request(req)
    prepared.url = server.base + path_and_query
    if not body:
        prepared.headers.pop("Content-Type", None)
    return session.send(prepared, timeout=30)


def ask_value(resp: requests.Response) -> bool:
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith(JSON_RESULTS)
    return resp.json()["boolean"]


def count_of(resp: requests.Response) -> int:
    assert resp.status_code == 200, resp.text
    return int(resp.json()["results"]["bindings"][0]["n"]["value"])


def media(resp: requests.Response) -> str:
    return resp.headers["Content-Type"].split(";")[0].strip()


def error_of(resp: requests.Response, status: int) -> str:
    """Check an error response (status, plain text, no trace) and return its message."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert media(resp) == "text/plain", resp.headers
    assert_no_trace(resp.text)
    return resp.text


def parse_graph(resp: requests.Response, fmt: str) -> rdflib.Graph:
    assert resp.status_code == 200, resp.text
    return rdflib.Graph().parse(data=resp.text, format=fmt)


# ------------------------------------------------------------------------ 200: the three ways

def test_query_via_get(server):
    assert ask_value(get(server, ASK_ANY)) is True


def test_query_via_post_form(server):
    assert ask_value(post_form(server, ASK_ANY)) is True


def test_query_via_post_direct(server):
    assert ask_value(post_direct(server, ASK_ANY)) is True


def test_post_form_takes_parameters_from_the_url_too(server):
    resp = post_form(server, None, data=[], url_params={"query": ASK_ANY})
    assert ask_value(resp) is True


def test_trailing_slash_is_the_same_endpoint(server):
    assert ask_value(get(server, ASK_ANY, path="/sparql/")) is True


def test_utf8_query_text(server):
    resp = get(server, 'SELECT ("Ünïcødé ✓ 💡" AS ?x) {}')
    assert resp.json()["results"]["bindings"][0]["x"]["value"] == "Ünïcødé ✓ 💡"


def test_relative_iris_resolve_against_the_endpoint(server):
    resp = get(server, "SELECT ?x { BIND(<relative> AS ?x) }")
    assert resp.status_code == 200, resp.text
    value = resp.json()["results"]["bindings"][0]["x"]["value"]
    assert value == server.base + "/relative"


# ------------------------------------------------------------------------ 400

def test_syntax_error_gives_the_parser_message_and_position(server, backend):
    body = error_of(get(server, "SELECT ?s WHERE {\n  ?s ?p \n}"), 400)
    assert "syntax" in body.lower()
    # where the error is: line 3, where "}" ends the pattern. Our parser gives line:column;
    # Virtuoso's gives the line only ("line 3: syntax error at '}'"), and never the query
    # it compiled (our dataset as `define` lines) — the client's own query is not repeated
    position = expected_for(backend, embedded=r"\b3:\d+\b", virtuoso=r"\bline 3\b")
    assert re.search(position, body), body
    assert "define input:" not in body


# An error at the very end of the text: our parser names line 1 and its column; Virtuoso
# names only a line, the one after the text (it reads one past the end)
END_OF_TEXT_POSITION = {"embedded": r"\b1:\d+\b", "virtuoso": r"\bline 2\b"}


def test_syntax_error_via_post_direct(server, backend):
    body = error_of(post_direct(server, "ASK {"), 400)
    assert re.search(END_OF_TEXT_POSITION[backend.name], body), body


@pytest.mark.parametrize("update", [
    UPDATE,
    "PREFIX ex: <http://example.org/>\ninsert data { ex:s ex:p ex:o }",
    "DELETE WHERE { ?s ?p ?o }",
    "CLEAR ALL",
    "LOAD <http://example.org/data.ttl>",
    "DROP GRAPH <https://w3id.org/peerchange/graph/claims>",
    "WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
])
def test_update_sent_as_query_is_400_saying_updates_are_not_accepted(server, update):
    for resp in (get(server, update), post_form(server, update), post_direct(server, update)):
        body = error_of(resp, 400)
        assert "updates are not accepted" in body


def test_two_query_parameters(server):
    resp = get(server, params=[("query", ASK_ANY), ("query", "ASK {}")])
    assert "exactly one 'query'" in error_of(resp, 400)
    # one in the URL and one in the form body count as two as well
    resp = post_form(server, ASK_ANY, url_params={"query": "ASK {}"})
    assert "exactly one 'query'" in error_of(resp, 400)
    # and so does a 'query' parameter beside a direct POST body
    resp = post_direct(server, ASK_ANY, url_params={"query": "ASK {}"})
    error_of(resp, 400)


def test_post_without_a_query(server):
    assert "no 'query'" in error_of(post_form(server, None, data=[("foo", "bar")]), 400)


def test_empty_query(server):
    assert "empty" in error_of(get(server, "   "), 400)


def test_non_utf8_direct_body(server):
    body = error_of(post_direct(server, 'ASK { FILTER("caf\xe9") }'.encode("latin-1")), 400)
    assert "UTF-8" in body


def test_non_utf8_form_body(server):
    resp = requests.post(server.sparql, data=b"query=ASK%20%7B%20FILTER(%22caf%E9%22)%20%7D",
                         headers={"Content-Type": "application/x-www-form-urlencoded"},
                         timeout=30)
    assert "UTF-8" in error_of(resp, 400)


def test_non_utf8_percent_encoding_in_the_url(server):
    resp = raw_request(server, "GET", "/sparql?query=ASK%20%7B%20FILTER(%22caf%E9%22)%20%7D")
    assert "UTF-8" in error_of(resp, 400)


def test_dataset_parameter_must_be_an_iri(server):
    resp = get(server, ASK_ANY, params=[("default-graph-uri", "not an iri")])
    assert "not an absolute IRI" in error_of(resp, 400)


# ------------------------------------------------------------------------ 403

def test_update_via_form_parameter_is_403(server):
    body = error_of(post_form(server, None, data=[("update", UPDATE)]), 403)
    assert "read-only" in body


def test_update_via_get_is_403(server):
    assert "read-only" in error_of(get(server, params=[("update", "CLEAR ALL")]), 403)


def test_update_via_sparql_update_body_is_403(server):
    resp = post_direct(server, UPDATE, content_type="application/sparql-update")
    assert "read-only" in error_of(resp, 403)


def test_the_graph_is_unchanged_after_update_attempts(server):
    before = requests.get(server.health, timeout=10).json()["triples"]
    post_form(server, None, data=[("update", "CLEAR ALL")])
    post_direct(server, "CLEAR ALL", content_type="application/sparql-update")
    post_direct(server, "CLEAR ALL")
    assert requests.get(server.health, timeout=10).json()["triples"] == before
    assert ask_value(get(server, ASK_ANY)) is True


# ------------------------------------------------------------------------ 404, 405

@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(server, method):
    resp = get(server, ASK_ANY, method=method)
    body = error_of(resp, 405)
    allowed = {m.strip() for m in resp.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert method not in allowed
    assert method in body and "GET or POST" in body


def test_unknown_path_is_404(server):
    assert "/sparql" in error_of(get(server, path="/nothing-here"), 404)


# ------------------------------------------------------------------------ 406

def test_nothing_acceptable_is_406_listing_offers(server):
    body = error_of(get(server, "SELECT * {} LIMIT 1", accept="image/png"), 406)
    for offered in (JSON_RESULTS, XML_RESULTS, "text/csv", "text/tab-separated-values"):
        assert offered in body
    # a client that names text/html (a browser) gets the error as a page, with the same list
    resp = get(server, CONSTRUCT_ONE, accept="image/png, text/html")
    assert resp.status_code == 406 and media(resp) == "text/html", resp.headers
    assert_no_trace(resp.text)
    for offered in ("text/turtle", "application/n-triples", "application/rdf+xml",
                    "application/ld+json", "application/n-quads", "application/trig"):
        assert offered in resp.text


def test_results_media_type_for_a_graph_query_is_406(server):
    error_of(get(server, CONSTRUCT_ONE, accept=XML_RESULTS), 406)
    error_of(get(server, "ASK {}", accept="text/turtle"), 406)


def test_unknown_format_parameter_is_406(server):
    body = error_of(get(server, "ASK {}", params=[("format", "yaml")]), 406)
    assert "yaml" in body and "json" in body


# ------------------------------------------------------------------------ 413

def test_oversized_query_is_413(server):
    big = "ASK {}\n#" + "x" * 70_000
    for resp in (post_direct(server, big), post_form(server, big)):
        body = error_of(resp, 413)
        assert "65,536 bytes" in body


def test_oversized_body_is_413_before_it_is_read(server):
    resp = post_direct(server, "ASK {}\n#" + "x" * 400_000)
    body = error_of(resp, 413)
    assert "65,536 bytes" in body


def test_oversized_get_query_is_413(limited_server):
    # the limited server accepts queries of at most 2048 bytes (see conftest)
    body = error_of(get(limited_server, "ASK {}\n#" + "x" * 3000), 413)
    assert "2,048 bytes" in body


# ------------------------------------------------------------------------ 415

def test_post_without_content_type_is_415(server):
    resp = post_direct(server, "ASK {}", content_type=None)
    assert "no Content-Type" in error_of(resp, 415)


@pytest.mark.parametrize("ctype", ["text/plain", "application/json", JSON_RESULTS])
def test_post_with_wrong_content_type_is_415(server, ctype):
    body = error_of(post_direct(server, "ASK {}", content_type=ctype), 415)
    assert "application/sparql-query" in body and "application/x-www-form-urlencoded" in body


@pytest.mark.parametrize("charset", ["iso-8859-1", "UTF-16"])
def test_post_with_non_utf8_charset_is_415(server, charset):
    resp = post_direct(server, "ASK {}".encode(charset),
                       content_type=f"application/sparql-query; charset={charset}")
    assert "UTF-8" in error_of(resp, 415)


def test_post_with_utf8_charset_is_fine(server):
    resp = post_direct(server, ASK_ANY, content_type="application/sparql-query; charset=UTF-8")
    assert ask_value(resp) is True


# ------------------------------------------------------------------------ 503 timeout

def query_processes(master: int, *, busy: bool = False) -> list[int]:
    """PIDs of live processes in the server's process group that are not the gunicorn master
    or one of its workers: the query executors (Linux /proc). With ``busy``, only those
    running or in uninterruptible sleep (an idle executor waits on its pipe, state S)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, ppid, pgid = fields[0], int(fields[1]), int(fields[2])
        executor = state != "Z" and pgid == master and master not in (int(entry.name), ppid)
        if executor and (not busy or state in {"R", "D"}):
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("query", [CROSS_ORDER_BY, CROSS_GROUP_BY], ids=["ORDER-BY", "GROUP-BY"])
def test_timeout_stops_the_query_and_frees_the_worker(limited_server, query):
    start = time.perf_counter()
    resp = post_form(limited_server, query)
    elapsed = time.perf_counter() - start
    body = error_of(resp, 503)
    assert "did not finish within" in body and f"{LIMITED_TIMEOUT:g} s" in body
    assert LIMITED_TIMEOUT - 0.1 <= elapsed < LIMITED_TIMEOUT + 1.5, elapsed
    # the work really stopped: the executor that ran it was killed, and no executor is
    # still computing (idle ones wait on their pipe) ...
    if Path("/proc/self/stat").exists():
        time.sleep(0.2)
        assert query_processes(limited_server.process.pid, busy=True) == []
    # ... and every worker answers at once
    for _ in range(4):
        start = time.perf_counter()
        assert ask_value(get(limited_server, ASK_ANY)) is True
        assert time.perf_counter() - start < 1.0


def test_a_slow_query_does_not_block_other_clients(limited_server):
    slow = threading.Thread(target=post_form, args=(limited_server, CROSS_ORDER_BY))
    slow.start()
    time.sleep(0.3)
    start = time.perf_counter()
    assert ask_value(get(limited_server, ASK_ANY)) is True
    assert time.perf_counter() - start < 1.0
    slow.join()


def test_timeout_answer_is_json_for_json_clients(limited_server):
    resp = post_form(limited_server, CROSS_ORDER_BY, accept=JSON_RESULTS)
    assert resp.status_code == 503
    doc = resp.json()
    assert doc["ok"] is False and doc["status"] == 503 and "stopped" in doc["message"]


# ------------------------------------------------------------------------ content negotiation

@pytest.mark.parametrize(("query", "expected"), [
    (SELECT_MECHANISMS, JSON_RESULTS),
    ("ASK {}", JSON_RESULTS),
    (CONSTRUCT_ONE, "text/turtle"),
    (f"DESCRIBE <{MECHANISM}>", "text/turtle"),
])
def test_no_accept_gives_json_results_or_turtle(server, query, expected):
    resp = requests.get(server.sparql, params={"query": query}, timeout=30,
                        headers={"Accept": None})  # requests then sends no Accept at all
    assert resp.status_code == 200 and media(resp) == expected
    if expected == "text/turtle":
        assert len(rdflib.Graph().parse(data=resp.text, format="turtle")) > 0
    else:
        json.loads(resp.text)


@pytest.mark.parametrize(("accept", "select", "construct"), [
    ("*/*", JSON_RESULTS, "text/turtle"),
    ("text/*", "text/csv", "text/turtle"),
    ("application/*", JSON_RESULTS, "application/n-triples"),
    (f"{XML_RESULTS};q=0.9, text/csv;q=0.5, text/turtle;q=0.4, application/rdf+xml;q=0.8",
     XML_RESULTS, "application/rdf+xml"),
    ("text/csv;q=0.1, text/tab-separated-values;q=0.2, application/n-triples;q=0.3",
     "text/tab-separated-values", "application/n-triples"),
    # q=0 excludes a type even when a wildcard would match it
    (f"*/*, {JSON_RESULTS};q=0, application/json;q=0, text/turtle;q=0",
     XML_RESULTS, "application/n-triples"),
    ("text/*;q=0.5, text/csv;q=0", "text/tab-separated-values", "text/turtle"),
    # media-type parameters: charset=utf-8 is fine, another charset is not acceptable
    (f"{XML_RESULTS};charset=utf-8", XML_RESULTS, None),
    (f"{JSON_RESULTS};charset=latin1, {XML_RESULTS};q=0.5", XML_RESULTS, None),
    ("text/turtle; charset=UTF-8", None, "text/turtle"),
    ("application/ld+json;profile=\"http://www.w3.org/ns/json-ld#expanded\"", None,
     "application/ld+json"),
    # a browser's Accept
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", XML_RESULTS,
     "application/rdf+xml"),
    # SPARQLWrapper's JSON Accept list
    ("application/sparql-results+json,application/json,text/javascript,application/javascript",
     JSON_RESULTS, "application/ld+json"),
])
def test_accept_negotiation(server, accept, select, construct):
    if select:
        resp = get(server, SELECT_MECHANISMS, accept=accept)
        assert resp.status_code == 200, resp.text
        assert media(resp) == select
        if select.startswith("text/"):
            assert resp.headers["Content-Type"].endswith("charset=utf-8")
    if construct:
        resp = get(server, CONSTRUCT_ONE, accept=accept)
        assert resp.status_code == 200, resp.text
        assert media(resp) == construct


@pytest.mark.parametrize(("params", "expected"), [
    ([("format", "json")], JSON_RESULTS),
    ([("format", "xml")], XML_RESULTS),
    ([("format", "csv")], "text/csv"),
    ([("format", "tsv")], "text/tab-separated-values"),
    ([("output", "xml")], XML_RESULTS),
    ([("format", "application/sparql-results+xml")], XML_RESULTS),
    ([("format", "text/csv")], "text/csv"),
    # SPARQLWrapper without onlyConneg: format, output and results all set
    ([("format", "json"), ("output", "json"), ("results", "json")], JSON_RESULTS),
    # SPARQLWrapper's TSV: a short name and the media type
    ([("format", "tsv"), ("format", "text/tab-separated-values")], "text/tab-separated-values"),
])
def test_format_parameter_wins_over_accept(server, params, expected):
    resp = get(server, SELECT_MECHANISMS, accept="text/csv", params=params)
    assert resp.status_code == 200, resp.text
    assert media(resp) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("turtle", "text/turtle"), ("ttl", "text/turtle"), ("n3", "text/turtle"),
    ("ntriples", "application/n-triples"), ("nt", "application/n-triples"),
    ("rdfxml", "application/rdf+xml"), ("rdf+xml", "application/rdf+xml"),
    ("xml", "application/rdf+xml"), ("json-ld", "application/ld+json"),
    ("jsonld", "application/ld+json"), ("json", "application/ld+json"),
    ("nquads", "application/n-quads"), ("trig", "application/trig"),
])
def test_format_parameter_for_graph_queries(server, value, expected):
    resp = get(server, CONSTRUCT_ONE, params=[("format", value)])
    assert resp.status_code == 200, resp.text
    assert media(resp) == expected


def test_each_result_format_parses(server):
    """SELECT answers in all four result formats carry the same three mechanisms."""
    bindings = get(server, SELECT_MECHANISMS).json()["results"]["bindings"]
    expected = [b["m"]["value"] for b in bindings]
    assert len(expected) == 3
    root = ET.fromstring(get(server, SELECT_MECHANISMS, accept=XML_RESULTS).content)
    assert [u.text for u in root.iter(SRX + "uri")] == expected
    rows = list(csv.reader(io.StringIO(get(server, SELECT_MECHANISMS, accept="text/csv").text)))
    assert rows == [["m"], *([m] for m in expected)]
    tsv = get(server, SELECT_MECHANISMS, accept="text/tab-separated-values").text.splitlines()
    assert tsv == ["?m", *(f"<{m}>" for m in expected)]


@pytest.mark.parametrize(("accept", "parser"), [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"),
    ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld"),
])
def test_each_graph_format_parses(server, accept, parser):
    query = f"CONSTRUCT {{ <{MECHANISM}> ?p ?o }} WHERE {{ <{MECHANISM}> ?p ?o }}"
    graph = parse_graph(get(server, query, accept=accept), parser)
    assert (MECHANISM, RDF.type, PCM.ChangeMechanism) in graph


@pytest.mark.parametrize("accept", ["application/n-quads", "application/trig"])
def test_quad_formats_parse(server, accept):
    query = f"CONSTRUCT {{ <{MECHANISM}> ?p ?o }} WHERE {{ <{MECHANISM}> ?p ?o }}"
    resp = get(server, query, accept=accept)
    assert resp.status_code == 200 and media(resp) == accept
    dataset = rdflib.Dataset()
    dataset.parse(data=resp.text, format="nquads" if accept.endswith("quads") else "trig")
    triples = {(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))}
    assert (MECHANISM, RDF.type, PCM.ChangeMechanism) in triples


# ------------------------------------------------------------------------ dataset

def graph_count(server: Server, name: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{GRAPH}{name}> {{ ?s ?p ?o }} }}"
    return count_of(get(server, query))


def test_default_graph_is_the_union(server):
    total = requests.get(server.health, timeout=10).json()["triples"]
    assert count_of(get(server, COUNT)) == total


def test_default_graph_uri_selects_the_default_graph(server):
    mechanisms = graph_count(server, "mechanisms")
    assert 0 < mechanisms < count_of(get(server, COUNT))
    resp = get(server, COUNT, params=[("default-graph-uri", GRAPH + "mechanisms")])
    assert count_of(resp) == mechanisms
    # the three mechanisms are in their graph, not in the references graph
    resp = get(server, SELECT_MECHANISMS, params=[("default-graph-uri", GRAPH + "mechanisms")])
    assert len(resp.json()["results"]["bindings"]) == 3
    resp = get(server, SELECT_MECHANISMS, params=[("default-graph-uri", GRAPH + "references")])
    assert resp.json()["results"]["bindings"] == []


def test_several_default_graphs_merge(server):
    both = get(server, COUNT, params=[("default-graph-uri", GRAPH + "mechanisms"),
                                      ("default-graph-uri", GRAPH + "theories")])
    assert count_of(both) == graph_count(server, "mechanisms") + graph_count(server, "theories")


def test_named_graph_uri_limits_graph_patterns(server):
    query = "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    resp = post_form(server, query, data=[("named-graph-uri", GRAPH + "theories"),
                                          ("named-graph-uri", GRAPH + "mechanisms")])
    graphs = [b["g"]["value"] for b in resp.json()["results"]["bindings"]]
    assert graphs == [GRAPH + "mechanisms", GRAPH + "theories"]
    # with only named graphs given, the default graph is empty
    resp = get(server, ASK_ANY, params=[("named-graph-uri", GRAPH + "theories")])
    assert ask_value(resp) is False


def test_from_is_honoured(server):
    resp = get(server, f"SELECT (COUNT(*) AS ?n) FROM <{GRAPH}theories> WHERE {{ ?s ?p ?o }}")
    assert count_of(resp) == graph_count(server, "theories")
    prefixed = f"PREFIX pcg: <{GRAPH}>\nSELECT (COUNT(*) AS ?n) FROM pcg:theories {{ ?s ?p ?o }}"
    assert count_of(get(server, prefixed)) == graph_count(server, "theories")


def test_from_named_is_honoured(server):
    query = (f"SELECT DISTINCT ?g FROM NAMED <{GRAPH}study> FROM NAMED <{GRAPH}outcomes> "
             "WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g")
    graphs = [b["g"]["value"] for b in get(server, query).json()["results"]["bindings"]]
    assert graphs == [GRAPH + "outcomes", GRAPH + "study"]
    # FROM NAMED alone leaves the default graph empty
    assert ask_value(get(server, f"ASK FROM NAMED <{GRAPH}study> {{ ?s ?p ?o }}")) is False


def test_protocol_dataset_overrides_from(server):
    query = f"SELECT (COUNT(*) AS ?n) FROM <{GRAPH}theories> WHERE {{ ?s ?p ?o }}"
    resp = get(server, query, params=[("default-graph-uri", GRAPH + "mechanisms")])
    assert count_of(resp) == graph_count(server, "mechanisms")
    query = f"SELECT DISTINCT ?g FROM NAMED <{GRAPH}theories> {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    resp = get(server, query, params=[("named-graph-uri", GRAPH + "study")])
    assert [b["g"]["value"] for b in resp.json()["results"]["bindings"]] == [GRAPH + "study"]


def test_unknown_graphs_are_empty_and_never_fetched(server, tripwire):
    remote = tripwire.url + "/data.ttl"
    assert ask_value(get(server, ASK_ANY, params=[("default-graph-uri", remote)])) is False
    assert ask_value(get(server, f"ASK FROM <{remote}> {{ ?s ?p ?o }}")) is False
    query = f"ASK FROM NAMED <{remote}> {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert ask_value(get(server, query)) is False
    assert ask_value(get(server, ASK_ANY, params=[("named-graph-uri", remote)])) is False
    time.sleep(0.2)
    assert tripwire.connections == 0


# ------------------------------------------------------------------------ service description

@pytest.fixture(scope="module")
def service_description(server) -> rdflib.Graph:
    resp = get(server, accept="text/turtle")
    assert resp.status_code == 200 and media(resp) == "text/turtle"
    return rdflib.Graph().parse(data=resp.text, format="turtle")


def test_sd_endpoint_and_language(server, service_description):
    g = service_description
    services = list(g.subjects(RDF.type, SD.Service))
    assert len(services) == 1
    svc = services[0]
    assert g.value(svc, SD.endpoint) == URIRef(server.sparql)
    assert (svc, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (svc, SD.feature, SD.UnionDefaultGraph) in g


def test_sd_result_formats(service_description):
    formats = set(service_description.objects(None, SD.resultFormat))
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                 "SPARQL_Results_TSV", "Turtle", "N-Triples", "RDF_XML", "JSON-LD",
                 "N-Quads", "TriG"):
        assert FORMATS[name] in formats


def test_sd_default_dataset_counts_match_health(server, service_description):
    g = service_description
    health = requests.get(server.health, timeout=10).json()
    svc = next(g.subjects(RDF.type, SD.Service))
    dataset = g.value(svc, SD.defaultDataset)
    assert dataset is not None and (dataset, RDF.type, SD.Dataset) in g
    assert g.value(dataset, VOID.triples) == Literal(health["triples"], datatype=XSD.integer)
    default_graph = g.value(dataset, SD.defaultGraph)
    assert int(g.value(default_graph, VOID.triples)) == health["triples"]


def test_sd_named_graphs_with_counts(server, service_description):
    g = service_description
    dataset = next(g.objects(None, SD.defaultDataset))
    named = {}
    for node in g.objects(dataset, SD.namedGraph):
        named[str(g.value(node, SD.name))] = int(g.value(g.value(node, SD.graph), VOID.triples))
    # GRAPH ?g { ?s ?p ?o }, not GRAPH ?g {}: Virtuoso 7.2 answers no rows to an empty
    # group inside GRAPH (docs/architecture.md, "A remote store")
    served = [b["g"]["value"] for b in get(
        server, "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }").json()["results"]["bindings"]]
    assert sorted(named) == sorted(served)
    assert len(named) == requests.get(server.health, timeout=10).json()["named_graphs"]
    for name in ("mechanisms", "theories", "references"):
        assert named[GRAPH + name] == graph_count(server, name)


@pytest.mark.parametrize(("accept", "parser"), [
    (None, "turtle"), ("*/*", "turtle"), ("application/rdf+xml", "xml"),
    ("application/ld+json", "json-ld"), ("application/n-triples", "nt"),
])
def test_sd_in_other_formats(server, accept, parser):
    headers = {"Accept": accept}  # None: no Accept header at all
    resp = requests.get(server.sparql, headers=headers, timeout=30)
    g = parse_graph(resp, parser)
    assert g.value(next(g.subjects(RDF.type, SD.Service)), SD.endpoint) == URIRef(server.sparql)


def test_browsers_get_a_query_page(server):
    resp = get(server, accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert resp.status_code == 200 and media(resp) == "text/html"
    assert "<form" in resp.text.lower()


# ------------------------------------------------------------------------ DESCRIBE

def test_describe_gives_the_description_and_labels_of_linked_resources(server):
    g = parse_graph(get(server, f"DESCRIBE <{MECHANISM}>", accept="application/n-triples"), "nt")
    label = g.value(MECHANISM, RDFS.label)
    assert label is not None and "role-modelling" in str(label)
    linked = {o for p, o in g.predicate_objects(MECHANISM) if isinstance(o, URIRef)}
    linked |= {p for p in g.predicates(MECHANISM)}
    theories = set(g.objects(MECHANISM, PCM.groundedIn))
    outcomes = set(g.objects(MECHANISM, PCM.leadsToOutcome))
    assert theories and outcomes
    for node in theories | outcomes | {PCM.ChangeMechanism, PCM.groundedIn, PCM.leadsToOutcome}:
        assert g.value(node, RDFS.label) is not None, f"DESCRIBE lacks the label of {node}"
    # every linked resource and property that the graph labels (RDF's own terms it does not)
    unlabelled = {n for n in linked if g.value(n, RDFS.label) is None}
    assert unlabelled <= {RDF.type, RDFS.label}, unlabelled
    # only labels are added for linked resources, not their whole descriptions
    for node in theories:
        assert set(g.predicates(node)) <= {RDFS.label, SKOS.prefLabel}


def test_describe_keeps_to_the_dataset(server):
    """Labels of linked resources come from the query's default graph, like the description."""
    # the mechanism is described in graph/mechanisms, its theory links (curated
    # inferences) in graph/curated, the theories' labels in graph/theories
    query = f"DESCRIBE <{MECHANISM}> FROM <{GRAPH}mechanisms> FROM <{GRAPH}curated>"
    g = parse_graph(get(server, query, accept="application/n-triples"), "nt")
    theories = set(g.objects(MECHANISM, PCM.groundedIn))
    assert theories and g.value(MECHANISM, RDFS.label) is not None
    assert all(g.value(t, RDFS.label) is None for t in theories)
    resp = get(server, f"DESCRIBE <{MECHANISM}>", accept="application/n-triples",
               params=[("default-graph-uri", GRAPH + name)
                       for name in ("mechanisms", "curated", "theories")])
    g = parse_graph(resp, "nt")
    assert all(g.value(t, RDFS.label) is not None for t in theories)


def test_describe_with_a_variable(server):
    query = ("PREFIX pcm: <https://w3id.org/peerchange/onto/>\n"
             "DESCRIBE ?m WHERE { ?m a pcm:ChangeMechanism }")
    g = parse_graph(get(server, query), "turtle")
    assert len(set(g.subjects(RDF.type, PCM.ChangeMechanism))) == 3


def test_describe_of_an_unknown_resource_is_empty(server):
    g = parse_graph(get(server, "DESCRIBE <http://example.org/nothing>"), "turtle")
    assert len(g) == 0


# ------------------------------------------------------------------------ SERVICE

@pytest.mark.parametrize("template", [
    "SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "select * {{ service silent <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ VALUES ?endpoint {{ <{url}> }} SERVICE ?endpoint {{ ?s ?p ?o }} }}",
    "SELECT * {{ SERVICE ?endpoint {{ ?s ?p ?o }} }}",
    "PREFIX ep: <{url}/>\nASK {{ SERVICE ep:sparql {{ ?s ?p ?o }} }}",
    "ASK {{ ?s ?p ?o OPTIONAL {{ SERVICE <{url}> {{ ?s ?q ?r }} }} }}",
])
def test_service_is_refused_before_evaluation(server, tripwire, template):
    query = template.format(url=tripwire.url)
    for resp in (get(server, query), post_direct(server, query)):
        body = error_of(resp, 400)
        assert "SERVICE" in body and "allow-list" in body
    time.sleep(0.2)
    assert tripwire.connections == 0, "the endpoint contacted the SERVICE target"


@pytest.fixture(scope="module")
def federating_server(server, start_live_server, backend):
    """A second server whose allow-list holds the first one's endpoint (on ``backend``)."""
    return start_live_server(*backend.serve_args(), "--allow-service", server.sparql)


def test_allow_listed_service_is_called(server, federating_server, tripwire):
    query = ("PREFIX pcm: <https://w3id.org/peerchange/onto/>\n"
             f"SELECT ?m {{ SERVICE <{server.sparql}> {{ ?m a pcm:ChangeMechanism }} }} "
             "ORDER BY ?m")
    resp = get(federating_server, query)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["results"]["bindings"]) == 3
    g = parse_graph(get(federating_server, accept="text/turtle"), "turtle")
    assert (next(g.subjects(RDF.type, SD.Service)), SD.feature, SD.BasicFederatedQuery) in g
    # anything else is still refused, variables included
    for target in (f"<{tripwire.url}>", "?endpoint"):
        body = error_of(get(federating_server, f"ASK {{ SERVICE {target} {{ ?s ?p ?o }} }}"), 400)
        assert server.sparql in body  # the message names what is allowed
    assert tripwire.connections == 0


def test_the_word_service_in_strings_and_comments_is_not_refused(server):
    query = '# SERVICE <http://example.org/>\nSELECT ("SERVICE <http://example.org/>" AS ?x) {}'
    resp = get(server, query)
    assert resp.status_code == 200, resp.text


# ------------------------------------------------------------------------ row limit

def test_truncated_json(limited_server):
    resp = get(limited_server, "SELECT * { ?s ?p ?o }")
    assert resp.headers["Peerchange-Truncated"] == "true"
    assert resp.headers["Peerchange-Row-Limit"] == str(LIMITED_ROWS)
    doc = resp.json()
    assert len(doc["results"]["bindings"]) == LIMITED_ROWS
    assert doc["head"]["link"] == [PC + "onto/truncatedResults"]
    assert doc["peerchange"] == {"truncated": True, "rows": LIMITED_ROWS}


def test_truncated_xml(limited_server):
    resp = get(limited_server, "SELECT * { ?s ?p ?o }", accept=XML_RESULTS)
    assert resp.headers["Peerchange-Truncated"] == "true"
    root = ET.fromstring(resp.content)
    assert len(list(root.iter(SRX + "result"))) == LIMITED_ROWS
    assert [link.get("href") for link in root.iter(SRX + "link")] == [PC + "onto/truncatedResults"]
    assert "<!-- truncated" in resp.text


def test_truncated_csv_says_so_in_the_header(limited_server):
    resp = get(limited_server, "SELECT * { ?s ?p ?o }", accept="text/csv")
    assert resp.headers["Peerchange-Truncated"] == "true"
    assert len(list(csv.reader(io.StringIO(resp.text)))) == LIMITED_ROWS + 1


@pytest.mark.parametrize(("accept", "parser", "marker"), [
    ("text/turtle", "turtle", "# truncated"),
    ("application/n-triples", "nt", "# truncated"),
    ("application/rdf+xml", "xml", "<!-- truncated"),
    ("application/ld+json", "json-ld", None),
])
def test_truncated_graph(limited_server, accept, parser, marker):
    resp = get(limited_server, "CONSTRUCT WHERE { ?s ?p ?o }", accept=accept)
    assert resp.headers["Peerchange-Truncated"] == "true"
    assert len(parse_graph(resp, parser)) == LIMITED_ROWS
    if marker:
        assert marker in resp.text


def test_answers_within_the_limit_are_not_flagged(limited_server):
    resp = get(limited_server, f"SELECT * {{ ?s ?p ?o }} LIMIT {LIMITED_ROWS}")
    assert "Peerchange-Truncated" not in resp.headers
    doc = resp.json()
    assert len(doc["results"]["bindings"]) == LIMITED_ROWS
    assert "link" not in doc["head"] and "peerchange" not in doc
    resp = get(limited_server, f"SELECT * {{ ?s ?p ?o }} LIMIT {LIMITED_ROWS + 1}")
    assert resp.headers["Peerchange-Truncated"] == "true"


def test_sd_states_the_limits(limited_server):
    g = parse_graph(get(limited_server, accept="text/turtle"), "turtle")
    comment = str(g.value(next(g.subjects(RDF.type, SD.Service)), RDFS.comment))
    assert f"{LIMITED_TIMEOUT:g} s per query" in comment and f"{LIMITED_ROWS} rows" in comment


# ------------------------------------------------------------------------ CORS

def test_cors_simple_get(server):
    resp = get(server, ASK_ANY, headers={"Origin": "https://yasgui.example"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in resp.headers
    exposed = {h.strip().lower() for h in resp.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "link", "peerchange-truncated"} <= exposed


def test_cors_on_errors_too(server):
    resp = get(server, "ASK {", headers={"Origin": "https://yasgui.example"})
    assert resp.status_code == 400
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_cors_preflight(server, method):
    resp = requests.options(server.sparql, timeout=10, headers={
        "Origin": "https://yasgui.example",
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type, accept, x-requested-with",
    })
    assert resp.status_code in (200, 204)
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in resp.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST"} <= methods
    headers = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "accept", "x-requested-with"} <= headers
    assert "Access-Control-Allow-Credentials" not in resp.headers
    assert int(resp.headers["Access-Control-Max-Age"]) > 0


# ------------------------------------------------------------------------ caching, HEAD

def test_vary_accept(server):
    for resp in (get(server, ASK_ANY), get(server), get(server, "ASK {"),
                 get(server, ASK_ANY, accept="image/png")):
        assert "accept" in {v.strip().lower() for v in resp.headers["Vary"].split(",")}


def test_head(server):
    got = get(server, SELECT_MECHANISMS, accept=XML_RESULTS)
    head = get(server, SELECT_MECHANISMS, accept=XML_RESULTS, method="HEAD")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers["ETag"] == got.headers["ETag"]
    sd = get(server, accept="text/turtle", method="HEAD")
    assert sd.status_code == 200 and media(sd) == "text/turtle"


def test_etag_and_if_none_match(server):
    first = get(server, SELECT_MECHANISMS)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and get(server, SELECT_MECHANISMS).headers["ETag"] == etag
    assert "no-cache" in first.headers["Cache-Control"]
    # another format or another query is another representation
    assert get(server, SELECT_MECHANISMS, accept="text/csv").headers["ETag"] != etag
    assert get(server, ASK_ANY).headers["ETag"] != etag
    for tag in (etag, "W/" + etag, f'"other", {etag}'):
        resp = get(server, SELECT_MECHANISMS, headers={"If-None-Match": tag})
        assert resp.status_code == 304 and resp.content == b""
        assert resp.headers["ETag"] == etag
    assert get(server, SELECT_MECHANISMS, headers={"If-None-Match": '"other"'}).status_code == 200
    # POST answers carry the same validators
    resp = post_form(server, SELECT_MECHANISMS, headers={"If-None-Match": etag})
    assert resp.status_code == 304


def test_sd_etag(server):
    first = get(server, accept="text/turtle")
    resp = get(server, accept="text/turtle", headers={"If-None-Match": first.headers["ETag"]})
    assert resp.status_code == 304


# ------------------------------------------------------------------------ /health

def test_health(server, backend):
    resp = requests.get(server.health, timeout=10)
    assert resp.status_code == 200 and media(resp) == "application/json"
    doc = resp.json()
    assert doc["status"] == "ok" and doc["live"] is True and doc["ready"] is True
    assert doc["triples"] == count_of(get(server, COUNT))
    assert doc["named_graphs"] >= 10
    assert re.fullmatch(r"[0-9a-f]{16}", doc["data_version"])
    assert doc["ontology_version"]
    # the kind of store: the embedded one in memory, or a remote SPARQL store
    assert doc["store"] == expected_for(backend, embedded="memory", virtuoso="remote")
    assert resp.headers["Cache-Control"] == "no-store"


# ------------------------------------------------------------------------ error format

def test_errors_are_plain_text_by_default(server):
    resp = requests.get(server.sparql, params={"query": "ASK {"}, timeout=10,
                        headers={"Accept": None})
    assert resp.status_code == 400 and media(resp) == "text/plain"
    assert resp.text.startswith("400 ")


@pytest.mark.parametrize("accept", ["application/json", JSON_RESULTS,
                                    "application/sparql-results+json,application/json"])
def test_errors_are_json_when_the_client_prefers_json(server, backend, accept):
    resp = get(server, "ASK {", accept=accept)
    assert resp.status_code == 400 and media(resp) == "application/json"
    doc = resp.json()
    assert doc["ok"] is False and doc["status"] == 400
    assert doc["error"] and re.search(END_OF_TEXT_POSITION[backend.name], doc["message"])


def test_errors_prefer_text_when_text_is_preferred(server):
    resp = get(server, "ASK {", accept="text/plain, application/json;q=0.5")
    assert media(resp) == "text/plain"


BAD_REQUESTS = [
    ("GET", {"query": "SELECT ?x WHERE { ?x ?y }"}, None, b""),
    ("GET", {"query": UPDATE}, None, b""),
    ("GET", {"update": UPDATE}, None, b""),
    ("GET", {"query": "ASK {}", "format": "nope"}, None, b""),
    ("GET", {"query": "SELECT * { SERVICE ?x { ?s ?p ?o } }"}, None, b""),
    ("POST", {}, "text/plain", b"ASK {}"),
    ("POST", {}, "application/sparql-query", b"ASK { \xff }"),
    ("POST", {}, "application/x-www-form-urlencoded", b"query=%ff"),
    ("POST", {}, "application/sparql-update", b"CLEAR ALL"),
    ("PUT", {}, None, b""),
    ("DELETE", {}, None, b""),
    ("GET", {"query": "ASK {}", "default-graph-uri": "<bad>"}, None, b""),
]


@pytest.mark.parametrize("accept", [None, "application/json"])
@pytest.mark.parametrize(("method", "params", "ctype", "body"), BAD_REQUESTS)
def test_no_error_carries_a_trace(server, method, params, ctype, body, accept):
    headers = {"Accept": accept}
    if ctype:
        headers["Content-Type"] = ctype
    resp = requests.request(method, server.sparql, params=params, data=body or None,
                            headers=headers, timeout=30)
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    assert_no_trace(resp.text)
    if accept == "application/json":
        doc = resp.json()
        assert doc["status"] == resp.status_code and doc["message"]
    else:
        assert resp.text.startswith(f"{resp.status_code} ")
