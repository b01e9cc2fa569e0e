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
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from peerchange.core.namespaces import ONTOLOGY, OWL
from peerchange.core.sources import Source, shipped_sources
from peerchange.core.store import build_store, count_quads
from peerchange.core.store_folder import StoreReader, open_store

if TYPE_CHECKING:  # the remote client (requests) is imported only to serve --endpoint
    from peerchange.core.load_progress import LoadMeter
    from peerchange.core.remote_store import RemoteStore

OWL_VERSION_INFO = ox.NamedNode(OWL + "versionInfo")


@dataclass
class KnowledgeGraph:
    """A read-only store and its description.

    :param version: the data version (:func:`sources_digest`): it changes when the data
        does (used for ETags and the health report).
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
    quads: int | None = None

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
        """The number of quads: a remote store's from its publication record; a local
        store's counted once when it was built (the store is read-only; counting again
        scans the whole index: seconds at 10^7)."""
        if self.store is None:
            return sum(self.graph_counts.values())
        if self.quads is None:
            self.quads = len(self.store)
        return self.quads

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


# a source at least this large is identified by its path, size, modification time and
# inode instead of a digest of its bytes (hashing 1.7 GB takes seconds and reads the file
# at every start); PEERCHANGE_DIGEST_BYTES changes it (tests use a small value)
DIGEST_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


def digest_limit() -> int:
    """The size from which a source is fingerprinted rather than hashed."""
    raw = os.environ.get("PEERCHANGE_DIGEST_BYTES", "")
    return int(raw) if raw.strip().isdigit() else DIGEST_BYTES


def sources_digest(sources: Iterable[Source]) -> str:
    """Return the data version: a short digest over the sources' graphs, formats and
    contents.

    A source smaller than :func:`digest_limit` (the shipped ontology and data, so their
    version is as before) counts by a digest of its bytes (decompressed, read in chunks).
    A larger one counts by its fingerprint, ``(path, size, mtime_ns, inode)``, read
    without opening the file. Trade-off: a large file rewritten in place with the same
    size and the same modification time (to the nanosecond) is not noticed; any ordinary
    edit, copy or replacement changes the time or the inode, hence the version.
    """
    limit = digest_limit()
    h = hashlib.sha256()
    for s in sources:
        h.update(f"{s.graph}\0{s.fmt}\0".encode())
        h.update(_source_identity(s, limit))
    return h.hexdigest()[:16]


def _source_identity(source: Source, limit: int) -> bytes:
    try:
        st = source.path.stat()
    except OSError:
        st = None
    if st is not None and st.st_size >= limit:
        ident = f"{source.path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"
        return hashlib.sha256(ident.encode()).digest()
    h = hashlib.sha256()
    with source.open() as stream:
        while chunk := stream.read(_CHUNK):
            h.update(chunk)
    return h.digest()


def load_graph(
    extra: Iterable[Source] = (),
    *,
    store_path: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
    accept: Callable[[KnowledgeGraph], None] | None = None,
    meter: LoadMeter | None = None,
) -> KnowledgeGraph:
    """Load the shipped ontology and data plus ``extra`` sources.

    :param store_path: a folder for an on-disk store (:mod:`peerchange.core.store_folder`).
        If it already holds a store built from the same sources (same digest), it is
        reused; otherwise a new one is built beside it and swapped in when complete.
    :param accept: called with the complete graph before it is returned (on disk: before
        it becomes the folder's current store); raising refuses it, and nothing changes.
    :param meter: shows the reading of each large source (bytes, statements/s, ETA).
    :raise SourceError: when a source cannot be read or parsed, or the store folder cannot
        be used (nothing is returned).
    """
    sources = shipped_sources() + list(extra)
    start = time.perf_counter()
    version = sources_digest(sources)

    built: dict[str, tuple[int, dict[str, int]]] = {}

    def describe(store: ox.Store, quads: int, counts: dict[str, int],
                 path: Path | None = None) -> KnowledgeGraph:
        return KnowledgeGraph(
            store=store, sources=sources, version=version, loaded_at=datetime.now(UTC),
            graph_counts=counts, store_path=str(path) if path else None, quads=quads,
        )

    if store_path:
        def build(folder: Path) -> tuple[int, dict[str, int]]:
            # no optimize(): it rewrote every table a second time (doubling the disk until
            # RocksDB dropped the old files) and took minutes at 10^7; a bulk load already
            # writes sorted, compacted files
            store, stats = build_store(sources, path=str(folder), progress=progress,
                                       meter=meter)
            built["counts"] = (stats.quads, stats.graph_counts)
            return stats.quads, stats.graph_counts

        def accept_store(store: ox.Store) -> None:
            if accept:
                quads, counts = built.get("counts") or count_quads(store)
                accept(describe(store, quads, counts))

        opened = open_store(Path(store_path), version, build,
                            accept=accept_store if accept else None, progress=progress)
        kg = describe(opened.store, opened.quads, opened.graph_counts, opened.path)
        kg.reader = opened.reader
    else:
        store, stats = build_store(sources, progress=progress, meter=meter)
        kg = describe(store, stats.quads, stats.graph_counts)
        if accept:
            accept(kg)
    kg.seconds = time.perf_counter() - start
    return kg
