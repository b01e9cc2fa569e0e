"""Servers for the HTTP tests: the real ``peerchange serve`` (gunicorn) as a subprocess.

Each fixture starts ``python -m peerchange serve --port <free port> --workers 2 -q`` plus its
own options, waits until ``/health`` answers, yields a :class:`Server` and stops the whole
process group (gunicorn master, workers and any query process) at the end of the session.

- ``server``: the shipped graph with the default limits;
- ``limited_server``: ``--timeout 2 --max-rows 5 --max-query-bytes 2048``, for the timeout,
  truncation and size-limit tests;
- ``protocol_server``: the W3C protocol suite's three one-triple graphs loaded as named
  graphs with ``--graph IRI=FILE`` (see ``tests/fixtures/protocol/``).

``PEERCHANGE_*`` variables of the calling shell are removed so every server runs with
exactly the options its fixture gives.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import FIXTURES, ROOT

PROTOCOL_DATA = "http://kasei.us/2009/09/sparql/data/"
STARTUP_SECONDS = 60.0


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a server: the caller's without ``PEERCHANGE_*``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERCHANGE_")}
    env.update(extra or {})
    return env


@dataclass
class Server:
    """A running ``peerchange serve`` process."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path
    args: list[str] = field(default_factory=list)
    started_in: float = 0.0

    @property
    def sparql(self) -> str:
        return self.base + "/sparql"

    @property
    def health(self) -> str:
        return self.base + "/health"

    def output(self) -> str:
        """What the server printed so far (standard output and error)."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Stop the server: TERM to the gunicorn master (which stops its workers), then KILL
        to the whole process group if it is not gone within a few seconds.

        A worker still booting when the master relays TERM can miss it (gunicorn installs a
        worker's signal handlers late) and would hold the master for its 10 s graceful
        timeout: such a worker gets TERM again after a second, and KILL after a few more.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            for sig, wait in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 3.0)):
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    _signal_group(self.process, sig)
            self.process.wait(timeout=15)
        # the workers and query processes share the group: make sure none outlives the test
        _signal_group(self.process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def start_server(
    args: Sequence[str] = (),
    *,
    log: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    defaults: bool = True,
    wait_for: str = "/health",
) -> Server:
    """Start ``python -m peerchange serve`` and return once ``wait_for`` answers 200.

    :param defaults: add ``--port <free> --workers 2 -q``; without it the command is exactly
        ``serve`` plus ``args`` (and ``port`` is only where to look for it).
    :raise pytest.fail: if the process exits or does not answer within a minute.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "peerchange", "serve"]
    if defaults:
        command += ["--port", str(port), "--workers", "2", "-q"]
    command += list(args)
    handle = log.open("wb")
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=clean_env(env), stdout=handle, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    handle.close()
    server = Server(f"http://127.0.0.1:{port}", process, log, list(args))
    deadline = start + STARTUP_SECONDS
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            server.stop()
            pytest.fail(f"peerchange serve {' '.join(args)} exited with {process.returncode}:\n"
                        f"{server.output()}", pytrace=False)
        try:
            if requests.get(server.base + wait_for, timeout=2).status_code == 200:
                server.started_in = time.perf_counter() - start
                return server
        except requests.RequestException:
            pass
        time.sleep(0.05)
    server.stop()
    pytest.fail(f"peerchange serve {' '.join(args)} did not answer within "
                f"{STARTUP_SECONDS:g} s:\n{server.output()}", pytrace=False)


def stop_and_check(srv: Server) -> None:
    """Stop a fixture's server; every request the tests sent was answered without an
    unexpected exception (a trace in the log) or a crashed worker."""
    srv.stop()
    log = srv.output()
    for sign in ("Traceback", "SIGSEGV", "WORKER TIMEOUT"):
        if sign in log:
            pytest.fail(f"the server log shows {sign!r}:\n{log[-4000:]}", pytrace=False)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The shipped graph, default limits."""
    srv = start_server(log=tmp_path_factory.mktemp("server") / "serve.log")
    yield srv
    stop_and_check(srv)


LIMITED_TIMEOUT = 2.0
LIMITED_ROWS = 5
LIMITED_QUERY_BYTES = 2048


@pytest.fixture(scope="session")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The shipped graph with a 2 s query timeout, at most 5 rows per answer and queries of
    at most 2048 bytes."""
    srv = start_server(
        ["--timeout", str(LIMITED_TIMEOUT), "--max-rows", str(LIMITED_ROWS),
         "--max-query-bytes", str(LIMITED_QUERY_BYTES)],
        log=tmp_path_factory.mktemp("limited") / "serve.log",
    )
    yield srv
    stop_and_check(srv)


@pytest.fixture(scope="session")
def protocol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The shipped graph plus the W3C protocol suite's data1/2/3.rdf as named graphs."""
    args = []
    for n in (1, 2, 3):
        args += ["--graph", f"{PROTOCOL_DATA}data{n}.rdf={FIXTURES / 'protocol' / f'data{n}.rdf'}"]
    srv = start_server(args, log=tmp_path_factory.mktemp("protocol") / "serve.log")
    yield srv
    stop_and_check(srv)


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
