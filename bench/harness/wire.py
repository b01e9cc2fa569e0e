"""A lean HTTP/1.1 client for the benchmark: one kept-alive socket, each request sent in
one write, the answer read by its framing (Content-Length, chunked, or until close).

Cheaper per request than ``http.client`` (which sends a POST's head and body in two
writes and parses headers into objects), so the client costs the 2-core machine less of
the CPU the servers need, and every server sees the same single-write requests.
"""

from __future__ import annotations

import socket
from urllib.parse import urlencode, urlsplit

from .mix import Request


class WireError(OSError):
    """The server's answer could not be read (closed early, bad framing)."""


def encode(request: Request, endpoint: str, base: str) -> bytes:
    """The bytes of ``request``: a form POST of its query to ``endpoint``, or a GET of its
    page under ``base``."""
    host = urlsplit(base).netloc
    head = f"Host: {host}\r\nAccept: {request.accept}\r\nUser-Agent: peerchange-bench\r\n"
    if request.query is not None:
        body = urlencode({"query": request.query}).encode("ascii")
        path = urlsplit(endpoint).path or "/"
        return (f"POST {path} HTTP/1.1\r\n{head}"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
    return f"GET {request.path} HTTP/1.1\r\n{head}\r\n".encode("latin-1")


class WireClient:
    """One connection from ``source`` (a loopback address of its own) to ``base``'s host."""

    def __init__(self, base: str, source: str, timeout: float = 600) -> None:
        parts = urlsplit(base)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.source = source
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=self.timeout,
                                        source_address=(self.source, 0))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer = sock, b""
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def send(self, data: bytes) -> int:
        """Send one request's bytes, read the whole answer; its status. A kept-alive
        connection the server closed is opened again once."""
        for attempt in (0, 1):
            fresh = self.sock is None
            sock = self.sock or self._connect()
            try:
                sock.sendall(data)
                return self._answer(sock)
            except OSError:
                self.close()
                if attempt or fresh:
                    raise
        raise AssertionError("unreachable")

    def _more(self, sock: socket.socket) -> bytes:
        chunk = sock.recv(262144)
        if not chunk:
            raise WireError("the server closed the connection")
        return chunk

    def _answer(self, sock: socket.socket) -> int:
        buf = self.buffer
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += self._more(sock)
        head = buf[:end].decode("latin-1").split("\r\n")
        buf = buf[end + 4:]
        status = int(head[0].split(" ", 2)[1])
        fields = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        close = fields.get("connection", "").lower() == "close" or head[0].startswith("HTTP/1.0")
        if status in (204, 304) or 100 <= status < 200:
            pass
        elif "chunked" in fields.get("transfer-encoding", "").lower():
            buf = self._chunks(sock, buf)
        elif "content-length" in fields:
            length = int(fields["content-length"])
            while len(buf) < length:
                buf += self._more(sock)
            buf = buf[length:]
        else:  # delimited by the close
            try:
                while sock.recv(262144):
                    pass
            except OSError:
                pass
            close, buf = True, b""
        self.buffer = buf
        if close:
            self.close()
        return status

    def _chunks(self, sock: socket.socket, buf: bytes) -> bytes:
        while True:
            while (end := buf.find(b"\r\n")) < 0:
                buf += self._more(sock)
            size = int(buf[:end].split(b";", 1)[0], 16)
            buf = buf[end + 2:]
            if size == 0:  # the last chunk; trailers, if any, up to an empty line
                while True:
                    while (end := buf.find(b"\r\n")) < 0:
                        buf += self._more(sock)
                    line, buf = buf[:end], buf[end + 2:]
                    if not line:
                        return buf
            while len(buf) < size + 2:
                buf += self._more(sock)
            buf = buf[size + 2:]
