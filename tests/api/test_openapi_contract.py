"""The canned-query API keeps its own OpenAPI contract, checked by a validating client.

openapi-core (the client that found the broken contract, issue 13) reads
``/api/openapi.json`` and validates the request *and* the response of every canned query,
without parameters and with every documented parameter (full IRIs and prefixed names), in
JSON and in the other formats, and the error answers. The app is the real one, through
werkzeug's test client (openapi-core's werkzeug integration).

What stays on the client's side: openapi-core deserialises only ``application/json``
bodies; a client reading the SPARQL JSON results or CSV/TSV answers registers those media
types (:data:`CLIENT_DESERIALIZERS`, as ``docs/clients.md`` shows).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

from peerchange.core.namespaces import PREFIXES

from .conftest import QUERIES, QUERY_IDS

# what a client registers for the media types openapi-core does not read by itself
CLIENT_DESERIALIZERS = {
    "application/sparql-results+json": lambda body, **_: json.loads(body),
    "text/csv": lambda body, **_: body.decode("utf-8"),
    "text/tab-separated-values": lambda body, **_: body.decode("utf-8"),
}


@pytest.fixture(scope="module")
def spec(client) -> dict[str, Any]:
    return client.get("/api/openapi.json").get_json()


@pytest.fixture(scope="module")
def openapi(spec) -> OpenAPI:
    return OpenAPI.from_dict(spec)


@pytest.fixture(scope="module")
def openapi_with_formats(spec) -> OpenAPI:
    return OpenAPI.from_dict(spec, config=Config(
        extra_media_type_deserializers=CLIENT_DESERIALIZERS))


def _compact(iri: str) -> str:
    prefix = max((p for p, ns in PREFIXES.items() if iri.startswith(ns)),
                 key=lambda p: len(PREFIXES[p]))
    return f"{prefix}:{iri[len(PREFIXES[prefix]):]}"


def _check(client, api: OpenAPI, url: str, **params: Any):
    """GET ``url`` and validate request and response; return the response."""
    resp = client.get(url, query_string=params)
    request = WerkzeugOpenAPIRequest(resp.request)
    req = api.unmarshal_request(request)
    assert not req.errors, [f"{e}: {e.__cause__}" for e in req.errors]
    res = api.unmarshal_response(request, WerkzeugOpenAPIResponse(resp))
    assert not res.errors, [f"{e}: {e.__cause__}"[:2000] for e in res.errors]
    return resp


def _required(query) -> dict[str, Any]:
    return {p.name: p.example for p in query.params if p.required}


def _every(query, *, compact: bool = False) -> dict[str, Any]:
    out = {}
    for p in query.params:
        value = p.example
        if compact and p.type == "iri":
            value = _compact(value)
        out[p.name] = value
    return out


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_without_parameters(client, openapi, query):
    resp = _check(client, openapi, f"/api/{query.name}", **_required(query))
    assert resp.status_code == 200


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_with_every_parameter_as_full_iris(client, openapi, query):
    resp = _check(client, openapi, f"/api/{query.name}", **_every(query))
    assert resp.status_code == 200


@pytest.mark.parametrize("query", [q for q in QUERIES if any(p.type == "iri" for p in q.params)],
                         ids=lambda q: q.name)
def test_with_prefixed_names(client, openapi, query):
    resp = _check(client, openapi, f"/api/{query.name}", **_every(query, compact=True))
    assert resp.status_code == 200


def test_unbound_values_are_null_and_valid(client, openapi):
    """The answer that broke the contract: rows with unbound variables (issue 13)."""
    body = _check(client, openapi, "/api/mechanisms").get_json()
    assert any(v is None for row in body["rows"] for v in row.values())


def test_status_as_a_prefixed_name_is_accepted_by_client_and_server(client, openapi):
    resp = _check(client, openapi, "/api/claims-by-status", status="pcm:CuratedInference")
    assert resp.status_code == 200
    assert {r["status"] for r in resp.get_json()["rows"]} == {PREFIXES["pcm"]
                                                               + "CuratedInference"}


def test_a_value_outside_the_enum_is_refused_by_both(client, openapi):
    resp = client.get("/api/claims-by-status", query_string={"status": "pcm:Bogus"})
    assert resp.status_code == 400
    request = WerkzeugOpenAPIRequest(resp.request)
    assert openapi.unmarshal_request(request).errors
    assert not openapi.unmarshal_response(request, WerkzeugOpenAPIResponse(resp)).errors


@pytest.mark.parametrize("fmt", ["json", "srj", "csv", "tsv"])
@pytest.mark.parametrize("name", ["mechanisms", "claims-by-status"])
def test_every_format(client, openapi_with_formats, name, fmt):
    query = next(q for q in QUERIES if q.name == name)
    resp = _check(client, openapi_with_formats, f"/api/{name}", format=fmt, **_required(query))
    assert resp.status_code == 200


@pytest.mark.parametrize(("url", "status"), [
    ("/api/mechanisms?mechanism=not%20an%20iri", 400),
    ("/api/mechanisms?format=nonsense", 406),
    ("/api/theory-links", 400),
])
def test_error_answers_match_the_contract(client, openapi, url, status):
    resp = client.get(url)
    assert resp.status_code == status
    request = WerkzeugOpenAPIRequest(resp.request)
    res = openapi.unmarshal_response(request, WerkzeugOpenAPIResponse(resp))
    assert not res.errors, [str(e.__cause__) for e in res.errors]


def test_index_and_document_match_the_contract(client, openapi):
    for url in ("/api", "/api/openapi.json"):
        assert _check(client, openapi, url).status_code == 200
