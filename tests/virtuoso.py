"""A real Virtuoso (Debian's ``virtuoso-opensource``) for the tests and the benchmark.

:func:`start_virtuoso` copies Debian's default ini into a folder of the caller's, changes
its ports (free loopback ports), paths (that folder) and answer caps (Debian's
``ResultSetMaxRows = 10000`` and ``MaxQueryExecutionTime = 60`` are raised, or set to
what the caller asks, so tests can also provoke a cut answer), starts ``virtuoso-t`` in
the foreground and returns once its SPARQL endpoint answers (about ten seconds).
:func:`running_virtuoso` is the one way a test fixture gets one (skipped locally without
Virtuoso, a failure under ``CI=true``; stopped at the end). :func:`wait_until_answering`
is the wait both this module and ``tests/conftest.py``'s ``start_server`` use.

A fresh database has the ``dba`` account with the password ``dba``: the authenticated
endpoints (``/sparql-auth`` for SPARQL Update, ``/sparql-graph-crud-auth`` for the Graph
Store Protocol) take it with HTTP Digest authentication.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

DEBIAN_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
BINARY = "virtuoso-t"
USER = "dba"
PASSWORD = "dba"
STARTUP_SECONDS = 90.0


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (``tests/conftest.py`` shares it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> bool:
    """Whether Virtuoso is installed here (the binary and Debian's default ini)."""
    return shutil.which(BINARY) is not None and DEBIAN_INI.is_file()


@dataclass
class Virtuoso:
    """A running Virtuoso in its own folder."""

    folder: Path
    http_port: int
    sql_port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql(self) -> str:
        """The public (read) SPARQL endpoint."""
        return self.base + "/sparql"

    @property
    def sparql_auth(self) -> str:
        """The SPARQL endpoint that takes updates (Digest authentication)."""
        return self.base + "/sparql-auth"

    @property
    def graph_store(self) -> str:
        """The Graph Store Protocol endpoint (Digest authentication)."""
        return self.base + "/sparql-graph-crud-auth"

    def log(self) -> str:
        path = self.folder / "virtuoso.out"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop Virtuoso (TERM, then KILL after ten seconds)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): it holds its port but answers nothing."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def write_ini(folder: Path, *, http_port: int, sql_port: int, max_rows: int = 10_000_000,
              max_seconds: int = 600, dirs_allowed: tuple[str, ...] = ()) -> Path:
    """Write Debian's default ini with our ports, folder and caps into ``folder``.

    :param dirs_allowed: more folders for the ini's ``DirsAllowed`` (the bulk loader reads
        only files under them).
    """
    ini = DEBIAN_INI.read_text(encoding="utf-8")
    ini = ini.replace("/var/lib/virtuoso-opensource-7/db", str(folder))
    if dirs_allowed:
        ini = re.sub(r"(?m)^(DirsAllowed\s*=.*)$",
                     lambda m: m.group(1) + "".join(", " + d for d in dirs_allowed), ini)
    ini = re.sub(r"(?m)^ServerPort(\s*)=\s*1111\b", rf"ServerPort\g<1>= {sql_port}", ini)
    ini = re.sub(r"(?m)^ServerPort(\s*)=\s*8890\b", rf"ServerPort\g<1>= {http_port}", ini)
    ini = re.sub(r"(?m)^ResultSetMaxRows(\s*)=.*$", rf"ResultSetMaxRows\g<1>= {max_rows}", ini)
    ini = re.sub(r"(?m)^MaxQueryExecutionTime(\s*)=.*$",
                 rf"MaxQueryExecutionTime\g<1>= {max_seconds}", ini)
    ini = re.sub(r"(?m)^DefaultHost(\s*)=.*$", rf"DefaultHost\g<1>= 127.0.0.1:{http_port}",
                 ini)
    path = folder / "virtuoso.ini"
    path.write_text(ini, encoding="utf-8")
    return path


def start_virtuoso(folder: Path, *, max_rows: int = 10_000_000,
                   max_seconds: int = 600, dirs_allowed: tuple[str, ...] = ()) -> Virtuoso:
    """Start Virtuoso with a database in ``folder``; return once ``/sparql`` answers.

    :param max_rows: the ini's ``ResultSetMaxRows`` (Debian's default is 10,000).
    :param max_seconds: the ini's ``MaxQueryExecutionTime``.
    :param dirs_allowed: more folders the bulk loader (``ld_dir``) may read.
    :raise RuntimeError: Virtuoso exited or did not answer in time (with its log).
    """
    folder.mkdir(parents=True, exist_ok=True)
    http_port, sql_port = free_port(), free_port()
    ini = write_ini(folder, http_port=http_port, sql_port=sql_port, max_rows=max_rows,
                    max_seconds=max_seconds, dirs_allowed=dirs_allowed)
    out = (folder / "virtuoso.out").open("wb")
    process = subprocess.Popen(
        [BINARY, "+foreground", "+configfile", str(ini)], cwd=folder, stdout=out,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PEERCHANGE_")},
    )
    out.close()
    server = Virtuoso(folder, http_port, sql_port, process)
    try:
        wait_until_answering(process, server.sparql, params={"query": "ASK {}"},
                             what=BINARY, seconds=STARTUP_SECONDS, output=server.log,
                             poll=0.2)
    except RuntimeError:
        server.stop()
        raise
    return server


@contextlib.contextmanager
def running_virtuoso(tmp_path_factory: Any, name: str, **options: Any) -> Iterator[Virtuoso]:
    """A Virtuoso for a fixture, in a new temporary folder ``name``, stopped at the end;
    ``options`` as :func:`start_virtuoso` takes them. Skipped locally without Virtuoso, a
    failure under ``CI=true`` (``require_tool`` in ``tests/conftest.py``)."""
    from tests.conftest import VIRTUOSO_REASON, require_tool

    require_tool(BINARY, VIRTUOSO_REASON)
    server = start_virtuoso(tmp_path_factory.mktemp(name), **options)
    try:
        yield server
    finally:
        server.stop()


def wait_until_answering(process: subprocess.Popen[bytes], url: str, *, what: str,
                         seconds: float, output: Callable[[], str],
                         params: dict[str, str] | None = None, poll: float = 0.05) -> None:
    """Return once ``GET url`` answers 200, polling every ``poll`` seconds.

    :param what: the program, for the messages.
    :param output: what the program printed so far, for the messages.
    :raise RuntimeError: ``process`` exited, or ``seconds`` passed without an answer (the
        caller stops the process).
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{output()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, params=params, timeout=2).status_code == 200:
                return
        time.sleep(poll)
    raise RuntimeError(f"{what} did not answer within {seconds:g} s:\n{output()}")
