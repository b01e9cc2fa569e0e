"""The lean path: the common ``/sparql`` query requests answered by the worker, without Flask.

A ``GET /sparql?query=…``, a form ``POST`` or an ``application/sparql-query`` ``POST``
(with ``default-graph-uri`` / ``named-graph-uri``, ``format`` / ``output``, any
``Accept``) whose headers are all ones the app's answer depends on in a known way
(:data:`KNOWN`, each at most once) is answered by the app thread here, with the app's own
pieces (its ``SparqlService``, negotiation, ETag, answer cache, gzip, access log and
metrics) and none of Flask's request and response objects, hooks or routing: the same
status, headers in the same order, body bytes, access-log line and counts as the
``/sparql`` view (``web/sparql.py``) gives. ``peerchange_answers_lean_total`` counts them.
Kept per worker, bounded: the scan of a text seen before (with its dataset and base), the
format per ``Accept`` and ``format`` values, the gzip choice per ``Accept-Encoding``, the
endpoint's URL per ``Host``. :mod:`peerchange.serving.lean_wire` reads and answers such a
request without h11 when it came whole and plain.

Everything else goes to the app as it came: another path or method, an unknown or
repeated header, ``If-None-Match``, a Host the app refuses, a URL with control characters
or over the length limit, a body that is not UTF-8, no query or several, ``update``, any
refusal of the query (size, nesting, ``SERVICE``, dataset, ``406``), and every answer
that is not a whole, uncut 200: a query that failed, was cut at a limit or is too large
to read whole is handed over *with* what running it gave (``web.sparql.Executed``), so
the view answers from that without running it again. ``lean_sparql`` (setting) turns the
path off.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.datastructures import Accept
from werkzeug.http import parse_accept_header
from werkzeug.sansio.utils import get_current_url, get_host

from peerchange.core import metrics
from peerchange.core.config import Settings
from peerchange.core.errors import PeerchangeError
from peerchange.core.formats import Format
from peerchange.services.sparql import Dataset, PreparedQuery
from peerchange.serving.wsgi import Answer, Request
from peerchange.web import EXPOSED_HEADERS, access_log
from peerchange.web.caching import ANSWER_CACHE, FAST_LANE, CachedAnswer, etag_for
from peerchange.web.compression import COMPRESSOR, gzip_bytes
from peerchange.web.guards import CONTROL, HostPolicy
from peerchange.web.negotiation import negotiate
from peerchange.web.sparql import EXECUTED, FORM, QUERY, Executed, read_limit, read_up_to

PATH = "/sparql"
# request headers whose effect on the answer the lean path knows (the rest: to the app)
KNOWN = frozenset({"host", "accept", "accept-encoding", "content-type", "content-length",
                   "user-agent", "connection", "keep-alive", "x-forwarded-for",
                   "x-forwarded-proto", "origin", "referer", "accept-language",
                   "cache-control", "pragma", "dnt"})
NOTES = 256  # parsed Accept / Accept-Encoding values and base IRIs kept, each
NOTE_CHARS = 1024  # ... of at most this many characters
TEXT_CHARS = 8192  # the longest query text whose scan is kept (2 MiB of texts at most)
HANDED = object()  # _answer's "the app answers it"


class Lru(OrderedDict):
    """A small bounded map (the oldest entry out first); shared by the app threads (each
    call is one step under the GIL)."""

    def __init__(self, size: int = NOTES) -> None:
        super().__init__()
        self.size = size

    def keep(self, key: Any, value: Any) -> Any:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)
        return value


def _pairs(raw: str) -> list[tuple[str, str]] | None:
    """The parameters of a query string or form body (its text as latin-1 characters, as
    the server read it), decoded strictly as UTF-8; ``None`` when not UTF-8."""
    try:
        text = raw.encode("latin-1").decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeError, ValueError):
        return None


def _media(header: str) -> tuple[str, str]:
    """(media type, charset) of a ``Content-Type`` value, as the view reads it."""
    media, _, rest = header.partition(";")
    charset = "utf-8"
    for part in rest.split(";"):
        key, _, value = part.strip().partition("=")
        if key and key.strip().lower() == "charset":
            charset = value.strip().strip('"')
    return media.strip().lower(), charset.lower()


class LeanSparql:
    """The lean path of one worker, over its app (see the module docstring)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.services = app.services
        self.cache = app.extensions.get(ANSWER_CACHE)
        self.compressor = app.extensions.get(COMPRESSOR)
        self.privacy = access_log.privacy(app)
        self.policy = HostPolicy.from_settings(settings)
        self.max_line = settings.max_request_line
        self.max_body = app.config.get("MAX_CONTENT_LENGTH") or 0
        base = urlsplit(settings.base_url) if settings.base_url else None
        self.base = (base.scheme, base.netloc, base.path.rstrip("/")) if base else None
        self.cors = [("Access-Control-Allow-Origin", "*"),
                     ("Access-Control-Expose-Headers", ", ".join(sorted(EXPOSED_HEADERS)))]
        self.accepts: Lru = Lru()  # (formats, Accept, format values) -> Format
        self.encodings: Lru = Lru()  # Accept-Encoding -> gzip accepted
        self.bases: Lru = Lru()  # (scheme, Host, server) -> the endpoint's URL
        # (text, base, dataset) -> the prepared query: at most NOTES texts of TEXT_CHARS
        self.prepared: Lru = Lru()

    @classmethod
    def for_app(cls, app: Any, settings: Settings) -> LeanSparql | None:
        """The lean path over ``app``, or ``None`` when it is off or the app is not one
        whose ``/sparql`` it knows (CORS for any origin, no trusted-hosts list)."""
        if (not settings.lean_sparql or settings.cors_origins.strip() != "*"
                or getattr(app, "services", None) is None
                or not hasattr(app, "extensions") or app.config.get("TRUSTED_HOSTS")):
            return None
        return cls(app, settings)

    # -- the app thread --

    def make(self, request: Request, note: dict | None, release) -> Made | dict[str, Any]:
        """The answer to ``request`` (:class:`Made`), logged and counted, its client's budget
        released (``release(seconds)``, as ``serving.wsgi.run_app`` does before an answer
        is complete); or what the app must be given besides the request (a dict, maybe
        empty) to answer it instead. ``note`` is the fast lane's (the answer may be kept).
        """
        if request.method not in ("GET", "POST"):
            return {}
        started, arrived = time.perf_counter(), time.time()
        asked = self._parse(request)
        if asked is None:
            return {}
        result = self._answer(*asked)
        if isinstance(result, Executed):
            return {EXECUTED: result}
        if result is HANDED:
            return {}
        status, headers, body, ctx = result
        record = {"start": started, "time": arrived, "status": "200", "route": "sparql",
                  "g": ctx, "privacy": self.privacy, "version": self.services.graph.version}
        environ = {"REQUEST_METHOD": request.method, "PATH_INFO": PATH,
                   "QUERY_STRING": request.target.partition("?")[2],
                   "REMOTE_ADDR": request.client}
        if note is not None:
            environ[FAST_LANE] = note
            if ctx.cached:
                note["replayable"] = True
        metrics.count("answers_lean")
        access_log.answered(environ, record, len(body))
        seconds = time.perf_counter() - started
        release(seconds)
        return Made(status, headers, body, note, started, seconds)

    def handle(self, request: Request, answer: Answer, note: dict | None,
               release) -> dict[str, Any] | None:
        """:meth:`make`, the answer written into ``answer`` (``None``); or the dict."""
        made = self.make(request, note, release)
        if not isinstance(made, Made):
            return made
        answer.started, answer.seconds = made.started, made.seconds
        answer.start(made.status, made.headers)
        if made.body:
            answer.put(made.body)
        answer.finish()
        return None

    def _parse(self, request: Request) -> tuple | None:
        """(query text, parameters, Accept, Accept-Encoding, base IRI) of a request the
        lean path knows, or ``None``."""
        target = request.target
        path, mark, query = target.partition("?")
        if path != PATH or len(target) > self.max_line or CONTROL.search(target):
            return None
        seen: dict[str, str] = {}
        for name, value in request.headers:
            if name not in KNOWN or name in seen:
                return None
            seen[name] = value
        host = seen.get("host")
        if host is None or not self.policy.allows(host):
            return None
        params = _pairs(query) if mark else []
        if params is None:
            return None
        if request.method == "POST":
            if len(request.body) > self.max_body:
                return None
            media, charset = _media(seen.get("content-type", ""))
            if charset not in ("utf-8", "utf8") or media not in (FORM, QUERY):
                return None
            if media == FORM:
                form = _pairs(request.body.decode("latin-1"))
                if form is None:
                    return None
                params += form
            else:
                if any(k == "query" for k, _ in params):
                    return None
                try:
                    params.append(("query", request.body.decode("utf-8")))
                except UnicodeDecodeError:
                    return None
        texts = [v for k, v in params if k == "query"]
        if len(texts) != 1 or any(k == "update" for k, _ in params):
            return None
        base_iri = self._base_iri(request, host)
        if base_iri is None:
            return None
        return (texts[0], params, seen.get("accept"), seen.get("accept-encoding"), base_iri)

    def _base_iri(self, request: Request, host: str) -> str | None:
        """The endpoint's URL as the view's ``request.base_url`` (relative IRIs resolve
        against it)."""
        key = (request.scheme, host, request.server)
        known = self.bases.get(key)
        if known is not None or len(host) > NOTE_CHARS:
            return known
        scheme, root = request.scheme, ""
        if self.base is not None:
            scheme, host, root = self.base
        try:
            url = get_current_url(scheme, get_host(scheme, host, request.server), root, PATH)
        except Exception:  # noqa: BLE001 - whatever werkzeug refuses: the app's to answer
            return None
        return self.bases.keep(key, url)

    def _answer(self, text: str, params: list[tuple[str, str]], accept: str | None,
                encoding: str | None, base_iri: str) -> Any:
        """What the view's ``_answer`` gives for a whole uncut 200 (status, headers, body,
        the access log's notes), an :class:`Executed` to hand over, or :data:`HANDED`."""
        st = self.services
        version = st.graph.version
        cache = self.cache
        formats = tuple(v for k, v in params if k == "format") + tuple(
            v for k, v in params if k == "output")
        defaults = [v for k, v in params if k == "default-graph-uri"]
        named = [v for k, v in params if k == "named-graph-uri"]
        words = (version, text, accept, formats, tuple(defaults), tuple(named), base_iri)
        ctx = _Noted(text)
        known = cache.etag_of(words) if cache else None
        if known is not None:
            hit = cache.get(known)
            if hit is not None:
                return self._whole(hit.body, hit.content_type, hit.rows, known, hit, encoding,
                                   ctx)
        service = st.sparql
        try:
            prepared = self._prepare(text, defaults, named, base_iri)
            fmt = self._negotiate(prepared.formats, accept, formats, prepared.form)
        except PeerchangeError:
            return HANDED
        etag = etag_for(version, text, defaults, named, fmt.name, service.max_rows,
                        service.max_answer_bytes, base_iri)
        hit = cache.get(etag) if cache else None
        if hit is not None:
            cache.remember(words, etag)
            return self._whole(hit.body, hit.content_type, hit.rows, etag, hit, encoding, ctx)
        try:
            answer = service.execute(prepared, fmt, stream=True)
        except Exception as exc:  # noqa: BLE001 - the view raises it, as if it ran the query
            return Executed(etag, error=exc)
        if answer.truncated:
            return Executed(etag, answer=answer)
        chunks = answer.chunks
        try:
            head, finished = read_up_to(chunks, read_limit(cache, answer))  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - the view raises it where it read it
            return Executed(etag, answer=answer, error=exc, head=[])
        if not finished:
            return Executed(etag, answer=answer, head=head, finished=False)
        body = b"".join(head)
        entry = None
        if cache and getattr(chunks, "complete", True):
            entry = CachedAnswer(body, fmt.content_type, answer.count)
            if not cache.put(etag, entry):
                entry = None
        if cache:
            cache.remember(words, etag)
        return self._whole(body, fmt.content_type, answer.count, etag, entry, encoding, ctx)

    def _prepare(self, text: str, defaults: list[str], named: list[str], base_iri: str
                 ) -> PreparedQuery:
        """``SparqlService.prepare`` of the text with the dataset, the scan of a text seen
        before (with the same dataset and base) kept (refusals are not: they go to the
        app)."""
        key = (text, base_iri, tuple(defaults), tuple(named))
        prepared = self.prepared.get(key)
        if prepared is None:
            prepared = self.services.sparql.prepare(text, Dataset(defaults, named),
                                                    base_iri=base_iri)
            if len(text) <= TEXT_CHARS:
                self.prepared.keep(key, prepared)
        return prepared

    def _negotiate(self, offered: tuple[Format, ...], accept: str | None,
                   formats: tuple[str, ...], form: str) -> Format:
        key = (offered, accept, formats)
        fmt = self.accepts.get(key)
        if fmt is None:
            what = f"an {form} query" if form[0] in "AEIOU" else f"a {form} query"
            fmt = negotiate(offered, accept=accept, format_param=list(formats), what=what)
            if len(accept or "") + sum(map(len, formats)) <= NOTE_CHARS:
                self.accepts.keep(key, fmt)
        return fmt

    def _gzip_accepted(self, header: str | None) -> bool:
        if header is None:
            return False
        known = self.encodings.get(header)
        if known is None:
            known = parse_accept_header(header, Accept).quality("gzip") > 0
            if len(header) <= NOTE_CHARS:
                self.encodings.keep(header, known)
        return known

    def _whole(self, body: bytes, content_type: str, rows: int, etag: str,
               entry: CachedAnswer | None, encoding: str | None, ctx: _Noted) -> tuple:
        """The view's whole 200 (``_finished`` and the app's after-request steps)."""
        ctx.query_rows, ctx.query_truncated, ctx.cached = rows, False, entry is not None
        compressor = self.compressor
        vary = "Accept"
        gzipped = None
        if compressor is not None and compressor.min_bytes > 0:
            vary = "Accept, Accept-Encoding"
            if len(body) >= compressor.min_bytes and self._gzip_accepted(encoding):
                gzipped = entry.gzipped if entry is not None else None
                if gzipped is None:
                    gzipped = gzip_bytes(body, compressor.level)
                    if entry is not None:
                        self.cache.add_gzipped(etag, entry, gzipped)
        if gzipped is not None:
            body = gzipped
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))),
                   ("ETag", f'W/"{etag}"' if gzipped is not None else f'"{etag}"'),
                   ("Vary", vary), ("Cache-Control", "public, no-cache")]
        if gzipped is not None:
            headers.append(("Content-Encoding", "gzip"))
        return "200 OK", headers + self.cors, body, ctx


