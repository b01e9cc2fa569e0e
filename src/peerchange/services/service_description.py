"""The SPARQL 1.1 Service Description of the endpoint, with a VoID description of its
default dataset (triple counts per named graph) and the published prefixes."""

from __future__ import annotations

import pyoxigraph as ox

from peerchange.core.namespaces import PREFIXES
from peerchange.services.sparql import SparqlService

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCTERMS = "http://purl.org/dc/terms/"
SH = "http://www.w3.org/ns/shacl#"
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
XSD_ANYURI = ox.NamedNode("http://www.w3.org/2001/XMLSchema#anyURI")
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")

RESULT_FORMAT_IRIS = (
    "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
    "Turtle", "N-Triples", "RDF_XML", "JSON-LD", "N-Quads", "TriG",
)


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def service_description(service: SparqlService, endpoint: str) -> list[ox.Triple]:
    """Return the service description triples for the endpoint at URL ``endpoint``."""
    kg = service.graph
    svc = ox.BlankNode("service")
    dataset = ox.BlankNode("dataset")
    default = ox.BlankNode("defaultGraph")
    t: list[ox.Triple] = []

    def add(s, p, o) -> None:
        t.append(ox.Triple(s, p if isinstance(p, ox.NamedNode) else _n(p), o))

    add(svc, RDF_TYPE, _n(SD + "Service"))
    add(svc, SD + "endpoint", _n(endpoint))
    add(svc, SD + "supportedLanguage", _n(SD + "SPARQL11Query"))
    for name in RESULT_FORMAT_IRIS:
        add(svc, SD + "resultFormat", _n(FORMATS_NS + name))
    add(svc, SD + "feature", _n(SD + "UnionDefaultGraph"))
    if service.service_allowlist:
        add(svc, SD + "feature", _n(SD + "BasicFederatedQuery"))
    add(svc, RDFS_COMMENT, ox.Literal(
        "Read-only SPARQL 1.1 endpoint of the peerchange knowledge graph. The default graph "
        "is the union of all named graphs unless a request's dataset says otherwise. "
        f"Limits: {service.timeout:g} s per query, {service.max_rows:,} rows per answer "
        f"(longer answers are cut and flagged), {service.max_query_bytes:,} bytes per query; "
        "no SPARQL Update; SERVICE only to allow-listed endpoints.",
        language="en",
    ))
    add(svc, SD + "defaultDataset", dataset)
    add(dataset, RDF_TYPE, _n(SD + "Dataset"))
    add(dataset, RDF_TYPE, _n(VOID + "Dataset"))
    add(dataset, _n(DCTERMS + "title"), ox.Literal("peerchange knowledge graph", language="en"))
    add(dataset, _n(VOID + "sparqlEndpoint"), _n(endpoint))
    add(dataset, _n(VOID + "triples"), ox.Literal(str(kg.triples), datatype=XSD_INTEGER))
    add(dataset, _n(DCTERMS + "hasVersion"), ox.Literal(kg.version))
    add(dataset, SD + "defaultGraph", default)
    add(default, RDF_TYPE, _n(SD + "Graph"))
    add(default, _n(VOID + "triples"), ox.Literal(str(kg.triples), datatype=XSD_INTEGER))
    for i, (graph, count) in enumerate(kg.graph_counts.items()):
        named = ox.BlankNode(f"named{i}")
        inner = ox.BlankNode(f"graph{i}")
        add(dataset, SD + "namedGraph", named)
        add(named, RDF_TYPE, _n(SD + "NamedGraph"))
        add(named, SD + "name", _n(graph))
        add(named, SD + "graph", inner)
        add(inner, RDF_TYPE, _n(SD + "Graph"))
        add(inner, _n(VOID + "triples"), ox.Literal(str(count), datatype=XSD_INTEGER))
    for i, (prefix, ns) in enumerate(sorted(PREFIXES.items())):
        decl = ox.BlankNode(f"prefix{i}")
        add(svc, SH + "declare", decl)
        add(decl, SH + "prefix", ox.Literal(prefix))
        add(decl, SH + "namespace", ox.Literal(ns, datatype=XSD_ANYURI))
    return t
