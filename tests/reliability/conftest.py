"""Helpers for the query-process and query-text tests: the process table, a tiny store
whose cross products never end, and servers started (and stopped) by the test itself.

Process states come from ``/proc/PID/stat``: a process killed whose parent is gone can stay
a zombie (``Z``) when PID 1 does not reap, so "gone" means absent or a zombie.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests.conftest import Server, free_port, start_server, stop_and_check

EX = "http://example.org/"
# a count over a 3-way cross product: runs for ever in constant memory
ENDLESS_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
# sorting a cross product: grows the query process by about 1 GB/s (row 4)
SORTED_CROSS_PRODUCT = (
    "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } ORDER BY ?l ?i ?f ?c")


def doubling_query(binds: int = 26, seed: str = "ab") -> str:
    """Row 5: ``binds`` BINDs each doubling a string: ``len(seed) * 2**binds`` characters
    from a text under 1 KB."""
    steps = " ".join(f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(binds))
    return f'SELECT ?s{binds} WHERE {{ BIND("{seed}" AS ?s0) {steps} }}'


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgrp: int
    state: str
    cpu_ticks: int
    nice: int


def proc(pid: int) -> Proc | None:
    """The process ``pid`` from ``/proc`` (``None`` if there is none)."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2:].split()
    return Proc(pid, int(rest[1]), int(rest[2]), rest[0], int(rest[11]) + int(rest[12]),
                int(rest[16]))


def processes() -> list[Proc]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            p = proc(int(name))
            if p is not None:
                out.append(p)
    return out


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not absent, not a zombie)."""
    p = proc(pid)
    return p is not None and p.state not in ("Z", "X")


def children(pid: int) -> list[int]:
    return [p.pid for p in processes() if p.ppid == pid and p.state not in ("Z", "X")]


def in_group(pgrp: int) -> list[int]:
    """Live processes of the process group ``pgrp`` (a server's: its master's pid)."""
    return [p.pid for p in processes() if p.pgrp == pgrp and p.state not in ("Z", "X")]


def wait_until(condition: Callable[[], object], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def busy_one(pids: list[int], timeout: float = 10.0) -> int | None:
    """The first of ``pids`` seen using CPU within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    before = {pid: getattr(proc(pid), "cpu_ticks", 0) for pid in pids}
    while time.monotonic() < deadline:
        time.sleep(0.2)
        for pid in pids:
            p = proc(pid)
            if p is not None and p.cpu_ticks - before[pid] >= 5:  # 50 ms of CPU
                return pid
    return None


def port_is_free(port: int) -> bool:
    """Whether a new server could listen on ``port`` (as gunicorn does, with
    ``SO_REUSEADDR``: closed connections waiting in TIME_WAIT do not count, a socket still
    listening does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
    return True


@pytest.fixture(scope="session")
def tiny_store() -> ox.Store:
    """1,000 triples: enough for a cross product that never ends, quick to fork."""
    store = ox.Store()
    p = ox.NamedNode(EX + "p")
    store.extend([ox.Quad(ox.NamedNode(f"{EX}s{i}"), p, ox.Literal(str(i)))
                  for i in range(1000)])
    return store


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """``start(*args, env=, port=)``: a ``peerchange serve`` of the shipped graph for this
    test alone (two workers), stopped at the end; its log must show no trace."""
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None, port: int | None = None,
              check: bool = True) -> Server:
        folder = tmp_path / f"serve{len(started)}"
        folder.mkdir()
        srv = start_server(list(args), log=folder / "serve.log", port=port or free_port(),
                           env={"PEERCHANGE_DUMPS_DIR": str(folder / "dumps"), **(env or {})})
        srv.checked = check  # type: ignore[attr-defined]
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
    for srv in started:
        if srv.checked:  # type: ignore[attr-defined]
            stop_and_check(srv)
        else:
            assert "Traceback" not in srv.output(), srv.output()[-4000:]