@dataclass
class Made:
    """A whole answer made on the lean path (status as ``"200 OK"``), and the fast lane's
    note (``replayable`` and ``access`` set when it may be kept)."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    note: dict | None
    started: float
    seconds: float


class LeanJob:
    """A request an app thread answers on the lean path for the event loop, which awaits
    :attr:`future`: a :class:`Made` answer, an :class:`~peerchange.serving.wsgi.Answer`
    the app writes (handed over), or ``None`` (it failed: a 500)."""

    closed = False  # as an Answer's: the app thread skips a closed one

    def __init__(self, loop: Any, note: dict | None) -> None:
        self.loop = loop
        self.note = note
        self.future = loop.create_future()

    def resolve(self, result: Made | Answer | None) -> None:
        """(app thread) Hand ``result`` to the loop."""
        with contextlib.suppress(RuntimeError):  # a closed loop: the worker is gone
            self.loop.call_soon_threadsafe(self._set, result)

    def _set(self, result: Made | Answer | None) -> None:
        if not self.future.done():
            self.future.set_result(result)

    def finish(self, *, failed: bool = False) -> None:
        """(app thread) As an Answer's, after a fault: the loop answers 500."""
        self.resolve(None)


class _Noted:
    """What the view leaves in ``flask.g`` for the access log."""

    __slots__ = ("cached", "query_rows", "query_text", "query_truncated")

    def __init__(self, text: str) -> None:
        self.query_text = text
        self.query_rows: int | None = None
        self.query_truncated: bool | None = None
        self.cached = False
