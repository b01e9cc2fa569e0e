"""The answer cache of /sparql: complete answers kept per worker by their ETag, never a cut
or failed one, never another data version's."""

from __future__ import annotations

import pytest

from peerchange.web.caching import ANSWER_CACHE, AnswerCache, CachedAnswer, etag_for

JSON = "application/sparql-results+json"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
MANY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 50"


def _post(client, query: str, accept: str = JSON, **headers: str):
    return client.post("/sparql", data={"query": query}, headers={"Accept": accept, **headers})


def test_a_repeated_query_is_answered_from_the_cache_with_the_same_bytes(make_app):
    app = make_app(answer_cache_mb=4)
    client = app.test_client()
    service = app.services.sparql
    query = MANY + " # cache-repeat"
    first = _post(client, query)
    executed = service.executed
    second = _post(client, query)
    assert first.status_code == second.status_code == 200
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert service.executed == executed  # not run again
    # another format is another answer, run once
    csv = _post(client, query, accept="text/csv")
    assert csv.status_code == 200 and csv.data != first.data
    assert service.executed == executed + 1


def test_a_cut_answer_is_never_kept(make_app):
    app = make_app(answer_cache_mb=4, max_rows=3)
    client = app.test_client()
    cache: AnswerCache = app.extensions[ANSWER_CACHE]
    service = app.services.sparql
    query = MANY + " # cache-cut"
    for _ in range(2):
        before = service.executed
        resp = _post(client, query)
        assert resp.status_code == 200
        assert resp.headers["Peerchange-Truncated"] == "true"
        assert resp.get_json()["peerchange"]["truncated"] is True
        assert service.executed == before + 1  # each time from the engine
    assert all(b"truncated" not in e.body for e in cache.entries.values())


def test_a_failed_query_is_never_kept(make_app, failing_engine):
    app = make_app(answer_cache_mb=4)
    client = app.test_client()
    query = f"ASK {{ ?s ?p ?o }} # {failing_engine}"
    for _ in range(2):
        assert _post(client, query).status_code == 500


def test_another_data_version_never_gets_the_answer(make_app, tmp_path):
    extra = tmp_path / "extra.ttl"
    extra.write_text("<https://example.org/a> <https://example.org/p> 1 .\n", encoding="utf-8")
    shipped = make_app(answer_cache_mb=4)
    other = make_app(answer_cache_mb=4, extra_files=[str(extra)])
    assert shipped.services.graph.version != other.services.graph.version
    counts = []
    for app in (shipped, other, shipped, other):
        resp = _post(app.test_client(), COUNT)
        counts.append((resp.headers["ETag"], resp.get_json()["results"]["bindings"][0]["n"]))
    assert counts[0] == counts[2] and counts[1] == counts[3]
    assert counts[0][0] != counts[1][0]  # another ETag: another key
    assert int(counts[1][1]["value"]) == int(counts[0][1]["value"]) + 1


def test_the_key_holds_the_data_version():
    cache = AnswerCache(1024 * 1024)
    one = etag_for("version-1", COUNT, [], [], "json", 10, 100, "http://localhost/sparql")
    two = etag_for("version-2", COUNT, [], [], "json", 10, 100, "http://localhost/sparql")
    cache.put(one, CachedAnswer(b"1", JSON, 1))
    assert cache.get(two) is None
    assert cache.get(one).body == b"1"


def test_the_cache_stays_within_its_bound():
    cache = AnswerCache(64 * 1024)
    assert cache.max_entry_bytes == 8 * 1024
    assert not cache.put("big", CachedAnswer(b"x" * 9000, JSON, 1))
    for n in range(100):
        cache.put(f"k{n}", CachedAnswer(b"x" * 4000, JSON, 1))
    assert cache.bytes <= 64 * 1024
    assert cache.get("k99") is not None and cache.get("k0") is None
    assert cache.bytes == sum(e.size for e in cache.entries.values())


def test_no_cache_when_it_is_turned_off(make_app):
    app = make_app(answer_cache_mb=0)
    client = app.test_client()
    service = app.services.sparql
    before = service.executed
    for _ in range(2):
        assert _post(client, "ASK { ?s ?p ?o } # no-cache").status_code == 200
    assert service.executed == before + 2


@pytest.mark.parametrize("accept", [JSON, "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values"])
def test_a_cached_answer_is_the_engine_answer_in_every_format(make_app, accept):
    cached = make_app(answer_cache_mb=4).test_client()
    plain = make_app(answer_cache_mb=0).test_client()
    query = MANY + " # every-format"
    _post(cached, query, accept)
    assert _post(cached, query, accept).data == _post(plain, query, accept).data
