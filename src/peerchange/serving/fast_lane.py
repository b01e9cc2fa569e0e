"""The fast lane: complete answers a worker has sent, sent again by its event loop alone.

A request whose exact words (method, target, HTTP version, scheme, body and every header
but the few in :data:`UNKEYED`) the app has already answered, under the same data
version, with an answer it marked as replayable, is answered from this per-worker store:
no app thread, no WSGI, no Flask. The app decides what is replayable
(:func:`peerchange.web.caching.mark_replayable`: today the ``/sparql`` answers its answer
cache keeps, whole and never cut or failed, and their 304s); the worker keeps only a whole
200 or 304 that went out in one write, and replays its status, headers and body byte for
byte through the same HTTP writer. The access-log line and the request metrics are made
per request from what the app noted (:func:`peerchange.web.access_log.replayed`), and the
client's budget is admitted and charged as for any request (a client over it gets its
429).

The store is bounded (``answer_cache_mb``, each entry at most an eighth of it and 1 MiB),
least recently used out first, and lives in one worker: a reload builds a new app whose
new workers start empty, and every key holds the data version besides.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from peerchange.serving.wsgi import Request

# headers that never change an answer: the connection's own (h11 handles them on every
# answer, replayed or not), the body's length (the body is in the key), the client's
# software and address (the address is not in the answer; the access log takes it per
# request). Everything else is in the key: when unsure, a header is.
UNKEYED = frozenset({"connection", "keep-alive", "content-length", "user-agent",
                     "x-forwarded-for"})
METHODS = frozenset({"GET", "POST"})
# an answer with one of these headers is never kept, whatever the app said: they are made
# per request (or say the answer was cut)
PER_REQUEST = frozenset({"date", "age", "expires", "set-cookie", "server-timing",
                         "x-request-id", "request-id", "peerchange-truncated"})
# read from a request's head before its body is awaited in the lane's own read (an
# ``Expect: 100-continue`` client waits for the 100 that h11's path sends first; a head
# with Transfer-Encoding is h11's to judge, at once)
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,9})[ \t]*\r\n", re.IGNORECASE)
NOT_AWAITED = re.compile(rb"\r\n(?:expect|transfer-encoding)[ \t]*:", re.IGNORECASE)
ENTRY_OVERHEAD = 512  # bytes counted per entry beyond its texts (the objects, the key)
MAX_ENTRY = 1024 * 1024


@dataclass
class Stored:
    """One answer as it went out (before ``Connection: close`` was added at a shutdown),
    and what the access log noted of it; ``event`` is its head as the HTTP writer's event,
    made at the first replay."""

    status: int
    reason: bytes
    headers: tuple[tuple[str, str], ...]
    body: bytes
    access: dict[str, Any]
    size: int
    event: Any = None

    def made(self, event: Any) -> Any:
        self.event = event
        return event


async def whole_request(reader: asyncio.StreamReader, data: bytes, seconds: float,
                        limit: int) -> bytes | None:
    """``data`` (a first read) and the rest of its request's body, when its head came whole
    and gives the body's length, the request being at most ``limit`` bytes (clients such as
    Python's ``http.client`` send the head and the body in two writes); ``data`` as it is
    otherwise. ``None``: the client did not send the rest within ``seconds``."""
    end = data.find(b"\r\n\r\n")
    match = CONTENT_LENGTH.search(data, 0, end + 2) if end > 0 else None
    if match is None or NOT_AWAITED.search(data, 0, end + 2):
        return data
    want = end + 4 + int(match.group(1))
    if not len(data) < want <= limit:
        return data
    deadline = time.monotonic() + seconds
    parts, size = [data], len(data)
    while size < want:
        try:
            async with asyncio.timeout(deadline - time.monotonic()):
                more = await reader.read(want - size)
        except (TimeoutError, ConnectionError, OSError):
            return None
        if not more:
            return None
        parts.append(more)
        size += len(more)
    return b"".join(parts)


@dataclass
class Raw:
    """A request's bytes as they came in one read (a kept-alive HTTP/1.1 request with
    nothing after it), the lane key they parse to, and the bytes of the answer that went out
    for them: the same bytes read again are answered without parsing."""

    key: tuple
    path: str
    headers: list[tuple[str, str]]
    wire: bytes
    size: int


class FastLane:
    """The per-worker store of replayable answers (see the module docstring); used by the
    event loop only, so it needs no lock."""

    def __init__(self, max_bytes: int, version: str | None) -> None:
        self.max_bytes = max(0, max_bytes)
        self.max_entry = min(MAX_ENTRY, self.max_bytes // 8)
        self.version = version
        self.entries: OrderedDict[tuple, Stored] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        # whole requests' bytes -> their key and answer bytes, in a quarter of the bound
        self.raw: OrderedDict[bytes, Raw] = OrderedDict()
        self.raw_bytes = 0

    def __bool__(self) -> bool:
        return self.max_bytes > 0 and self.version is not None

    def key(self, request: Request) -> tuple | None:
        """The key of ``request``, or ``None`` when it can never be replayed."""
        if not self or request.method not in METHODS:
            return None
        headers = tuple(h for h in request.headers if h[0] not in UNKEYED)
        return (self.version, request.method, request.target, request.http_version,
                request.scheme, headers, request.body)

    def get(self, key: tuple) -> Stored | None:
        stored = self.entries.get(key)
        if stored is not None:
            self.entries.move_to_end(key)
            self.hits += 1
        return stored

    def put(self, key: tuple, status: int, reason: bytes, headers: list[tuple[str, str]],
            body: bytes, access: dict[str, Any]) -> bool:
        """Keep one answer unless it is too big; whether it was kept."""
        size = (len(body) + len(key[2]) + len(key[6]) + ENTRY_OVERHEAD
                + sum(len(n) + len(v) for n, v in headers)
                + sum(len(n) + len(v) for n, v in key[5]))
        if not self or size > self.max_entry or any(
                n.lower() in PER_REQUEST for n, _ in headers):
            return False
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= old.size
        self.entries[key] = Stored(status, reason, tuple(headers), body, access, size)
        self.bytes += size
        while self.bytes > self.max_bytes and self.entries:
            _, gone = self.entries.popitem(last=False)
            self.bytes -= gone.size
        return True

    def raw_hit(self, data: bytes) -> tuple[Raw, Stored] | None:
        """The request these bytes were and its kept answer, or ``None``."""
        raw = self.raw.get(data)
        if raw is None:
            return None
        stored = self.entries.get(raw.key)
        if stored is None:  # the answer is gone: so is the shortcut
            self.raw_bytes -= self.raw.pop(data).size
            return None
        self.raw.move_to_end(data)
        self.entries.move_to_end(raw.key)
        self.hits += 1
        return raw, stored

    def remember_raw(self, data: bytes, request: Request, wire: bytes) -> None:
        """Note that ``data`` (one read) was ``request``, answered with ``wire``."""
        size = len(data) * 2 + len(wire) + ENTRY_OVERHEAD
        if request.lane_key is None or size > self.max_entry or data in self.raw:
            return
        self.raw[data] = Raw(request.lane_key, request.path, request.headers, wire, size)
        self.raw_bytes += size
        while self.raw_bytes > self.max_bytes // 4 and self.raw:
            _, gone = self.raw.popitem(last=False)
            self.raw_bytes -= gone.size
