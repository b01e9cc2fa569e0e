"""``services.memo.per_data_version``: one computation per data version and arguments, even
when several threads ask at once (the search index at 10^7 triples takes minutes)."""

from __future__ import annotations

import threading
import time

import pytest

from peerchange.services.memo import per_data_version
from peerchange.services.sparql import SparqlService


def test_threads_asking_at_once_share_one_computation(shipped_graph):
    calls: list[str] = []
    started = threading.Event()

    @per_data_version()
    def slow(sparql: SparqlService, name: str) -> str:
        calls.append(name)
        started.set()
        time.sleep(0.3)  # long enough for the other threads to arrive while it runs
        return f"answer for {name}"

    sparql = SparqlService(shipped_graph)
    got: list[str] = []
    first = threading.Thread(target=lambda: got.append(slow(sparql, "a")))
    first.start()
    assert started.wait(10)
    others = [threading.Thread(target=lambda: got.append(slow(sparql, "a")))
              for _ in range(3)]
    for thread in others:
        thread.start()
    for thread in (first, *others):
        thread.join(10)
    assert got == ["answer for a"] * 4
    assert calls == ["a"]
    assert slow(sparql, "b") == "answer for b"  # another key is its own computation
    assert calls == ["a", "b"]


def test_a_failed_computation_is_tried_again(shipped_graph):
    calls: list[int] = []

    @per_data_version()
    def flaky(sparql: SparqlService) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the first try fails")
        return len(calls)

    sparql = SparqlService(shipped_graph)
    with pytest.raises(RuntimeError):
        flaky(sparql)
    assert flaky(sparql) == 2
    assert flaky(sparql) == 2  # and is kept once it succeeds


def test_shared_work_is_reported_once_per_thread_and_then_reset(shipped_graph):
    """``shared=True`` work (the same for every reader) is what the calling thread spent
    computing it or waiting for it; nested shared work counts once; a request's own memo
    (``shared`` not set) is not reported; an answer already there costs nothing."""
    from peerchange.services.memo import shared_seconds

    @per_data_version(shared=True)
    def inner(sparql: SparqlService) -> str:
        time.sleep(0.3)
        return "inner"

    @per_data_version(shared=True)
    def table(sparql: SparqlService) -> str:
        return inner(sparql) + " table"

    @per_data_version()
    def own(sparql: SparqlService, text: str) -> str:
        time.sleep(0.2)
        return text

    sparql = SparqlService(shipped_graph)
    shared_seconds()
    assert own(sparql, "x") == "x" and shared_seconds() == 0.0  # a request's own work
    assert table(sparql) == "inner table"
    assert 0.3 <= shared_seconds() < 0.6  # once: twice for the nested table would be 0.6
    assert shared_seconds() == 0.0  # reset by the call
    assert table(sparql) == "inner table" and shared_seconds() < 0.3  # remembered


def test_a_client_is_not_charged_for_shared_work(shipped_graph):
    """The worker charges a client the app time of its request less the shared work done
    meanwhile (``BufferingWorker._charged_from``): the first search after a start does not
    use up its client's budget for building the index everyone then uses."""
    from peerchange.serving.worker import BufferingWorker

    @per_data_version(shared=True)
    def index(sparql: SparqlService) -> str:
        time.sleep(0.3)
        return "index"

    sparql = SparqlService(shipped_graph)
    charged: list[float] = []
    release = BufferingWorker._charged_from(time.perf_counter(), charged.append)
    index(sparql)
    time.sleep(0.05)  # the request's own work
    release(0.0)
    assert 0.05 <= charged[0] < 0.3  # with the index's 0.3 s it would be at least 0.35
    charged.clear()
    release = BufferingWorker._charged_from(time.perf_counter(), charged.append)
    time.sleep(0.05)
    release(0.0)
    assert 0.05 <= charged[0] < 0.3  # nothing left over from the earlier request
