"""HTTP caching helpers shared by the blueprints.

The graph is read-only, so every answer is a function of the data version and the
request: an ETag built from those stays valid until the data changes. The same key lets a
worker keep complete SPARQL answers (:class:`AnswerCache`) and send one again without
running the query.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


def mark_replayable(environ: dict[str, Any]) -> None:
    """Tell the server that this request's answer may be sent again as it is, without the
    app, to a request with exactly the same words under the same data version.

    Call it only for an answer that is a function of the request's words and the data
    version alone (no cut, no failure, nothing per request in its headers); the server
    keeps it only if it is a whole 200 or 304 (see :mod:`peerchange.serving.fast_lane`).
    """
    note = environ.get(FAST_LANE)
    if isinstance(note, dict):
        note["replayable"] = True


def etag_for(*parts: object) -> str:
    """Return a strong ETag value (without quotes) for a response built from ``parts``.

    Pass the graph's data version first, then whatever else selects the answer (path,
    query text, dataset, format).
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


@dataclass
class CachedAnswer:
    """A complete answer (never a cut or failed one) and, once asked for, its gzip form."""

    body: bytes
    content_type: str
    rows: int
    gzipped: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"") + ENTRY_OVERHEAD


ANSWER_CACHE = "peerchange.answer_cache"  # the app's AnswerCache, in ``app.extensions``
# the WSGI environ key of the serving layer's fast lane (:mod:`peerchange.serving.fast_lane`):
# a dict, present only when the server can replay this request's answer
FAST_LANE = "peerchange.fast_lane"
ENTRY_OVERHEAD = 512  # bytes counted per entry beyond its bodies (the key, the objects)
# request -> ETag notes kept, each of at most REQUEST_KEY_CHARS characters: at most 2 MiB
# of text (8 MiB if every character took Python's widest form)
REQUEST_KEYS = 256
REQUEST_KEY_CHARS = 8192


class AnswerCache:
    """A bounded LRU of complete SPARQL answers, by their ETag, in one worker process.

    The ETag (:func:`etag_for`) already encodes everything that selects an answer: the data
    version, the query text, the dataset, the format, the row and byte limits and the base
    IRI; so a cached answer is the one the engine would give again, and another data
    version (a reload) never sees it. Only complete answers go in (the caller never puts a
    cut or failed one), each at most ``max_entry_bytes``; the entries, with their gzip
    forms, stay under ``max_bytes`` in all (least recently used first out), plus at most
    :data:`REQUEST_KEYS` short notes of which request led to which ETag.
    """

    def __init__(self, max_bytes: int, max_entry_bytes: int | None = None) -> None:
        self.max_bytes = max(0, max_bytes)
        self.max_entry_bytes = (min(1024 * 1024, self.max_bytes // 8)
                                if max_entry_bytes is None else max_entry_bytes)
        self.entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        # the request's own words (query text, Accept, format and dataset parameters) ->
        # the ETag they led to, so a repeated request skips the scan and the negotiation
        self.requests: OrderedDict[tuple, str] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.lock = threading.Lock()

    def __bool__(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: str) -> CachedAnswer | None:
        """The answer stored under ``key`` (now the most recently used), or ``None``."""
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self.entries.move_to_end(key)
            self.hits += 1
            return entry

    def etag_of(self, request_key: tuple) -> str | None:
        """The ETag an identical request led to (see :meth:`remember`), or ``None``."""
        with self.lock:
            return self.requests.get(request_key)

    def remember(self, request_key: tuple, etag: str) -> None:
        """Note that a request with these words (texts under :data:`REQUEST_KEY_CHARS`)
        led to ``etag``; at most :data:`REQUEST_KEYS` of them are kept."""
        if not self or sum(len(str(part)) for part in request_key) > REQUEST_KEY_CHARS:
            return
        with self.lock:
            self.requests[request_key] = etag
            self.requests.move_to_end(request_key)
            while len(self.requests) > REQUEST_KEYS:
                self.requests.popitem(last=False)

    def put(self, key: str, entry: CachedAnswer) -> bool:
        """Store ``entry`` (a complete answer) unless it is too big; whether it was."""
        if not self or entry.size > self.max_entry_bytes:
            return False
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self.entries[key] = entry
            self.bytes += entry.size
            self._evict()
        return True

    def add_gzipped(self, key: str, entry: CachedAnswer, data: bytes) -> None:
        """Keep ``data``, the gzip form of ``entry``, with it (counted in the bound)."""
        with self.lock:
            if entry.gzipped is not None:
                return
            if self.entries.get(key) is not entry:
                entry.gzipped = data  # already evicted: nothing to count
                return
            if entry.size + len(data) > self.max_entry_bytes:
                return
            entry.gzipped = data
            self.bytes += len(data)
            self._evict()

    def _evict(self) -> None:
        while self.bytes > self.max_bytes and self.entries:
            _, gone = self.entries.popitem(last=False)
            self.bytes -= gone.size

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.requests.clear()
            self.bytes = 0
