"""Checks every request passes before a view runs: the ``Host`` header, the URL's length,
and the public base URL. :func:`install` puts them on the app (``create_app`` calls it).

**Host.** A ``Host`` header the server does not serve is answered 400 (``Host
'evil.example' is not served here; allowed: ...``), so no page, redirect or ``Link``
header, cached or not, can carry a forged host. The accepted hosts are
``settings.allowed_hosts`` when it is set (exactly those; an entry ``*`` accepts any host,
an entry with a port accepts only that port); otherwise:

- the loopback names ``localhost``, ``127.0.0.1`` and ``[::1]``;
- the serving host, ``settings.host`` (``peerchange serve --host``); when that is a
  wildcard address (``0.0.0.0``, ``::`` or empty) the machine's own name
  (:func:`socket.gethostname`, with and without its domain) stands for it. Other names
  or addresses of a server listening on every interface must be listed in
  ``PEERCHANGE_ALLOWED_HOSTS`` (or be the base URL's host);
- the host of ``settings.base_url``.

Entries without a port accept any port. A request without ``Host`` (HTTP/1.0) is served:
the server's own name stands in for it. The rejected host never reaches the app: the
guard removes it from the request before Flask reads it, and the error page shows only
the server's own name.

**URL length.** A URL (path and query string, as sent) with raw control characters is a
400 (a redirect would copy them into its ``Location`` header); one longer than
``settings.max_request_line`` is answered 414 with the usual error body and CORS headers,
whatever server runs the app (the Flask development server reads lines up to 64 KiB).

**Request bodies.** A body that cannot be read (a chunk size that is not a number, a
connection that breaks off before ``Content-Length`` bytes came, any error the server's
input stream raises) is answered 400 with the usual error body and logged in one line,
never a 500 or a trace: the input stream is wrapped so that whatever it raises becomes
:class:`BodyUnreadable`.

**Base URL.** With ``settings.base_url`` (``https://kg.example.org/prefix``) every
absolute URL the app makes (``request.root_url``, redirects, ``Link`` headers, the
dataset description, the SPARQL service description) uses its scheme, host and path:
the request is rewritten as if it had come in on that URL (the path becomes the script
root; a proxy in front passes requests on without the prefix).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import BadRequest as HTTPBadRequest
from werkzeug.exceptions import ClientDisconnected

from peerchange.core.config import Settings
from peerchange.core.errors import BadRequest, URITooLong
from peerchange.web.errors import render_error

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_ADDRESSES = ("", "0.0.0.0", "::", "[::]")
REFUSED_HOST = "peerchange.refused_host"
# a well-formed Host value: a name or an IPv4 address, or an IPv6 address in brackets,
# then an optional port (anything else, e.g. "localhost:80@evil.example", is refused)
HOST_VALUE = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(:[0-9]{1,5})?", re.IGNORECASE)

# characters a URL never holds raw (they would end up in a redirect's Location header)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def install(app: Flask, settings: Settings) -> None:
    """Check the Host header and the URL length of every request to ``app`` (before the
    view, so a refusal costs nothing), and serve it as ``settings.base_url`` if set."""
    policy = HostPolicy.from_settings(settings)
    app.wsgi_app = HostGuard(app.wsgi_app, policy, settings.base_url)  # type: ignore[method-assign]
    limit = settings.max_request_line
    app.register_error_handler(ClientDisconnected, _body_unreadable)
    app.register_error_handler(BodyUnreadable, _body_unreadable)

    @app.before_request
    def _guard() -> None:
        refused = request.environ.get(REFUSED_HOST)
        if refused is not None:
            raise BadRequest(
                f"Host {refused!r} is not served here; allowed: {policy.describe()}. "
                "Use one of those names, or set PEERCHANGE_ALLOWED_HOSTS (or "
                "PEERCHANGE_BASE_URL) to the name clients use.")
        target = request_target(request.environ)
        if CONTROL.search(target):
            raise BadRequest("The URL holds control characters (such as a carriage return); "
                             "percent-encode them (%0D) or leave them out.")
        length = len(target)
        if length > limit:
            raise URITooLong(
                f"The URL is {length:,} bytes long; this server accepts URLs of at most "
                f"{limit:,} bytes. Send long queries with POST (the query in the request "
                "body) instead of in the URL.")


class BodyUnreadable(HTTPBadRequest):
    """The server's input stream failed while the app read a request body."""

    description = "The request body could not be read."


def _body_unreadable(exc: HTTPBadRequest) -> Response:
    reason = exc.description if isinstance(exc, BodyUnreadable) else "the body ended early"
    current_app.logger.warning("request body unreadable: %s %s: %s", request.method,
                               request.path, reason)
    return render_error(BadRequest(
        f"The request body could not be read ({reason}). Send the whole body, with a "
        "correct Content-Length or well-formed chunks."))


