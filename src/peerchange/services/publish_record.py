"""The publication record ``peerchange publish`` writes last, and ``serve --endpoint`` reads.

The contract (shared with the remote backend): the graph
``https://w3id.org/peerchange/graph/publication``, with the same IRI as its subject, holds
``dcterms:hasVersion`` (the digest of the sources, as the embedded store computes it),
``dcterms:hasPart`` for every published graph, ``prov:generatedAtTime`` and, for each graph,
``<graph> void:triples N`` (the count the store confirmed).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyoxigraph as ox

from peerchange.core.namespaces import DCTERMS, PROV, VOID, XSD, graph_iri

RECORD = graph_iri("publication")


def record_triples(version: str, counts: dict[str, int],
                   now: datetime | None = None) -> list[ox.Triple]:
    """The record of publishing the graphs ``counts`` (IRI → confirmed triples)."""
    when = (now or datetime.now(UTC)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    record = ox.NamedNode(RECORD)
    triples = [
        ox.Triple(record, ox.NamedNode(DCTERMS + "hasVersion"), ox.Literal(version)),
        ox.Triple(record, ox.NamedNode(PROV + "generatedAtTime"),
                  ox.Literal(when, datatype=ox.NamedNode(XSD + "dateTime"))),
    ]
    for graph, n in sorted(counts.items()):
        triples.append(ox.Triple(record, ox.NamedNode(DCTERMS + "hasPart"), ox.NamedNode(graph)))
        triples.append(ox.Triple(ox.NamedNode(graph), ox.NamedNode(VOID + "triples"),
                                 ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))))
    return triples
