"""The lean path's HTTP: a whole, plain ``/sparql`` request read without h11, and its
answer's head written as h11 writes it.

:func:`parse` takes the bytes of one read that hold exactly one request, and accepts only
the plainest HTTP/1.1 (the request line of a ``GET`` or ``POST`` of ``/sparql``, printable
ASCII header lines, a ``POST``'s ``Content-Length`` body and nothing after it, no
``Connection`` header but ``keep-alive``, within the connection's size limits); anything
else is ``None`` and goes to h11 as before. :func:`head` writes a status line and headers
byte for byte as h11 does (the fast lane replays answers through h11: both give the same
bytes).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import h11

from peerchange.core.errors import PeerchangeError
from peerchange.serving.lean import Made
from peerchange.serving.wsgi import Answer, Request

REQUEST_LINE = re.compile(rb"(GET|POST) (/sparql(?:\?[\x21-\x7e]*)?) HTTP/1\.1\r\n")
HEADER_LINE = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:[\x21-\x7e][\x20-\x7e\t]*)?)\r\n")


def parse(data: bytes, max_line: int, max_headers: int, max_body: int
          ) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    """(method, target, headers with lower-case names, body) of ``data`` when it is exactly
    one plain request (see the module docstring), else ``None``."""
    line = REQUEST_LINE.match(data)
    end = data.find(b"\r\n\r\n")
    if line is None or end < 0 or line.end() - 2 > max_line:
        return None
    headers: list[tuple[str, str]] = []
    at, size = line.end(), 0
    while at < end + 2:
        match = HEADER_LINE.match(data, at)
        if match is None:
            return None
        name = match.group(1).decode("ascii").lower()
        value = match.group(2).rstrip(b" \t").decode("ascii")
        if name in ("transfer-encoding", "expect") or (
                name == "connection" and value.lower() != "keep-alive"):
            return None
        headers.append((name, value))
        size += len(name) + len(value) + 4
        at = match.end()
    if at != end + 2 or size > max_headers:
        return None
    body = data[end + 4:]
    lengths = [v for n, v in headers if n == "content-length"]
    method = line.group(1).decode("ascii")
    if method == "GET":
        if lengths or body:
            return None
    elif (len(lengths) != 1 or not lengths[0].isdigit() or int(lengths[0]) != len(body)
          or len(body) > max_body):
        return None
    return method, line.group(2).decode("ascii"), headers, body


def head(status: str, headers: list[tuple[str, str]]) -> bytes:
    """The status line (``status`` as ``"200 OK"``) and header lines of an answer, as h11
    writes them."""
    lines = [b"HTTP/1.1 " + status.encode("latin-1") + b"\r\n"]
    lines += [b"%s: %s\r\n" % (n.encode("latin-1"), v.encode("latin-1")) for n, v in headers]
    lines.append(b"\r\n")
    return b"".join(lines)


async def lean_turn(conn: Any, data: bytes, request: Request) -> bool | None:
    """(For the connection ``conn``, ``serving.http.Connection``) answer a whole plain
    ``/sparql`` request without h11 when the lean path makes its answer (``True``: the
    connection goes on; ``None``: it closes); through h11 otherwise (refused: ``False``, h11
    then reads it; handed to the app: streamed as any answer)."""
    try:
        job = conn.dispatcher.submit_lean(request)
    except PeerchangeError as exc:  # answered through h11, as any refusal
        conn._refused = exc
        conn.h11.receive_data(data)
        conn._one_read = data
        return False
    result = await job.future
    if not isinstance(result, Made):  # the app's answer (or a failure): through h11
        answer = result if result is not None else Answer(asyncio.get_running_loop())
        if result is None:
            answer.finish(failed=True)
        try:
            conn.h11.receive_data(data)
            while not isinstance(conn._next_event(), h11.EndOfMessage):
                pass
            await conn._stream(request, answer)
        finally:
            answer.close()
        if conn.h11.our_state is not h11.DONE or conn.h11.their_state is not h11.DONE:
            return None
        conn.h11.start_next_cycle()
        return True
    headers = conn._closing(made_headers := result.headers)
    wire = head(result.status, headers) + result.body
    if (headers is made_headers and conn.dispatcher.keep_made(request, result)):
        conn.dispatcher.remember_raw(data, request, wire)
    await conn._write(wire)
    return None if conn.dispatcher.stopping else True
