"""The editor page: served to browsers only, no inline script, the opening query, the
examples block and the plain form that works without JavaScript."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from peerchange.core.namespaces import BASE
from peerchange.core.queryfiles import all_queries, get_query
from tests.editor.conftest import BROWSER


def body_lines(text: str) -> list[str]:
    """A query file's text without its ``#+`` front matter."""
    return [line for line in text.splitlines() if not line.lstrip().startswith("#+")]


@pytest.mark.parametrize("accept", [BROWSER, "text/html"])
def test_browsers_get_the_editor(client, accept):
    resp = client.get("/sparql", headers={"Accept": accept})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert b'<div id="yasgui"' in resp.data
    assert "Accept" in resp.headers["Vary"]


@pytest.mark.parametrize("accept", ["*/*", None, "text/turtle", "application/rdf+xml"])
def test_other_clients_get_the_service_description(client, accept):
    headers = {"Accept": accept} if accept else {}
    resp = client.get("/sparql", headers=headers)
    assert resp.status_code == 200 and resp.mimetype != "text/html"
    assert b"ServiceDescription" in resp.data or b"sparql-service-description" in resp.data


def test_a_query_in_the_url_is_still_answered(client):
    """``?query=`` is content negotiation as before, even for a browser's Accept."""
    resp = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": BROWSER})
    assert resp.status_code == 200 and resp.mimetype != "text/html"


def test_the_page_extends_the_site_base(page):
    assert page.find("main", id="main") is not None
    assert page.find("form", attrs={"role": "search", "action": "/search"}) is not None
    assert page.title.get_text().startswith("SPARQL query editor")


def test_no_inline_script(page, page_response):
    """CSP ``script-src 'self'``: scripts are files; JSON blocks are data, never run; the
    editor's styles are in the site's stylesheet."""
    assert page.find("style") is None
    for script in page.find_all("script"):
        if script.get("src"):
            assert not script.get_text().strip()
        else:
            assert script.get("type") == "application/json", script
            json.loads(script.get_text())
    for tag in page.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag.name
    srcs = [s["src"] for s in page.find_all("script", src=True)]
    assert srcs == ["/static/vendor/yasgui.min.js", "/static/editor.js"]
    assert page.find("link", rel="stylesheet", href="/static/vendor/yasgui.min.css")
    csp = page_response.headers.get("Content-Security-Policy", "")
    if csp:  # set by the site on every HTML answer
        assert "script-src 'self'" in csp and "connect-src 'self'" in csp


def test_the_editor_root_carries_its_configuration(page):
    root = page.find("div", id="yasgui")
    assert root["data-endpoint"] == "/sparql"
    assert root["data-namespace"] == BASE
    assert root["data-local-root"] == "/"


def test_it_opens_on_the_mechanisms_query(page, client):
    text = page.find("textarea", id="query").get_text()
    mechanisms = get_query("api/mechanisms")
    lines = text.splitlines()
    assert lines[0] == f"# {mechanisms.summary} (queries/api/mechanisms.rq)"
    assert lines[1:] == body_lines(mechanisms.text)
    assert "PREFIX pcm: <https://w3id.org/peerchange/onto/>" in lines
    # and it runs: every change mechanism of the graph is in its answer
    resp = client.get("/sparql", query_string={"query": text, "format": "json"})
    assert resp.status_code == 200
    found = {b["mechanism"]["value"] for b in resp.get_json()["results"]["bindings"]}
    every_query = f"SELECT DISTINCT ?m WHERE {{ ?m a <{BASE}onto/ChangeMechanism> }}"
    every = client.get("/sparql", query_string={"query": every_query, "format": "json"}).get_json()
    assert found == {b["m"]["value"] for b in every["results"]["bindings"]} and found


def test_the_examples_are_every_canned_query(page):
    examples = json.loads(page.find("script", id="examples").get_text())
    files = {name.removeprefix("api/"): q for name, q in all_queries().items()
             if q.kind == "api"}
    assert [e["name"] for e in examples] == sorted(files)
    for example in examples:
        assert example["query"] == files[example["name"]].text
        assert example["summary"] == files[example["name"]].summary
    options = page.find("select", id="example-select").find_all("option")
    assert [o["value"] for o in options] == [e["name"] for e in examples]
    assert page.find("label", attrs={"for": "example-select"})
    assert page.find("button", id="example-open")


def test_the_prefixes_block_is_the_sites_prefixes(page):
    prefixes = json.loads(page.find("script", id="prefixes").get_text())
    assert prefixes["pcm"] == BASE + "onto/" and prefixes["rdfs"].endswith("rdf-schema#")


def test_the_tools_wait_for_javascript(page):
    """The examples, permalink and download links need the editor: hidden until it runs."""
    assert page.find(id="editor-tools").has_attr("hidden")
    assert page.find(id="downloads").has_attr("hidden")
    formats = {a["data-format"] for a in page.select("#download-links a.download")}
    assert formats == {"json", "xml", "csv", "tsv", "turtle", "ntriples", "rdfxml", "jsonld"}


# ----------------------------------------------------------------- without JavaScript

def plain_form(page: BeautifulSoup):
    form = page.find("form", id="plain-query")
    assert form["method"] == "get" and form["action"] == "/sparql"
    textarea = form.find("textarea", attrs={"name": "query"})
    select = form.find("select", attrs={"name": "format"})
    for control in (textarea, select):
        assert form.find("label", attrs={"for": control["id"]}), control
    assert form.find("button", attrs={"type": "submit"})
    return form, textarea, select


@pytest.mark.parametrize("fmt, media", [
    ("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
    ("csv", "text/csv"), ("tsv", "text/tab-separated-values"),
])
def test_the_plain_form_runs_the_query(page, client, fmt, media):
    form, textarea, select = plain_form(page)
    assert fmt in [o["value"] for o in select.find_all("option")]
    resp = client.get(form["action"], query_string={"query": textarea.get_text(), "format": fmt},
                      headers={"Accept": BROWSER})
    assert resp.status_code == 200 and resp.mimetype == media
    assert b"trusting-relationships" in resp.data


@pytest.mark.parametrize("fmt, media", [("turtle", "text/turtle"),
                                        ("ntriples", "application/n-triples")])
def test_the_plain_form_runs_a_construct_query(page, client, fmt, media):
    form, _, select = plain_form(page)
    assert fmt in [o["value"] for o in select.find_all("option")]
    query = ("CONSTRUCT { ?m a <https://w3id.org/peerchange/onto/ChangeMechanism> } WHERE "
             "{ ?m a <https://w3id.org/peerchange/onto/ChangeMechanism> }")
    resp = client.get(form["action"], query_string={"query": query, "format": fmt},
                      headers={"Accept": BROWSER})
    assert resp.status_code == 200 and resp.mimetype == media


def test_a_bad_query_from_the_plain_form_says_why(client):
    resp = client.get("/sparql", query_string={"query": "SELEC nothing", "format": "json"},
                      headers={"Accept": BROWSER})
    assert resp.status_code == 400
    assert b"does not parse" in resp.data
