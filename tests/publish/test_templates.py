"""The publish templates and batches, run on pyoxigraph's own SPARQL engine (fast)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from peerchange.core.errors import QueryFileError
from peerchange.services.publish_batches import (
    GENID,
    batches,
    graph_triples,
    ntriples_lines,
    skolemise,
)
from peerchange.services.publish_queries import bind_iris, render_query, render_update

GRAPH = "https://example.org/g"
STAGING = "https://example.org/staging"
TURTLE = b"""
@prefix ex: <https://example.org/> .
ex:a ex:p [ ex:q "one" ; ex:r [ ex:q "two\\nlines \\"quoted\\"" ] ] .
ex:b ex:p "caf\xc3\xa9"@fr, 42, "x"^^ex:type .
"""


def loaded() -> ox.Store:
    store = ox.Store()
    store.load(TURTLE, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(GRAPH))
    return store


def test_the_update_templates_are_sparql_that_does_the_job():
    store = loaded()
    lines = ntriples_lines(skolemise(GRAPH, graph_triples(store, GRAPH)))
    for batch in batches(lines, max_triples=2):
        store.update(render_update("publish-insert-data", {"graph": STAGING}, "".join(batch)))
    count = render_query("publish-count-graph", {"graph": STAGING})
    assert int(next(iter(store.query(count)))["triples"].value) == len(lines) == 7
    store.update(render_update("publish-move", {"staging": STAGING, "target": GRAPH}))
    assert not list(store.quads_for_pattern(None, None, None, ox.NamedNode(STAGING)))
    assert len(graph_triples(store, GRAPH)) == 7
    store.update(render_update("publish-drop", {"graph": GRAPH}))
    store.update(render_update("publish-drop", {"graph": GRAPH}))  # SILENT: no error
    assert len(store) == 0


def test_skolem_iris_are_the_same_for_the_same_graph_and_differ_between_graphs():
    first = ntriples_lines(skolemise(GRAPH, graph_triples(loaded(), GRAPH)))
    again = ntriples_lines(skolemise(GRAPH, graph_triples(loaded(), GRAPH)))
    other = ntriples_lines(skolemise(GRAPH + "2", graph_triples(loaded(), GRAPH)))
    assert first == again != other
    assert "_:" not in "".join(first) and GENID in "".join(first)


def test_batches_are_bounded_by_triples_and_bytes():
    lines = [f"<https://example.org/{i}> <https://example.org/p> \"{'x' * i}\" .\n"
             for i in range(100)]
    for size, limit in ((7, 10_000), (1000, 600)):
        parts = list(batches(lines, max_triples=size, max_bytes=limit))
        assert [line for part in parts for line in part] == lines
        assert all(len(part) <= size for part in parts)
        assert all(sum(len(x.encode()) for x in part) <= limit or len(part) == 1
                   for part in parts)


def test_a_template_refuses_a_missing_or_unknown_parameter():
    with pytest.raises(QueryFileError):
        render_query("publish-count-graph", {})
    with pytest.raises(QueryFileError):
        render_query("publish-count-graph", {"graph": GRAPH, "other": GRAPH})
    with pytest.raises(ValueError):
        bind_iris("<urn:peerchange:param:g>", {"g": "not an iri>"}, name="x")
    with pytest.raises(QueryFileError):
        render_update("publish-move", {"staging": STAGING, "target": GRAPH}, "<a> <b> <c> .")
