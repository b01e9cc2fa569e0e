"""The OpenAPI 3.0 description of ``/api``, generated from the canned queries' front matter.

One path per query (``/api/{name}``) with its summary, description, tags and parameters
(schema, description, default, enum, example), plus the shared ``page``, ``per_page`` and
``format`` parameters and the error responses. The published prefixes are listed in the
description and, as data, under ``x-prefixes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from peerchange.core.formats import Format
from peerchange.services.canned import CannedQuery, Param, expand_iri

OPENAPI_VERSION = "3.0.3"
# An absolute IRI or a prefixed name (`pcm:CuratedInference`): both have a scheme-like head.
# Not `format: uri`, which validating clients read as RFC 3986 and which refuses prefixed
# names the server accepts; the server checks the prefix against the published ones.
IRI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$"


def _operation_id(name: str) -> str:
    head, *rest = name.replace("_", "-").split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _value(param: Param, value: str) -> Any:
    return int(value) if param.type == "integer" else value


def _compact(iri: str, prefixes: Mapping[str, str]) -> str | None:
    """The prefixed name of ``iri`` with the longest matching published prefix, if any."""
    best = max((p for p, ns in prefixes.items() if iri.startswith(ns) and len(iri) > len(ns)),
               key=lambda p: len(prefixes[p]), default=None)
    return None if best is None else best + ":" + iri[len(prefixes[best]):]


def _enum(param: Param, prefixes: Mapping[str, str]) -> list[Any]:
    """The allowed values; an IRI parameter's in both forms the server accepts (the full
    IRI and its prefixed name)."""
    if param.type != "iri":
        return [_value(param, v) for v in param.enum]
    out: list[Any] = []
    for value in param.enum:
        iri = expand_iri(value)
        for form in (iri, _compact(iri, prefixes)):
            if form is not None and form not in out:
                out.append(form)
    return out


def _parameter(param: Param, prefixes: Mapping[str, str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"} if param.type == "integer" else {"type": "string"}
    if param.enum:
        schema["enum"] = _enum(param, prefixes)
    elif param.type == "iri":
        schema["pattern"] = IRI_PATTERN
    if param.default is not None:
        schema["default"] = _value(param, param.default)
    kind = {
        "iri": "An absolute IRI, or a prefixed name with a published prefix.",
        "integer": "An integer, bound as xsd:integer.",
        "string": "A string, bound as an xsd:string literal.",
        "literal": "A literal" + (f" (language {param.lang})" if param.lang else "")
        + (f" (datatype {param.datatype})" if param.datatype else "") + ".",
    }[param.type]
    out: dict[str, Any] = {
        "name": param.name,
        "in": "query",
        "description": f"{param.description} {kind}",
        "required": param.required,
        "schema": schema,
    }
    if param.example is not None:
        out["example"] = _value(param, param.example)
    return out


def _prefix_table(prefixes: Mapping[str, str]) -> str:
    rows = "\n".join(f"| `{p}:` | `{iri}` |" for p, iri in prefixes.items())
    return "| prefix | IRI |\n|---|---|\n" + rows


def _description(prefixes: Mapping[str, str]) -> str:
    return (
        "Researchers' questions of the peerchange knowledge graph — the change model for "
        "peer worker interventions in mental health services (Gillard et al. 2015) — as "
        "named SPARQL queries (`queries/api/*.rq`, grlc-style front matter).\n\n"
        "Every link in an answer is a claim with an **evidence status**: stated in the "
        "source, reported in a companion paper, or curated inference. Read the status before "
        "reading a link as a finding of the paper.\n\n"
        "Parameters are checked against each query's documented type and bound to the "
        "query's variable as RDF terms (pyoxigraph substitutions); the query text is never "
        "edited. `iri` parameters take an absolute IRI or a prefixed name with one of the "
        "published prefixes below; `integer` values are bound as `xsd:integer`; `string` "
        "values as `xsd:string`. Queries run under the SPARQL endpoint's time and row "
        "limits. Long answers are paged with `page` and `per_page`; the `Link` header "
        "(RFC 8288) gives `first`, `prev`, `next` and `last`.\n\n"
        "Published prefixes (used by the queries, the SPARQL endpoint and the docs):\n\n"
        + _prefix_table(prefixes)
    )


def _components(formats: Iterable[Format]) -> dict[str, Any]:
    # OpenAPI 3.0: `nullable` only counts beside a `type`, so each alternative is nullable
    # (anyOf, not oneOf: null matches all three)
    value = {"anyOf": [{"type": t, "nullable": True} for t in ("string", "number", "boolean")]}
    error = {
        "type": "object",
        "required": ["ok", "status", "error", "message"],
        "properties": {
            "ok": {"type": "boolean", "enum": [False]},
            "status": {"type": "integer"},
            "error": {"type": "string"},
            "message": {"type": "string", "description": "What went wrong and what to do."},
            "queries": {"type": "array", "items": {"type": "string"},
                        "description": "On 404: the names of the queries there are."},
            "params": {"type": "array", "items": {"type": "object"},
                       "description": "On 400: the parameters the query documents."},
        },
    }
    page = {
        "type": "object",
        "required": ["query", "params", "vars", "rows", "page", "pages", "total", "truncated"],
        "properties": {
            "query": {"type": "string"},
            "summary": {"type": "string"},
            "params": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "The parameter values the query ran with."},
            "vars": {"type": "array", "items": {"type": "string"}},
            "rows": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": value},
                "description": "One object per row: variable → value (IRIs and literals as "
                               "strings, numbers as numbers, null when unbound).",
            },
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "nullable": True},
            "pages": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
            "truncated": {"type": "boolean",
                          "description": "The answer reached the server's row limit."},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "schemas": {
            "Page": page,
            "Error": error,
            "Index": {"type": "object",
                      "properties": {"queries": {"type": "array",
                                                 "items": {"type": "object"}},
                                     "prefixes": {"type": "object",
                                                  "additionalProperties": {"type": "string"}}}},
        },
        "parameters": {
            "page": {"name": "page", "in": "query", "required": False,
                     "description": "The page to answer (1 is the first).",
                     "schema": {"type": "integer", "minimum": 1, "default": 1}},
            "per_page": {"name": "per_page", "in": "query", "required": False,
                         "description": "Rows per page; the query's `pagination` by default, "
                                        "or the whole answer on one page when it has none.",
                         "schema": {"type": "integer", "minimum": 1}},
            "format": {"name": "format", "in": "query", "required": False,
                       "description": "The answer format; wins over Accept. A suffix "
                                      "(`.csv`, `.tsv`, `.srj`, `.json`) does the same.",
                       "schema": {"type": "string", "enum": [f.name for f in formats]}},
        },
        "responses": {
            "BadParameter": {"description": "Bad request: a parameter is missing, unknown, "
                                            "repeated or not of its documented type.",
                             "content": error_content},
            "UnknownQuery": {"description": "Not found: no query of this name (the body "
                                            "lists the queries there are).",
                             "content": error_content},
            "NotAcceptable": {"description": "Not acceptable: no offered format matches.",
                              "content": error_content},
            "Timeout": {"description": "The query ran past the server's time limit, or the "
                                       "remote SPARQL store the server answers from is "
                                       "unavailable (with Retry-After).",
                        "content": error_content},
            "StoreError": {"description": "Served from a remote SPARQL store (serve "
                                          "--endpoint): the store failed or cut its answer.",
                           "content": error_content},
        },
    }


def _query_path(query: CannedQuery, formats: Iterable[Format], prefixes: Mapping[str, str]
                ) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for fmt in formats:
        if fmt.name == "json":
            content[fmt.media_type] = {"schema": {"$ref": "#/components/schemas/Page"}}
        elif fmt.media_type.endswith("json"):
            content[fmt.media_type] = {"schema": {"type": "object"}}
        else:
            content[fmt.media_type] = {"schema": {"type": "string"}}
    description = query.description
    if query.pagination:
        description += f"\n\nPaged: {query.pagination} rows per page unless `per_page` is given."
    return {
        "get": {
            "operationId": _operation_id(query.name),
            "summary": query.summary,
            "description": description,
            "tags": list(query.tags),
            "parameters": [_parameter(p, prefixes) for p in query.params] + [
                {"$ref": "#/components/parameters/page"},
                {"$ref": "#/components/parameters/per_page"},
                {"$ref": "#/components/parameters/format"},
            ],
            "responses": {
                "200": {
                    "description": "The page of the answer asked for.",
                    "headers": {
                        "Link": {"description": "RFC 8288 links to the first, prev, next "
                                                "and last pages of a paged answer.",
                                 "schema": {"type": "string"}},
                        "ETag": {"schema": {"type": "string"}},
                    },
                    "content": content,
                },
                "304": {"description": "Not modified (If-None-Match matched the ETag)."},
                "400": {"$ref": "#/components/responses/BadParameter"},
                "404": {"$ref": "#/components/responses/UnknownQuery"},
                "406": {"$ref": "#/components/responses/NotAcceptable"},
                "502": {"$ref": "#/components/responses/StoreError"},
                "503": {"$ref": "#/components/responses/Timeout"},
            },
        }
    }


def openapi_document(queries: Iterable[CannedQuery], *, server: str, version: str,
                     formats: tuple[Format, ...], prefixes: Mapping[str, str]
                     ) -> dict[str, Any]:
    """Return the OpenAPI 3.0 document of ``/api`` for ``queries``.

    :param server: the URL the app is served under (``/`` or its script root).
    """
    queries = list(queries)
    tags = sorted({t for q in queries for t in q.tags})
    paths: dict[str, Any] = {
        "/api": {"get": {
            "operationId": "listQueries",
            "summary": "The canned queries, with their parameters",
            "tags": ["api"],
            "responses": {"200": {"description": "The index of queries.", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Index"}}}}},
        }},
        "/api/openapi.json": {"get": {
            "operationId": "openapiDocument",
            "summary": "This OpenAPI description",
            "tags": ["api"],
            "responses": {"200": {"description": "The OpenAPI 3.0 document.", "content": {
                "application/json": {"schema": {"type": "object"}}}}},
        }},
    }
    for query in queries:
        paths[f"/api/{query.name}"] = _query_path(query, formats, prefixes)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "peerchange canned queries",
            "version": version,
            "description": _description(prefixes),
            "license": {"name": "CC BY 4.0 (data and queries)",
                        "url": "https://creativecommons.org/licenses/by/4.0/"},
        },
        "servers": [{"url": server}],
        "tags": [{"name": "api", "description": "The index and this description."}]
        + [{"name": t} for t in tags],
        "paths": paths,
        "components": _components(formats),
        "x-prefixes": dict(prefixes),
    }
