"""Through a real ``peerchange serve`` (gunicorn) on a free port, with requests: the 303
dance, documents, the published context fetched over HTTP, dumps with ranges."""

from __future__ import annotations

import json
import warnings

import rdflib
import requests
from rdflib.compare import isomorphic

from tests.linkeddata.conftest import BROWSER_ACCEPT, gunzip, quads_per_graph


def test_303_then_document(live_server):
    url = live_server.base + "/id/mechanism/trusting-relationships"
    resp = requests.get(url, headers={"Accept": "text/turtle"}, allow_redirects=False, timeout=10)
    assert resp.status_code == 303
    assert resp.headers["Location"] == url + ".ttl"
    assert "Accept" in {v.strip() for v in resp.headers["Vary"].split(",")}
    followed = requests.get(url, headers={"Accept": "text/turtle"}, timeout=10)
    assert followed.status_code == 200
    assert followed.url == url + ".ttl"
    assert followed.headers["Content-Type"] == "text/turtle; charset=utf-8"
    g = rdflib.Graph().parse(data=followed.text, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/peerchange/id/mechanism/trusting-relationships"),
            rdflib.RDFS.label, None) in g
    page = requests.get(url, headers={"Accept": BROWSER_ACCEPT}, timeout=10)
    assert page.url == url + ".html" and "<h1>" in page.text


def test_full_path_on_a_real_server(live_server):
    url = live_server.base + "/peerchange/onto/Claim"
    resp = requests.get(url, headers={"Accept": "application/rdf+xml"}, timeout=10)
    assert resp.status_code == 200
    assert resp.url == url + ".rdf"
    rdflib.Graph().parse(data=resp.text, format="xml")


def test_jsonld_context_is_fetched_from_the_server(live_server):
    """rdflib dereferences the @context URL itself: the published context is real."""
    base = live_server.base
    doc = requests.get(base + "/id/theory/attachment.jsonld", timeout=10)
    assert json.loads(doc.text)["@context"] == base + "/context.jsonld"
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser still builds a ConjunctiveGraph internally
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        g = rdflib.Graph().parse(data=doc.text, format="json-ld")
    turtle = rdflib.Graph().parse(data=requests.get(base + "/id/theory/attachment.ttl",
                                                    timeout=10).text, format="turtle")
    assert isomorphic(g, turtle)


def test_etag_304_and_cors_on_a_real_server(live_server):
    url = live_server.base + "/onto/Theory.jsonld"
    first = requests.get(url, headers={"Origin": "https://example.org"}, timeout=10)
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304


def test_dumps_with_ranges_on_a_real_server(live_server):
    url = live_server.base + "/dumps/latest/peerchange.nq.gz"
    full = requests.get(url, timeout=60)
    assert full.status_code == 200
    assert int(full.headers["Content-Length"]) == len(full.content)
    assert full.headers["Content-Type"] == "application/gzip"
    part = requests.get(url, headers={"Range": "bytes=100-299"}, timeout=10)
    assert part.status_code == 206
    assert part.content == full.content[100:300]
    again = requests.get(url, headers={"If-None-Match": full.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    # both workers serve the same set: the same ETag every time
    tags = {requests.head(url, timeout=10).headers["ETag"] for _ in range(6)}
    assert tags == {full.headers["ETag"]}
    health = requests.get(live_server.base + "/health", timeout=10).json()
    assert sum(quads_per_graph(gunzip(full.content)).values()) == health["triples"]


def test_void_and_404_on_a_real_server(live_server):
    void = requests.get(live_server.base + "/.well-known/void", timeout=10)
    assert void.status_code == 200
    g = rdflib.Graph().parse(data=void.text, format="turtle")
    endpoint = rdflib.URIRef(live_server.base + "/sparql")
    assert (None, rdflib.URIRef("http://rdfs.org/ns/void#sparqlEndpoint"), endpoint) in g
    missing = requests.get(live_server.base + "/id/mechanism/engagment", timeout=10)
    assert missing.status_code == 404
    assert live_server.base + "/id/mechanism/engagement" in missing.text
