"""The web face of the one error path: every error becomes one clear answer here.

Views raise :class:`~peerchange.core.errors.PeerchangeError` subclasses (werkzeug's own
HTTP errors are translated into the same form); :func:`render_error` is the only place that
turns one into a response, as

- HTML, for a browser that asks for a page (``text/html`` named and preferred), with the
  suggestions as links;
- JSON ``{"ok": false, "status", "error", "message", "suggestions"?: [{"id", "label",
  "href"}], ...}`` when the client prefers JSON, or a view said its errors are JSON
  (:func:`errors_as`: the canned API always, a trace asked for as ``.json``);
- ``text/plain`` otherwise.

:func:`error_body` gives the JSON or text body without a request context, for the errors
the serving layer (:mod:`peerchange.serving`) answers before the app runs.

Unexpected exceptions are logged with their trace on the server and answered with a plain
500 message, never the trace; so is a :class:`~peerchange.core.errors.QueryFailed`, whose
engine detail goes to the log only.
"""

from __future__ import annotations

import json

from flask import Flask, Response, current_app, g, render_template, request, url_for
from werkzeug.exceptions import HTTPException, InternalServerError

from peerchange.core.errors import (
    ErrorView,
    NotFound,
    PeerchangeError,
    QueryFailed,
    StoreFailed,
    Suggestion,
    error_view,
)
from peerchange.web.negotiation import clean_accept, prefers_json
from peerchange.web.state import services

HTML, JSON, TEXT = "text/html", "application/json", "text/plain"

# the HTML page of a "not found", by what was looked for
NOT_FOUND_TEMPLATES = {"mechanism": "trace/not_found.html", "work": "trace/not_found.html"}
DEFAULT_NOT_FOUND_TEMPLATE = "ld/not_found.html"
ERROR_TEMPLATE = "error.html"


def errors_as(media_type: str | None, **links: str) -> None:
    """Fix the representation of any error this request raises from here on (``"json"``,
    ``"html"``, ``"text"``, or ``None`` to negotiate); ``links`` are added to the JSON form
    (``index="/api"``)."""
    g.peerchange_errors_as = {"json": JSON, "html": HTML, "text": TEXT}.get(media_type or "")
    g.peerchange_error_links = links


def _representation() -> str:
    forced = g.get("peerchange_errors_as")
    if forced:
        return forced
    accept = clean_accept(request.headers.get("Accept"))
    if accept is not None and any(value == HTML and q > 0 for value, q in accept) \
            and accept.best_match([TEXT, JSON, HTML]) == HTML:
        return HTML
    return JSON if prefers_json(request.headers.get("Accept")) else TEXT


def _href(kind: str, suggestion: Suggestion) -> str | None:
    if suggestion.href:
        return suggestion.href
    if kind == "mechanism":
        return url_for("trace.trace", slug=suggestion.id)
    if kind == "work":
        return url_for("trace.cited", key=suggestion.id)
    if kind == "query":
        return url_for("api.run", name=suggestion.id)
    return None


def render_error(exc: PeerchangeError) -> Response:
    """Return the response for ``exc`` in the representation the client should get."""
    view = error_view(exc)
    kind = exc.kind if isinstance(exc, NotFound) else None
    if kind:
        view.suggestions = [Suggestion(s.id, s.label, _href(kind, s)) for s in view.suggestions]
    view.extra.update(g.get("peerchange_error_links") or {})
    media = _representation()
    if media == HTML:
        template = (NOT_FOUND_TEMPLATES.get(kind, DEFAULT_NOT_FOUND_TEMPLATE) if kind
                    else ERROR_TEMPLATE)
        body = render_template(template, error=view, kind=kind)
        resp = Response(body, status=view.status, content_type="text/html; charset=utf-8")
    else:
        content_type, body = _plain_body(view, media)
        resp = Response(body, status=view.status, content_type=content_type)
    resp.headers["Vary"] = "Accept"
    for key, value in view.headers.items():
        resp.headers[key] = value
    return resp


def _plain_body(view: ErrorView, media: str) -> tuple[str, bytes]:
    if media == JSON:
        return "application/json", (json.dumps(view.as_dict(), ensure_ascii=False)
                                    + "\n").encode("utf-8")
    return "text/plain; charset=utf-8", view.as_text().encode("utf-8")


def error_body(exc: PeerchangeError, accept: str | None) -> tuple[str, bytes]:
    """The body of ``exc`` as the app would give it to a client sending ``accept`` (JSON
    when it prefers JSON, plain text otherwise), without a request context: for the serving
    layer, which answers some errors (414, 431, 400, 413, 429, 503) before the app runs.
    Returns ``(content type, body)``."""
    return _plain_body(error_view(exc), JSON if prefers_json(accept) else TEXT)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(PeerchangeError)
    def _peerchange(exc: PeerchangeError) -> Response:
        if isinstance(exc, QueryFailed | StoreFailed):
            current_app.logger.error("query evaluation failed: %s", exc.log_detail)
        return render_error(exc)

    @app.errorhandler(InternalServerError)
    def _internal(exc: InternalServerError) -> Response:
        original = getattr(exc, "original_exception", None)
        if original is not None:
            current_app.logger.exception("unexpected error", exc_info=original)
        return render_error(_http_error(500, "Internal Server Error",
                                        "The server failed to answer; the error has been "
                                        "logged."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = exc.code or 500
        headers = {}
        if code == 405:
            headers["Allow"] = dict(exc.get_headers()).get("Allow", "")
        message = exc.description or exc.name
        # werkzeug's stock descriptions are generic: say what to do instead (an abort with
        # its own description keeps it)
        if message == type(exc).description:
            message = _stock_message(code, headers, message)
        return render_error(_http_error(code, exc.name, message, headers))


def _http_error(code: int, title: str, message: str,
                headers: dict[str, str] | None = None) -> PeerchangeError:
    """A werkzeug HTTP error in the form of ours (404s become :class:`NotFound`)."""
    if code == 404:
        error: PeerchangeError = NotFound(message, headers=headers)
    else:
        error = PeerchangeError(message, headers=headers)
        error.http_status = code
        error.title = title
    return error


def _stock_message(code: int, headers: dict[str, str], default: str) -> str:
    if code == 405:
        return (f"{request.method} is not allowed on {request.path}; it answers "
                f"{headers['Allow']}. SPARQL queries use GET or POST.")
    if code == 404:
        return f"Nothing is served at {request.path}. The SPARQL endpoint is /sparql."
    if code == 413:
        limit = services().sparql.max_query_bytes
        size = f"{request.content_length:,} bytes" if request.content_length else "too large"
        return (f"The request body is {size}; this endpoint accepts queries of at most "
                f"{limit:,} bytes.")
    return default


__all__ = ["ErrorView", "error_body", "errors_as", "register_error_handlers", "render_error"]
