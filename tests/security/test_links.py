"""Row 13 of issue 8: data with ``rdfs:seeAlso <javascript:...>`` (and ``data:``,
``vbscript:``, mixed case, ``file:``) never becomes a clickable link on the resource, trace
or search pages; only ``http(s)`` IRIs and the site's own paths are links. (Turtle refuses
spaces, tabs and newlines inside an IRI, escaped or not, so ``< javascript:...>`` cannot
reach a page.)
"""

from __future__ import annotations

import json

import pytest
import requests
from bs4 import BeautifulSoup

from tests.security.conftest import UNSAFE_IRIS

BROWSER = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
SAFE_PREFIXES = ("/", "#", "http:", "https:", "mailto:")
PAGES = ["/id/mechanism/role-modelling.html", "/id/theory/attachment.html",
         "/id/theory/hostile-links.html", "/trace/role-modelling", "/trace",
         "/search?q=Hostile", "/search?q=hostile+scheme+theory", "/cited/Bandura1977",
         "/graph/extra/hostile-links.html", "/dataset.html", "/"]


@pytest.fixture(scope="module")
def hostile_client(make_app, hostile_extra):
    return make_app(extra_files=[str(hostile_extra)]).test_client()


def unsafe_links(html: str) -> list[str]:
    """Every ``href``/``src``/``action``/``formaction`` that is not a site path, a
    fragment, http(s) or mailto (protocol-relative ``//host`` counts as unsafe)."""
    doc = BeautifulSoup(html, "html.parser")
    found = []
    for tag in doc.find_all(True):
        for attr in ("href", "src", "action", "formaction", "xlink:href"):
            value = tag.get(attr)
            if value is None:
                continue
            text = str(value).strip()
            if tag.name == "link" and "icon" in (tag.get("rel") or []) and text == "data:,":
                continue  # base.html's empty favicon (no request for /favicon.ico)
            if not text.lower().startswith(SAFE_PREFIXES) or text.startswith("//"):
                found.append(f"<{tag.name} {attr}={text!r}>")
    return found


@pytest.mark.parametrize("path", PAGES)
def test_pages_link_no_unsafe_scheme(hostile_client, path):
    resp = hostile_client.get(path, headers={"Accept": BROWSER})
    assert resp.status_code in (200, 303), (path, resp.status_code)
    if resp.status_code == 303:
        resp = hostile_client.get(resp.headers["Location"], headers={"Accept": BROWSER})
    assert unsafe_links(resp.get_data(as_text=True)) == []


def test_the_unsafe_iris_are_shown_as_text(hostile_client):
    html = hostile_client.get("/id/theory/hostile-links.html",
                              headers={"Accept": BROWSER}).get_data(as_text=True)
    doc = BeautifulSoup(html, "html.parser")
    text = doc.get_text()
    for iri in UNSAFE_IRIS:
        shown = iri.replace("<", "%3C").replace(">", "%3E")
        assert shown in text, shown
    # the http(s) one is a link
    assert doc.find("a", href="https://example.org/fine") is not None


def test_search_lists_an_unsafe_iri_without_a_link(hostile_client):
    resp = hostile_client.get("/search?q=Hostile", headers={"Accept": "application/json"})
    results = resp.get_json()["results"]
    unsafe = [r for r in results if r["iri"] == UNSAFE_IRIS[0]]
    assert unsafe, results
    page = hostile_client.get("/search?q=Hostile", headers={"Accept": BROWSER})
    assert unsafe_links(page.get_data(as_text=True)) == []
    assert "Hostile scheme theory" in page.get_data(as_text=True)


@pytest.mark.slow
def test_a_real_server_links_no_unsafe_scheme(start_live_server, hostile_extra):
    srv = start_live_server(str(hostile_extra))
    for path in PAGES:
        resp = requests.get(srv.base + path, headers={"Accept": BROWSER}, timeout=30)
        assert resp.status_code == 200, (path, resp.status_code)
        assert unsafe_links(resp.text) == [], path


@pytest.mark.parametrize("iri", [" javascript:alert(1)", "\tjavascript:x", "\njavascript:x",
                                 "java\tscript:x", "java\\u0009script:x"])
def test_no_format_lets_whitespace_into_an_iri(tmp_path, iri):
    """Browsers strip whitespace around and inside a URL's scheme; the loader never lets
    such an IRI through (the link test would not link it either: it is not http(s))."""
    from peerchange.core.errors import SourceError
    from peerchange.core.sources import extra_source
    from peerchange.core.store import source_ntriples

    subject = "https://w3id.org/peerchange/id/theory/attachment"
    see_also = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
    files = {
        "t.ttl": f"<{subject}> <{see_also}> <{iri}> .",
        "x.rdf": ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                  'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">'
                  f'<rdf:Description rdf:about="{subject}"><rdfs:seeAlso rdf:resource='
                  f'"{iri.replace(chr(9), "&#9;").replace(chr(10), "&#10;")}"/>'
                  "</rdf:Description></rdf:RDF>"),
        "j.jsonld": json.dumps({"@id": subject, see_also: {"@id": iri}}),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        try:
            lines = list(source_ntriples([extra_source(tmp_path / name)]))
        except SourceError:
            continue
        assert not any("script:" in line for line in lines), (name, lines)
