"""The access log: one JSON line per request on the logger ``peerchange.access``, and the
request counts of ``/metrics``.

:func:`install` wraps the app's WSGI callable, so a line is written when the answer has
been handed over in full (a streamed answer too), with what was sent:

- ``time`` (UTC, when the request arrived), ``method``, ``route`` (the group of routes: the
  blueprint, ``static`` or ``unmatched``; never the raw path), ``status``, ``duration_ms``,
  ``bytes`` (of the body), ``version`` (the data version served);
- for a SPARQL query: ``query_hash`` (the first 16 hex digits of the SHA-256 of the query
  text, the same for the same text, so repeated queries can be followed without storing
  them), and ``rows`` and ``truncated`` when the query was answered;
- ``client`` (the client's address) only with ``settings.log_clients``; ``query`` (the query
  text) and ``target`` (the path and query string) only with ``settings.log_queries``: the
  subject is mental health, and users may write personal notes into queries.

A request the serving layer answers from its fast lane (:mod:`peerchange.serving.fast_lane`)
gets the same line and counts through :func:`replayed`, from what the app's line noted
(:func:`replay_record`) and the request's own time, duration, bytes and client.

The views tell the log about a query through :data:`flask.g`: ``g.query_text`` (the text as
received), ``g.query_rows`` and ``g.query_truncated`` (set by ``/sparql``).

Nothing is kept by the server: ``peerchange serve`` writes the lines to standard error
(:func:`configure_access_log`; none with ``-q``), and whatever collects them decides how
long they are kept. The same hook counts ``peerchange_requests_total{route,status}`` and
``peerchange_request_seconds{route}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import IO, Any

from flask import Flask, Response, current_app, g, request

from peerchange.core import metrics
from peerchange.web.caching import FAST_LANE

ACCESS_LOGGER = "peerchange.access"
log = logging.getLogger(ACCESS_LOGGER)

_RECORD = "peerchange.access"  # the WSGI environ key of the request's record
_SETTINGS = "peerchange.access_log"  # the app.extensions key of the privacy switches

# json.dumps(line, ensure_ascii=False, separators=(",", ":")), one encoder for every line
_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def query_hash(text: str) -> str:
    """The first 16 hex digits of the SHA-256 of a query text (UTF-8); those of the last
    1,024 texts of at most 4,096 characters are kept (at most 16 MiB), so a repeated query,
    a replayed answer, is hashed once."""
    return _kept_hash(text) if len(text) <= 4096 else _hash(text)


@lru_cache(maxsize=1024)
def _kept_hash(text: str) -> str:
    return _hash(text)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def route_group() -> str:
    """The route group of the current request: its blueprint (``sparql``, ``api``,
    ``linked_data`` ...), ``static``, or ``unmatched`` when no route matched."""
    if request.url_rule is None:
        return "unmatched"
    return request.blueprint or request.endpoint or "other"


def configure_access_log(enabled: bool = True, stream: IO[str] | None = None) -> None:
    """Write the access log's lines to ``stream`` (standard error), or nowhere when not
    ``enabled``; ``peerchange serve`` calls it (``enabled=not quiet``). Calling it again
    replaces what an earlier call set up."""
    for handler in list(log.handlers):
        if getattr(handler, "peerchange_access", False):
            log.removeHandler(handler)
    log.propagate = False
    if not enabled:
        log.setLevel(logging.WARNING)  # the lines are info: not even built
        return
    handler = _LineHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.peerchange_access = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)


class _LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stream handler :func:`configure_access_log` installs; while it is the logger's
    only handler and nothing filters, :func:`_write` gives it a line directly."""

    def write_line(self, text: str) -> None:
        """Write one line and flush, as :meth:`emit` does for a record of ``text``."""
        with self.lock:  # type: ignore[union-attr]
            try:
                self.stream.write(text + self.terminator)
                self.stream.flush()
            except Exception:  # noqa: BLE001 - as logging's own handlers: never raise
                self.handleError(logging.makeLogRecord({"msg": text}))


def _write(text: str) -> None:
    """Log one access line. The record a ``log.info`` builds (the caller's frame, the
    thread's and process's names: about half the cost of a fast-lane answer's line) is
    skipped when the only handler is the access log's own stream and nothing filters;
    any other set-up (a collector's handler, a filter) gets the record as usual."""
    handlers = log.handlers
    if (len(handlers) == 1 and isinstance(handlers[0], _LineHandler)
            and not log.filters and not handlers[0].filters):
        handlers[0].write_line(text)
    else:
        log.info(text)


def install(app: Flask, *, log_clients: bool = False, log_queries: bool = False) -> None:
    """Log and count every request ``app`` answers (see the module docstring)."""
    app.extensions[_SETTINGS] = {"clients": log_clients, "queries": log_queries}
    app.after_request(_note_request)
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]


def _note_request(resp: Response) -> Response:
    """Keep what only the request context knows for the line written at the end."""
    record = request.environ.get(_RECORD)
    if record is not None:
        record["route"] = route_group()
        record["g"] = g._get_current_object()  # the views may still set rows while streaming
        record["privacy"] = current_app.extensions.get(_SETTINGS, {})
        services = getattr(current_app, "services", None)
        record["version"] = getattr(getattr(services, "graph", None), "version", None)
    return resp


