"""303 See Other from every kind of thing to its document, chosen by content negotiation."""

from __future__ import annotations

import pytest

from tests.linkeddata.conftest import BROWSER_ACCEPT, EXTENSION_TYPES

# one IRI path of each kind the server dereferences
THINGS = [
    "id/mechanism/engagement",
    "id/claim/role-modelling--groundedIn--social-learning",
    "id/ref/Bandura1977",
    "id/ref/Gillard2015/author/1",
    "onto/ChangeMechanism",
    "onto/groundedIn",
    "onto",
    "graph/curated",
    "graph/ontology",
]

# Accept header → extension of the document the 303 points to
CASES = [
    (None, "ttl"),                                            # no Accept: Turtle
    ("*/*", "ttl"),
    ("text/turtle", "ttl"),
    ("application/x-turtle", "ttl"),
    ("text/n3", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/json", "jsonld"),
    ("application/rdf+xml", "rdf"),
    ("application/xml", "rdf"),
    ("application/n-triples", "nt"),
    ("text/plain", "nt"),
    ("text/html", "html"),
    ("application/xhtml+xml", "html"),
    (BROWSER_ACCEPT, "html"),                                 # a browser
    ("text/*", "ttl"),
    ("text/turtle;q=0.5, application/ld+json;q=0.9", "jsonld"),
    ("application/ld+json;q=0.2, application/rdf+xml", "rdf"),
    ("text/html;q=0.1, application/n-triples;q=0.3", "nt"),
    ("text/html;q=0.9, text/turtle", "ttl"),
    ("text/turtle;charset=utf-8", "ttl"),
    ("image/png, application/ld+json;q=0.1", "jsonld"),
    ("text/turtle;q=0, */*;q=0.5", "jsonld"),                  # refused Turtle: next offer
]


@pytest.mark.parametrize(("accept", "ext"), CASES, ids=[str(c[0]) for c in CASES])
def test_accept_picks_the_document(client, accept, ext):
    headers = {"Accept": accept} if accept is not None else {}
    resp = client.get("/id/mechanism/engagement", headers=headers)
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"http://localhost/id/mechanism/engagement.{ext}"
    assert "Accept" in {v.strip() for v in resp.headers["Vary"].split(",")}


@pytest.mark.parametrize("path", THINGS)
@pytest.mark.parametrize("ext", sorted(EXTENSION_TYPES))
def test_every_thing_answers_303_to_each_format(client, path, ext):
    resp = client.get("/" + path, headers={"Accept": EXTENSION_TYPES[ext]})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    target = resp.headers["Location"]
    assert target == f"http://localhost/{path}.{ext}"
    doc = client.get(target)
    assert doc.status_code == 200
    assert doc.headers["Content-Type"].split(";")[0] == EXTENSION_TYPES[ext]


@pytest.mark.parametrize("path", THINGS)
def test_full_path_twin_redirects_under_the_full_path(client, path):
    resp = client.get("/peerchange/" + path, headers={"Accept": "application/ld+json"})
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"http://localhost/peerchange/{path}.jsonld"
    assert client.get(resp.headers["Location"]).status_code == 200


def test_format_parameter_wins_over_accept(client):
    resp = client.get("/id/mechanism/engagement?format=nt", headers={"Accept": "text/html"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/id/mechanism/engagement.nt")


def test_links_to_canonical_iri_and_every_alternate(client):
    resp = client.get("/id/mechanism/engagement")
    link = resp.headers["Link"]
    assert '<https://w3id.org/peerchange/id/mechanism/engagement>; rel="canonical"' in link
    for ext, media in EXTENSION_TYPES.items():
        assert (f'<http://localhost/id/mechanism/engagement.{ext}>; rel="alternate"; '
                f'type="{media}"') in link


def test_links_use_the_host_of_the_request(make_app):
    # an allowed host (any other Host is refused: tests/security/test_hosts.py)
    client = make_app(allowed_hosts=["example.org"]).test_client()
    resp = client.get("/onto/Claim", base_url="https://example.org:8443")
    assert resp.headers["Location"] == "https://example.org:8443/onto/Claim.ttl"
    assert "<https://example.org:8443/onto/Claim.html>" in resp.headers["Link"]


def test_nothing_acceptable_is_406_with_the_offer(client):
    resp = client.get("/id/mechanism/engagement", headers={"Accept": "image/png"})
    assert resp.status_code == 406
    body = resp.get_data(as_text=True)
    for media in ("text/turtle", "application/ld+json", "application/rdf+xml",
                  "application/n-triples", "text/html"):
        assert media in body
    assert "Accept" in {v.strip() for v in resp.headers["Vary"].split(",")}


def test_unknown_format_parameter_is_406(client):
    resp = client.get("/id/mechanism/engagement?format=pdf")
    assert resp.status_code == 406
    assert "turtle" in resp.get_data(as_text=True)


def test_head_answers_303_without_a_body(client):
    resp = client.head("/id/mechanism/engagement", headers={"Accept": "text/html"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(".html")
    assert resp.data == b""


def test_cors_on_the_redirect(client):
    resp = client.get("/id/mechanism/engagement", headers={"Origin": "https://example.org"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    exposed = resp.headers["Access-Control-Expose-Headers"]
    for header in ("Link", "ETag", "Vary", "Content-Location"):
        assert header in exposed


def test_cors_preflight(client):
    resp = client.options("/id/mechanism/engagement.ttl", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in resp.headers["Access-Control-Allow-Methods"]


def test_version_iri_of_the_ontology(client):
    version = client.get("/health").get_json()["ontology_version"]
    resp = client.get(f"/releases/{version}/onto", headers={"Accept": "application/rdf+xml"})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "http://localhost/onto.rdf"
    twin = client.get(f"/peerchange/releases/{version}/onto")
    assert twin.headers["Location"] == "http://localhost/peerchange/onto.ttl"
    old = client.get("/releases/0.0.1/onto")
    assert old.status_code == 404
    assert version in old.get_data(as_text=True)


def test_trailing_slash_redirects_to_the_iri(client):
    resp = client.get("/id/mechanism/engagement/")
    assert resp.status_code == 301
    assert resp.headers["Location"] == "http://localhost/id/mechanism/engagement"
