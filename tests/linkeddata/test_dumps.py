"""Full dumps: stable URLs per release and latest, round-trips to the store's triples (and
quads per graph), caching headers, conditional GET and range requests."""

from __future__ import annotations

import hashlib
import json
from email.utils import parsedate_to_datetime

import pytest

from tests.conftest import media_type, sparql_count, sparql_rows
from tests.linkeddata.conftest import BROWSER_ACCEPT, W3ID, gunzip, parse_rdf, quads_per_graph

FILES = {
    "peerchange.ttl": "text/turtle",
    "peerchange.nt.gz": "application/gzip",
    "peerchange.nq.gz": "application/gzip",
    "peerchange.jsonld": "application/ld+json",
}


@pytest.fixture(scope="module")
def release(app) -> str:
    # the set written once, waited for (over a remote store the first build downloads
    # every graph and may take longer than a request waits before its 503)
    app.services.dumps.ensure(wait=None)
    return app.test_client().get("/health").get_json()["ontology_version"]


def _get(client, url, method="GET", **kwargs):
    with client.open(url, method=method, **kwargs) as resp:
        resp.get_data()  # read the file before the response is closed
        return resp


def _store_triples(client) -> int:
    return sparql_count(client, "SELECT (COUNT(*) AS ?n) WHERE { "
                                "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")


@pytest.mark.parametrize("folder", ["latest", "RELEASE"])
@pytest.mark.parametrize(("name", "media"), FILES.items())
def test_dump_headers(client, release, folder, name, media):
    folder = release if folder == "RELEASE" else folder
    resp = _get(client, f"/dumps/{folder}/{name}")
    assert resp.status_code == 200
    assert media_type(resp) == media
    assert int(resp.headers["Content-Length"]) == len(resp.data)
    assert resp.headers["ETag"].strip('"') == hashlib.sha256(resp.data).hexdigest()
    assert parsedate_to_datetime(resp.headers["Last-Modified"])
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert f"/dumps/{release}/{name}>" in resp.headers["Link"]


def test_latest_and_release_are_the_same_bytes(client, release):
    for name in FILES:
        assert _get(client, f"/dumps/latest/{name}").data == \
            _get(client, f"/dumps/{release}/{name}").data
    assert _get(client, "/peerchange/dumps/latest/peerchange.ttl").data == \
        _get(client, "/dumps/latest/peerchange.ttl").data


def test_turtle_dump_round_trips_to_the_store(client, context_doc):
    g = parse_rdf(_get(client, "/dumps/latest/peerchange.ttl").data, "text/turtle")
    assert len(g) == _store_triples(client)


def test_ntriples_dump_round_trips_to_the_store(client):
    body = gunzip(_get(client, "/dumps/latest/peerchange.nt.gz").data)
    g = parse_rdf(body, "application/n-triples")
    assert len(g) == _store_triples(client)
    assert len(body.splitlines()) == len(g)  # each triple once


def test_jsonld_dump_round_trips_to_the_store(client, context_doc):
    body = _get(client, "/dumps/latest/peerchange.jsonld").data
    doc = json.loads(body)
    assert isinstance(doc["@context"], dict)  # self-contained: the context is inlined
    assert doc["@context"]["pcm"] == W3ID + "onto/"
    assert doc["@context"] == context_doc["@context"]  # the one published context
    g = parse_rdf(body, "application/ld+json")
    assert len(g) == _store_triples(client)


