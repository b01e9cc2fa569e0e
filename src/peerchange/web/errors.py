"""One error handler: every error becomes a clear message with the right status.

The body is ``text/plain`` by default and JSON (``{"ok": false, "status", "error",
"message"}``) when the client prefers JSON. Unexpected exceptions are logged with their
trace on the server and answered with a plain 500 message, never the trace.
"""

from __future__ import annotations

import json

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, InternalServerError

from peerchange.core.errors import PeerchangeError
from peerchange.web.negotiation import prefers_json
from peerchange.web.state import services


def error_response(status: int, title: str, message: str, headers: dict[str, str] | None = None
                   ) -> Response:
    """Return an error response in the format the client prefers."""
    if prefers_json(request.headers.get("Accept")):
        body = json.dumps({"ok": False, "status": status, "error": title, "message": message},
                          ensure_ascii=False)
        resp = Response(body + "\n", status=status, content_type="application/json")
    else:
        resp = Response(f"{status} {title}: {message}\n", status=status,
                        content_type="text/plain; charset=utf-8")
    resp.headers["Vary"] = "Accept"
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(PeerchangeError)
    def _peerchange(exc: PeerchangeError) -> Response:
        return error_response(exc.http_status, exc.title, str(exc))

    @app.errorhandler(InternalServerError)
    def _internal(exc: InternalServerError) -> Response:
        original = getattr(exc, "original_exception", None)
        if original is not None:
            current_app.logger.exception("unexpected error", exc_info=original)
        return error_response(500, "Internal Server Error",
                              "The server failed to answer; the error has been logged.")

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
        return error_response(code, exc.name, message, headers)


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
