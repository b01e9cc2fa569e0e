"""The VoID + DCAT description at /.well-known/void and /dataset, checked against the
graph's real counts (asked of the SPARQL endpoint), and the named-graph descriptions."""

from __future__ import annotations

import pytest
import rdflib
from rdflib import RDF, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, OWL, PROV, VOID

from tests.conftest import media_type, sparql_count, sparql_rows
from tests.linkeddata.conftest import BROWSER_ACCEPT, EXTENSION_TYPES, W3ID, parse_rdf

DATASET = URIRef(W3ID + "id/dataset/peerchange")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")


@pytest.fixture(scope="module")
def void(app, context_doc) -> rdflib.Graph:
    resp = app.test_client().get("/.well-known/void")
    assert resp.status_code == 200
    return parse_rdf(resp.data, media_type(resp), context=context_doc)


def _int(graph: rdflib.Graph, s, p) -> int:
    values = list(graph.objects(s, p))
    assert len(values) == 1, (s, p, values)
    return int(values[0])


@pytest.mark.parametrize("path", ["/.well-known/void", "/dataset"])
@pytest.mark.parametrize("ext", ["ttl", "jsonld", "rdf", "nt"])
def test_description_negotiates_and_parses(client, context_doc, path, ext):
    resp = client.get(path, headers={"Accept": EXTENSION_TYPES[ext]})
    assert resp.status_code == 200
    assert media_type(resp) == EXTENSION_TYPES[ext]
    assert "Accept" in {v.strip() for v in resp.headers["Vary"].split(",")}
    assert resp.headers["Content-Location"] == f"http://localhost/dataset.{ext}"
    g = parse_rdf(resp.data, EXTENSION_TYPES[ext], context=context_doc)
    assert (DATASET, RDF.type, VOID.Dataset) in g
    assert (DATASET, RDF.type, DCAT.Dataset) in g
    twin = client.get(f"/dataset.{ext}")
    assert twin.status_code == 200 and twin.data == resp.data
    assert client.get(f"/dataset.{ext}", headers={"If-None-Match": twin.headers["ETag"]}
                      ).status_code == 304


def test_void_is_turtle_by_default_and_html_for_browsers(client):
    assert media_type(client.get("/.well-known/void")) == "text/turtle"
    page = client.get("/dataset", headers={"Accept": BROWSER_ACCEPT})
    assert media_type(page) == "text/html"
    html = page.get_data(as_text=True)
    assert "Named graphs: what comes from the paper and what is curation" in html
    assert client.get("/peerchange/.well-known/void").status_code == 200


def test_total_triples_match_the_store(client, void):
    distinct = sparql_count(client, "SELECT (COUNT(*) AS ?n) WHERE { "
                                    "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")
    assert _int(void, DATASET, VOID.triples) == distinct
    assert distinct == client.get("/health").get_json()["triples"]  # no triple in two graphs


def test_distinct_subjects_objects_properties_classes_entities(client, void):
    assert _int(void, DATASET, VOID.distinctSubjects) == sparql_count(
        client, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }")
    assert _int(void, DATASET, VOID.distinctObjects) == sparql_count(
        client, "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }")
    assert _int(void, DATASET, VOID.properties) == sparql_count(
        client, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }")
    assert _int(void, DATASET, VOID.classes) == sparql_count(
        client, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }")
    uri_space = str(void.value(DATASET, VOID.uriSpace))
    assert uri_space == W3ID + "id/"
    assert _int(void, DATASET, VOID.entities) == sparql_count(client, f"""
        SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{
          ?s ?p ?o FILTER (isIRI(?s) && STRSTARTS(STR(?s), "{uri_space}")) }}""")


def test_entities_per_class_match_the_store(client, void):
    parts = {void.value(part, VOID["class"]): _int(void, part, VOID.entities)
             for part in void.objects(DATASET, VOID.classPartition)}
    real = {URIRef(r["c"]): int(r["n"]) for r in sparql_rows(
        client, "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c")}
    assert parts == real
    assert parts[URIRef(W3ID + "onto/ChangeMechanism")] == 3
    assert parts[URIRef(W3ID + "onto/Claim")] == sparql_count(
        client, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?c a <{W3ID}onto/Claim> }}")


def test_triples_per_property_match_the_store(client, void):
    parts = {void.value(part, VOID.property): (
        _int(void, part, VOID.triples), _int(void, part, VOID.distinctSubjects),
        _int(void, part, VOID.distinctObjects))
        for part in void.objects(DATASET, VOID.propertyPartition)}
    rows = sparql_rows(client, "SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?subjects) "
                               "(COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o } GROUP BY ?p")
    real = {URIRef(r["p"]): (int(r["n"]), int(r["subjects"]), int(r["objects"])) for r in rows}
    assert parts == real
    assert sum(n for n, _, _ in parts.values()) == _int(void, DATASET, VOID.triples)


