"""The SPARQL 1.1 Protocol at ``/sparql`` (query operation; read-only).

GET with ``query`` in the URL; POST with ``application/x-www-form-urlencoded`` (parameters
in the body, and in the URL too) or ``application/sparql-query`` (the body is the query,
dataset parameters in the URL). Without a query, GET returns the service description
(RDF clients) or a small query page (browsers).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl

from flask import Blueprint, Response, current_app, g, render_template, request
from werkzeug.datastructures import MIMEAccept, MultiDict

from peerchange import __version__
from peerchange.core.errors import BadRequest, UnsupportedMediaType, UpdateRefused
from peerchange.core.execution import Answer
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, Format
from peerchange.core.namespaces import BASE, PREFIXES
from peerchange.core.queryfiles import get_query
from peerchange.core.results import write_graph
from peerchange.services.service_description import service_description
from peerchange.services.sparql import READ_ONLY_MESSAGE, Dataset, checked_dataset
from peerchange.web.caching import (
    ANSWER_CACHE,
    AnswerCache,
    CachedAnswer,
    etag_for,
    mark_replayable,
)
from peerchange.web.compression import (
    COMPRESSOR,
    Compressor,
    accepts_gzip,
    gzip_bytes,
    set_gzipped,
)
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
    # relative IRIs in a query resolve against the endpoint's URL (its retrieval IRI)
    base_iri = request.base_url
    cache = answer_cache()
    st = services()
    # the request's own words: the same ones (and data version) led to the same ETag
    words = (st.graph.version, text, request.headers.get("Accept"), tuple(_format_values(params)),
             tuple(params.getlist("default-graph-uri")),
             tuple(params.getlist("named-graph-uri")), base_iri)
    known = cache.etag_of(words) if cache else None
    if known is not None and not request.if_none_match.contains_weak(known):
        hit = cache.get(known)  # type: ignore[union-attr]
        if hit is not None:
            return _finished(_cached(hit, known, cache), known, cache)  # type: ignore[arg-type]
    service = st.sparql
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
    elif cache and (hit := cache.get(etag)) is not None:
        resp = _cached(hit, etag, cache)
    else:
        resp = _evaluated(service, prepared, fmt, etag, cache)
    if cache and resp.status_code in (200, 304):
        cache.remember(words, etag)
    return _finished(resp, etag, cache)


def _finished(resp: Response, etag: str, cache: AnswerCache | None) -> Response:
    """The answer's caching headers, and its gzip form for a client that accepts it."""
    resp.set_etag(etag)
    resp.headers["Vary"] = "Accept"
    resp.headers["Cache-Control"] = "public, no-cache"
    compressor = current_app.extensions.get(COMPRESSOR)
    if compressor is not None and resp.status_code == 200 and not resp.is_streamed:
        _compress(resp, compressor, cache, etag)
    # a whole answer the cache keeps (never a cut or failed one), or the 304 for its ETag:
    # the server may send it again, as it is, to the same request (serving/fast_lane)
    if resp.status_code == 304 or getattr(resp, "cached_answer", None) is not None:
        mark_replayable(request.environ)
    return resp


def answer_cache() -> AnswerCache | None:
    """This worker's cache of complete answers (``None`` when the app has none)."""
    return current_app.extensions.get(ANSWER_CACHE)


def _cached(hit: CachedAnswer, etag: str, cache: AnswerCache) -> Response:
    g.query_rows = hit.rows  # for the access log
    g.query_truncated = False
    resp = Response(hit.body, content_type=hit.content_type)
    resp.cached_answer = hit  # type: ignore[attr-defined]  # its gzip form is kept with it
    return resp


