"""Unknown IRIs, extensions and releases: 404 with a helpful answer (HTML, JSON or text by
Accept) that suggests close matches."""

from __future__ import annotations

import pytest

from tests.conftest import media_type
from tests.linkeddata.conftest import BROWSER_ACCEPT

# a mistyped IRI path → a path that must be among the suggestions
TYPOS = [
    ("id/mechanism/engagment", "id/mechanism/engagement"),
    ("id/mechanism/role-modeling", "id/mechanism/role-modelling"),
    ("id/theory/social-learnin", "id/theory/social-learning"),
    ("id/theories/attachment", "id/theory/attachment"),
    ("onto/changemechanism", "onto/ChangeMechanism"),
    ("onto/groundedin", "onto/groundedIn"),
    ("graph/curate", "graph/curated"),
    ("id/ref/Bandura1978", "id/ref/Bandura1977"),
]


@pytest.mark.parametrize(("path", "expected"), TYPOS)
def test_typo_gets_404_with_the_right_suggestion(client, path, expected):
    resp = client.get("/" + path)
    assert resp.status_code == 404
    assert media_type(resp) == "text/plain"
    body = resp.get_data(as_text=True)
    assert f"https://w3id.org/peerchange/{path}" in body
    assert f"http://localhost/{expected} " in body, body
    assert "Accept" in {v.strip() for v in resp.headers["Vary"].split(",")}


@pytest.mark.parametrize(("path", "expected"), TYPOS[:3])
def test_documents_of_unknown_iris_are_404_too(client, path, expected):
    resp = client.get(f"/{path}.ttl")
    assert resp.status_code == 404
    assert f"http://localhost/{expected} " in resp.get_data(as_text=True)


def test_browser_gets_an_html_404_page(client):
    resp = client.get("/id/mechanism/engagment", headers={"Accept": BROWSER_ACCEPT})
    assert resp.status_code == 404
    assert media_type(resp) == "text/html"
    html = resp.get_data(as_text=True)
    assert "Did you mean" in html
    assert 'href="http://localhost/id/mechanism/engagement"' in html
    assert 'href="http://localhost/sitemap.xml"' in html


def test_json_client_gets_json_404(client):
    resp = client.get("/onto/Mechanism", headers={"Accept": "application/json"})
    assert resp.status_code == 404
    doc = resp.get_json()
    assert doc["ok"] is False and doc["status"] == 404
    assert doc["iri"] == "https://w3id.org/peerchange/onto/Mechanism"
    # one JSON shape for every 404 of the site (the trace's and the canned API's too)
    assert doc["error"] == "Not found"
    assert any(s["href"] == "http://localhost/onto/ChangeMechanism" for s in doc["suggestions"])


def test_rdf_client_gets_a_text_404(client):
    resp = client.get("/id/mechanism/nothing-like-this-at-all", headers={"Accept": "text/turtle"})
    assert resp.status_code == 404
    assert media_type(resp) == "text/plain"
    assert "sitemap.xml" in resp.get_data(as_text=True)


def test_a_kind_lists_what_is_under_it(client):
    body = client.get("/id/mechanism").get_data(as_text=True)
    for slug in ("engagement", "role-modelling", "trusting-relationships"):
        assert f"http://localhost/id/mechanism/{slug} " in body


def test_full_path_404_suggests_full_path_urls(client):
    resp = client.get("/peerchange/id/mechanism/engagment")
    assert resp.status_code == 404
    assert "http://localhost/peerchange/id/mechanism/engagement " in resp.get_data(as_text=True)


@pytest.mark.parametrize("ext", ["xyz", "json", "TTL", "owl"])
def test_unknown_extension_lists_the_extensions(client, ext):
    resp = client.get(f"/id/mechanism/engagement.{ext}")
    assert resp.status_code == 404
    body = resp.get_data(as_text=True)
    assert ".ttl, .jsonld, .rdf, .nt, .html" in body
    assert "http://localhost/id/mechanism/engagement.jsonld " in body


def test_unknown_dataset_extension(client):
    resp = client.get("/dataset.pdf")
    assert resp.status_code == 404
    assert ".ttl, .jsonld, .rdf, .nt, .html" in resp.get_data(as_text=True)


def test_head_on_404(client):
    resp = client.head("/id/mechanism/engagment")
    assert resp.status_code == 404
    assert resp.data == b""


def test_404_has_cors(client):
    resp = client.get("/id/x/y", headers={"Origin": "https://example.org"})
    assert resp.status_code == 404
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_no_trace_in_error_bodies(client):
    for path in ("/id/%00", "/id/" + "x" * 3000, "/onto/..%2F..%2Fetc", "/graph/a.b.c"):
        resp = client.get(path)
        assert resp.status_code in (404, 400), path
        body = resp.get_data(as_text=True)
        assert "Traceback" not in body and 'File "' not in body


def test_namespace_roots(client):
    assert client.get("/onto/").headers["Location"] == "http://localhost/onto"
    ids = client.get("/id/")
    assert ids.status_code == 404
    assert "http://localhost/id/mechanism " in ids.get_data(as_text=True)
    graphs = client.get("/peerchange/graph/")
    assert graphs.status_code == 404
    assert "http://localhost/peerchange/graph/curated " in graphs.get_data(as_text=True)
