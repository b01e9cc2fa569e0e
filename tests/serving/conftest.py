"""Helpers of the serving tests: real ``peerchange serve`` processes and raw sockets.

Session-wide servers come from ``start_live_server`` in tests/conftest.py;
``fresh_server(*args, env=)`` starts one for this test only (for tests that stop it).
:func:`exchange` talks to a server over a raw socket, from any loopback address.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import Server, start_server

# a query that runs until the time limit stops it, in constant memory (a count over a
# cross product of every triple with every triple, twice)
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SIMPLE = "ASK { ?s ?p ?o }"


@pytest.fixture
def fresh_server(tmp_path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None, port: int | None = None
              ) -> Server:
        srv = start_server(list(args), log=tmp_path / f"serve{len(started)}.log", port=port,
                           env={"PEERCHANGE_DUMPS_DIR": str(tmp_path / "dumps"),
                                **(env or {})})
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


def port_of(server: Server) -> int:
    return int(server.base.rsplit(":", 1)[1])


def connect(server: Server, source: str = "127.0.0.1", timeout: float = 10.0) -> socket.socket:
    """A TCP connection to ``server`` from the loopback address ``source``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port_of(server)))
    return sock


def read_all(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Everything ``sock`` receives until the server closes it (or ``timeout``)."""
    sock.settimeout(timeout)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except (TimeoutError, ConnectionError):
            break
        if not data:
            break
        out += data
    return out


def exchange(server: Server, data: bytes, *, source: str = "127.0.0.1",
             timeout: float = 10.0) -> bytes:
    """Send ``data`` on a new connection and return all the server sends until it closes
    (so the last request should say ``Connection: close``, or be refused)."""
    with connect(server, source, timeout) as sock:
        sock.sendall(data)
        return read_all(sock, timeout)


def http_get(path: str, *, accept: str = "*/*", close: bool = True, extra: str = "") -> bytes:
    """A GET request's bytes."""
    conn = "Connection: close\r\n" if close else ""
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n{conn}{extra}"
            "\r\n").encode("latin-1")


def split_head(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one raw answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def sparql_post(query: str, *, accept: str = "text/csv", extra: str = "") -> bytes:
    """A POST of ``query`` to /sparql (``Connection: close``)."""
    body = query.encode("utf-8")
    return (f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n"
            f"Content-Type: application/sparql-query\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n{extra}\r\n").encode("latin-1") + body


def read_message(sock: socket.socket, timeout: float = 10.0) -> tuple[bytes, bytes]:
    """Read exactly one answer from a kept-alive connection: its head (without the blank
    line) and its body, read by Content-Length or, when chunked, to the last chunk and
    joined (the pieces' sizes depend on timing, the body not)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        data += _more(sock, data)
    head, _, body = data.partition(b"\r\n\r\n")
    if re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
        while not body.endswith(b"\r\n0\r\n\r\n"):
            body += _more(sock, head)
        return head, _dechunked(body)
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    size = int(length.group(1)) if length else 0
    while len(body) < size:
        body += _more(sock, head)
    return head, body


def _more(sock: socket.socket, so_far: bytes) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError(f"closed after {so_far[:200]!r}")
    return chunk


def _dechunked(data: bytes) -> bytes:
    out = []
    while True:
        size, _, data = data.partition(b"\r\n")
        if int(size, 16) == 0:
            return b"".join(out)
        out.append(data[:int(size, 16)])
        data = data[int(size, 16) + 2:]


def read_response(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict[str, str],
                                                                       bytes]:
    """Read exactly one answer from a kept-alive connection: status, headers, body."""
    head, body = read_message(sock, timeout)
    status, headers, _ = split_head(head)
    return status, headers, body
