"""SPARQLWrapper as the client: every query form, every result format it supports, by GET,
POST form and POST direct, with every answer parsed and checked against the shipped graph.

SPARQLWrapper sends a ``format``/``output`` parameter *and* an ``Accept`` header by default;
with ``setOnlyConneg(True)`` it relies on ``Accept`` alone. Both modes are exercised. For
formats SPARQLWrapper has no constant for (N-Triples, N-Quads, TriG) the test uses its
custom ``Accept`` header with ``onlyConneg``. The expected answers are computed in-process
with the same engine on the same files, and pinned where the content is part of the
project's promise (three change mechanisms, 60 works cited by the paper).
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

# SPARQLWrapper 2.0 parses RDF/XML and JSON-LD into an rdflib ConjunctiveGraph, and rdflib's
# own N3 and quad parsers use APIs rdflib 7 deprecates: client-library warnings, not ours.
pytestmark = [
    # every test here talks to a gunicorn server (started once per session, seconds each)
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Dataset.identifier is deprecated:DeprecationWarning"),
]

PC = "https://w3id.org/peerchange/"
PAPER = URIRef(PC + "id/ref/Gillard2015")
PCM = rdflib.Namespace(PC + "onto/")
CITO = rdflib.Namespace("http://purl.org/spar/cito/")
MECHANISM = URIRef(PC + "id/mechanism/trusting-relationships")

PREFIXES = """PREFIX pcm: <https://w3id.org/peerchange/onto/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX cito: <http://purl.org/spar/cito/>
"""
SELECT_MECHANISMS = PREFIXES + """# the three change mechanisms of the model
SELECT ?mechanism ?label WHERE { ?mechanism a pcm:ChangeMechanism ; rdfs:label ?label }
ORDER BY ?mechanism"""
ASK_CITES = PREFIXES + f"ASK {{ <{PAPER}> cito:cites ?work }}"
ASK_FALSE = PREFIXES + f"ASK {{ <{PAPER}> cito:cites <{PAPER}> }}"
CONSTRUCT_CITES = PREFIXES + (
    f"CONSTRUCT {{ <{PAPER}> cito:cites ?work }} WHERE {{ <{PAPER}> cito:cites ?work }}"
)
DESCRIBE_MECHANISM = f"DESCRIBE <{MECHANISM}>"

# (method, request encoding) as SPARQLWrapper names them
METHODS = [
    pytest.param(GET, URLENCODED, id="GET"),
    pytest.param(POST, URLENCODED, id="POST-form"),
    pytest.param(POST, POSTDIRECTLY, id="POST-direct"),
]
CONNEG = [pytest.param(False, id="format-param"), pytest.param(True, id="conneg-only")]


def client(url: str, query: str, method: str, encoding: str, fmt: str | None = None,
           *, conneg_only: bool = False, accept: str | None = None) -> SPARQLWrapper:
    sw = SPARQLWrapper(url)
    sw.setQuery(query)
    sw.setMethod(method)
    sw.setRequestMethod(encoding)
    sw.setTimeout(30)
    if fmt:
        sw.setReturnFormat(fmt)
    if conneg_only or accept:
        sw.setOnlyConneg(True)
    if accept:
        sw.addCustomHttpHeader("Accept", accept)
    return sw


@pytest.fixture(scope="module")
def expected(shipped_store):
    """The answers the engine gives in-process on the same files."""
    union = {"use_default_graph_as_union": True}
    mechanisms = [(str(r["mechanism"].value), r["label"].value)
                  for r in shipped_store.query(SELECT_MECHANISMS, **union)]
    cited = {str(t.object.value) for t in shipped_store.query(CONSTRUCT_CITES, **union)}
    return {"mechanisms": mechanisms, "cited": cited}


def test_the_shipped_graph_has_what_these_tests_pin(expected):
    assert len(expected["mechanisms"]) == 3
    assert len(expected["cited"]) == 60


# ---------------------------------------------------------------- SELECT

def check_select_rows(rows: list[tuple[str, str]], expected) -> None:
    assert rows == expected["mechanisms"]
    assert len(rows) == 3
    assert any("trusting relationships" in label for _, label in rows)


@pytest.mark.parametrize("conneg_only", CONNEG)
@pytest.mark.parametrize(("method", "encoding"), METHODS)
def test_select_json(server, expected, method, encoding, conneg_only):
    result = client(server.sparql, SELECT_MECHANISMS, method, encoding, JSON,
                    conneg_only=conneg_only).query()
    assert result.info()["content-type"].startswith("application/sparql-results+json")
    doc = result.convert()
    assert doc["head"]["vars"] == ["mechanism", "label"]
    bindings = doc["results"]["bindings"]
    assert all(b["mechanism"]["type"] == "uri" for b in bindings)
    assert all(b["label"]["xml:lang"] == "en" for b in bindings)
    check_select_rows([(b["mechanism"]["value"], b["label"]["value"]) for b in bindings],
                      expected)


@pytest.mark.parametrize("conneg_only", CONNEG)
@pytest.mark.parametrize(("method", "encoding"), METHODS)
def test_select_xml(server, expected, method, encoding, conneg_only):
    result = client(server.sparql, SELECT_MECHANISMS, method, encoding, XML,
                    conneg_only=conneg_only).query()
    assert result.info()["content-type"].startswith("application/sparql-results+xml")
    dom = result.convert()  # xml.dom.minidom
    names = [v.getAttribute("name") for v in dom.getElementsByTagName("variable")]
    assert names == ["mechanism", "label"]
    rows = []
    for res in dom.getElementsByTagName("result"):
        cells = {}
        for binding in res.getElementsByTagName("binding"):
            node = binding.firstChild
            assert node.tagName in {"uri", "literal"}
            if node.tagName == "literal":
                assert node.getAttribute("xml:lang") == "en"
            cells[binding.getAttribute("name")] = node.firstChild.data
        rows.append((cells["mechanism"], cells["label"]))
    check_select_rows(rows, expected)


@pytest.mark.parametrize("conneg_only", CONNEG)
@pytest.mark.parametrize(("method", "encoding"), METHODS)
def test_select_csv(server, expected, method, encoding, conneg_only):
    result = client(server.sparql, SELECT_MECHANISMS, method, encoding, CSV,
                    conneg_only=conneg_only).query()
    assert result.info()["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(result.convert().decode("utf-8"))))
    assert table[0] == ["mechanism", "label"]
    check_select_rows([tuple(r) for r in table[1:]], expected)


@pytest.mark.parametrize("conneg_only", CONNEG)
@pytest.mark.parametrize(("method", "encoding"), METHODS)
def test_select_tsv(server, expected, method, encoding, conneg_only):
    result = client(server.sparql, SELECT_MECHANISMS, method, encoding, TSV,
                    conneg_only=conneg_only).query()
    assert result.info()["content-type"].startswith("text/tab-separated-values")
    table = list(csv.reader(io.StringIO(result.convert().decode("utf-8")), delimiter="\t",
                            quoting=csv.QUOTE_NONE))
    assert table[0] == ["?mechanism", "?label"]
    rows = []
    for iri, literal in table[1:]:
        # TSV cells are RDF terms in SPARQL syntax: <iri>, "text"@lang
        assert iri.startswith("<") and iri.endswith(">")
        assert literal.startswith('"') and literal.endswith('"@en')
        rows.append((iri[1:-1], literal[1:-4]))
    check_select_rows(rows, expected)


# ---------------------------------------------------------------- ASK

@pytest.mark.parametrize("conneg_only", CONNEG)
@pytest.mark.parametrize(("method", "encoding"), METHODS)
@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_ask(server, method, encoding, conneg_only, fmt):
    answers = []
    for query in (ASK_CITES, ASK_FALSE):
        raw = client(server.sparql, query, method, encoding, fmt, conneg_only=conneg_only
                     ).query()
        if fmt == JSON:
            doc = raw.convert()
            answers.append(doc["boolean"])
        elif fmt == XML:
            dom = raw.convert()
            answers.append({"true": True, "false": False}[
                dom.getElementsByTagName("boolean")[0].firstChild.data])
        else:
            delimiter = "," if fmt == CSV else "\t"
            rows = list(csv.reader(io.StringIO(raw.convert().decode()), delimiter=delimiter))
            assert len(rows) == 2
            answers.append({"true": True, "false": False}[rows[1][0]])
    assert answers == [True, False]


# ---------------------------------------------------------------- CONSTRUCT / DESCRIBE

def parse_rdf(result, fmt: str) -> rdflib.Graph:
    """Turn what SPARQLWrapper's ``convert()`` gives into an rdflib graph."""
    converted = result.convert()
    if isinstance(converted, rdflib.Graph):
        return converted
    graph = rdflib.Graph()
    graph.parse(data=converted.decode("utf-8"), format=fmt)
    return graph


