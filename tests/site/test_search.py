"""The search box: one clear match goes to its page (303), several are listed (HTML or
JSON), nothing is a 404 with the closest names."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.conftest import media_type, sparql_rows
from tests.site.conftest import BROWSER, soup

JSON = {"Accept": "application/json"}
HTML = {"Accept": BROWSER}


def label_of(client, iri: str) -> str:
    return sparql_rows(client, f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?l WHERE {{ <{iri}> rdfs:label ?l }}""")[0]["l"]


@pytest.mark.parametrize(("iri", "target"), [
    ("https://w3id.org/peerchange/id/mechanism/role-modelling", "/trace/role-modelling"),
    ("https://w3id.org/peerchange/id/theory/attachment", "/id/theory/attachment"),
    ("https://w3id.org/peerchange/id/outcome/hope", "/id/outcome/hope"),
    ("https://w3id.org/peerchange/id/ref/Bandura1977", "/cited/Bandura1977"),
])
def test_an_exact_label_goes_to_its_page(client, iri, target):
    label = label_of(client, iri)
    for variant in (label, label.upper(), f"  {label} "):
        resp = client.get("/search?q=" + quote(variant), headers=HTML)
        assert resp.status_code == 303, variant
        assert resp.headers["Location"] == target
        assert "Accept" in resp.headers["Vary"]


@pytest.mark.parametrize(("text", "target"), [
    ("Bandura1977", "/cited/Bandura1977"),          # a reference key
    ("bandura1977", "/cited/Bandura1977"),
    ("engagement", "/trace/engagement"),            # a mechanism's slug
    ("attachment theory", "/id/theory/attachment"),
])
def test_keys_slugs_and_names_go_to_their_pages(client, text, target):
    resp = client.get("/search", query_string={"q": text}, headers=HTML)
    assert resp.status_code == 303
    assert resp.headers["Location"] == target
    # the redirected page is served
    page = client.get(target, headers=HTML)
    assert page.status_code in (200, 303)


def test_the_303_target_is_a_page_for_a_browser(client):
    resp = client.get("/search?q=hope", headers=HTML, follow_redirects=True)
    assert resp.status_code == 200
    assert media_type(resp) == "text/html"
    assert "<h1>hope" in resp.get_data(as_text=True)


def test_several_matches_are_listed(client):
    resp = client.get("/search?q=gillard", headers=HTML)
    assert resp.status_code == 200
    page = soup(resp)
    items = page.select("ol.results li")
    assert len(items) >= 5
    hrefs = [li.find("a")["href"] for li in items]
    assert "/cited/Gillard2015" in hrefs
    assert all(h.startswith("/cited/Gillard") for h in hrefs)
    # the query stays in the search box
    assert page.find(id="site-search")["value"] == "gillard"


def test_several_matches_as_json(client):
    resp = client.get("/search?q=theory", headers=JSON)
    assert resp.status_code == 200
    assert media_type(resp) == "application/json"
    doc = resp.get_json()
    assert doc["query"] == "theory"
    kinds = {r["kind"] for r in doc["results"]}
    assert {"theory", "family"} <= kinds
    for r in doc["results"]:
        assert set(r) >= {"iri", "label", "kind", "href"}
        assert r["href"].startswith("/")


def test_searches_every_kind(client):
    kinds = {"mechanism": "trusting", "component": "building trust",
             "construct": "working alliance", "family": "theory on role-modelling",
             "outcome": "hope", "work": "Festinger1955", "theory": "self-efficacy theory"}
    for kind, text in kinds.items():
        resp = client.get("/search", query_string={"q": text}, headers=JSON)
        assert resp.status_code in (200, 303), text
        found = {r["kind"] for r in resp.get_json()["results"]} if resp.status_code == 200 \
            else None
        if found is not None:
            assert kind in found, (text, found)


def test_nothing_found_is_a_404_with_suggestions(client):
    resp = client.get("/search?q=sosial+lurning", headers=HTML)
    assert resp.status_code == 404
    page = soup(resp)
    assert "Did you mean" in page.get_text()
    links = [a["href"] for a in page.select("ul.suggestions a")]
    assert "/id/theory/social-learning" in links
    assert page.find(id="search-again")["value"] == "sosial lurning"


def test_nothing_found_as_json(client):
    resp = client.get("/search?q=sosial+lurning", headers=JSON)
    assert resp.status_code == 404
    assert media_type(resp) == "application/json"
    doc = resp.get_json()
    assert doc["ok"] is False and doc["status"] == 404
    assert doc["query"] == "sosial lurning" and doc["results"] == []
    assert any(s["href"] == "/id/theory/social-learning" for s in doc["suggestions"])
    nothing = client.get("/search?q=xyzzy-nothing", headers=JSON)
    assert nothing.status_code == 404
    assert nothing.get_json()["query"] == "xyzzy-nothing"


def test_an_empty_search_shows_the_form(client):
    for url in ("/search", "/search?q=", "/search?q=%20%20"):
        resp = client.get(url, headers=HTML)
        assert resp.status_code == 200
        assert soup(resp).find(id="search-page") is not None
    assert client.get("/search", headers=JSON).get_json() == {"query": "", "results": []}


def test_markup_in_the_query_stays_text(client):
    resp = client.get("/search", query_string={"q": "<script>alert(1)</script>"}, headers=HTML)
    assert resp.status_code == 404
    body = resp.get_data(as_text=True)
    assert "<script>alert" not in body
    assert "&lt;script&gt;" in body


def test_a_label_with_markup_is_found_and_escaped(hostile_client):
    resp = hostile_client.get("/search?q=hostile", headers=HTML)
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/id/theory/hostile-test"
    listed = hostile_client.get("/search?q=theory", headers=HTML).get_data(as_text=True)
    assert "&lt;script&gt;alert(2)&lt;/script&gt; hostile theory" in listed
    assert "<script>alert(2)" not in listed


def test_a_label_wins_over_a_title_of_the_same_words(client):
    # the theory is labelled "social learning theory"; Bandura (1977) has that title
    resp = client.get("/search?q=Social+Learning+Theory", headers=HTML)
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/id/theory/social-learning"


def test_names_are_compared_blind_to_case_and_punctuation():
    from peerchange.services.search import normalise

    assert normalise("Role-Modelling  (Individual) ") == "role modelling individual"
    assert normalise("self_efficacy") == "self efficacy"


@pytest.mark.slow  # a graph of its own
def test_the_index_is_not_held_to_a_clients_deadline(make_app, tmp_path):
    """The index is read once per data version under its own limit: a search answers even
    where every query of a client is stopped at once (a graph of its own, so the index is
    built here, not found from another app)."""
    extra = tmp_path / "one.nt"
    extra.write_text("<https://example.org/deadline-test> "
                     "<http://www.w3.org/2000/01/rdf-schema#comment> \"x\" .\n")
    app = make_app(extra_files=[str(extra)], query_timeout=1e-6)
    client = app.test_client()
    assert client.get("/sparql?query=ASK%20%7B%7D", headers=JSON).status_code == 503
    resp = client.get("/search?q=role%20modelling", headers=JSON)
    assert resp.status_code in (200, 303), resp.status_code
