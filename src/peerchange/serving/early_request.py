"""How the early answerer (:mod:`peerchange.serving.early`) reads a request: the
request line, the headers it knows, the body, the one ``query`` parameter; and what it
knows of the server's settings (:class:`Limits`). What it does not answer exactly as the
full server raises :class:`Refused` (:func:`starting`: a 503 with ``Retry-After: 1``).
Standard library only: it is on the path of a restart's first answer.
"""

from __future__ import annotations

import _socket

PATH = "/sparql"
FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
# request headers whose effect on the answer is known (as serving/lean's, minus the
# proxy's scheme); any other, or one twice, gets the 503
KNOWN = frozenset({"host", "accept", "content-type", "content-length", "user-agent",
                   "connection", "keep-alive", "x-forwarded-for", "origin", "referer",
                   "accept-language", "accept-encoding", "cache-control", "pragma", "dnt",
                   "expect"})
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


class Limits:
    """What the early answerer needs of the server's settings (the same names as
    :class:`peerchange.core.config.Settings`; :mod:`~peerchange.serving.launch` reads
    them from the command line and the ``PEERCHANGE_*`` variables)."""

    def __init__(self, **values: object) -> None:
        self.host = "127.0.0.1"
        self.port = 8000
        self.query_timeout = 30.0
        self.max_rows = 10_000
        self.max_query_bytes = 64 * 1024
        self.max_answer_bytes = 16 * 1024 * 1024
        self.query_memory_mb = 1024
        self.max_nesting = 128
        self.header_timeout = 10.0
        self.body_timeout = 30.0
        self.send_timeout = 30.0
        self.max_request_line = 8190
        self.max_header_bytes = 32 * 1024
        self.compress_min_bytes = 1024
        self.log_clients = False
        self.log_queries = False
        self.quiet = False
        self.__dict__.update(values)

    @property
    def max_body(self) -> int:
        """The app's ``MAX_CONTENT_LENGTH`` (413 beyond)."""
        return self.max_query_bytes * 3 + 4096


class Refused(Exception):
    """An answer other than 200: ``status``, the one-line reason, extra headers."""

    def __init__(self, status: int, reason: str, retry: bool = True) -> None:
        super().__init__(reason)
        self.status = status
        self.retry = retry


def starting(reason: str) -> Refused:
    """The 503 for what is left to the full server."""
    return Refused(503, f"starting: {reason} is answered in a moment, when the server "
                        "has started")