# SPARQLWrapper return format -> (expected media type, rdflib parser for raw bytes)
RDF_RETURN_FORMATS = [
    pytest.param(TURTLE, "text/turtle", "turtle", id="TURTLE"),
    pytest.param(N3, "text/turtle", "n3", id="N3"),
    pytest.param(RDFXML, "application/rdf+xml", "xml", id="RDFXML"),
    pytest.param(XML, "application/rdf+xml", "xml", id="XML"),
    pytest.param(JSONLD, "application/ld+json", "json-ld", id="JSONLD"),
]

# formats SPARQLWrapper has no constant for: its custom Accept with onlyConneg
CUSTOM_ACCEPT = [
    pytest.param("application/n-triples", "nt", id="n-triples"),
    pytest.param("application/n-quads", "nquads", id="n-quads"),
    pytest.param("application/trig", "trig", id="trig"),
    pytest.param("text/plain", "nt", id="text-plain-ntriples"),
]


def check_citations(graph: rdflib.Graph, expected) -> None:
    assert len(graph) == 60
    assert set(graph.predicates()) == {CITO.cites}
    assert set(graph.subjects()) == {PAPER}
    assert {str(o) for o in graph.objects()} == expected["cited"]


def check_description(graph: rdflib.Graph) -> None:
    labels = {s: o for s, o in graph.subject_objects(RDFS.label)}
    # the concise bounded description of the mechanism ...
    assert (MECHANISM, RDF.type, PCM.ChangeMechanism) in graph
    assert labels[MECHANISM] == Literal(
        "building trusting relationships based on shared lived experience", lang="en")
    theories = set(graph.objects(MECHANISM, PCM.groundedIn))
    outcomes = set(graph.objects(MECHANISM, PCM.leadsToOutcome))
    assert theories and outcomes
    # ... plus the labels of what it links to: theories, outcomes, its class, its properties
    for node in theories | outcomes | {PCM.ChangeMechanism, PCM.groundedIn}:
        assert node in labels, f"no label for {node} in the DESCRIBE answer"


