"""The descriptions over a remote store (Virtuoso) are the embedded store's: the VoID/DCAT
description (``/.well-known/void``, ``/dataset``), each named graph's (``/graph/{name}``)
and the SPARQL service description (``/sparql`` without a query) are isomorphic graphs on
both backends, with the same counts.

Virtuoso 7.2 does not implement ``BNODE()``, does not list the graphs of ``GRAPH ?g {}``
and drops a ``VALUES``-only ``UNION`` branch: the description queries use none of them
(template blank nodes, blank nodes bound from Python, the named graphs and their
``void:triples`` from the knowledge graph's ``graph_counts``).
"""

from __future__ import annotations

from typing import Any

import pytest
import rdflib
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

pytestmark = pytest.mark.slow

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
DATASET = rdflib.URIRef("https://w3id.org/peerchange/id/dataset/peerchange")
GRAPHS = "https://w3id.org/peerchange/graph/"
TURTLE = {"Accept": "text/turtle"}


def _graph(client: Any, path: str) -> rdflib.Graph:
    answer = client.get(path, headers=TURTLE, follow_redirects=True)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "text/turtle"
    return rdflib.Graph().parse(data=answer.get_data(as_text=True), format="turtle")


def _differences(a: rdflib.Graph, b: rdflib.Graph) -> str:
    """The triples in one graph only, blank nodes named canonically (to say why two
    differ: a difference under a blank node, such as a class partition's count, shows)."""
    _both, only_a, only_b = graph_diff(to_isomorphic(a), to_isomorphic(b))
    return f"only remote: {sorted(only_a)[:8]}; only embedded: {sorted(only_b)[:8]}"


@pytest.mark.parametrize("path", ["/.well-known/void", "/dataset",
                                  "/graph/claims", "/graph/provenance"])
def test_descriptions_are_the_same_graph(remote_client, client, path):
    remote, embedded = _graph(remote_client, path), _graph(client, path)
    assert len(remote) == len(embedded)
    assert isomorphic(remote, embedded), _differences(remote, embedded)


def test_counts_are_the_same(remote_client, client, shipped_graph):
    remote = _graph(remote_client, "/.well-known/void")
    embedded = _graph(client, "/.well-known/void")
    for g in (remote, embedded):
        for iri, n in shipped_graph.graph_counts.items():
            assert g.value(rdflib.URIRef(iri), VOID.triples).toPython() == n, iri
    assert (remote.value(DATASET, VOID.triples) == embedded.value(DATASET, VOID.triples)
            == rdflib.Literal(shipped_graph.triples))  # each triple in one graph here
    assert len(list(remote.objects(DATASET, VOID.classPartition))) > 10


def test_graph_page_shows_the_counts(remote_client, client, shipped_graph):
    count = f"{shipped_graph.graph_counts[GRAPHS + 'claims']:,}"
    for c in (remote_client, client):
        answer = c.get("/graph/claims.html")
        assert answer.status_code == 200
        assert count in answer.get_data(as_text=True)


def test_dataset_page_answers(remote_client, client):
    for c in (remote_client, client):
        answer = c.get("/dataset.html")
        assert answer.status_code == 200
        assert "schema.org" in answer.get_data(as_text=True)


def _service_description(client: Any) -> tuple[rdflib.Graph, str]:
    """The service description without its comment (which says where the data is held)."""
    g = _graph(client, "/sparql")
    comments = list(g.triples((None, rdflib.RDFS.comment, None)))
    assert len(comments) == 1
    g.remove(comments[0])
    return g, str(comments[0][2])


def test_service_description_is_the_same_graph(remote_client, client, shipped_graph):
    remote, remote_comment = _service_description(remote_client)
    embedded, _ = _service_description(client)
    assert "remote SPARQL store" in remote_comment
    assert isomorphic(remote, embedded), _differences(remote, embedded)
    named = {str(remote.value(node, SD.name)): remote.value(remote.value(node, SD.graph),
                                                            VOID.triples).toPython()
             for node in remote.subjects(rdflib.RDF.type, SD.NamedGraph)}
    assert named == shipped_graph.graph_counts
