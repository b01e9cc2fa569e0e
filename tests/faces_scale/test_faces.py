"""Every face answers over the shipped study plus 30 other studies, and what it says about
the shipped study is what it says without them."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from tests.conftest import sparql_count

pytestmark = pytest.mark.slow

W3ID = "https://w3id.org/peerchange/"
MECHANISM = W3ID + "id/mechanism/role-modelling"

FACES = [
    "/", "/?format=ttl", "/dataset", "/dataset.ttl", "/.well-known/void", "/trace",
    "/trace/role-modelling", "/trace/role-modelling.ttl", "/trace/role-modelling.json",
    "/trace/engagement", "/cited/Bandura1977", "/references",
    "/id/mechanism/role-modelling", "/id/theory/social-learning",
    "/id/outcome/personal-recovery", "/id/study/gillard2015", "/onto", "/onto/Claim",
    "/graph/claims", "/graph/synth/study-1", "/search?q=role+modelling&format=json",
    "/search?q=social", "/sitemap.xml", "/api", "/api/openapi.json",
    "/api/mechanisms", "/api/claim-counts", "/api/paper-references",
    "/dumps/", "/dumps/latest/manifest.json", "/dumps/latest/peerchange.ttl",
]


@pytest.mark.parametrize("path", FACES)
def test_every_face_answers(scaled, path):
    resp = scaled.get(path)
    body = resp.get_data()
    resp.close()  # a dump is sent from its file
    assert resp.status_code in (200, 303), (path, resp.status_code, body[:300])


def _rdf(resp, fmt=ox.RdfFormat.TURTLE) -> set[ox.Triple]:
    assert resp.status_code == 200
    return {t for t in ox.parse(resp.get_data(), format=fmt)
            if not any(isinstance(x, ox.BlankNode) for x in (t.subject, t.object))}


@pytest.mark.parametrize("path", ["/trace/role-modelling.json", "/trace/engagement.json",
                                  "/trace/trusting-relationships.json"])
def test_the_shipped_trace_is_unchanged(client, scaled, path):
    """The trace shows the shipped study's links only: the same document, counts included."""
    assert scaled.get(path).get_json() == client.get(path).get_json()


def test_the_shipped_trace_rdf_is_unchanged(client, scaled):
    path = "/trace/role-modelling.ttl"
    assert _rdf(scaled.get(path)) == _rdf(client.get(path))


def test_the_reverse_trace_of_a_shipped_work_keeps_every_shipped_claim(client, scaled):
    """A work's reverse trace shows every claim that cites it, in any study: the shipped
    study's claims are all still there (the synthetic studies cite Bandura 1977 too)."""
    a, b = client.get("/cited/Bandura1977.json"), scaled.get("/cited/Bandura1977.json")
    assert a.status_code == b.status_code == 200
    shipped = set(re.findall(r'"(https://w3id.org/peerchange/id/claim/[^"]+)"', a.get_data(True)))
    assert shipped
    assert shipped <= set(re.findall(r'"(https://w3id.org/peerchange/id/claim/[^"]+)"',
                                     b.get_data(True)))


@pytest.mark.parametrize("name", ["mechanisms", "mechanism-theories", "mechanism-outcomes",
                                  "mechanism-works", "evidence-gaps"])
def test_canned_answers_about_a_shipped_mechanism_are_unchanged(client, scaled, name):
    path = f"/api/{name}?mechanism={MECHANISM}" if name != "evidence-gaps" else (
        f"/api/{name}?resource={MECHANISM}")
    a, b = client.get(path), scaled.get(path)
    assert a.status_code == 200
    assert a.get_json()["rows"]
    assert b.get_json()["rows"] == a.get_json()["rows"]


def test_resource_page_of_a_shipped_mechanism_is_unchanged(client, scaled):
    path = "/id/mechanism/role-modelling.ttl"
    assert _rdf(scaled.get(path)) == _rdf(client.get(path))


def test_home_page_shows_the_shipped_model_and_counts_everything(client, scaled):
    mine = scaled.application.services.home.summary()
    shipped = client.application.services.home.summary()
    assert mine.model == shipped.model
    expected = sparql_count(scaled, "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE "
                            "{ ?m a <https://w3id.org/peerchange/onto/ChangeMechanism> }")
    assert mine.counts["mechanisms"] == expected > shipped.counts["mechanisms"]
    assert scaled.get("/").status_code == 200


def test_search_finds_shipped_and_synthetic_resources(scaled):
    found = scaled.get("/search?q=role+modelling&format=json")
    assert found.status_code in (200, 303)
    assert found.headers.get("Location", "").endswith("/trace/role-modelling") or any(
        r["iri"] == MECHANISM for r in found.get_json()["results"])
    labels = {e.label for e in scaled.application.services.search.entries}
    assert any("synthetic" in label.casefold() for label in labels)


def test_dataset_counts_every_named_graph(scaled):
    graph = scaled.application.services.graph
    description = scaled.application.services.description
    counts = description.graph_counts
    assert {g: c.triples for g, c in counts.items() if g in graph.graph_counts} == {
        g: n for g, n in graph.graph_counts.items() if g in counts}
    assert W3ID + "graph/synth/study-1" in counts
