"""gzip negotiated by Accept-Encoding: the same bytes once decoded, identity unless asked,
small answers as they are, Vary and ETags right, 304s still given, dumps left alone."""

from __future__ import annotations

import gzip

import pytest

JSON = "application/sparql-results+json"
BIG = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 200"
TINY = "ASK { ?s ?p ?o }"


def _post(client, query: str, **headers: str):
    return client.post("/sparql", data={"query": query},
                       headers={"Accept": JSON, **headers})


@pytest.fixture(params=[4, 0], ids=["cache", "no-cache"])
def client(request, make_app):
    return make_app(answer_cache_mb=request.param).test_client()


def _vary(resp) -> set[str]:
    return {v.strip().lower() for v in resp.headers.get("Vary", "").split(",") if v.strip()}


def test_gzip_decodes_to_the_identity_bytes(client):
    plain = _post(client, BIG)
    packed = _post(client, BIG, **{"Accept-Encoding": "gzip, deflate"})
    again = _post(client, BIG, **{"Accept-Encoding": "gzip"})  # from the cache's gzip form
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert again.data == packed.data
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) // 3
    assert {"accept", "accept-encoding"} <= _vary(plain)
    assert {"accept", "accept-encoding"} <= _vary(packed)


@pytest.mark.parametrize("header", ["gzip;q=0", "identity", "br", "gzip;q=0, *;q=1"])
def test_identity_unless_gzip_is_accepted(client, header):
    resp = _post(client, BIG, **{"Accept-Encoding": header})
    assert resp.status_code == 200
    assert "Content-Encoding" not in resp.headers
    assert resp.get_json()["results"]["bindings"]
    assert "accept-encoding" in _vary(resp)


def test_a_wildcard_accepts_gzip(client):
    resp = _post(client, BIG, **{"Accept-Encoding": "*"})
    assert resp.headers["Content-Encoding"] == "gzip"


def test_tiny_answers_are_not_compressed(client):
    resp = _post(client, TINY, **{"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in resp.headers
    assert resp.get_json()["boolean"] is True
    # it still says Vary: Accept-Encoding, as its 304 does (which knows no size)
    assert "accept-encoding" in _vary(resp)


def test_etags_and_304_with_compression(client):
    plain = _post(client, BIG)
    packed = _post(client, BIG, **{"Accept-Encoding": "gzip"})
    strong = plain.headers["ETag"]
    assert not strong.startswith("W/")
    assert packed.headers["ETag"] == f"W/{strong}"  # the gzip form: the same, weakly
    for held in (strong, packed.headers["ETag"]):
        for encoding in ("gzip", "identity"):
            resp = _post(client, BIG, **{"If-None-Match": held, "Accept-Encoding": encoding})
            assert resp.status_code == 304
            assert resp.data == b""
            assert resp.headers["ETag"] == strong  # the view's validator
            assert "accept-encoding" in _vary(resp)


def test_pages_are_compressed_and_head_says_the_same(make_app):
    client = make_app().test_client()
    get = client.get("/onto.ttl", headers={"Accept-Encoding": "gzip"})
    head = client.head("/onto.ttl", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/onto.ttl")
    assert get.status_code == head.status_code == plain.status_code == 200
    assert get.headers["Content-Encoding"] == head.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(get.data) == plain.data
    assert head.data == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert "accept-encoding" in _vary(get) and "accept-encoding" in _vary(head)
    etag = get.headers["ETag"]
    assert etag.startswith("W/")
    again = client.get("/onto.ttl", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


def test_compression_can_be_turned_off(make_app):
    client = make_app(compress_min_bytes=0).test_client()
    resp = _post(client, BIG + " # off", **{"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in resp.headers
    assert "accept-encoding" not in _vary(resp)


@pytest.mark.slow  # builds the dumps (3 s)
def test_compressed_dumps_are_not_compressed_again(make_app):
    client = make_app().test_client()
    listing = client.get("/dumps/latest/", headers={"Accept": "application/json"})
    names = [n for n in _names(listing) if n.endswith(".gz")]
    assert names, listing.get_data(as_text=True)[:300]
    with client.get(f"/dumps/latest/{names[0]}", headers={"Accept-Encoding": "gzip"}) as resp:
        assert resp.status_code == 200
        assert resp.headers.get("Content-Encoding", "gzip") == "gzip"  # one layer at most
        assert gzip.decompress(resp.data)


def _names(listing) -> list[str]:
    data = listing.get_json(silent=True)
    if isinstance(data, dict):
        data = data.get("files") or data.get("dumps") or []
    out = []
    for item in data or []:
        name = item.get("name") or item.get("file") if isinstance(item, dict) else item
        if name:
            out.append(str(name).rsplit("/", 1)[-1])
    if not out:
        import re

        out = re.findall(r'href="([^"/]+\.gz)"', listing.get_data(as_text=True))
    return out


@pytest.mark.slow  # two answers of the whole graph
def test_a_streamed_answer_is_compressed_as_it_goes(make_app):
    client = make_app().test_client()
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    plain = _post(client, query)
    packed = _post(client, query, **{"Accept-Encoding": "gzip"})
    assert len(plain.data) > 256 * 1024  # over what is read whole: streamed
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Content-Length" not in packed.headers
    assert packed.headers["ETag"] == "W/" + plain.headers["ETag"]
    assert gzip.decompress(packed.data) == plain.data
