"""The SPARQL 1.1 Service Description of the endpoint, with a VoID description of its
default dataset (triple counts per named graph) and the published prefixes.

``queries/internal/description/service.rq`` states the service at its URL;
``service-dataset.rq`` the default dataset with the triples of the default graph and
``service-graph.rq`` each named graph with its triples, one run per graph (once per data
version, whatever the host). The counts are the knowledge graph's ``graph_counts`` (the
embedded store's, or the publication record over a remote store), bound as terms: nothing
is counted on the store, and no query needs ``BNODE()`` (which Virtuoso 7.2 lacks): the
blank nodes are the templates' own (new in each run) or bound from here.
``prefix-declaration.rq`` declares each published prefix
(``core.namespaces.PREFIXES``) on the service, one run per prefix. The three share the
service and dataset nodes, bound as blank nodes. What is not in the data reaches the
queries as bound terms: the endpoint URL, the data version, the limits (stated in a
comment) and whether ``SERVICE`` may call other endpoints.
"""

from __future__ import annotations

import pyoxigraph as ox

from peerchange.core.namespaces import PREFIXES, SD, XSD
from peerchange.services.memo import per_data_version
from peerchange.services.sparql import SparqlService

QUERIES = "internal/description/"
# the nodes that stand for the service and its default dataset, shared by the queries
SERVICE = ox.BlankNode("service")
DEFAULT_DATASET = ox.BlankNode("dataset")


def service_description(service: SparqlService, endpoint: str) -> list[ox.Triple]:
    """Return the service description triples for the endpoint at URL ``endpoint``."""
    return _describe(service, endpoint, service.timeout, service.max_rows,
                     service.max_query_bytes, bool(service.service_allowlist),
                     service.graph.backend)


@per_data_version(maxsize=64)
def _describe(service: SparqlService, endpoint: str, timeout: float, max_rows: int,
              max_query_bytes: int, federated: bool, backend: str) -> list[ox.Triple]:
    union = ("The default graph is the union of all named graphs unless a request's "
             "dataset says otherwise. ")
    if backend == "remote":
        union = ("The data is held by a remote SPARQL store; the default graph is the union "
                 "of the published named graphs (each sent to the store as a "
                 "default-graph-uri, and as a named-graph-uri for GRAPH) unless a request's "
                 "dataset parameters say otherwise (passed to the store as they are); FROM "
                 "and FROM NAMED in a query are left to the store. ")
    comment = (
        "Read-only SPARQL 1.1 endpoint of the peerchange knowledge graph. " + union +
        f"Limits: {timeout:g} s per query, {max_rows:,} rows per answer "
        f"(longer answers are cut and flagged), {max_query_bytes:,} bytes per query; "
        "no SPARQL Update; SERVICE only to allow-listed endpoints."
    )
    bindings: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] = {
        "service": SERVICE,
        "dataset": DEFAULT_DATASET,
        "endpoint": ox.NamedNode(endpoint),
        "comment": ox.Literal(comment, language="en"),
    }
    if federated:
        bindings["federation"] = ox.NamedNode(SD + "BasicFederatedQuery")
    triples = (service.construct(QUERIES + "service", bindings)
               + _default_dataset(service, backend) + prefix_declarations(service, SERVICE))
    return list(dict.fromkeys(triples))


def integer(n: int) -> ox.Literal:
    """``n`` as an ``xsd:integer`` literal (as SPARQL's ``COUNT`` gives it)."""
    return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))


@per_data_version(maxsize=4)
def _default_dataset(service: SparqlService, backend: str = "") -> list[ox.Triple]:
    counts = service.graph.graph_counts
    triples = service.construct(QUERIES + "service-dataset", {
        "dataset": DEFAULT_DATASET, "dataVersion": ox.Literal(service.graph.version),
        "triples": integer(sum(counts.values()))})
    for iri, n in sorted(counts.items()):
        triples += service.construct(QUERIES + "service-graph", {
            "dataset": DEFAULT_DATASET, "graph": ox.NamedNode(iri), "triples": integer(n)})
    return triples


@per_data_version(maxsize=4, shared=True)
def prefix_declarations(sparql: SparqlService, subject: ox.NamedNode | ox.BlankNode
                        ) -> list[ox.Triple]:
    """``subject sh:declare [sh:prefix ...; sh:namespace ...]`` for each published prefix."""
    return [
        t
        for prefix, namespace in sorted(PREFIXES.items())
        for t in sparql.construct(QUERIES + "prefix-declaration", {
            "subject": subject,
            "prefix": ox.Literal(prefix),
            "namespace": ox.Literal(namespace, datatype=ox.NamedNode(XSD + "anyURI")),
        })
    ]
