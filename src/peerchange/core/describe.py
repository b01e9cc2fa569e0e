"""Useful descriptions: a resource's concise bounded description plus the labels of what it
links to, so a client can display it without a second request.

pyoxigraph's DESCRIBE returns the outgoing triples of each resource and follows blank
nodes (a concise bounded description); this module adds the labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyoxigraph as ox

LABEL_PROPERTIES = (
    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
    ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
)


def graph_nodes(graphs: Sequence[str] | None) -> list[ox.NamedNode | None]:
    """Return the graphs to look labels up in (``[None]`` means every graph)."""
    return [ox.NamedNode(g) for g in graphs] if graphs else [None]


def labels_of(
    store: ox.Store, iris: Iterable[ox.NamedNode], graphs: Sequence[str] | None = None
) -> list[ox.Triple]:
    """Return the label triples (``rdfs:label``, ``skos:prefLabel``) of ``iris``."""
    out: dict[tuple[str, str, str], ox.Triple] = {}
    for iri in iris:
        for graph in graph_nodes(graphs):
            for prop in LABEL_PROPERTIES:
                for quad in store.quads_for_pattern(iri, prop, None, graph):
                    triple = ox.Triple(quad.subject, quad.predicate, quad.object)
                    out.setdefault((str(triple.subject), str(prop), str(quad.object)), triple)
    return list(out.values())


def with_labels(
    store: ox.Store, triples: Sequence[ox.Triple], graphs: Sequence[str] | None = None
) -> list[ox.Triple]:
    """Return ``triples`` plus the labels of every IRI they use as a predicate or object."""
    have = {str(t.subject) for t in triples if t.predicate in LABEL_PROPERTIES}
    linked: dict[str, ox.NamedNode] = {}
    for t in triples:
        for node in (t.predicate, t.object):
            if isinstance(node, ox.NamedNode) and str(node) not in have:
                linked[str(node)] = node
    seen = {(str(t.subject), str(t.predicate), str(t.object)) for t in triples}
    extra = [
        t for t in labels_of(store, linked.values(), graphs)
        if (str(t.subject), str(t.predicate), str(t.object)) not in seen
    ]
    return list(triples) + extra


def unique_triples(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """Return ``triples`` without repeats, in their first order."""
    return list(dict.fromkeys(triples))