@pytest.mark.parametrize("conneg_only", CONNEG)
@pytest.mark.parametrize(("method", "encoding"), METHODS)
@pytest.mark.parametrize(("fmt", "media", "parser"), RDF_RETURN_FORMATS)
def test_construct(server, expected, method, encoding, conneg_only, fmt, media, parser):
    result = client(server.sparql, CONSTRUCT_CITES, method, encoding, fmt,
                    conneg_only=conneg_only).query()
    assert result.info()["content-type"].startswith(media)
    check_citations(parse_rdf(result, parser), expected)


@pytest.mark.parametrize(("method", "encoding"), METHODS)
@pytest.mark.parametrize(("fmt", "media", "parser"), RDF_RETURN_FORMATS)
def test_describe(server, method, encoding, fmt, media, parser):
    result = client(server.sparql, DESCRIBE_MECHANISM, method, encoding, fmt).query()
    assert result.info()["content-type"].startswith(media)
    check_description(parse_rdf(result, parser))


def parse_raw(body: bytes, parser: str) -> rdflib.Graph:
    """Parse an RDF answer; quad formats are read as a dataset and merged into one graph."""
    if parser not in {"nquads", "trig"}:
        return rdflib.Graph().parse(data=body.decode("utf-8"), format=parser)
    dataset = rdflib.Dataset().parse(data=body.decode("utf-8"), format=parser)
    graph = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


@pytest.mark.parametrize(("method", "encoding"), METHODS)
@pytest.mark.parametrize(("accept", "parser"), CUSTOM_ACCEPT)
def test_construct_custom_accept(server, expected, method, encoding, accept, parser):
    sw = client(server.sparql, CONSTRUCT_CITES, method, encoding, accept=accept)
    response = sw.query().response
    media = "application/n-triples" if accept == "text/plain" else accept
    assert response.headers["Content-Type"].startswith(media)
    check_citations(parse_raw(response.read(), parser), expected)


@pytest.mark.parametrize(("accept", "parser"), CUSTOM_ACCEPT)
def test_describe_custom_accept(server, accept, parser):
    response = client(server.sparql, DESCRIBE_MECHANISM, POST, URLENCODED,
                      accept=accept).query().response
    check_description(parse_raw(response.read(), parser))


def test_select_xml_parses_with_elementtree(server, expected):
    """The raw XML answer is a well-formed SPARQL Results document for any XML parser."""
    raw = client(server.sparql, SELECT_MECHANISMS, GET, URLENCODED, XML).query().response.read()
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    root = ET.fromstring(raw)
    rows = [
        (res.find("r:binding[@name='mechanism']/r:uri", ns).text,
         res.find("r:binding[@name='label']/r:literal", ns).text)
        for res in root.iterfind("r:results/r:result", ns)
    ]
    check_select_rows(rows, expected)


# ---------------------------------------------------------------- errors through the client

def test_syntax_error_is_query_bad_formed(server):
    sw = client(server.sparql, "SELECT * WHERE { ?s ?p }", GET, URLENCODED, JSON)
    with pytest.raises(QueryBadFormed) as info:
        sw.query()
    message = str(info.value)
    assert "1:" in message  # the parser's line:column
    assert "Traceback" not in message


def test_json_results_are_plain_json(server):
    """A client that reads the bytes itself gets standard SPARQL JSON."""
    raw = client(server.sparql, ASK_CITES, GET, URLENCODED, JSON).query().response.read()
    assert json.loads(raw) == {"head": {}, "boolean": True}
