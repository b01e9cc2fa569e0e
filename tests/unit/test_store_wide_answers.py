"""A scoped canned query's store-wide answer (``scope=store``) is shared work: evaluated once
per data version under the longer limits of shared work (not a client's deadline), shared
by every service and thread over that version, its time reported by
``memo.shared_seconds``; the rows are those of the query file run as it is."""

from __future__ import annotations

import dataclasses
import time
import uuid

import pyoxigraph as ox

from peerchange.core.namespaces import PCM
from peerchange.services import memo
from peerchange.services.canned import CannedQueryService
from peerchange.services.sparql import SHARED_WORK_MEMORY_MB, SHARED_WORK_TIMEOUT, SparqlService
from tests.conftest import at_once

STATUS = PCM + "CuratedInference"
ARGS = {"status": [STATUS], "scope": ["store"]}


def _fresh(graph):
    return dataclasses.replace(graph, version=f"store-wide-{uuid.uuid4()}")


def test_one_evaluation_shared_by_threads_under_the_longer_limits(shipped_graph, monkeypatch):
    graph = _fresh(shipped_graph)
    runs: list[tuple[float, int]] = []
    execute = SparqlService.execute

    def spying(self, prepared, fmt=None, **kwargs):
        if prepared.name == "api/claims-by-status":
            runs.append((self.timeout, self.query_memory_mb))
            time.sleep(0.3)  # the other threads arrive while it runs
        return execute(self, prepared, fmt, **kwargs)

    monkeypatch.setattr(SparqlService, "execute", spying)
    services = [CannedQueryService(SparqlService(graph, timeout=5.0)) for _ in range(3)]
    pages, shared = at_once(
        lambda n: services[n].run("claims-by-status", ARGS, page="2", per_page="3"), 3, 60)
    assert runs == [(SHARED_WORK_TIMEOUT, SHARED_WORK_MEMORY_MB)]
    assert min(shared) > 0
    assert all(p.rows == pages[0].rows and p.total == pages[0].total for p in pages)
    assert pages[0].total > 6 and len(pages[0].rows) == 3

    # the same rows as the query file run as it is, with the client's limits
    sparql = SparqlService(graph)
    prepared = sparql.prepare_file("api/claims-by-status", {"status": ox.NamedNode(STATUS)},
                                   max_rows=sparql.max_rows)
    monkeypatch.setattr(SparqlService, "execute", execute)
    rows = list(sparql.execute(prepared).rows)
    assert pages[0].rows == rows[3:6]
    assert pages[0].total == len(rows)

    # one source's claims are a client's query: its limits, not shared work
    timeouts: list[float] = []

    def watching(self, prepared, fmt=None, **kwargs):
        timeouts.append(self.timeout)
        return execute(self, prepared, fmt, **kwargs)

    monkeypatch.setattr(SparqlService, "execute", watching)
    memo.shared_seconds()
    assert services[0].run("claims-by-status", {"status": [STATUS]}).total > 0
    assert timeouts and set(timeouts) == {5.0}
