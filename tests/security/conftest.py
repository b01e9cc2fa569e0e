"""Helpers for the security tests (issue 8): an in-process server, raw sockets, and the
hostile extra data.

- ``dev_server``: the app served by werkzeug's threaded server (what ``peerchange serve
  --reload`` runs) on a free loopback port, in a thread of the test process, for tests
  that must misbehave on the wire (raw sockets). ``raw_exchange`` sends bytes and reads the
  answer until the server closes or a time bound passes.
- ``hostile_extra``: an extra Turtle file whose IRIs use every link scheme a page must not
  make clickable; ``hostile_server``: a real ``peerchange serve`` of it.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

W3ID = "https://w3id.org/peerchange/"
# IRIs a page must show as text, never as a link (Turtle accepts each of them)
UNSAFE_IRIS = ["javascript:alert(1)", "JaVaScRiPt:alert(2)", "data:text/html,<b>x</b>",
               "vbscript:msgbox(3)", "javascript:alert%284%29", "file:///etc/passwd"]
HOSTILE_TTL = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix pcm: <https://w3id.org/peerchange/onto/> .
<https://w3id.org/peerchange/id/mechanism/role-modelling> rdfs:seeAlso {iris} .
<https://w3id.org/peerchange/id/theory/attachment> rdfs:seeAlso {iris} .
<{first}> a pcm:Theory ; rdfs:label "Hostile scheme theory"@en .
<https://w3id.org/peerchange/id/theory/hostile-links> a pcm:Theory ;
    rdfs:label "Hostile links theory"@en ; rdfs:seeAlso {iris}, <https://example.org/fine> .
""".format(iris=", ".join(f"<{i.replace('<', '%3C').replace('>', '%3E')}>"
                          for i in UNSAFE_IRIS),
           first=UNSAFE_IRIS[0])


@pytest.fixture(scope="session")
def hostile_extra(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile-links") / "hostile-links.ttl"
    path.write_text(HOSTILE_TTL, encoding="utf-8")
    return path


@dataclass
class DevServer:
    """werkzeug's threaded server around an app, on 127.0.0.1."""

    port: int
    log: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _Collect(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage() + ("\nTraceback" if record.exc_info else ""))


@pytest.fixture(scope="module")
def dev_server(app) -> Iterator[DevServer]:
    """The shared app behind werkzeug's threaded server; ``log`` collects what the app
    logs (a record with an exception gets a ``Traceback`` line)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    srv = DevServer(server.server_port)
    handler = _Collect(srv.log)
    app.logger.addHandler(handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.logger.removeHandler(handler)


def raw_exchange(port: int, data: bytes, *, half_close: bool = False,
                 seconds: float = 5.0) -> bytes:
    """Send ``data`` on a new connection (then shut the sending side with
    ``half_close``) and return what comes back until the server closes or ``seconds``."""
    deadline = time.monotonic() + seconds
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        out = b""
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
        return out


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer (0 for none)."""
    parts = answer.split(b"\r\n", 1)[0].split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
