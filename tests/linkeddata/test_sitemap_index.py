"""Above the Sitemaps protocol's limits of a file (50,000 URLs, 50 MB) ``/sitemap.xml`` is a
``<sitemapindex>`` of ``/sitemap-{n}.xml`` parts. The shipped data fits in one file, so the
limits (``peerchange.services.sitemap.MAX_URLS`` / ``MAX_BYTES``) are lowered here."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET

import pytest

from peerchange.services import sitemap as sitemap_module
from tests.conftest import media_type

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
PART_SIZE = 97  # a prime: the last part is shorter than the others


def _xml(client, path: str, headers: dict | None = None) -> ET.Element:
    resp = client.get(path, headers=headers or {})
    assert resp.status_code == 200, (path, resp.status_code)
    assert media_type(resp) == "application/xml"
    return ET.fromstring(resp.data)


def _urlset_locs(root: ET.Element) -> list[str]:
    """The ``loc`` of every ``url`` of a ``<urlset>``, checking the protocol's structure."""
    assert root.tag == NS + "urlset"
    locs = []
    for url in root:
        assert url.tag == NS + "url"
        children = [child.tag for child in url]
        assert children[0] == NS + "loc"
        assert set(children) <= {NS + "loc", NS + "lastmod", NS + "changefreq",
                                 NS + "priority"}
        locs.append(url.find(NS + "loc").text)
    return locs


@pytest.fixture
def single(client) -> list[str]:
    """The URLs of the single-file sitemap (the limits as shipped)."""
    return _urlset_locs(_xml(client, "/sitemap.xml"))


@pytest.fixture
def split(monkeypatch, single):
    monkeypatch.setattr(sitemap_module, "MAX_URLS", PART_SIZE)
    return single


def _index_locs(client, path: str = "/sitemap.xml") -> list[str]:
    root = _xml(client, path)
    assert root.tag == NS + "sitemapindex"
    locs = []
    for entry in root:
        assert entry.tag == NS + "sitemap"
        assert entry[0].tag == NS + "loc"
        assert {child.tag for child in entry} <= {NS + "loc", NS + "lastmod"}
        locs.append(entry.find(NS + "loc").text)
    return locs


def test_the_shipped_data_is_one_file(single):
    assert 1 < len(single) <= sitemap_module.MAX_URLS


def test_index_points_to_the_parts_in_order(client, split):
    parts = _index_locs(client)
    expected = -(-len(split) // PART_SIZE)  # ceiling
    assert parts == [f"http://localhost/sitemap-{n}.xml" for n in range(1, expected + 1)]
    assert b"<lastmod>" in client.get("/sitemap.xml").data


def test_the_parts_hold_exactly_the_pages_of_the_single_file(client, split):
    together = []
    for n, loc in enumerate(_index_locs(client), start=1):
        locs = _urlset_locs(_xml(client, loc.removeprefix("http://localhost")))
        assert 0 < len(locs) <= PART_SIZE
        if loc != _index_locs(client)[-1]:
            assert len(locs) == PART_SIZE, n
        together += locs
    assert together == split  # the same URLs, in the same order, each once


def test_a_sample_of_the_parts_urls_dereference(client, split):
    urls = []
    for loc in _index_locs(client):
        urls += _urlset_locs(_xml(client, loc.removeprefix("http://localhost")))
    sample = set(urls[::61]) | {urls[0], urls[-1], urls[PART_SIZE - 1], urls[PART_SIZE]}
    for url in sorted(sample):
        resp = client.get(url.removeprefix("http://localhost"))
        assert resp.status_code == 200, url
        assert media_type(resp) == "text/html"


@pytest.mark.parametrize("name", ["0", "00", "01", "-1", "abc", "1.5", "١", "999999"])
def test_not_a_part_is_a_404(client, split, name):
    resp = client.get(f"/sitemap-{name}.xml", headers={"Accept": "application/json"})
    assert resp.status_code == 404
    assert "sitemap.xml" in resp.get_data(as_text=True)


def test_past_the_last_part_is_a_404(client, split):
    last = len(_index_locs(client))
    assert client.get(f"/sitemap-{last}.xml").status_code == 200
    resp = client.get(f"/sitemap-{last + 1}.xml", headers={"Accept": "text/plain"})
    assert resp.status_code == 404
    assert f"parts 1 to {last}" in resp.get_data(as_text=True)


def test_a_single_file_sitemap_has_no_parts(client, single):
    resp = client.get("/sitemap-1.xml", headers={"Accept": "text/plain"})
    assert resp.status_code == 404
    assert "one file" in resp.get_data(as_text=True)


def test_the_byte_limit_splits_too(client, monkeypatch, single):
    """At most MAX_BYTES bytes per part (uncompressed), however few URLs."""
    monkeypatch.setattr(sitemap_module, "MAX_BYTES", 20_000)
    together = []
    for loc in _index_locs(client):
        resp = client.get(loc.removeprefix("http://localhost"))
        assert len(resp.data) <= 20_000
        together += _urlset_locs(ET.fromstring(resp.data))
    assert together == single


def test_parts_are_conditional_and_gzipped(client, split):
    resp = client.get("/sitemap-1.xml")
    etag = resp.headers["ETag"]
    assert client.get("/sitemap-1.xml", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/sitemap-2.xml", headers={"If-None-Match": etag}).status_code == 200
    assert client.get("/sitemap.xml").headers["ETag"] != etag
    packed = client.get("/sitemap-1.xml", headers={"Accept-Encoding": "gzip"})
    assert packed.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(packed.data) == resp.data


def test_full_path_parts_are_under_the_full_path(client, split):
    parts = _index_locs(client, "/peerchange/sitemap.xml")
    assert all(p.startswith("http://localhost/peerchange/sitemap-") for p in parts)
    locs = _urlset_locs(_xml(client, parts[0].removeprefix("http://localhost")))
    assert all(u.startswith("http://localhost/peerchange/") for u in locs)


def test_robots_points_at_the_index(client, split):
    assert "Sitemap: http://localhost/sitemap.xml" in client.get("/robots.txt").get_data(
        as_text=True).splitlines()
