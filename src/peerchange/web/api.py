"""``/api``: the canned queries of ``queries/api/`` as a small read-only JSON and CSV API.

- ``GET /api`` — the index: every query with its summary, description, tags and parameters;
- ``GET /api/{name}`` — run a query; parameters are query-string values checked against the
  query's front matter and bound as RDF terms; ``page`` and ``per_page`` select a page and
  the ``Link`` header (RFC 8288) gives ``first``, ``prev``, ``next`` and ``last``;
- formats by ``Accept``, ``?format=`` or a suffix (``/api/{name}.csv``): ``application/json``
  (default, the shape below), ``text/csv``, ``text/tab-separated-values`` and
  ``application/sparql-results+json`` (typed terms, for SPARQL clients);
- ``GET /api/openapi.json`` — an OpenAPI 3.0 description generated from the front matter.

The JSON answer::

    {"query": name, "summary": ..., "params": {name: value used},
     "vars": [...], "rows": [{var: value or null}],
     "page": 1, "per_page": 25 or null, "pages": 3, "total": 60, "truncated": false,
     "links": {"self": ..., "first": ..., "prev": ..., "next": ..., "last": ...}}

Values are plain: IRIs and literals as strings, numbers as numbers. Errors are JSON:
``{"ok": false, "status", "error", "message"}`` plus ``queries`` (404) or ``params`` (400).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request, url_for

from peerchange import __version__
from peerchange.core.formats import RESULT_FORMATS, Format
from peerchange.core.namespaces import PREFIXES
from peerchange.core.results import write_select
from peerchange.services.canned import (
    RESERVED,
    BadParameter,
    CannedQueryService,
    Page,
    plain_value,
)
from peerchange.web.caching import etag_for
from peerchange.web.errors import errors_as
from peerchange.web.negotiation import negotiate
from peerchange.web.openapi import openapi_document
from peerchange.web.paging import link_values, page_links, page_url, request_params
from peerchange.web.state import services

bp = Blueprint("api", __name__, url_prefix="/api")

JSON = Format("json", "application/json", ("js",), "json")
SPARQL_JSON = Format("srj", "application/sparql-results+json", ("sparql-json",), "srj")
CSV = next(f for f in RESULT_FORMATS if f.name == "csv")
TSV = next(f for f in RESULT_FORMATS if f.name == "tsv")
API_FORMATS: tuple[Format, ...] = (JSON, CSV, TSV, SPARQL_JSON)
_SUFFIXES = {f.extension: f for f in API_FORMATS}


def service() -> CannedQueryService:
    """The canned-query service over the app's SPARQL service (its limits apply)."""
    return services().canned


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, indent=1) + "\n", status=status,
                    content_type="application/json")


@bp.before_request
def _errors_are_json() -> None:
    """Errors of the API are JSON whatever was asked for: the API speaks JSON."""
    errors_as("json", index=url_for("api.index"))


@bp.get("", strict_slashes=False)
def index() -> Response:
    """The list of canned queries, their parameters and where to run them."""
    queries = []
    for q in service().queries():
        entry = q.describe()
        entry["url"] = url_for("api.run", name=q.name)
        entry["example"] = url_for("api.run", name=q.name, **q.example_values())
        queries.append(entry)
    resp = _json({
        "title": "peerchange canned queries",
        "description": (
            "Researchers' questions of the change model as named SPARQL queries "
            "(queries/api/*.rq). Every link in an answer carries its evidence status: "
            "stated in the source, reported in a companion paper, or curated inference."
        ),
        "openapi": url_for("api.openapi"),
        "sparql": "/sparql",
        "formats": [f.media_type for f in API_FORMATS],
        "prefixes": PREFIXES,
        "queries": queries,
    })
    resp.headers["Link"] = f'<{url_for("api.openapi")}>; rel="service-desc"'
    resp.headers["Cache-Control"] = "public, no-cache"
    return resp


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.0 description of ``/api``, generated from the queries' front matter."""
    doc = openapi_document(service().queries(), server=request.url_root.rstrip("/"),
                           version=__version__, formats=API_FORMATS, prefixes=PREFIXES)
    resp = _json(doc)
    resp.headers["Cache-Control"] = "public, no-cache"
    return resp


@bp.get("/<string:name>")
def run(name: str) -> Response:
    """Run the canned query ``name`` (optionally ``name.csv`` and the other suffixes)."""
    svc = service()
    stem, dot, suffix = name.rpartition(".")
    suffix_format = _SUFFIXES.get(suffix) if dot else None
    if suffix_format is not None:
        name = stem
    query = svc.get(name)
    args = request.args
    fmt = suffix_format or negotiate(
        API_FORMATS, accept=request.headers.get("Accept"),
        format_param=args.getlist("format"), what="a canned query",
    )
    params = {k: args.getlist(k) for k in args if k not in RESERVED}
    for key in ("page", "per_page", "format"):
        if len(args.getlist(key)) > 1:
            raise BadParameter(f"{key} was given {len(args.getlist(key))} times; give it once.",
                               query=query)
    # check everything before the (conditional) evaluation: a bad request is a 400 even
    # when the client holds an ETag
    svc.bind(query, params)
    svc.page_size(query, args.get("page"), args.get("per_page"))
    st = services()
    etag = etag_for(st.graph.version, name, sorted((k, v) for k, vs in params.items() for v in vs),
                 args.get("page"), args.get("per_page"), fmt.name, svc.sparql.max_rows)
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        page = svc.run(name, params, page=args.get("page"), per_page=args.get("per_page"))
        resp = _render(page, fmt)
        links = _links(page)
        if links:
            resp.headers["Link"] = ", ".join(link_values(links))
        if page.truncated:
            resp.headers["Peerchange-Truncated"] = "true"
            resp.headers["Peerchange-Row-Limit"] = str(svc.sparql.max_rows)
    resp.set_etag(etag)
    resp.headers["Vary"] = "Accept"
    resp.headers["Cache-Control"] = "public, no-cache"
    return resp


def _links(page: Page) -> dict[str, str]:
    """The URLs of this page and the pages around it (:func:`~peerchange.web.paging.page_links`):
    the same request's, other parameters kept and the page size given; none for an answer
    on one page."""
    if not page.per_page:
        return {}
    params = request_params()
    if "per_page" not in request.args:
        params.append(("per_page", str(page.per_page)))
    return page_links(page.page, page.pages,
                      lambda number: page_url(request.base_url, number, params))


def _render(page: Page, fmt: Format) -> Response:
    if fmt is JSON:
        links = _links(page)
        return _json({
            "query": page.query.name,
            "summary": page.query.summary,
            "params": page.params,
            "vars": page.variables,
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
            "total": page.total,
            "truncated": page.truncated,
            "links": links,
            "rows": [{v: plain_value(t) for v, t in zip(page.variables, row, strict=True)}
                     for row in page.rows],
        })
    result_format = RESULT_FORMATS[0] if fmt is SPARQL_JSON else fmt
    body = write_select(result_format, page.variables, page.rows, truncated=page.truncated)
    return Response(body, content_type=fmt.content_type)
