"""The loaded knowledge graph: the store plus what describes it (version, counts).

:func:`load_graph` is what both the server and the command line use to get a graph. It
builds a new store and only returns it when every source loaded, so a failed (re)load
never replaces a good graph.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from peerchange.core.errors import SourceError
from peerchange.core.namespaces import ONTOLOGY, OWL
from peerchange.core.sources import Source, shipped_sources
from peerchange.core.store import build_store

OWL_VERSION_INFO = ox.NamedNode(OWL + "versionInfo")
MARKER = "peerchange-store.json"


@dataclass
class KnowledgeGraph:
    """A read-only store and its description.

    :param version: a digest of every loaded source's bytes: it changes when the data does
        (used for ETags and the health report).
    """

    store: ox.Store
    sources: list[Source]
    version: str
    loaded_at: datetime
    seconds: float = 0.0
    graph_counts: dict[str, int] = field(default_factory=dict)
    store_path: str | None = None

    @property
    def triples(self) -> int:
        return len(self.store)

    @property
    def ontology_version(self) -> str | None:
        for quad in self.store.quads_for_pattern(ox.NamedNode(ONTOLOGY), OWL_VERSION_INFO, None):
            return quad.object.value
        return None

    def reopen(self) -> None:
        """Reopen an on-disk store read-only (call once in each forked server worker)."""
        if self.store_path:
            self.store = ox.Store.read_only(self.store_path)


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
) -> KnowledgeGraph:
    """Load the shipped ontology and data plus ``extra`` sources.

    :param store_path: a folder for an on-disk store. If it already holds a store built
        from the same sources (same digest), it is reused; otherwise it is (re)built.
    :raise SourceError: when a source cannot be read or parsed (nothing is returned).
    """
    sources = shipped_sources() + list(extra)
    start = time.perf_counter()
    version = sources_digest(sources)
    if store_path:
        store = _open_or_build(Path(store_path), sources, version, progress)
    else:
        store, _ = build_store(sources, progress=progress)
    kg = KnowledgeGraph(
        store=store,
        sources=sources,
        version=version,
        loaded_at=datetime.now(UTC),
        graph_counts=count_graphs(store),
        store_path=store_path,
    )
    kg.seconds = time.perf_counter() - start
    return kg


def _open_or_build(
    folder: Path, sources: list[Source], version: str, progress: Callable[[str], None]
) -> ox.Store:
    marker = folder / MARKER
    if marker.is_file():
        try:
            built = json.loads(marker.read_text())
        except ValueError:
            built = {}
        if built.get("version") == version:
            progress(f"reusing the on-disk store in {folder} (version {version})")
            return ox.Store.read_only(str(folder))
    if folder.exists() and any(folder.iterdir()) and not marker.is_file():
        raise SourceError(
            "refusing to build a store in a folder that is not empty and holds no peerchange "
            "store; give an empty or new folder",
            path=str(folder),
        )
    tmp = folder.with_name(folder.name + ".building")
    if tmp.exists():
        _remove_tree(tmp)
    progress(f"building an on-disk store in {folder}")
    store, _ = build_store(sources, path=str(tmp), progress=progress)
    store.flush()
    store.optimize()
    del store
    (tmp / MARKER).write_text(json.dumps({"version": version}))
    if folder.exists():
        _remove_tree(folder)
    tmp.rename(folder)
    return ox.Store.read_only(str(folder))


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path)
