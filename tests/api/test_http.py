"""The HTTP face of the canned queries: index, formats, pages and Link headers, errors,
conditional requests, limits and the OpenAPI document; and an engine failure on /sparql."""

from __future__ import annotations

import csv
import io
import json
import logging
import re

import pytest
from openapi_spec_validator import validate
from werkzeug.http import parse_options_header

from peerchange.core.namespaces import PREFIXES
from tests.api.conftest import CURATED, ID, QUERIES, QUERY_IDS
from tests.backends import expected_for
from tests.conftest import ENGINE_FAILURE


def _links(resp) -> dict[str, str]:
    """The Link header as {rel: url}."""
    out = {}
    for part in resp.headers.get("Link", "").split(","):
        if not part.strip():
            continue
        url, _, params = part.strip().partition(";")
        rel = params.split("rel=", 1)[1].strip().strip('"')
        out[rel] = url.strip().strip("<>")
    return out


def _csv(resp) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


# --- index ---------------------------------------------------------------------------------

def test_index_lists_every_query_with_its_params(client):
    resp = client.get("/api")
    assert resp.status_code == 200 and resp.content_type == "application/json"
    body = resp.get_json()
    listed = {q["name"]: q for q in body["queries"]}
    assert sorted(listed) == QUERY_IDS
    for query in QUERIES:
        entry = listed[query.name]
        assert entry["summary"] == query.summary
        assert entry["url"] == f"/api/{query.name}"
        assert [p["name"] for p in entry["params"]] == [p.name for p in query.params]
        assert all(p["type"] and p["description"] for p in entry["params"])
    assert body["prefixes"] == PREFIXES
    assert body["openapi"] == "/api/openapi.json"
    assert _links(resp)["service-desc"] == "/api/openapi.json"


def test_index_trailing_slash(client):
    assert client.get("/api/").status_code == 200


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_index_example_urls_answer(client, query):
    entry = next(q for q in client.get("/api").get_json()["queries"] if q["name"] == query.name)
    resp = client.get(entry["example"])
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["rows"]


# --- pages and Link headers ----------------------------------------------------------------

def test_default_page_size_from_front_matter(client):
    body = client.get("/api/paper-references").get_json()
    assert body["per_page"] == 25 and body["total"] == 60 and body["pages"] == 3
    assert len(body["rows"]) == 25 and body["page"] == 1


def test_unpaged_query_answers_on_one_page(client):
    resp = client.get("/api/mechanisms")
    body = resp.get_json()
    assert body["per_page"] is None and body["pages"] == 1 and body["total"] == len(body["rows"])
    assert "Link" not in resp.headers


def test_pages_cover_the_answer_exactly_once(client):
    whole = client.get("/api/claims-by-status",
                       query_string={"status": CURATED, "per_page": 100}).get_json()["rows"]
    seen = []
    url = f"/api/claims-by-status?status={CURATED}&per_page=10"
    pages = 0
    while url:
        resp = client.get(url)
        assert resp.status_code == 200
        body = resp.get_json()
        pages += 1
        assert body["page"] == pages and body["pages"] == 7 and body["total"] == 62
        seen += body["rows"]
        links = _links(resp)
        assert links["first"].endswith("page=1") and links["last"].endswith("page=7")
        assert ("prev" in links) == (pages > 1)
        assert body["links"].get("next") == links.get("next")
        url = links.get("next")
    assert pages == 7 and seen == whole


def test_link_header_keeps_the_other_parameters(client):
    resp = client.get("/api/references-by-year?type=fabio:JournalArticle&per_page=5&page=2")
    links = _links(resp)
    assert set(links) == {"first", "prev", "next", "last"}
    for url in links.values():
        assert url.startswith("http://localhost/api/references-by-year?")
        assert "type=fabio%3AJournalArticle" in url and "per_page=5" in url
    assert links["prev"].endswith("page=1") and links["next"].endswith("page=3")