def _evaluated(service, prepared, fmt: Format, etag: str,
               cache: AnswerCache | None) -> Response:
    """Run the query; keep its answer in ``cache`` when it is complete and small enough."""
    done: Executed | None = request.environ.pop(EXECUTED, None)
    if done is not None and done.etag != etag:  # not this query: it is closed by its maker
        request.environ[EXECUTED] = done
        done = None
    if done is None:  # the body streams from the query process; a cut is known before
        answer = service.execute(prepared, fmt, stream=True)
    elif done.answer is None:
        raise done.error  # type: ignore[misc]  # what running it raised
    else:
        answer = done.answer
    g.query_rows = answer.count  # for the access log
    g.query_truncated = answer.truncated
    chunks = answer.chunks
    keep = bool(cache) and not answer.truncated
    if done is not None and done.head is not None:  # read already, as below
        if done.error is not None:
            raise done.error
        head, finished = done.head, done.finished
    else:
        head, finished = read_up_to(chunks, read_limit(cache, answer))
    if finished:
        body = b"".join(head)
        resp = Response(body, content_type=fmt.content_type)
        if keep and getattr(chunks, "complete", True):
            entry = CachedAnswer(body, fmt.content_type, answer.count)
            if cache.put(etag, entry):  # type: ignore[union-attr]
                resp.cached_answer = entry  # type: ignore[attr-defined]
    else:
        resp = Response(_chain(head, chunks), content_type=fmt.content_type)
    if answer.truncated:
        resp.headers["Peerchange-Truncated"] = "true"
        if answer.limit == "bytes":
            resp.headers["Peerchange-Byte-Limit"] = str(service.max_answer_bytes)
        else:
            resp.headers["Peerchange-Row-Limit"] = str(service.max_rows)
    return resp


WHOLE_BYTES = 256 * 1024  # an answer up to this size is read whole before it is sent
# the environ key of a query the serving layer's lean path (serving/lean) ran already and
# hands over (an error, a cut or a large answer): the view goes on from there
EXECUTED = "peerchange.lean.executed"


@dataclass
class Executed:
    """A query run for this request before the app (see :data:`EXECUTED`): the error that
    running it raised (``answer`` ``None``), or its answer and, when its first pieces were
    read (:func:`read_up_to` with :func:`read_limit`), those pieces, whether that was all,
    or the error that reading raised."""

    etag: str
    answer: Answer | None = None
    error: BaseException | None = None
    head: list[bytes] | None = None
    finished: bool = False


def read_limit(cache: AnswerCache | None, answer: Answer) -> int:
    """How much of ``answer`` is read before its head is sent: the whole of it up to this."""
    keep = bool(cache) and not answer.truncated
    return max(WHOLE_BYTES, cache.max_entry_bytes if keep else 0)  # type: ignore[union-attr]


def read_up_to(chunks: Iterator[bytes], limit: int) -> tuple[list[bytes], bool]:
    """The first pieces of ``chunks``, until they reach ``limit`` bytes, and whether that
    was all of it (then the answer can be kept, compressed whole, and its query process is
    free before the client reads it)."""
    head: list[bytes] = []
    size = 0
    for piece in chunks:
        head.append(piece)
        size += len(piece)
        if size >= limit:
            return head, False
    return head, True


def _chain(head: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from head
        yield from rest
    finally:
        close = getattr(rest, "close", None)
        if close is not None:
            close()


def _compress(resp: Response, compressor: Compressor, cache: AnswerCache | None,
              etag: str) -> None:
    """gzip a whole answer for a client that accepts it, from the cached gzip form when
    there is one (the app's ``Compressor`` then leaves it as it is)."""
    if compressor.min_bytes <= 0 or (resp.content_length or 0) < compressor.min_bytes:
        return
    resp.vary.add("Accept-Encoding")
    if not accepts_gzip(request):
        return
    entry: CachedAnswer | None = getattr(resp, "cached_answer", None)
    if entry is not None and entry.gzipped is not None:
        set_gzipped(resp, entry.gzipped)
        return
    body = gzip_bytes(resp.get_data(), compressor.level)
    if entry is not None and cache is not None:
        cache.add_gzipped(etag, entry, body)
    set_gzipped(resp, body)


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

