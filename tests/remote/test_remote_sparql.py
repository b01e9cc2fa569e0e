"""The SPARQL endpoint over a remote store (Virtuoso): the same answers, formats and caps
as over the embedded store, the union default graph, datasets passed through."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _count(client, query: str, **params) -> int:
    answer = client.get("/sparql", query_string={"query": query, **params},
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return int(answer.get_json()["results"]["bindings"][0]["n"]["value"])


def test_health_names_the_remote_store(remote_client, shipped_graph, published):
    answer = remote_client.get("/health")
    assert answer.status_code == 200
    doc = answer.get_json()
    assert doc["ready"] is True
    assert doc["store"] == "remote"
    assert doc["data_version"] == shipped_graph.version
    assert doc["triples"] == shipped_graph.triples


def test_union_default_graph_counts_like_the_embedded_store(remote_client, client):
    assert _count(remote_client, COUNT_ALL) == _count(client, COUNT_ALL)


ORDERED = ("SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
           " ORDER BY ?s ?label LIMIT 40")
GRAPH_QUERY = ("CONSTRUCT { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } WHERE { "
               "?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?s ?l LIMIT 30")


@pytest.mark.parametrize("accept", [
    "application/sparql-results+json", "application/sparql-results+xml", "text/csv",
    "text/tab-separated-values"])
def test_select_formats_are_ours_byte_for_byte(remote_client, client, accept):
    local = client.get("/sparql", query_string={"query": ORDERED}, headers={"Accept": accept})
    remote = remote_client.get("/sparql", query_string={"query": ORDERED},
                               headers={"Accept": accept})
    assert remote.status_code == local.status_code == 200
    assert remote.content_type == local.content_type
    assert remote.data == local.data
    assert remote.headers["ETag"] == local.headers["ETag"]


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples",
                                    "application/ld+json"])
def test_graph_formats_are_ours(remote_client, client, accept):
    local = client.get("/sparql", query_string={"query": GRAPH_QUERY},
                       headers={"Accept": accept})
    remote = remote_client.get("/sparql", query_string={"query": GRAPH_QUERY},
                               headers={"Accept": accept})
    assert remote.status_code == local.status_code == 200
    assert remote.content_type == local.content_type
    if accept == "application/ld+json":  # one line; the nodes' order is the engine's
        assert sorted(map(str, remote.get_json())) == sorted(map(str, local.get_json()))
    else:
        assert sorted(remote.data.splitlines()) == sorted(local.data.splitlines())


def test_ask(remote_client):
    answer = remote_client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"},
                               headers={"Accept": "application/sparql-results+json"})
    assert answer.get_json()["boolean"] is True


def test_our_row_cap_cuts_and_says_so(published, dumps_dir):
    from peerchange.web import create_app
    from tests.conftest import app_settings

    app = create_app(app_settings(dumps_dir / "capped", endpoint=published.sparql,
                                  max_rows=5))
    answer = app.test_client().get("/sparql", query_string={"query": ORDERED},
                                   headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200
    assert answer.headers["Peerchange-Truncated"]
    assert len(answer.get_json()["results"]["bindings"]) == 5


def test_dataset_parameters_pass_through(remote_client, client):
    ontology = "https://w3id.org/peerchange/graph/ontology"
    remote = _count(remote_client, COUNT_ALL, **{"default-graph-uri": ontology})
    assert remote == _count(client, COUNT_ALL, **{"default-graph-uri": ontology})
    assert 0 < remote < _count(remote_client, COUNT_ALL)


def test_from_is_left_to_the_store(remote_client, client):
    query = ("SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/peerchange/graph/ontology> "
             "WHERE { ?s ?p ?o }")
    assert _count(remote_client, query) == _count(client, query)


def test_named_graphs_of_the_union(remote_client, client):
    query = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert _count(remote_client, query) == _count(client, query)


def test_service_is_refused_before_the_store_sees_anything(remote_app, remote_client):
    remote = remote_app.services.graph.remote
    before = remote.queries
    answer = remote_client.get("/sparql", query_string={
        "query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"})
    assert answer.status_code == 400
    assert "SERVICE" in answer.get_data(as_text=True)
    assert remote.queries == before


def test_a_syntax_error_is_400_with_the_stores_words(remote_client):
    # passes our scan, refused by the store's parser
    answer = remote_client.get("/sparql", query_string={"query": "SELECT ?x WHERE { ?x ?y }"},
                               headers={"Accept": "application/json"})
    assert answer.status_code == 400
    assert "store rejected" in answer.get_data(as_text=True)


def test_dumps_come_from_the_store_and_match(remote_client, client):
    with client.get("/dumps/latest/peerchange.ttl") as local, \
            remote_client.get("/dumps/latest/peerchange.ttl") as remote:
        assert remote.status_code == local.status_code == 200
        assert remote.data == local.data
    counts = []
    for the_client in (client, remote_client):
        with the_client.get("/dumps/latest/manifest.json") as manifest:
            counts.append({f["name"]: f["statements"] for f in manifest.get_json()["files"]})
    assert counts[1] == counts[0]


def test_describe_is_the_concise_bounded_description(remote_client, client):
    query = "DESCRIBE <https://w3id.org/peerchange/id/mechanism/engagement>"
    answers = [c.get("/sparql", query_string={"query": query},
                     headers={"Accept": "application/n-triples"}) for c in (client,
                                                                          remote_client)]
    assert answers[0].status_code == answers[1].status_code == 200
    assert sorted(answers[1].data.splitlines()) == sorted(answers[0].data.splitlines())


def test_the_protocol_dataset_overrides_from(remote_client, client):
    # Virtuoso would add FROM's graphs to the protocol's: the clause is not sent
    query = ("SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/peerchange/graph/ontology> "
             "WHERE { ?s ?p ?o }")
    params = {"default-graph-uri": "https://w3id.org/peerchange/graph/mechanisms"}
    assert _count(remote_client, query, **params) == _count(client, query, **params)
