"""The list of every page (``ResourceService.page_paths``, behind the sitemap): read once per
data version, shared by every service and thread over it, its time reported as shared work
(left out of a client's budget), kept in a file that other workers and restarts read, and
the same pages as the IRIs of ``known-resources.rq``."""

from __future__ import annotations

import dataclasses
import gzip
import threading
import time
import uuid

from peerchange.core.namespaces import BASE, GRAPH
from peerchange.services import memo, page_list
from peerchange.services.page_list import PagePaths, has_page
from peerchange.services.resources import ResourceService
from peerchange.services.sparql import SparqlService
from tests.conftest import at_once


def _fresh(graph):
    """``graph`` under a data version no other test has used (nothing remembered yet)."""
    return dataclasses.replace(graph, version=f"page-list-{uuid.uuid4()}")


def test_threads_and_services_share_one_read(shipped_graph, monkeypatch):
    graph = _fresh(shipped_graph)
    reads: list[int] = []
    execute = SparqlService.execute

    def spying(self, prepared, fmt=None, **kwargs):
        if prepared.name == "internal/linked-data/page-resources":
            reads.append(threading.get_ident())
            time.sleep(0.3)  # the other threads arrive while it runs
        return execute(self, prepared, fmt, **kwargs)

    monkeypatch.setattr(SparqlService, "execute", spying)
    services = [ResourceService(SparqlService(graph)) for _ in range(4)]
    got, shared = at_once(lambda n: services[n].page_paths(), 4, 30)
    assert len(reads) == 1
    assert all(pages is got[0] for pages in got)
    assert min(shared) > 0  # computing it, or waiting for it: shared work
    memo.shared_seconds()
    assert services[0].page_paths() is got[0]
    assert memo.shared_seconds() == 0.0  # remembered: nothing spent
    assert len(reads) == 1


def test_the_pages_are_the_known_resources_with_a_page(app):
    resources = app.services.resources
    expected = {iri for iri in resources.known if has_page(iri)}
    expected |= {g for g in resources.named_graphs if g.startswith(GRAPH)}
    pages = resources.page_paths()
    assert list(pages) == sorted(iri.removeprefix(BASE) for iri in expected)
    assert resources.pages() == [BASE + p for p in pages]


def test_page_paths_slice_like_a_list():
    paths = ["a", "b/c", "", "d-é", "e"]
    held = PagePaths(paths)
    assert len(held) == 5
    assert list(held) == paths
    assert [held[n] for n in range(-5, 5)] == paths + paths
    for start in range(-6, 7):
        for stop in range(-6, 7):
            assert held[start:stop] == paths[start:stop], (start, stop)
    assert held[::2] == paths[::2]
    assert held.lengths() == [len(p) for p in paths]
    assert list(PagePaths([])) == [] and PagePaths([])[0:3] == []
    again = PagePaths.from_text(held.text)
    assert list(again) == paths and again[1:4] == paths[1:4]
    assert list(PagePaths.from_text("")) == []


def _counting_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    execute = SparqlService.execute

    def spying(self, prepared, fmt=None, **kwargs):
        if prepared.name == page_list.QUERY:
            reads.append(prepared.name)
        return execute(self, prepared, fmt, **kwargs)

    monkeypatch.setattr(SparqlService, "execute", spying)
    return reads


def test_a_worker_or_restart_reads_the_file_instead_of_the_store(shipped_graph, tmp_path,
                                                                 monkeypatch):
    """``page_paths`` without its per-process memo (``__wrapped__``: another worker, or
    the server after a restart) over one folder: the store is read once, then the file."""
    graph = _fresh(shipped_graph)
    sparql = SparqlService(graph)
    build = page_list.page_paths.__wrapped__
    reads = _counting_reads(monkeypatch)
    first = build(sparql, str(tmp_path))
    assert reads == [page_list.QUERY]
    path = page_list.pages_path(sparql, tmp_path)
    assert path.exists() and graph.version in path.name
    again = build(sparql, str(tmp_path))
    assert reads == [page_list.QUERY]  # read from the file
    assert list(again) == list(first) and len(first) > 100


def test_a_file_of_another_version_or_cut_short_is_not_read(shipped_graph, tmp_path,
                                                            monkeypatch):
    graph = _fresh(shipped_graph)
    sparql = SparqlService(graph)
    path = page_list.pages_path(sparql, tmp_path)
    page_list.write_pages_file(path, "another version", PagePaths(["id/x"]))
    assert page_list.read_pages_file(path, graph.version) is None
    page_list.write_pages_file(path, graph.version, PagePaths(["id/x", "id/y"]))
    assert list(page_list.read_pages_file(path, graph.version)) == ["id/x", "id/y"]
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-3]))  # cut in the last line
    assert page_list.read_pages_file(path, graph.version) is None
    reads = _counting_reads(monkeypatch)
    pages = page_list.page_paths.__wrapped__(sparql, str(tmp_path))
    assert reads == [page_list.QUERY] and "onto" in list(pages)


def test_a_folder_that_cannot_be_written_only_costs_the_file(shipped_graph, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    sparql = SparqlService(_fresh(shipped_graph))
    pages = page_list.page_paths.__wrapped__(sparql, str(blocked / "dumps"))
    assert "onto" in list(pages)
