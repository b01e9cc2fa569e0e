"""The SPARQL 1.1 Service Description of the endpoint, with a VoID description of its
default dataset (triple counts per named graph) and the published prefixes.

``queries/internal/description/service.rq`` states the service at its URL;
``service-dataset.rq`` counts the triples of the default graph and of each named graph
(once per data version, whatever the host: a client sending many ``Host`` headers costs
no recount); ``prefix-declaration.rq`` declares each published prefix
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
                     service.max_query_bytes, bool(service.service_allowlist))


@per_data_version(maxsize=64)
def _describe(service: SparqlService, endpoint: str, timeout: float, max_rows: int,
              max_query_bytes: int, federated: bool) -> list[ox.Triple]:
    comment = (
        "Read-only SPARQL 1.1 endpoint of the peerchange knowledge graph. The default graph "
        "is the union of all named graphs unless a request's dataset says otherwise. "
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
    triples = (service.construct(QUERIES + "service", bindings) + _default_dataset(service)
               + prefix_declarations(service, SERVICE))
    return list(dict.fromkeys(triples))


@per_data_version(maxsize=4)
def _default_dataset(service: SparqlService) -> list[ox.Triple]:
    return service.construct(QUERIES + "service-dataset", {
        "dataset": DEFAULT_DATASET, "dataVersion": ox.Literal(service.graph.version)})


@per_data_version(maxsize=4)
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