def test_nquads_dump_keeps_every_quad_in_its_graph(client):
    body = gunzip(_get(client, "/dumps/latest/peerchange.nq.gz").data)
    per_graph = quads_per_graph(body)
    real = {r["g"]: int(r["n"]) for r in sparql_rows(
        client, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    assert per_graph == real
    assert len(body.splitlines()) == client.get("/health").get_json()["triples"]


def test_dumps_are_identical_to_each_other(client):
    turtle = parse_rdf(_get(client, "/dumps/latest/peerchange.ttl").data, "text/turtle")
    ntriples = parse_rdf(gunzip(_get(client, "/dumps/latest/peerchange.nt.gz").data),
                         "application/n-triples")
    from rdflib.compare import isomorphic

    assert isomorphic(turtle, ntriples)


def test_per_graph_dumps(client, release):
    manifest = client.get("/dumps/latest/", headers={"Accept": "application/json"}).get_json()
    graphs = [f for f in manifest["files"] if f["name"].startswith("graphs/")]
    real = {r["g"]: int(r["n"]) for r in sparql_rows(
        client, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    assert {f["graph"] for f in graphs} == set(real)
    for f in graphs:
        g = parse_rdf(_get(client, f"/dumps/{release}/{f['name']}").data, "text/turtle")
        assert len(g) == real[f["graph"]] == f["statements"], f["name"]


def test_if_none_match_gives_304(client):
    first = _get(client, "/dumps/latest/peerchange.nq.gz")
    again = _get(client, "/dumps/latest/peerchange.nq.gz",
                 headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


def test_if_modified_since_gives_304(client):
    first = _get(client, "/dumps/latest/peerchange.ttl")
    again = _get(client, "/dumps/latest/peerchange.ttl",
                 headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304


@pytest.mark.parametrize(("spec", "start", "end"), [
    ("bytes=0-99", 0, 100), ("bytes=1000-1999", 1000, 2000), ("bytes=-50", None, None)])
def test_range_request_returns_206_with_the_right_bytes(client, spec, start, end):
    full = _get(client, "/dumps/latest/peerchange.nt.gz").data
    resp = _get(client, "/dumps/latest/peerchange.nt.gz", headers={"Range": spec})
    assert resp.status_code == 206
    expected = full[-50:] if start is None else full[start:end]
    assert resp.data == expected
    assert int(resp.headers["Content-Length"]) == len(expected)
    first = len(full) - 50 if start is None else start
    assert resp.headers["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(full)}"


def test_unsatisfiable_range_is_416(client):
    resp = _get(client, "/dumps/latest/peerchange.ttl", headers={"Range": "bytes=999999999-"})
    assert resp.status_code == 416


def test_head_on_a_dump(client):
    get = _get(client, "/dumps/latest/peerchange.jsonld")
    head = _get(client, "/dumps/latest/peerchange.jsonld", method="HEAD")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["ETag"] == get.headers["ETag"]


def test_dump_cors(client):
    resp = _get(client, "/dumps/latest/peerchange.ttl", headers={"Origin": "https://x.org"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Range" in resp.headers["Access-Control-Expose-Headers"]


def test_checksums_and_manifest(client, release):
    sums = _get(client, f"/dumps/{release}/SHA256SUMS").get_data(as_text=True)
    for line in sums.splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(_get(client, f"/dumps/{release}/{name}").data).hexdigest() == digest
    manifest = json.loads(_get(client, f"/dumps/{release}/manifest.json").data)
    assert manifest["release"] == release
    assert {f["name"] for f in manifest["files"]} >= set(FILES)


def test_index_in_json_and_html(client, release):
    doc = client.get("/dumps/", headers={"Accept": "application/json"}).get_json()
    assert doc["release"] == release
    assert doc["latest"] == "http://localhost/dumps/latest/"
    urls = {f["url"] for f in doc["files"]}
    assert f"http://localhost/dumps/{release}/peerchange.nq.gz" in urls
    html = client.get("/dumps/", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True)
    assert f"Dumps of release {release}" in html
    assert client.get("/dumps").status_code == 200


@pytest.mark.parametrize("path", ["/dumps/0.0.0/peerchange.ttl", "/dumps/latest/nothing.ttl",
                                  "/dumps/0.0.0/", "/dumps/latest/../../etc/passwd"])
def test_unknown_release_or_file_is_404(client, release, path):
    resp = _get(client, path)
    assert resp.status_code == 404
    body = resp.get_data(as_text=True)
    assert "Traceback" not in body
    if "0.0.0" in path:
        assert release in body