def test_triples_and_classes_per_named_graph_match_the_store(client, void):
    graphs = set(void.objects(DATASET, VOID.subset))
    real = {URIRef(r["g"]): int(r["n"]) for r in sparql_rows(
        client, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    assert graphs == set(real)
    assert sum(real.values()) == client.get("/health").get_json()["triples"]
    for graph, n in real.items():
        assert _int(void, graph, VOID.triples) == n, graph
        assert (graph, SD.name, graph) in void
        classes = {void.value(part, VOID["class"]): _int(void, part, VOID.entities)
                   for part in void.objects(graph, VOID.classPartition)}
        real_classes = {URIRef(r["c"]): int(r["n"]) for r in sparql_rows(client, f"""
            SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s a ?c }} }}
            GROUP BY ?c""")}
        assert classes == real_classes, graph
        assert _int(void, graph, VOID.entities) == sparql_count(client, f"""
            SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }}
              FILTER (isIRI(?s) && STRSTARTS(STR(?s), "{W3ID}id/")) }}""")


def test_endpoint_dumps_licence_creators_version(client, void):
    assert void.value(DATASET, VOID.sparqlEndpoint) == URIRef("http://localhost/sparql")
    service = void.value(DATASET, DCAT.service)
    assert (service, DCAT.endpointURL, URIRef("http://localhost/sparql")) in void
    assert (service, DCAT.servesDataset, DATASET) in void
    assert void.value(DATASET, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/")
    creator = void.value(DATASET, DCTERMS.creator)
    assert creator is not None and void.value(creator, rdflib.RDFS.label) is not None
    version = client.get("/health").get_json()["ontology_version"]
    assert void.value(DATASET, URIRef(str(DCAT) + "version")) == Literal(version)  # DCAT 3
    assert void.value(DATASET, OWL.versionInfo) == Literal(version)
    dumps = sorted(str(u) for u in void.objects(DATASET, VOID.dataDump))
    assert dumps == sorted(f"http://localhost/dumps/{version}/{name}" for name in (
        "peerchange.ttl", "peerchange.nt.gz", "peerchange.nq.gz", "peerchange.jsonld"))
    distributions = list(void.objects(DATASET, DCAT.distribution))
    assert len(distributions) == 4
    for dist in distributions:
        url = void.value(dist, DCAT.downloadURL)
        assert str(url) in dumps
        assert void.value(dist, DCAT.mediaType) is not None
        assert void.value(dist, DCTERMS.license) is not None
        with client.head(str(url).replace("http://localhost", "")) as resp:
            assert resp.status_code == 200, url


def test_vocabularies_and_prefixes(client, void):
    vocabularies = {str(v) for v in void.objects(DATASET, VOID.vocabulary)}
    for expected in (W3ID + "onto", "http://purl.org/spar/cito/", "http://www.w3.org/ns/prov#",
                     "http://purl.obolibrary.org/obo/", "http://rdfs.org/ns/void#"):
        assert expected in vocabularies
    # every namespace some property of the data lives in is listed
    for row in sparql_rows(client, "SELECT DISTINCT ?p WHERE { ?s ?p ?o }"):
        p = row["p"]
        assert any(p.startswith(v) or (v == W3ID + "onto" and p.startswith(v + "/"))
                   for v in vocabularies), p
    prefixes = {str(void.value(d, SH.prefix)): str(void.value(d, SH.namespace))
                for d in void.objects(DATASET, SH.declare)}
    assert prefixes["pcm"] == W3ID + "onto/"
    assert prefixes["pcd"] == W3ID + "id/"
    assert prefixes["void"] == str(VOID)


def test_provenance_says_what_comes_from_the_paper_and_what_is_curation(void):
    paper = URIRef(W3ID + "id/ref/Gillard2015")
    assert (DATASET, PROV.wasDerivedFrom, paper) in void
    for graph in void.objects(DATASET, VOID.subset):
        assert void.value(graph, DCTERMS.description) is not None, graph
    curated = URIRef(W3ID + "graph/curated")
    assert "curated inference" in str(void.value(curated, DCTERMS.description))
    # each evidence status names the graph of its shortcut edges
    shortcut = URIRef(W3ID + "onto/shortcutGraph")
    assert (URIRef(W3ID + "onto/CuratedInference"), shortcut, curated) in void
    assert (URIRef(W3ID + "onto/StatedInSource"), shortcut, URIRef(W3ID + "graph/stated")) in void


def test_description_uses_the_host_of_the_request(make_app, context_doc):
    # an allowed host (any other Host is refused: tests/security/test_hosts.py)
    client = make_app(allowed_hosts=["kg.example.org"]).test_client()
    resp = client.get("/.well-known/void", base_url="https://kg.example.org")
    g = parse_rdf(resp.data, "text/turtle")
    assert g.value(DATASET, VOID.sparqlEndpoint) == URIRef("https://kg.example.org/sparql")


@pytest.mark.parametrize("name", ["claims", "curated", "ontology", "references"])
def test_graph_description_counts_and_dump(client, context_doc, name):
    graph = URIRef(f"{W3ID}graph/{name}")
    g = parse_rdf(client.get(f"/graph/{name}.ttl").data, "text/turtle")
    n = sparql_count(client, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    assert _int(g, graph, VOID.triples) == n
    assert g.value(graph, DCTERMS.description) is not None  # its provenance description
    assert g.value(graph, DCTERMS.isPartOf) == DATASET
    classes = sparql_count(client, f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ GRAPH <{graph}> "
                                   "{ ?s a ?c } }")
    assert len(list(g.objects(graph, VOID.classPartition))) == classes
    dump = g.value(graph, VOID.dataDump)
    with client.get(str(dump).replace("http://localhost", "")) as resp:
        assert resp.status_code == 200
        assert len(parse_rdf(resp.data, "text/turtle")) == n
