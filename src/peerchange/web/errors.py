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
        headers = {}
        if exc.code == 405:
            allow = exc.get_headers().__iter__()
            headers = {k: v for k, v in allow if k == "Allow"}
        message = exc.description or exc.name
        return error_response(exc.code or 500, exc.name, message, headers)
