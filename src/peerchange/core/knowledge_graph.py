"""The loaded knowledge graph: the store plus what describes it (version, counts).

:func:`load_graph` is what both the server and the command line use to get a graph. It
builds a new store and only returns it when every source loaded (and the caller's
``accept`` passed), so a failed (re)load never replaces a good graph. An on-disk store
(``--store DIR``) is managed by :mod:`peerchange.core.store_folder`: locked, built beside
the current one and swapped in by rename. Over a remote SPARQL store (``serve
--endpoint``) nothing is loaded: :func:`peerchange.core.remote_graph.connect_graph` reads
the store's publication record into a ``KnowledgeGraph`` with ``remote`` set and no
``store``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from peerchange.core.namespaces import ONTOLOGY, OWL
from peerchange.core.remote_store import RemoteStore
from peerchange.core.sources import Source, shipped_sources
from peerchange.core.store import build_store
from peerchange.core.store_folder import StoreReader, open_store

OWL_VERSION_INFO = ox.NamedNode(OWL + "versionInfo")


@dataclass
class KnowledgeGraph:
    """A read-only store and its description.

    :param version: a digest of every loaded source's bytes: it changes when the data does
        (used for ETags and the health report).
    :param store_path: the on-disk store folder this graph reads (``DIR/store-*``), or
        ``None`` in memory.
    :param reader: on disk, the shared lock that keeps that folder from being removed
        while this process (and the workers it forks) read it.
    :param remote: the remote SPARQL store served from (``store`` is then ``None``, and
        ``version``, ``graph_counts`` and the ontology version come from the publication
        record that ``peerchange publish`` wrote there).
    :param remote_ontology_version: over a remote store, the ontology's
        ``owl:versionInfo`` read with the record.
    """

    store: ox.Store | None
    sources: list[Source]
    version: str
    loaded_at: datetime
    seconds: float = 0.0
    graph_counts: dict[str, int] = field(default_factory=dict)
    store_path: str | None = None
    reader: StoreReader | None = field(default=None, repr=False, compare=False)
    remote: RemoteStore | None = field(default=None, repr=False, compare=False)
    remote_ontology_version: str | None = None

    @property
    def backend(self) -> str:
        """``remote`` (a SPARQL store), ``disk`` (``--store DIR``) or ``memory``."""
        return "remote" if self.remote is not None else ("disk" if self.store_path
                                                         else "memory")

    @property
    def data_graphs(self) -> list[str]:
        """The data graphs served (their IRIs, sorted): the union default graph."""
        return sorted(self.graph_counts)

    @property
    def triples(self) -> int:
        if self.store is None:
            return sum(self.graph_counts.values())
        return len(self.store)

    @property
    def ontology_version(self) -> str | None:
        if self.store is None:
            return self.remote_ontology_version
        for quad in self.store.quads_for_pattern(ox.NamedNode(ONTOLOGY), OWL_VERSION_INFO, None):
            return quad.object.value
        return None

    def reopen(self) -> None:
        """Reopen an on-disk store read-only (call once in each forked server worker)."""
        if self.store_path:
            self.store = ox.Store.read_only(self.store_path)

    def release(self) -> None:
        """Stop holding the on-disk store folder in this process (a replaced graph in the
        server's master); the workers forked with it keep holding it until they exit,
        then the next build or reload removes the folder."""
        if self.reader:
            self.reader.release()


def sources_digest(sources: Iterable[Source]) -> str:
    """Return a short digest of the sources' names, graphs and bytes."""
    h = hashlib.sha256()
    for s in sources:
        h.update(f"{s.graph}\0{s.fmt}\0".encode())
        h.update(hashlib.sha256(s.read_bytes()).digest())
    return h.hexdigest()[:16]


def count_graphs(store: ox.Store) -> dict[str, int]:
    """Return the number of triples in each named graph, by graph IRI."""
    counts: dict[str, int] = {}
    for graph in store.named_graphs():
        if isinstance(graph, ox.NamedNode):
            counts[graph.value] = sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
    return dict(sorted(counts.items()))


def load_graph(
    extra: Iterable[Source] = (),
    *,
    store_path: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
    accept: Callable[[KnowledgeGraph], None] | None = None,
) -> KnowledgeGraph:
    """Load the shipped ontology and data plus ``extra`` sources.

    :param store_path: a folder for an on-disk store (:mod:`peerchange.core.store_folder`).
        If it already holds a store built from the same sources (same digest), it is
        reused; otherwise a new one is built beside it and swapped in when complete.
    :param accept: called with the complete graph before it is returned (on disk: before
        it becomes the folder's current store); raising refuses it, and nothing changes.
    :raise SourceError: when a source cannot be read or parsed, or the store folder cannot
        be used (nothing is returned).
    """
    sources = shipped_sources() + list(extra)
    start = time.perf_counter()
    version = sources_digest(sources)

    def describe(store: ox.Store, counts: dict[str, int] | None = None,
                 path: Path | None = None) -> KnowledgeGraph:
        return KnowledgeGraph(
            store=store, sources=sources, version=version, loaded_at=datetime.now(UTC),
            graph_counts=count_graphs(store) if counts is None else counts,
            store_path=str(path) if path else None,
        )

    if store_path:
        def build(folder: Path) -> tuple[int, dict[str, int]]:
            store, _ = build_store(sources, path=str(folder), progress=progress)
            store.flush()
            store.optimize()
            return len(store), count_graphs(store)

        def accept_store(store: ox.Store) -> None:
            if accept:
                accept(describe(store))

        opened = open_store(Path(store_path), version, build,
                            accept=accept_store if accept else None, progress=progress)
        kg = describe(opened.store, opened.graph_counts, opened.path)
        kg.reader = opened.reader
    else:
        store, _ = build_store(sources, progress=progress)
        kg = describe(store)
        if accept:
            accept(kg)
    kg.seconds = time.perf_counter() - start
    return kg
