"""The SPARQL 1.1 Protocol at ``/sparql`` (query operation; read-only).

GET with ``query`` in the URL; POST with ``application/x-www-form-urlencoded`` (parameters
in the body, and in the URL too) or ``application/sparql-query`` (the body is the query,
dataset parameters in the URL). Without a query, GET returns the service description
(RDF clients) or a small query page (browsers).
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl

from flask import Blueprint, Response, g, render_template, request
from werkzeug.datastructures import MIMEAccept, MultiDict

from peerchange import __version__
from peerchange.core.errors import BadRequest, UnsupportedMediaType, UpdateRefused
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, Format
from peerchange.core.namespaces import BASE, PREFIXES
from peerchange.core.queryfiles import get_query
from peerchange.core.results import write_graph
from peerchange.services.service_description import service_description
from peerchange.services.sparql import READ_ONLY_MESSAGE, Dataset, checked_dataset
from peerchange.web.caching import etag_for
from peerchange.web.negotiation import clean_accept, negotiate
from peerchange.web.state import services

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"The {what} is not valid UTF-8 (byte {exc.start}); SPARQL requests must be UTF-8."
        ) from None


def _parse_params(raw: bytes, what: str) -> MultiDict[str, str]:
    text = _decode(raw, what)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(
            f"The {what} has percent-encoded bytes that are not UTF-8; SPARQL requests must "
            "be UTF-8."
        ) from None
    return MultiDict(pairs)


def _content_type() -> tuple[str, dict[str, str]]:
    header = request.headers.get("Content-Type", "")
    media, _, rest = header.partition(";")
    params = {}
    for part in rest.split(";"):
        key, _, value = part.strip().partition("=")
        if key:
            params[key.strip().lower()] = value.strip().strip('"')
    return media.strip().lower(), params


def request_params() -> MultiDict[str, str]:
    """Return the protocol parameters of this request, decoded strictly as UTF-8.

    :raise UpdateRefused: for an update request (form ``update`` or sparql-update body).
    :raise UnsupportedMediaType: for a POST in another media type or charset.
    :raise BadRequest: for bytes that are not UTF-8.
    """
    params = _parse_params(request.query_string, "query string")
    if request.method != "POST":
        return params
    media, ctype_params = _content_type()
    charset = ctype_params.get("charset", "utf-8").lower()
    if media == UPDATE:
        raise UpdateRefused(READ_ONLY_MESSAGE)
    if media not in (FORM, QUERY):
        given = f"Content-Type {media!r}" if media else "no Content-Type"
        raise UnsupportedMediaType(
            f"A POST to the SPARQL endpoint needs Content-Type {FORM} or {QUERY}; "
            f"the request had {given}."
        )
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(
            f"charset={charset} is not supported; send the request body as UTF-8."
        )
    body = request.get_data(cache=False)
    if media == FORM:
        for key, values in _parse_params(body, "request body").lists():
            for value in values:
                params.add(key, value)
    else:
        if "query" in params:
            raise BadRequest(
                "With Content-Type application/sparql-query the query is the request body; "
                "do not also send a 'query' parameter."
            )
        params.add("query", _decode(body, "request body"))
    return params


def _dataset(params: MultiDict[str, str]) -> Dataset:
    """The protocol's dataset parameters, each an IRI the store accepts (else 400)."""
    return checked_dataset(
        Dataset(params.getlist("default-graph-uri"), params.getlist("named-graph-uri")))



@bp.route("/sparql", methods=["GET", "POST"], strict_slashes=False)
def sparql() -> Response:
    """Answer a SPARQL query, or describe the service when there is none."""
    params = request_params()
    if "update" in params:
        raise UpdateRefused(READ_ONLY_MESSAGE)
    queries = params.getlist("query")
    if len(queries) > 1:
        raise BadRequest(f"Send exactly one 'query' parameter; this request had {len(queries)}.")
    if not queries:
        if request.method == "POST":
            raise BadRequest("The request has no 'query' parameter.")
        return _describe_service(params)
    return _answer(queries[0], params)


def _format_values(params: MultiDict[str, str]) -> list[str]:
    """The ``format`` and ``output`` parameter values, in that order."""
    return params.getlist("format") + params.getlist("output")


def _a(form: str) -> str:
    return f"an {form}" if form[0] in "AEIOU" else f"a {form}"


def _answer(text: str, params: MultiDict[str, str]) -> Response:
    g.query_text = text  # for the access log (its hash; the text only if configured)
    st = services()
    service = st.sparql
    # relative IRIs in a query resolve against the endpoint's URL (its retrieval IRI)
    base_iri = request.base_url
    prepared = service.prepare(text, base_iri=base_iri)
    fmt = negotiate(
        prepared.formats,
        accept=request.headers.get("Accept"),
        format_param=_format_values(params),
        what=f"{_a(prepared.form)} query",
    )
    dataset = _dataset(params)
    prepared = replace(prepared, dataset=dataset)
    etag = etag_for(st.graph.version, text, dataset.default_graphs, dataset.named_graphs,
                 fmt.name, service.max_rows, service.max_answer_bytes, base_iri)
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        # the body streams from the query process; whether it was cut is known before
        answer = service.execute(prepared, fmt, stream=True)
        resp = Response(answer.chunks, content_type=fmt.content_type)
        g.query_rows = answer.count  # for the access log
        g.query_truncated = answer.truncated
        if answer.truncated:
            resp.headers["Peerchange-Truncated"] = "true"
            if answer.limit == "bytes":
                resp.headers["Peerchange-Byte-Limit"] = str(service.max_answer_bytes)
            else:
                resp.headers["Peerchange-Row-Limit"] = str(service.max_rows)
    resp.set_etag(etag)
    resp.headers["Vary"] = "Accept"
    resp.headers["Cache-Control"] = "public, no-cache"
    return resp


HTML = "text/html"


def _wants_html(accept: MIMEAccept | None) -> bool:
    """Whether a client asked for the HTML page by name and prefers it to every RDF format.

    ``*/*`` alone (curl, harvesters, SERVICE callers) gets the service description.
    """
    if accept is None or not any(value == HTML and q > 0 for value, q in accept):
        return False
    return accept.best_match([HTML, *(f.media_type for f in RDF_FORMATS)]) == HTML


def _describe_service(params: MultiDict[str, str]) -> Response:
    st = services()
    format_values = _format_values(params)
    if not format_values and _wants_html(clean_accept(request.headers.get("Accept"))):
        # the query editor (templates/sparql.html, static/editor.js): it opens on the
        # mechanisms query and offers every canned query, their texts read from the files
        resp = Response(render_template(
            "sparql.html", prefixes=PREFIXES, service=st.sparql, namespace=BASE,
            opening=get_query("api/mechanisms"),
            examples=[{"name": q.name, "summary": q.summary, "query": q.file.text}
                      for q in st.canned.queries()],
            result_formats=[f.name for f in RESULT_FORMATS],
            graph_formats=[f.name for f in RDF_FORMATS if not f.quads],
        ), content_type="text/html; charset=utf-8")
    else:
        fmt: Format = negotiate(RDF_FORMATS, accept=request.headers.get("Accept"),
                                format_param=format_values, what="the service description")
        endpoint = request.base_url.rstrip("/")
        body = write_graph(fmt, service_description(st.sparql, endpoint), prefixes=PREFIXES)
        resp = Response(body, content_type=fmt.content_type)
    resp.set_etag(etag_for(st.graph.version, __version__, "sd", request.base_url,
                           resp.content_type))
    resp.headers["Vary"] = "Accept"
    resp.headers["Cache-Control"] = "public, no-cache"
    return resp.make_conditional(request)

