"""The remote backend's fixtures: a Virtuoso holding the shipped graphs and their record.

:func:`publish_by_gsp` puts each named graph of the embedded store into Virtuoso with the
Graph Store Protocol (PUT, N-Triples, Digest login) and then the publication graph
``peerchange publish`` writes, made by the same code
(:func:`peerchange.services.publish_record.record_triples`: the data version,
``dcterms:hasPart`` and ``void:triples`` for each graph, ``prov:generatedAtTime``): a
stand-in for that command that skips its validation (seconds), so a test can publish again
or another version at will. The HTTP-facing folders' Virtuoso is filled by the command
itself (:mod:`tests.backends`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest
import requests
from requests.auth import HTTPDigestAuth

from peerchange.services.publish_record import RECORD as PUBLICATION
from peerchange.services.publish_record import record_triples


def put_graph(virtuoso: Any, iri: str, triples: list[ox.Triple]) -> None:
    """Replace the graph ``iri`` in Virtuoso with ``triples`` (GSP PUT)."""
    body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    answer = requests.put(virtuoso.graph_store, params={"graph": iri}, data=body,
                          headers={"Content-Type": "application/n-triples"},
                          auth=HTTPDigestAuth("dba", "dba"), timeout=120)
    assert answer.status_code in (200, 201, 204), answer.text


def publish_by_gsp(virtuoso: Any, graph: Any, *, version: str | None = None) -> None:
    """Put every named graph of the embedded ``graph`` into ``virtuoso``, then the record."""
    store = graph.store
    for iri in graph.graph_counts:
        triples = [ox.Triple(q.subject, q.predicate, q.object)
                   for q in store.quads_for_pattern(None, None, None, ox.NamedNode(iri))]
        put_graph(virtuoso, iri, triples)
    put_graph(virtuoso, PUBLICATION,
              record_triples(version or graph.version, graph.graph_counts))


def drop_publication(virtuoso: Any) -> None:
    answer = requests.delete(virtuoso.graph_store, params={"graph": PUBLICATION},
                             auth=HTTPDigestAuth("dba", "dba"), timeout=30)
    assert answer.status_code in (200, 204, 404), answer.text


@pytest.fixture(scope="session")
def published(virtuoso, shipped_graph) -> Any:
    """The session's Virtuoso holding the shipped graphs and their publication record."""
    publish_by_gsp(virtuoso, shipped_graph)
    return virtuoso


@pytest.fixture(scope="session")
def remote_app(published, dumps_dir) -> Any:
    """The app over the published Virtuoso (``Settings(endpoint=...)``)."""
    from peerchange.web import create_app
    from tests.conftest import app_settings

    app = create_app(app_settings(dumps_dir / "remote", endpoint=published.sparql))
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def remote_client(remote_app) -> Iterator[Any]:
    yield remote_app.test_client()
