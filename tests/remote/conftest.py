"""The remote backend's fixtures: a Virtuoso holding the shipped graphs and their record.

:func:`publish_by_gsp` puts each named graph of the embedded store into Virtuoso with the
Graph Store Protocol (PUT, N-Triples, Digest login) and then writes the publication graph
that ``peerchange publish`` writes (the data version, ``dcterms:hasPart`` and
``void:triples`` for each graph, ``prov:generatedAtTime``): a stand-in for that command
with the same contract, to be swapped for it (``peerchange publish --endpoint V/sparql
--graph-store V/sparql-graph-crud-auth --user dba --password-env VAR``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox
import pytest
import requests
from requests.auth import HTTPDigestAuth

from peerchange.core.namespaces import graph_iri

DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
VOID = "http://rdfs.org/ns/void#"
XSD = "http://www.w3.org/2001/XMLSchema#"
PUBLICATION = graph_iri("publication")


def put_graph(virtuoso: Any, iri: str, triples: list[ox.Triple]) -> None:
    """Replace the graph ``iri`` in Virtuoso with ``triples`` (GSP PUT)."""
    body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    answer = requests.put(virtuoso.graph_store, params={"graph": iri}, data=body,
                          headers={"Content-Type": "application/n-triples"},
                          auth=HTTPDigestAuth("dba", "dba"), timeout=120)
    assert answer.status_code in (200, 201, 204), answer.text


def publication_triples(version: str, counts: dict[str, int]) -> list[ox.Triple]:
    """The publication record (the contract with ``peerchange publish``)."""
    pub = ox.NamedNode(PUBLICATION)
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    out = [
        ox.Triple(pub, ox.NamedNode(DCTERMS + "hasVersion"), ox.Literal(version)),
        ox.Triple(pub, ox.NamedNode(PROV + "generatedAtTime"),
                  ox.Literal(now, datatype=ox.NamedNode(XSD + "dateTime"))),
    ]
    for iri, n in counts.items():
        out.append(ox.Triple(pub, ox.NamedNode(DCTERMS + "hasPart"), ox.NamedNode(iri)))
        out.append(ox.Triple(ox.NamedNode(iri), ox.NamedNode(VOID + "triples"),
                             ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))))
    return out


def publish_by_gsp(virtuoso: Any, graph: Any, *, version: str | None = None) -> None:
    """Put every named graph of the embedded ``graph`` into ``virtuoso``, then the record."""
    store = graph.store
    for iri in graph.graph_counts:
        triples = [ox.Triple(q.subject, q.predicate, q.object)
                   for q in store.quads_for_pattern(None, None, None, ox.NamedNode(iri))]
        put_graph(virtuoso, iri, triples)
    put_graph(virtuoso, PUBLICATION,
              publication_triples(version or graph.version, graph.graph_counts))


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
