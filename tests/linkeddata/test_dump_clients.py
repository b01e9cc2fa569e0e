"""RDF clients read every dump from its URL (issue 13), through a real ``peerchange serve``.

rdflib's ``parse(URL)`` (urllib: its own ``Accept``, no ``Accept-Encoding``) and requests
(``Accept-Encoding: gzip``, decoded transparently) get RDF from the compressed dumps'
URLs; a mirror asking for nothing in particular still gets the ``.gz`` file byte for byte.
Counts come from the manifest, which the round-trip tests hold to the store.
"""

from __future__ import annotations

import gzip
import hashlib
import warnings

import pytest
import rdflib
import requests

pytestmark = pytest.mark.slow

NT = "application/n-triples"
NQ = "application/n-quads"


@pytest.fixture(scope="module")
def manifest(live_server) -> dict:
    resp = requests.get(f"{live_server.base}/dumps/latest/", timeout=30,
                        headers={"Accept": "application/json"})
    assert resp.status_code == 200
    return resp.json()


def _files(manifest: dict) -> list[dict]:
    return manifest["files"]


def _parse(url: str, *, quads: bool, **kwargs) -> int:
    with warnings.catch_warnings():
        # rdflib 7 deprecates parts of its own Dataset API that parsing still uses
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        if quads:
            ds = rdflib.Dataset()
            ds.parse(url, **kwargs)
            return sum(1 for _ in ds.quads((None, None, None, None)))
        return len(rdflib.Graph().parse(url, **kwargs))


def test_rdflib_parses_every_dump_by_url(live_server, manifest):
    for f in _files(manifest):
        url = f["url"]
        got = _parse(url, quads=f["media_type"] == NQ)
        assert got == f["statements"], url


@pytest.mark.parametrize(("name", "fmt"), [("peerchange.nt.gz", "nt"),
                                           ("peerchange.nq.gz", "nquads")])
def test_rdflib_with_a_format_named(live_server, manifest, name, fmt):
    f = next(f for f in _files(manifest) if f["name"] == name)
    assert _parse(f["url"], quads=fmt == "nquads", format=fmt) == f["statements"]


@pytest.mark.parametrize(("name", "media"), [("peerchange.nt.gz", NT),
                                             ("peerchange.nq.gz", NQ)])
def test_requests_gets_the_rdf_gzip_encoded(live_server, manifest, name, media):
    f = next(f for f in _files(manifest) if f["name"] == name)
    resp = requests.get(f["url"], headers={"Accept": media}, timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] == media
    assert resp.headers["Content-Encoding"] == "gzip"
    assert int(resp.headers["Content-Length"]) == f["size"]  # the stored bytes, on the wire
    assert {v.strip() for v in resp.headers["Vary"].split(",")} >= {"Accept",
                                                                     "Accept-Encoding"}
    lines = [ln for ln in resp.text.splitlines() if ln.strip()]
    assert len(lines) == f["statements"]
    again = requests.get(f["url"], timeout=30, headers={
        "Accept": media, "If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("accept", [None, "*/*", "application/gzip",
                                    "text/html,application/xhtml+xml,*/*;q=0.8"])
def test_mirrors_and_browsers_get_the_file(live_server, manifest, accept):
    f = next(f for f in _files(manifest) if f["name"] == "peerchange.nt.gz")
    headers = {"Accept": accept} if accept else {}
    resp = requests.get(f["url"], headers=headers, timeout=30, stream=True)
    body = resp.raw.read()  # the bytes on the wire, not decoded
    assert resp.headers["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in resp.headers
    assert hashlib.sha256(body).hexdigest() == f["sha256"]
    assert gzip.decompress(body).count(b"\n") == f["statements"]


def test_the_description_says_how(live_server):
    g = rdflib.Graph().parse(f"{live_server.base}/dataset", format="turtle")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    described = {str(g.value(d, dcat.mediaType)): str(g.value(d, rdflib.DCTERMS.description))
                 for d in g.subjects(dcat.compressFormat, None)}
    assert set(described) == {f"https://www.iana.org/assignments/media-types/{m}"
                              for m in (NT, NQ)}
    for media, text in described.items():
        assert media.rsplit("/", 2)[-2] + "/" + media.rsplit("/", 1)[-1] in text
        assert "Content-Encoding: gzip" in text