class AccessLog:
    """WSGI middleware: time the request, count the body's bytes as they are handed to the
    server, and log and count the request when the server closes the answer."""

    def __init__(self, wsgi_app: WsgiApp) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        record: dict[str, Any] = {"start": time.perf_counter(), "time": time.time()}
        environ[_RECORD] = record

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            record["status"] = status.split(" ", 1)[0]
            record["headers"] = headers
            return start_response(status, headers, exc_info)

        try:
            body = self.wsgi_app(environ, start)
        except BaseException:
            record.setdefault("status", "500")
            _finish(environ, record, 0)
            raise
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            # the server may send a file itself (sendfile): keep the wrapper, log it now
            length = dict((k.lower(), v) for k, v in record.get("headers", ())).get(
                "content-length", "0")
            _finish(environ, record, int(length) if length.isdigit() else 0)
            return body
        return _Counted(body, lambda sent: _finish(environ, record, sent))


class _Counted:
    """An answer's body that counts its bytes and reports the count when closed."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self._body = body
        self._done = done
        self._sent = 0
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._sent += len(chunk)
            yield chunk

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done(self._sent)


def _finish(environ: dict[str, Any], record: dict[str, Any], sent: int) -> None:
    """Count the request and write its line; never raises."""
    try:
        note = environ.get(FAST_LANE)
        if isinstance(note, dict):  # what a replay of this answer needs for its own line
            note["access"] = replay_record(environ, record)
        seconds = time.perf_counter() - record["start"]
        route = record.get("route", "unmatched")
        status = record.get("status", "500")
        metrics.count("requests", route=route, status=status)
        metrics.observe("request_seconds", seconds, route=route)
        if log.isEnabledFor(logging.INFO):
            _write(_LINE(access_line(environ, record, seconds, sent)))
    except Exception as exc:  # noqa: BLE001 - logging must never break an answer
        logging.getLogger(__name__).warning("access log line not written: %s", exc)


def privacy(app: Flask) -> dict[str, bool]:
    """The privacy switches :func:`install` put on ``app`` (clients, queries)."""
    return app.extensions.get(_SETTINGS, {})


def answered(environ: dict[str, Any], record: dict[str, Any], sent: int) -> None:
    """Log and count a request the serving layer answered without the app
    (:mod:`peerchange.serving.lean`): ``record`` holds what the app's hooks would have
    noted (``start``, ``time``, ``status``, ``route``, ``g``, ``privacy``, ``version``),
    ``environ`` the request's ``REQUEST_METHOD``, ``PATH_INFO``, ``QUERY_STRING`` and
    ``REMOTE_ADDR`` (and the fast lane's note, when it may keep the answer)."""
    _finish(environ, record, sent)


def replay_record(environ: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """What :func:`replayed` needs to log and count a replay of this request's answer: the
    same fields as this request's line but the time, duration, bytes and client."""
    ctx = record.get("g")
    return {
        "route": record.get("route", "unmatched"),
        "status": record.get("status", "500"),
        "version": record.get("version"),
        "privacy": record.get("privacy", {}),
        "g": SimpleNamespace(**{key: getattr(ctx, key, None) for key in
                                ("query_text", "query_rows", "query_truncated")}),
        "environ": {key: environ.get(key, "") for key in
                    ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING")},
    }


def replayed(kept: dict[str, Any], client: str, started: float, arrived: float,
             sent: int) -> None:
    """Log and count a request the serving layer answered from its fast lane
    (:mod:`peerchange.serving.fast_lane`) with an answer whose request left ``kept``
    (:func:`replay_record`): the same line and counts as the app's, with this request's
    own time (``arrived``, epoch seconds), duration (from ``started``, a
    ``time.perf_counter()``), bytes and client."""
    environ = {**kept["environ"], "REMOTE_ADDR": client}
    record = {**kept, "start": started, "time": arrived}
    _finish(environ, record, sent)


def access_line(environ: dict[str, Any], record: dict[str, Any], seconds: float,
                sent: int) -> dict[str, Any]:
    """The fields of one access-log line (see the module docstring)."""
    privacy = record.get("privacy", {})
    ctx = record.get("g")
    line: dict[str, Any] = {
        "time": datetime.fromtimestamp(record["time"], UTC).isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
        "method": environ.get("REQUEST_METHOD", ""),
        "route": record.get("route", "unmatched"),
        "status": int(record.get("status", "500")),
        "duration_ms": round(seconds * 1000, 1),
        "bytes": sent,
        "version": record.get("version"),
    }
    text = getattr(ctx, "query_text", None)
    if isinstance(text, str):
        line["query_hash"] = query_hash(text)
        for key in ("rows", "truncated"):
            value = getattr(ctx, f"query_{key}", None)
            if value is not None:
                line[key] = value
    if privacy.get("clients"):
        line["client"] = environ.get("REMOTE_ADDR")
    if privacy.get("queries"):
        if isinstance(text, str):
            line["query"] = text
        target = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        line["target"] = target
    return line
