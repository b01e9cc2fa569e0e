"""The answers the serving layer gives by itself, before or instead of the app (414, 431,
413, 400, 429, 503, a 500 for a failed answer): the app's error body (JSON when preferred,
text otherwise) and its CORS header."""

from __future__ import annotations

import re
from collections.abc import Sequence

from peerchange.core.errors import PeerchangeError
from peerchange.web.errors import error_body


def error_response(exc: PeerchangeError, accept: str | None, origin: str | None,
                   cors_origins: Sequence[str]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of an error this layer answers (CORS included)."""
    content_type, body = error_body(exc, accept)
    headers = [("Content-Type", content_type), ("Vary", "Accept"),
               *exc.headers.items()]
    if "*" in cors_origins:
        headers.append(("Access-Control-Allow-Origin", "*"))
    elif origin and origin in cors_origins:
        headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
    if exc.headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(exc.headers)))
    return exc.http_status, headers, body


def sniff(raw: bytes, name: bytes) -> str | None:
    """A header's value from an unparsed (too large) head, for the error's form only."""
    match = re.search(rb"\n" + re.escape(name) + rb"[ \t]*:[ \t]*([^\r\n]{0,512})", raw,
                      re.IGNORECASE)
    return match.group(1).decode("latin-1").strip() if match else None