def test_last_page_is_short(client):
    body = client.get("/api/paper-references?page=3").get_json()
    assert len(body["rows"]) == 10 and body["links"].get("next") is None


@pytest.mark.parametrize("query_string", [
    "page=0", "page=-1", "page=x", "per_page=0", "per_page=abc", "page=4", "page=%C2%B2",
    "per_page=100000", "page=1&page=2",
])
def test_bad_page_parameters(client, query_string):
    resp = client.get(f"/api/paper-references?{query_string}")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["ok"] is False and body["status"] == 400 and body["message"]


def test_page_of_an_unpaged_query_needs_per_page(client):
    resp = client.get("/api/mechanisms?page=2")
    assert resp.status_code == 400 and "per_page" in resp.get_json()["message"]


# --- formats -------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["suffix", "format", "accept"])
def test_csv(client, how):
    url, headers = "/api/references-by-year", {}
    if how == "suffix":
        url += ".csv"
    elif how == "format":
        url += "?format=csv"
    else:
        headers["Accept"] = "text/csv"
    resp = client.get(url, headers=headers)
    assert resp.status_code == 200
    assert parse_options_header(resp.headers["Content-Type"])[0] == "text/csv"
    rows = _csv(resp)
    assert len(rows) == 25  # the first page
    assert list(rows[0]) == ["work", "key", "year", "type", "typeLabel", "citation", "doi",
                             "from", "to"]
    assert rows[0]["key"] == "Festinger1955" and rows[0]["year"] == "1955"
    assert _links(resp)["next"].endswith("page=2")


def test_csv_of_the_whole_answer(client):
    resp = client.get("/api/claims-by-status.csv?status=pcm:CuratedInference&per_page=100")
    rows = _csv(resp)
    assert len(rows) == 62
    assert {r["statusLabel"] for r in rows} == {"curated inference"}
    assert all(r["rationale"] for r in rows)  # multi-line, quoted text survives the round trip


def test_tsv(client):
    resp = client.get("/api/mechanisms.tsv")
    assert resp.status_code == 200
    lines = resp.get_data(as_text=True).splitlines()
    assert lines[0].split("\t")[0] == "?mechanism" and len(lines) == 1 + 5


