"""Servers for the HTTP tests: the real ``peerchange serve`` (gunicorn) as a subprocess.

Each fixture starts ``python -m peerchange serve --port <free port> --workers 2 -q`` plus its
own options through the shared ``start_live_server`` (``tests/conftest.py``: waits until
``/health`` answers, gives the server its own dump folder, stops the whole process group —
gunicorn master, workers and any query process — at the end of the session and checks the
log for traces and crashes):

Each of them runs on both backends (the ``backend`` fixture, :mod:`tests.backends`): the
embedded store, and ``serve --endpoint`` over a Virtuoso filled by ``peerchange publish``.

- ``server``: the shipped graph with the default limits;
- ``limited_server``: ``--timeout 2 --max-rows 5 --max-query-bytes 2048``, for the timeout,
  truncation and size-limit tests;
- ``protocol_server``: the W3C protocol suite's three one-triple graphs loaded as named
  graphs with ``--graph IRI=FILE`` (see ``tests/fixtures/protocol/``).

``PEERCHANGE_*`` variables of the calling shell are removed so every server runs with
exactly the options its fixture gives. Every test that uses one of these is ``slow``.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import pytest

from tests import backend_fixtures
from tests.backends import Backend
from tests.conftest import (  # noqa: F401  (re-exported: the HTTP tests import them from here)
    FIXTURES,
    ROOT,
    STARTUP_SECONDS,
    Server,
    clean_env,
    free_port,
    start_server,
    stop_and_check,
)

# every server below runs on both backends (tests/backend_fixtures.py)
backend = backend_fixtures.backend

PROTOCOL_DATA = "http://kasei.us/2009/09/sparql/data/"


@pytest.fixture(scope="session")
def server(start_live_server, backend: Backend) -> Server:
    """The shipped graph, default limits, on ``backend``."""
    return start_live_server(*backend.serve_args())


LIMITED_TIMEOUT = 2.0
LIMITED_ROWS = 5
LIMITED_QUERY_BYTES = 2048


@pytest.fixture(scope="session")
def limited_server(start_live_server, backend: Backend) -> Server:
    """The shipped graph with a 2 s query timeout, at most 5 rows per answer and queries of
    at most 2048 bytes. The memory limit is raised to 4 GiB so that a runaway ORDER BY (about
    1 GB/s) meets the time limit first: these tests are about the time limit."""
    return start_live_server(
        *backend.serve_args(), "--timeout", str(LIMITED_TIMEOUT), "--max-rows", str(LIMITED_ROWS),
        "--max-query-bytes", str(LIMITED_QUERY_BYTES),
        env={"PEERCHANGE_QUERY_MEMORY_MB": "4096"})


@pytest.fixture(scope="session")
def protocol_server(start_live_server, backend: Backend, published_stores) -> Server:
    """The shipped graph plus the W3C protocol suite's data1/2/3.rdf as named graphs (over
    Virtuoso: published with the same ``--graph`` options into a Virtuoso of their own)."""
    args = []
    for n in (1, 2, 3):
        args += ["--graph", f"{PROTOCOL_DATA}data{n}.rdf={FIXTURES / 'protocol' / f'data{n}.rdf'}"]
    if backend.remote:
        return start_live_server("--endpoint", published_stores(*args).sparql)
    return start_live_server(*args)


class Tripwire:
    """A TCP listener that records every connection: proof that nothing was fetched."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def tripwire() -> Iterator[Tripwire]:
    """A local URL that must never be contacted."""
    wire = Tripwire()
    yield wire
    wire.close()


def assert_no_trace(body: str) -> None:
    """An error body must never carry a Python stack trace or exception repr."""
    assert "Traceback" not in body, body
    assert 'File "' not in body, body
    # an exception's repr ("ValueError: ...") is not a message a person can act on
    assert not re.search(r"\b[A-Z][A-Za-z]*(Error|Exception): ", body), body
