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
