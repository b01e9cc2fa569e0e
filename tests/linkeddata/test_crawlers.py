"""sitemap.xml lists every resource page; robots.txt points to it and keeps crawlers off
SPARQL queries."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.conftest import media_type, sparql_rows
from tests.linkeddata.conftest import W3ID

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _sitemap_urls(client, path="/sitemap.xml") -> list[str]:
    resp = client.get(path)
    assert resp.status_code == 200
    assert media_type(resp) == "application/xml"
    root = ET.fromstring(resp.data)
    assert root.tag == SITEMAP_NS + "urlset"
    return [el.text for el in root.iter(SITEMAP_NS + "loc")]


def test_sitemap_lists_every_resource_page(client):
    urls = _sitemap_urls(client)
    assert len(urls) == len(set(urls))
    assert len(urls) < 50_000  # one sitemap file is enough
    rows = sparql_rows(client, f"""SELECT DISTINCT ?r WHERE {{ ?r ?p ?o
        FILTER (isIRI(?r) && (STRSTARTS(STR(?r), "{W3ID}id/") || STRSTARTS(STR(?r), "{W3ID}onto")
                || STRSTARTS(STR(?r), "{W3ID}graph/"))) }}""")
    graphs = sparql_rows(client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    expected = {r["r"] for r in rows} | {g["g"] for g in graphs}
    pages = {u.replace("http://localhost/", W3ID).removesuffix(".html") for u in urls
             if not u.endswith("/dataset.html")}
    assert pages == expected
    assert "http://localhost/dataset.html" in urls
    assert "http://localhost/onto.html" in urls


def test_sitemap_pages_resolve(client):
    urls = _sitemap_urls(client)
    # every kind of page, and a spread sample of the rest
    sample = set(urls[::25])
    for prefix in ("id/mechanism/", "id/claim/", "id/ref/", "onto/", "graph/", "id/gap/"):
        sample.add(next(u for u in urls if f"/{prefix}" in u))
    for url in sorted(sample):
        resp = client.get(url.replace("http://localhost", ""))
        assert resp.status_code == 200, url
        assert media_type(resp) == "text/html"


def test_sitemap_has_a_lastmod_and_conditional_get(client):
    resp = client.get("/sitemap.xml")
    assert b"<lastmod>" in resp.data
    assert client.get("/sitemap.xml",
                      headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304


def test_full_path_sitemap_lists_full_path_urls(client):
    urls = _sitemap_urls(client, "/peerchange/sitemap.xml")
    assert all(u.startswith("http://localhost/peerchange/") for u in urls)


def test_robots_txt(client):
    resp = client.get("/robots.txt")
    assert resp.status_code == 200
    assert media_type(resp) == "text/plain"
    lines = resp.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    assert "Disallow: /sparql?" in lines
    assert "Allow: /" in lines
    assert "Disallow: /" not in lines  # crawling is allowed