class GuardedInput:
    """A request's input stream whose failures are :class:`BodyUnreadable` (400)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._stream, name)(*args)
        except HTTPBadRequest:
            raise
        except Exception as exc:  # whatever the server's reader raises: a bad body
            text = str(exc).strip()
            reason = type(exc).__name__ + (f": {text[:200]}" if text else "")
            raise BodyUnreadable(reason) from None

    def read(self, *args: Any) -> bytes:
        return self._call("read", *args)

    def readline(self, *args: Any) -> bytes:
        return self._call("readline", *args)

    def readlines(self, *args: Any) -> list[bytes]:
        return self._call("readlines", *args)

    def readinto(self, buffer: Any) -> int:
        if not hasattr(self._stream, "readinto"):
            data = self.read(len(buffer))
            buffer[:len(data)] = data
            return len(data)
        return self._call("readinto", buffer)

    def __iter__(self) -> GuardedInput:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def request_target(environ: dict[str, Any]) -> str:
    """The URL as the client sent it (path and query string), as well as WSGI tells."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    query = environ.get("QUERY_STRING", "")
    if raw:
        raw = str(raw)
        return f"{raw}?{query}" if query and "?" not in raw else raw
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
                 safe="/;=,:@!$&'()*+~")
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def split_host(value: str) -> tuple[str, str | None]:
    """``Host`` value → (lower-case name, port or ``None``); ``[::1]:8000`` → (``[::1]``,
    ``8000``)."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value.partition("]")
        port = rest[1:] if rest.startswith(":") else None
        return name + "]", port or None
    name, sep, port = value.rpartition(":")
    if not sep:
        return value, None
    return name, port or None


@lru_cache(maxsize=1)
def _machine_names() -> tuple[str, ...]:
    try:
        name = socket.gethostname().lower()
    except OSError:  # pragma: no cover - no host name at all
        return ()
    return tuple(dict.fromkeys(n for n in (name, name.split(".", 1)[0]) if n))


class HostPolicy:
    """Which ``Host`` values are served: names (any port) and name:port pairs."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.any_host = False
        self.names: set[str] = set()
        self.pairs: set[tuple[str, str]] = set()
        self.shown: list[str] = []
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            if entry == "*":
                self.any_host = True
            name, port = split_host(entry)
            if name.count(":") > 1 and not name.startswith("["):  # a bare IPv6 address
                name, port = f"[{entry.lower()}]", None
            if port:
                self.pairs.add((name, port))
            else:
                self.names.add(name)
            if entry not in self.shown:
                self.shown.append(entry)

    @classmethod
    def from_settings(cls, settings: Settings) -> HostPolicy:
        """The policy of ``settings`` (see the module's docstring)."""
        if settings.allowed_hosts:
            return cls(settings.allowed_hosts)
        entries = list(LOOPBACK_NAMES)
        host = (settings.host or "").strip()
        if host.lower() in WILDCARD_ADDRESSES:
            entries += _machine_names()
        elif ":" in host and not host.startswith("["):
            entries.append(f"[{host}]")
        else:
            entries.append(host)
        if settings.base_url:
            entries.append(urlsplit(settings.base_url).netloc)
        return cls(entries)

    def allows(self, value: str) -> bool:
        """Whether a ``Host`` header value is served."""
        if self.any_host:
            return True
        if not HOST_VALUE.fullmatch(value.strip()):
            return False
        name, port = split_host(value)
        name = name.rstrip(".")
        if not name:
            return False
        return name in self.names or (port is not None and (name, port) in self.pairs)

    def describe(self) -> str:
        """The accepted hosts for a message."""
        return ", ".join(self.shown)


class HostGuard:
    """WSGI middleware in front of the app: marks a request whose ``Host`` is not served
    (and removes that header, so nothing reads it), then applies the base URL."""

    def __init__(self, app: WSGIApp, policy: HostPolicy, base_url: str) -> None:
        self.app = app
        self.policy = policy
        base = urlsplit(base_url) if base_url else None
        self.scheme = base.scheme if base else None
        self.host = base.netloc if base else None
        self.root = base.path.rstrip("/") if base else ""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if host is not None and not self.policy.allows(host):
            environ[REFUSED_HOST] = host[:200]
            del environ["HTTP_HOST"]
        if environ.get("wsgi.input") is not None:
            environ["wsgi.input"] = GuardedInput(environ["wsgi.input"])
        if self.host:
            environ["wsgi.url_scheme"] = self.scheme
            environ["HTTP_HOST"] = self.host
            environ["SCRIPT_NAME"] = self.root
        return self.app(environ, start_response)


__all__ = ["BodyUnreadable", "GuardedInput", "HostGuard", "HostPolicy", "install",
           "request_target", "split_host"]
