"""The W3C SPARQL 1.1 Protocol test suite's query tests and negative tests.

Written from the specification (https://www.w3.org/TR/sparql11-protocol/) and the test
descriptions of the W3C suite (``sparql11/protocol/manifest.ttl``: one request per test, the
expected status class and the expected kind of answer). The suite assumes three graphs,
``http://kasei.us/2009/09/sparql/data/data{1,2,3}.rdf``, each holding the one triple
``<dataN.rdf> a foaf:Document``; the ``protocol_server`` fixture loads ours from
``tests/fixtures/protocol/`` with ``--graph IRI=FILE``. ``data0.rdf`` is named by several
tests but never loaded: it must act as an empty graph, not be fetched.

Requests go through ``http.client`` so each is sent exactly as the suite writes it: the
path (``/sparql/``, with its trailing slash) and percent-encoding untouched, no ``Accept``
header unless the test adds one.

The update tests (``update_*``) and the update negative tests expect a server that
accepts updates; this endpoint is read-only, so every one of them must be refused with a
4xx and must leave the data unchanged (``test_update_tests_are_refused``).
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest
import rdflib
from rdflib import URIRef
from rdflib.namespace import RDF

from tests.http.conftest import PROTOCOL_DATA, Server, assert_no_trace

pytestmark = [
    # every test here talks to a gunicorn server (started once per session, seconds each)
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
]

DATA = {n: f"{PROTOCOL_DATA}data{n}.rdf" for n in range(4)}  # data0 is never loaded
FOAF_DOCUMENT = URIRef("http://xmlns.com/foaf/0.1/Document")
SRX = "{http://www.w3.org/2005/sparql-results#}"

BOOLEAN_TYPES = {"application/sparql-results+xml", "application/sparql-results+json"}
TABULAR_TYPES = BOOLEAN_TYPES | {"text/csv", "text/tab-separated-values"}
RDF_TYPES = {
    "application/rdf+xml": "xml", "text/turtle": "turtle", "application/n-triples": "nt",
    "application/ld+json": "json-ld",
}


@dataclass
class Reply:
    status: int
    media: str
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def send(server: Server, method: str, path: str, *, body: bytes | str | None = None,
         headers: dict[str, str] | None = None) -> Reply:
    """Send one request exactly as given and return the reply."""
    url = urlsplit(server.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    data = body.encode("utf-8") if isinstance(body, str) else body
    hdrs = dict(headers or {})
    if data is not None:
        hdrs["Content-Length"] = str(len(data))
    try:
        # skip_accept_encoding: no header the suite's request does not have
        conn.putrequest(method, path, skip_accept_encoding=True)
        for key, value in hdrs.items():
            conn.putheader(key, value)
        conn.endheaders(data)
        resp = conn.getresponse()
        reply_headers = {k.lower(): v for k, v in resp.getheaders()}
        payload = resp.read()
    finally:
        conn.close()
    media = reply_headers.get("content-type", "").split(";")[0].strip()
    return Reply(resp.status, media, reply_headers, payload)


def q(value: str) -> str:
    """Percent-encode a parameter value as the suite does."""
    return quote(value, safe="")


def boolean_answer(reply: Reply) -> bool:
    """Check a 2xx/3xx reply carrying a boolean result and return the boolean."""
    assert 200 <= reply.status < 400, (reply.status, reply.body)
    assert reply.media in BOOLEAN_TYPES, reply.media
    if reply.media.endswith("+json"):
        return json.loads(reply.body)["boolean"]
    node = ET.fromstring(reply.body).find(f"{SRX}boolean")
    return {"true": True, "false": False}[node.text.strip()]


def tabular_answer(reply: Reply) -> list[dict[str, str]]:
    """Check a reply carrying tabular results and return its rows (values as text)."""
    assert 200 <= reply.status < 400, (reply.status, reply.body)
    assert reply.media in TABULAR_TYPES, reply.media
    if reply.media.endswith("+json"):
        doc = json.loads(reply.body)
        return [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]
    if reply.media.endswith("+xml"):
        rows = []
        for result in ET.fromstring(reply.body).iter(f"{SRX}result"):
            bindings = result.iter(f"{SRX}binding")
            rows.append({b.get("name"): "".join(b.itertext()) for b in bindings})
        return rows
    if reply.media == "text/csv":
        table = list(csv.reader(io.StringIO(reply.text)))
        return [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    lines = [line.split("\t") for line in reply.text.splitlines()]
    assert all(name.startswith("?") for name in lines[0]), lines[0]
    names = [name[1:] for name in lines[0]]
    return [dict(zip(names, map(tsv_value, row), strict=True)) for row in lines[1:]]


def tsv_value(cell: str) -> str:
    """The text of a TSV cell: an RDF term in Turtle syntax (<iri>, "literal"..., 1, true)."""
    if cell.startswith("<") and cell.endswith(">"):
        return cell[1:-1]
    if cell.startswith('"'):
        return json.loads(cell[: cell.rindex('"') + 1])  # the same escapes as JSON strings
    return cell


def rdf_answer(reply: Reply) -> rdflib.Graph:
    """Check a reply carrying an RDF graph and return it parsed."""
    assert 200 <= reply.status < 400, (reply.status, reply.body)
    assert reply.media in RDF_TYPES, reply.media
    return rdflib.Graph().parse(data=reply.text, format=RDF_TYPES[reply.media])


def refused(reply: Reply) -> None:
    """A negative test: a 4xx with a message and no trace."""
    assert 400 <= reply.status < 500, (reply.status, reply.body)
    assert reply.body.strip(), "a refusal must say why"
    assert_no_trace(reply.text)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DIRECT = {"Content-Type": "application/sparql-query"}
ACCEPTS = [pytest.param({}, id="no-Accept"),
           pytest.param({"Accept": "application/sparql-results+xml, application/rdf+xml"},
                        id="XML-Accept")]

ASK_1_2_DEFAULT = f"ASK {{ <{DATA[1]}> a ?type . <{DATA[2]}> a ?type . }}"
ASK_1_2_NAMED = (f"ASK {{ GRAPH ?g1 {{ <{DATA[1]}> a ?type }} "
                 f"GRAPH ?g2 {{ <{DATA[2]}> a ?type }} }}")


# ---------------------------------------------------------------- the fixture itself

def test_the_three_graphs_are_loaded(protocol_server):
    for n in (1, 2, 3):
        reply = send(protocol_server, "GET", "/sparql/?query=" + q(
            f"SELECT ?type {{ GRAPH <{DATA[n]}> {{ ?s a ?type }} }}"))
        assert tabular_answer(reply) == [{"type": str(FOAF_DOCUMENT)}]
        count = f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{DATA[n]}> {{ ?s ?p ?o }} }}"
        assert tabular_answer(send(protocol_server, "GET", "/sparql/?query=" + q(count))) == [
            {"n": "1"}]


# ---------------------------------------------------------------- query tests

@pytest.mark.parametrize("accept", ACCEPTS)
def test_query_post_form(protocol_server, accept):
    reply = send(protocol_server, "POST", "/sparql/?default-graph-uri=" + q(DATA[0]),
                 body="query=ASK%20%7B%7D", headers={**FORM, **accept})
    assert boolean_answer(reply) is True


@pytest.mark.parametrize("accept", ACCEPTS)
def test_query_dataset_default_graphs_get(protocol_server, accept):
    path = (f"/sparql/?query={q(ASK_1_2_DEFAULT)}"
            f"&default-graph-uri={q(DATA[1])}&default-graph-uri={q(DATA[2])}")
    assert boolean_answer(send(protocol_server, "GET", path, headers=accept)) is True


@pytest.mark.parametrize("accept", ACCEPTS)
def test_query_dataset_default_graphs_post(protocol_server, accept):
    path = f"/sparql/?default-graph-uri={q(DATA[1])}&default-graph-uri={q(DATA[2])}"
    reply = send(protocol_server, "POST", path, body=ASK_1_2_DEFAULT,
                 headers={**DIRECT, **accept})
    assert boolean_answer(reply) is True


@pytest.mark.parametrize("accept", ACCEPTS)
def test_query_dataset_named_graphs_post(protocol_server, accept):
    path = f"/sparql/?named-graph-uri={q(DATA[1])}&named-graph-uri={q(DATA[2])}"
    reply = send(protocol_server, "POST", path, body=ASK_1_2_NAMED,
                 headers={**DIRECT, **accept})
    assert boolean_answer(reply) is True


@pytest.mark.parametrize("accept", ACCEPTS)
def test_query_dataset_named_graphs_get(protocol_server, accept):
    path = (f"/sparql/?query={q(ASK_1_2_NAMED)}"
            f"&named-graph-uri={q(DATA[1])}&named-graph-uri={q(DATA[2])}")
    assert boolean_answer(send(protocol_server, "GET", path, headers=accept)) is True


def test_query_dataset_full(protocol_server):
    path = (f"/sparql/?default-graph-uri={q(DATA[3])}"
            f"&named-graph-uri={q(DATA[1])}&named-graph-uri={q(DATA[2])}")
    body = (f"ASK {{\n  <{DATA[3]}> a ?type\n  GRAPH ?g1 {{ <{DATA[1]}> a ?type }}\n"
            f"  GRAPH ?g2 {{ <{DATA[2]}> a ?type }}\n}}")
    assert boolean_answer(send(protocol_server, "POST", path, body=body, headers=DIRECT)) is True


def test_query_multiple_dataset(protocol_server):
    """The protocol's dataset wins over the query's FROM.

    The suite's request percent-encodes the ``&`` between its two ``named-graph-uri``
    parameters (a known erratum: read literally it is one parameter naming a graph that
    does not exist). This is the request the test describes: two named graphs.
    """
    path = f"/sparql/?named-graph-uri={q(DATA[1])}&named-graph-uri={q(DATA[2])}"
    body = (f"ASK FROM <{DATA[3]}> {{ GRAPH ?g1 {{ <{DATA[1]}> a ?type }} "
            f"GRAPH ?g2 {{ <{DATA[2]}> a ?type }} }}")
    assert boolean_answer(send(protocol_server, "POST", path, body=body, headers=DIRECT)) is True
    # and the FROM graph is really replaced: data3 is not in the default graph
    check = f"ASK FROM <{DATA[3]}> {{ <{DATA[3]}> a ?type }}"
    assert boolean_answer(send(protocol_server, "POST", path, body=check, headers=DIRECT)) is False
    assert boolean_answer(send(protocol_server, "POST", "/sparql/", body=check,
                               headers=DIRECT)) is True


@pytest.mark.parametrize("accept", ACCEPTS)
def test_query_get(protocol_server, accept):
    path = f"/sparql/?query=ASK%20%7B%7D&default-graph-uri={q(DATA[0])}"
    assert boolean_answer(send(protocol_server, "GET", path, headers=accept)) is True


@pytest.mark.parametrize("accept", ACCEPTS)
def test_query_post_direct(protocol_server, accept):
    reply = send(protocol_server, "POST", "/sparql/", body="ASK {}", headers={**DIRECT, **accept})
    assert boolean_answer(reply) is True


@pytest.mark.parametrize("accept", [*ACCEPTS, pytest.param({"Accept": "text/csv"}, id="CSV"),
                                    pytest.param({"Accept": "text/tab-separated-values"},
                                                 id="TSV")])
def test_query_content_type_select(protocol_server, accept):
    reply = send(protocol_server, "POST", f"/sparql/?default-graph-uri={q(DATA[0])}",
                 body="SELECT (1 AS ?value) {}", headers={**DIRECT, **accept})
    assert tabular_answer(reply) == [{"value": "1"}]


@pytest.mark.parametrize("accept", ACCEPTS)
def test_query_content_type_ask(protocol_server, accept):
    reply = send(protocol_server, "POST", f"/sparql/?default-graph-uri={q(DATA[0])}",
                 body="ASK {}", headers={**DIRECT, **accept})
    assert boolean_answer(reply) is True


@pytest.mark.parametrize("accept", ACCEPTS)
def test_query_content_type_describe(protocol_server, accept):
    reply = send(protocol_server, "POST", f"/sparql/?default-graph-uri={q(DATA[0])}",
                 body="DESCRIBE <http://example.org/>", headers={**DIRECT, **accept})
    assert len(rdf_answer(reply)) == 0  # data0 is empty: nothing to describe


@pytest.mark.parametrize("accept", ACCEPTS)
def test_query_content_type_construct(protocol_server, accept):
    reply = send(protocol_server, "POST", f"/sparql/?default-graph-uri={q(DATA[0])}",
                 body="CONSTRUCT { <s> <p> 1 } WHERE {}", headers={**DIRECT, **accept})
    graph = rdf_answer(reply)
    assert len(graph) == 1
    (s, p, o), = graph
    # relative IRIs resolve against the endpoint's URL
    assert str(s) == protocol_server.base + "/sparql/s" and o.toPython() == 1


def test_describe_of_a_loaded_document(protocol_server):
    reply = send(protocol_server, "GET", "/sparql/?query=" + q(f"DESCRIBE <{DATA[2]}>"),
                 headers={"Accept": "application/rdf+xml"})
    graph = rdf_answer(reply)
    assert (URIRef(DATA[2]), RDF.type, FOAF_DOCUMENT) in graph


# ---------------------------------------------------------------- negative query tests

def test_bad_query_method(protocol_server):
    path = f"/sparql/?query=ASK%20%7B%7D&default-graph-uri={q(DATA[0])}"
    reply = send(protocol_server, "PUT", path, body=b"", headers=FORM)
    refused(reply)
    assert reply.status == 405 and "GET" in reply.headers["allow"]


def test_bad_multiple_queries(protocol_server):
    refused(send(protocol_server, "GET", "/sparql/?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D"))


def test_bad_query_wrong_media_type(protocol_server):
    reply = send(protocol_server, "POST", "/sparql/", body="ASK {}",
                 headers={"Content-Type": "text/plain"})
    refused(reply)
    assert reply.status == 415


def test_bad_query_missing_form_type(protocol_server):
    refused(send(protocol_server, "POST", "/sparql/", body="query=ASK%20%7B%7D"))


def test_bad_query_missing_direct_type(protocol_server):
    refused(send(protocol_server, "POST", "/sparql/", body="ASK {}"))


def test_bad_query_non_utf8(protocol_server):
    reply = send(protocol_server, "POST", "/sparql/", body="ASK {}".encode("utf-16"),
                 headers={"Content-Type": "application/sparql-query; charset=UTF-16"})
    refused(reply)


def test_bad_query_syntax(protocol_server):
    reply = send(protocol_server, "GET", "/sparql/?query=ASK%20%7B")
    refused(reply)
    assert reply.status == 400


# ---------------------------------------------------------------- negative update tests

def test_bad_update_get(protocol_server):
    refused(send(protocol_server, "GET", "/sparql/?update=CLEAR%20ALL"))


def test_bad_multiple_updates(protocol_server):
    refused(send(protocol_server, "POST", "/sparql/",
                 body="update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", headers=FORM))


def test_bad_update_wrong_media_type(protocol_server):
    refused(send(protocol_server, "POST", "/sparql/", body="CLEAR NAMED",
                 headers={"Content-Type": "text/plain"}))


def test_bad_update_missing_form_type(protocol_server):
    refused(send(protocol_server, "POST", "/sparql/", body="update=CLEAR%20NAMED"))


def test_bad_update_non_utf8(protocol_server):
    refused(send(protocol_server, "POST", "/sparql/", body="CLEAR NAMED".encode("utf-16"),
                 headers={"Content-Type": "application/sparql-update; charset=UTF-16"}))


def test_bad_update_syntax(protocol_server):
    refused(send(protocol_server, "POST", "/sparql/", body="update=CLEAR%20XYZ", headers=FORM))


def test_bad_update_dataset_conflict(protocol_server):
    body = ("PREFIX foaf:  <http://xmlns.com/foaf/0.1/>\nWITH <http://example/addresses>\n"
            "DELETE { ?person foaf:givenName 'Bill' }\n"
            "INSERT { ?person foaf:givenName 'William' }\n"
            "WHERE {\n    ?person foaf:givenName 'Bill'\n}")
    refused(send(protocol_server, "POST",
                 "/sparql/?using-named-graph-uri=http%3A%2F%2Fexample%2Fpeople", body=body,
                 headers={"Content-Type": "application/sparql-update"}))


# ---------------------------------------------------------------- update tests: read-only

UPDATE_REQUESTS = [
    pytest.param(f"/sparql/?using-graph-uri={q(DATA[1])}", "application/sparql-update",
                 f"CLEAR ALL ;\nINSERT DATA {{ GRAPH <{DATA[1]}> {{ <{DATA[1]}> a "
                 "<http://xmlns.com/foaf/0.1/Document> } }", id="update_dataset_default_graph"),
    pytest.param(f"/sparql/?using-named-graph-uri={q(DATA[1])}", "application/sparql-update",
                 "DROP ALL", id="update_dataset_named_graphs"),
    pytest.param("/sparql/", "application/x-www-form-urlencoded",
                 "update=" + q("CLEAR ALL"), id="update_post_form"),
    pytest.param("/sparql/", "application/sparql-update", "CLEAR ALL", id="update_post_direct"),
    pytest.param("/sparql/", "application/sparql-update",
                 "CLEAR GRAPH <http://example.org/protocol-base-test/> ;\nINSERT DATA { GRAPH "
                 "<http://example.org/protocol-base-test/> { <http://example.org/s> "
                 "<http://example.org/p> <test> } }", id="update_base_uri"),
]


@pytest.mark.parametrize(("path", "ctype", "body"), UPDATE_REQUESTS)
def test_update_tests_are_refused(protocol_server, path, ctype, body):
    reply = send(protocol_server, "POST", path, body=body, headers={"Content-Type": ctype})
    refused(reply)
    assert reply.status == 403 and b"read-only" in reply.body
    # nothing changed: the three graphs still hold their triple
    check = f"ASK {{ GRAPH <{DATA[1]}> {{ <{DATA[1]}> a ?t }} GRAPH <{DATA[3]}> {{ ?s ?p ?o }} }}"
    assert boolean_answer(send(protocol_server, "GET", "/sparql/?query=" + q(check))) is True
