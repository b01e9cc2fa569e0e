"""A worker's query processes at start: the first forked at once, the others in the
background (``execution.start_pool``), so that the first answer waits for one fork only,
and every one of them stopped with the worker however early it stops."""

from __future__ import annotations

import os
import time

import pyoxigraph as ox
import pytest

from peerchange.core import execution
from peerchange.core.execution import QueryJob, run_with_timeout
from tests.conftest import close_executors


@pytest.fixture
def store() -> ox.Store:
    store = ox.Store()
    p = ox.NamedNode("http://example.org/p")
    store.extend([ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), p, ox.Literal(str(i)))
                  for i in range(10)])
    return store


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_until(check, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_the_first_query_process_is_up_when_start_pool_returns(store):
    close_executors()
    pool = execution.start_pool(store, 4)
    try:
        assert pool.members and pool.members[0].pid and running(pool.members[0].pid)
        answer = run_with_timeout(store, QueryJob("ASK { ?s ?p ?o }", "ASK"), 30)
        assert answer.boolean is True
        pids = pool.pids  # waits for the background forks
        assert len(pids) == 4 and all(running(p) for p in pids)
        assert all(parent(p) == os.getpid() for p in pids)
    finally:
        execution.stop_all()


def test_stopping_while_the_others_are_forked_leaves_none_running(store):
    close_executors()
    before = set(children())  # the session's servers, say
    pool = execution.start_pool(store, 8)
    execution.stop_all()  # at once: some are still being forked
    assert pool.filling is not None
    pool.filling.join(30)
    assert [e.pid for e in pool.members if e.pid] == []
    assert wait_until(lambda: not set(children()) - before), set(children()) - before
    # the pool still answers afterwards (a query forks its own process)
    assert run_with_timeout(store, QueryJob("ASK { ?s ?p ?o }", "ASK"), 30).boolean is True
    execution.stop_all()


def parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return -1


def children() -> list[int]:
    """This process's running children."""
    return [int(n) for n in os.listdir("/proc")
            if n.isdigit() and parent(int(n)) == os.getpid() and running(int(n))]