class Request:
    """One request as read: method, path, query string, headers (lower-case names), body."""

    def __init__(self, addr: object) -> None:
        self.client = addr[0] if isinstance(addr, tuple) else ""
        self.method = ""
        self.path = ""
        self.query = ""
        self.headers: dict[str, str] = {}
        self.body = b""
        self.text: str | None = None
        self.rows: int | None = None

    def read(self, conn: _socket.socket, limits: Limits, data: bytes = b"") -> None:
        """Read the request line, headers and body (under the header and body timeouts
        and the size limits), after ``data`` (read already)."""
        conn.settimeout(limits.header_timeout or None)
        most = limits.max_request_line + limits.max_header_bytes + 4
        while b"\r\n\r\n" not in data:
            if len(data) > most:
                raise starting("a request this large")
            piece = conn.recv(65536)
            if not piece:
                raise OSError("closed")
            data += piece
        rest = self.head(data, limits)
        length = int(self.headers.get("content-length", "0"))
        if self.headers.get("expect", "").lower() == "100-continue" and len(rest) < length:
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.settimeout(limits.body_timeout or None)
        while len(rest) < length:
            piece = conn.recv(65536)
            if not piece:
                raise OSError("closed")
            rest += piece
        if len(rest) != length:
            raise starting("a request with more after its body")
        self.body = rest

    def head(self, data: bytes, limits: Limits) -> bytes:
        """Parse the request line and headers in ``data`` (refusing what is not answered
        here, 413 for a body over the limit); the bytes after them."""
        head, _, rest = data.partition(b"\r\n\r\n")
        if len(head) > limits.max_request_line + limits.max_header_bytes:
            raise starting("a request this large")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") \
                or len(lines[0]) > limits.max_request_line:
            raise starting("this request")
        self.method, target = parts[0], parts[1]
        self.path, _, self.query = target.partition("?")
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            name = name.strip().lower()
            if not sep or name not in KNOWN or name in self.headers or name != name.strip():
                raise starting("a request with this header")
            self.headers[name] = value.strip()
        if self.path != PATH or self.method not in ("GET", "POST"):
            raise starting("this request")
        if not self._host_allowed(limits):
            raise starting("a request for this host")
        length = self.headers.get("content-length", "0" if self.method == "GET" else "")
        if not length.isdigit() or (self.method == "GET" and length != "0"):
            raise starting("a request without a Content-Length")
        if int(length) > limits.max_body:
            raise Refused(413, f"The request body is larger than {limits.max_body:,} bytes.",
                          retry=False)
        return rest

    def _host_allowed(self, limits: Limits) -> bool:
        value = self.headers.get("host", "").strip().lower()
        name, port = value, ""
        if (":" in value and not value.startswith("[")) or "]:" in value:
            name, _, port = value.rpartition(":")
        if port and not (port.isdigit() and port.isascii() and len(port) <= 5):
            return False
        names = set(LOOPBACK_NAMES)
        if limits.host not in ("", "0.0.0.0"):
            names.add(limits.host)
        return bool(name) and name.rstrip(".") in names

    def base_iri(self) -> str:
        """The endpoint's URL as the app's ``request.base_url`` (relative IRIs resolve
        against it)."""
        host = self.headers["host"].strip()
        if host.endswith(":80"):
            host = host[:-3]
        return f"http://{host}{PATH}"

    def query_text(self, limits: Limits) -> str:
        """The one ``query`` parameter (413 over the size limit)."""
        params = form_params(self.query.encode("latin-1"))
        if self.method == "POST":
            media, _, rest = self.headers.get("content-type", "").partition(";")
            media = media.strip().lower()
            charset = "utf-8"
            for part in rest.split(";"):
                key, _, value = part.strip().partition("=")
                if key.strip().lower() == "charset":
                    charset = value.strip().strip('"').lower()
            if charset not in ("utf-8", "utf8"):
                raise starting("a request in this charset")
            if media == FORM:
                params += form_params(self.body)
            elif media == QUERY and not params:
                params = [("query", _utf8(self.body))]
            else:
                raise starting("a request of this type")
        if [k for k, _ in params] != ["query"]:
            raise starting("a request with these parameters")
        self.text = text = params[0][1]
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limits.max_query_bytes:
            raise Refused(413, f"The query is {size:,} bytes; this endpoint accepts at most "
                               f"{limits.max_query_bytes:,} bytes.", retry=False)
        return text


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise starting("a request that is not UTF-8") from None


_HEX = frozenset("0123456789abcdefABCDEF")


def form_params(raw: bytes) -> list[tuple[str, str]]:
    """``urllib.parse.parse_qsl(text, keep_blank_values=True, errors="strict")`` of the
    UTF-8 text ``raw`` (held equal by the unit tests; urllib.parse costs 3 ms to import)."""
    out = []
    for field in _utf8(raw).split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        out.append((_unquote(name.replace("+", " ")), _unquote(value.replace("+", " "))))
    return out


def _unquote(text: str) -> str:
    """``urllib.parse.unquote(text, errors="strict")``: %XX escapes as UTF-8 bytes,
    malformed ones kept as they are."""
    if "%" not in text:
        return text
    pieces = text.split("%")
    out = bytearray(pieces[0].encode())
    for piece in pieces[1:]:
        if len(piece) >= 2 and piece[0] in _HEX and piece[1] in _HEX:
            out.append(int(piece[:2], 16))
            out += piece[2:].encode()
        else:
            out += b"%" + piece.encode()
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise starting("a request that is not UTF-8") from None
