"""The resource pages, labels and the diagram read what they show, not the whole graph:
an IRI's existence is one lookup, labels are looked up per IRI, the diagram's claims per
node; with other studies loaded they say what they say without them."""

from __future__ import annotations

import re

import pytest

from peerchange.services.resources import ResourceService
from peerchange.services.terms import labels

pytestmark = pytest.mark.slow

W3ID = "https://w3id.org/peerchange/"
MECHANISM = W3ID + "id/mechanism/role-modelling"


def test_a_resource_page_reads_no_list_of_every_resource(scaled_app):
    resources = ResourceService(scaled_app.services.sparql)
    assert resources.exists(MECHANISM)
    assert resources.exists(W3ID + "id/mechanism/synth-1-m1")
    assert resources.exists(W3ID + "onto")
    assert resources.exists(W3ID + "graph/claims")
    assert not resources.exists(W3ID + "id/mechanism/no-such-mechanism")
    assert not resources.exists("https://example.org/elsewhere")
    page = resources.page(MECHANISM)
    assert page.label.startswith("role-modelling")
    assert "known" not in vars(resources)  # the whole-graph list was never read


def test_the_lookup_agrees_with_the_list_of_pages(scaled_app):
    resources = ResourceService(scaled_app.services.sparql)
    pages = resources.pages()
    assert MECHANISM in pages and W3ID + "id/mechanism/synth-1-m1" in pages
    for iri in pages[::97]:
        assert resources.exists(iri), iri
    assert not resources.exists(W3ID + "id/claim/not-a-claim")


def test_labels_looked_up_per_iri_are_the_graphs_labels(scaled_app, client):
    mine = labels(scaled_app.services.sparql)
    shipped = labels(client.application.services.sparql)
    for iri in (MECHANISM, W3ID + "onto/Claim", W3ID + "id/theory/social-learning"):
        assert mine.get(iri) == shipped.get(iri) is not None
    assert mine.get(W3ID + "id/mechanism/no-such-mechanism") is None
    assert mine.get(W3ID + "id/mechanism/no-such-mechanism", "x") == "x"


def test_the_resource_page_of_a_shipped_mechanism_is_unchanged(scaled, client):
    # (not a term of the ontology or a theory: other studies link to those)
    for path in ("/id/mechanism/role-modelling.html", "/id/mechanism/role-modelling.ttl",
                 "/graph/claims.html"):
        mine, shipped = scaled.get(path), client.get(path)
        assert mine.status_code == shipped.status_code == 200, path
        assert _versionless(mine.data) == _versionless(shipped.data), path


def _versionless(page: bytes) -> bytes:
    """A page without its footer's data version (the data differ, by design)."""
    return re.sub(rb"Data version [0-9a-f]+", b"", page)


def test_the_diagram_of_the_shipped_model_is_unchanged(scaled, client):
    for path in ("/diagram.txt", "/diagram.dot"):
        mine, shipped = scaled.get(path), client.get(path)
        assert mine.status_code == shipped.status_code == 200, path
        assert mine.data == shipped.data, path
