"""Useful descriptions: a resource's concise bounded description plus the labels of what it
links to, so a client can display it without a second request.

pyoxigraph's DESCRIBE returns the outgoing triples of each resource and follows blank
nodes (a concise bounded description); this module adds the labels: :func:`add_labels`
takes them from any source of label triples (the services use an index read once through
the SPARQL service), :func:`with_labels` from a store (the query executor's DESCRIBE,
which keeps to the query's dataset).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import pyoxigraph as ox

from peerchange.core import namespaces

LABEL_PROPERTIES = tuple(ox.NamedNode(p) for p in namespaces.LABEL_PROPERTIES)

# the label triples of some IRIs
LabelSource = Callable[[Iterable[ox.NamedNode]], Iterable[ox.Triple]]


def labels_of(
    store: ox.Store, iris: Iterable[ox.NamedNode], graphs: Sequence[str] | None = None
) -> list[ox.Triple]:
    """Return the label triples (``rdfs:label``, ``skos:prefLabel``) of ``iris`` in ``graphs``
    (every graph if ``None``)."""
    in_graphs: list[ox.NamedNode | None] = [ox.NamedNode(g) for g in graphs] if graphs else [None]
    out: dict[ox.Triple, None] = {}
    for iri in iris:
        for graph in in_graphs:
            for prop in LABEL_PROPERTIES:
                for quad in store.quads_for_pattern(iri, prop, None, graph):
                    out.setdefault(ox.Triple(quad.subject, quad.predicate, quad.object))
    return list(out)


def add_labels(triples: Sequence[ox.Triple], labels: LabelSource) -> list[ox.Triple]:
    """Return ``triples`` plus the labels of every IRI they use as a predicate or object and
    do not label already."""
    have = {t.subject for t in triples if t.predicate in LABEL_PROPERTIES}
    linked = {
        node: None
        for t in triples
        for node in (t.predicate, t.object)
        if isinstance(node, ox.NamedNode) and node not in have
    }
    seen = set(triples)
    return list(triples) + [t for t in dict.fromkeys(labels(linked)) if t not in seen]


def with_labels(
    store: ox.Store, triples: Sequence[ox.Triple], graphs: Sequence[str] | None = None
) -> list[ox.Triple]:
    """:func:`add_labels` with the labels found in ``graphs`` of ``store``."""
    return add_labels(triples, lambda iris: labels_of(store, iris, graphs))


def unique_triples(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """Return ``triples`` without repeats, in their first order."""
    return list(dict.fromkeys(triples))