def test_sparql_json_keeps_term_types(client):
    resp = client.get("/api/study-design", headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200
    assert resp.content_type == "application/sparql-results+json"
    doc = json.loads(resp.data)
    cases = next(b for b in doc["results"]["bindings"]
                 if b["property"]["value"].endswith("numberOfCases"))
    # typed (the engine may store xsd:nonNegativeInteger as xsd:integer)
    assert cases["value"]["type"] == "literal" and cases["value"]["value"] == "10"
    assert cases["value"]["datatype"].lower().endswith("integer")
    assert cases["study"]["type"] == "uri"


def test_json_values_are_plain(client):
    rows = client.get("/api/claim-counts").get_json()["rows"]
    assert all(isinstance(r["claims"], int) for r in rows)
    assert all(isinstance(r["statusLabel"], str) for r in rows)


def test_unknown_format_is_406(client):
    resp = client.get("/api/mechanisms?format=xlsx")
    assert resp.status_code == 406 and resp.get_json()["status"] == 406
    resp = client.get("/api/mechanisms", headers={"Accept": "image/png"})
    assert resp.status_code == 406


def test_browsers_get_json(client):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    resp = client.get("/api/mechanisms", headers={"Accept": accept})
    assert resp.status_code == 200 and resp.content_type == "application/json"


# --- parameters and errors -----------------------------------------------------------------

def test_unknown_query_is_404_with_the_list(client):
    resp = client.get("/api/no-such-query")
    assert resp.status_code == 404 and resp.content_type == "application/json"
    body = resp.get_json()
    assert body["queries"] == QUERY_IDS and "mechanisms" in body["message"]
    assert client.get("/api/no-such-query.csv").status_code == 404


@pytest.mark.parametrize(("url", "says"), [
    ("/api/theory-links", "needs the parameter 'theory'"),
    ("/api/theory-links?theory=", "needs the parameter 'theory'"),
    ("/api/theory-links?theory=social-learning", "absolute IRI"),
    ("/api/theory-links?theory=http://exa%20mple.org/x", "absolute IRI"),
    ("/api/theory-links?theory=a:b&theory=c:d", "given 2 times"),
    ("/api/mechanisms?mechanizm=x", "no parameter 'mechanizm'"),
    ("/api/references-by-year?from=nineteen", "must be an integer"),
    ("/api/references-by-year?from=2010.5", "must be an integer"),
    ("/api/references-by-year?type=fabio:Thesis", "must be one of"),
    ("/api/claims-by-status?status=pcm:Rumour", "must be one of"),
    ("/api/claims-by-status", "needs the parameter 'status'"),
])
def test_bad_parameters_are_400(client, url, says):
    resp = client.get(url)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["error"] == "Bad parameter"
    assert says in body["message"]
    assert body["params"], "the 400 lists the documented parameters"


def test_prefixed_names_and_full_iris_agree(client):
    short = client.get("/api/mechanisms?mechanism=pcd:mechanism/role-modelling").get_json()
    full = client.get(f"/api/mechanisms?mechanism={ID}mechanism/role-modelling").get_json()
    assert short["rows"] == full["rows"] and len(full["rows"]) == 1
    assert short["params"] == {"mechanism": ID + "mechanism/role-modelling"}


def test_values_are_bound_as_terms_not_spliced_into_the_text(client):
    """A value that would change the query if it were pasted into the text is just a value."""
    for key in ['Bandura1977" } UNION { ?s ?p ?o } #', "x') || true || ('"]:
        resp = client.get("/api/work-citations", query_string={"key": key})
        assert resp.status_code == 200 and resp.get_json()["rows"] == []
        resp = client.get("/api/reference-corrections", query_string={"key": key})
        assert resp.status_code == 200 and resp.get_json()["rows"] == []
    # an IRI param cannot smuggle characters out of an IRI either
    resp = client.get("/api/mechanisms", query_string={"mechanism": "pcd:x> ?p ?o . <y"})
    assert resp.status_code == 400


def test_other_methods_are_refused(client):
    assert client.post("/api/mechanisms").status_code == 405


def test_head(client):
    resp = client.head("/api/mechanisms")
    assert resp.status_code == 200 and resp.data == b""


# --- caching, limits -----------------------------------------------------------------------

def test_etag_and_304(client):
    resp = client.get("/api/mechanisms")
    etag = resp.headers["ETag"]
    assert "Accept" in {v.strip() for v in resp.headers["Vary"].split(",")}
    again = client.get("/api/mechanisms", headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get("/api/mechanisms.csv", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_row_limit_truncates_and_says_so(limited_client):
    resp = limited_client.get("/api/paper-references?per_page=5")
    body = resp.get_json()
    assert body["truncated"] is True and body["total"] == 5
    assert resp.headers["Peerchange-Truncated"] == "true"
    assert resp.headers["Peerchange-Row-Limit"] == "5"
    # the query's default page size (25) shrinks to what the server allows
    body = limited_client.get("/api/paper-references").get_json()
    assert body["per_page"] == 5 and body["truncated"] is True
    assert limited_client.get("/api/paper-references?per_page=6").status_code == 400


def test_time_limit_applies(make_app):
    resp = make_app(query_timeout=1e-9).test_client().get("/api/mechanisms")
    assert resp.status_code == 503
    assert "time" in resp.get_json()["message"].lower()


def test_cors(client):
    resp = client.get("/api/mechanisms", headers={"Origin": "https://example.org"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" in resp.headers["Access-Control-Expose-Headers"]


# --- an engine failure ---------------------------------------------------------------------

# a Python exception's type name ("RuntimeError", "KeyError: ...") or a trace in a body
PYTHON_INTERNALS = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b|Traceback|File \"")


@pytest.mark.parametrize(("accept", "media"), [
    (None, "text/plain"),
    ("application/sparql-results+json", "application/json"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", "text/html"),  # a browser
])
def test_engine_failure_on_sparql_is_a_generic_500_and_logged(
        app, client, backend, request, caplog, accept, media):
    caplog.set_level(logging.ERROR)
    if backend.remote:
        # We cannot break Virtuoso's engine from here; it fails by itself where the standard
        # says an expression error leaves a variable unbound (SPARQL 1.1 §17.3: 1/0 is an
        # error, so ?x is unbound): Virtuoso answers 500 "Division by 0". A store that fails
        # is a bad gateway for our client (502), with the same generic message; the store's
        # words go to our log only.
        query, status, words = "SELECT (1/0 AS ?x) WHERE {}", 502, "Division by 0"
    else:
        query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1\n" + request.getfixturevalue("failing_engine")
        status, words = 500, ENGINE_FAILURE
    resp = client.post("/sparql", data={"query": query},
                       headers={"Accept": accept} if accept else {})
    assert resp.status_code == status
    assert resp.mimetype == media
    body = resp.get_data(as_text=True)
    assert "evaluated" in body and "logged" in body  # generic: it failed, and where to look
    assert not PYTHON_INTERNALS.search(body), body
    assert words not in body
    if media == "application/json":
        doc = resp.get_json()
        assert (doc["ok"], doc["status"]) == (False, status) and "detail" not in doc
    # the detail is in the app's log, for the operator
    logged = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    kind = expected_for(backend, embedded="RuntimeError", virtuoso=backend.endpoint)
    assert any(words in line and kind in line for line in logged), logged
    # and the endpoint goes on answering
    again = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"},
                        headers={"Accept": "application/sparql-results+json"})
    assert again.status_code == 200 and again.get_json()["boolean"] is True


# --- OpenAPI -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def openapi(client):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200 and resp.content_type == "application/json"
    return resp.get_json()


def test_openapi_document_validates(openapi):
    validate(openapi)  # raises on an invalid document
    assert openapi["openapi"].startswith("3.")


def test_openapi_lists_every_query(openapi):
    paths = {p for p in openapi["paths"] if p not in ("/api", "/api/openapi.json")}
    assert paths == {f"/api/{q.name}" for q in QUERIES}
    ids = [op["get"]["operationId"] for op in openapi["paths"].values()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_openapi_operation_matches_the_front_matter(openapi, query):
    op = openapi["paths"][f"/api/{query.name}"]["get"]
    assert op["summary"] == query.summary
    assert op["description"].startswith(query.description)
    assert op["tags"] == list(query.tags)
    declared = {p["name"]: p for p in op["parameters"] if "name" in p}
    assert set(declared) == {p.name for p in query.params}
    for p in query.params:
        doc = declared[p.name]
        assert doc["in"] == "query" and doc["required"] == p.required
        assert doc["description"].startswith(p.description)
        assert doc["schema"]["type"] == ("integer" if p.type == "integer" else "string")
        if p.enum and p.type == "iri":  # each value as a full IRI and as a prefixed name
            assert set(p.enum) <= set(doc["schema"]["enum"])
            assert len(doc["schema"]["enum"]) == 2 * len(p.enum)
        elif p.enum:
            assert len(doc["schema"]["enum"]) == len(p.enum)
        if p.default is not None:
            assert str(doc["schema"]["default"]) == p.default
    refs = {p["$ref"].rsplit("/", 1)[1] for p in op["parameters"] if "$ref" in p}
    assert refs == {"page", "per_page", "format"}
    assert {"200", "400", "404"} <= set(op["responses"])
    assert {"application/json", "text/csv"} <= set(op["responses"]["200"]["content"])


def test_openapi_publishes_the_prefixes(openapi):
    assert openapi["x-prefixes"] == PREFIXES
    for prefix, iri in PREFIXES.items():
        assert f"| `{prefix}:` | `{iri}` |" in openapi["info"]["description"]
    assert {t["name"] for t in openapi["tags"]} >= {t for q in QUERIES for t in q.tags}
