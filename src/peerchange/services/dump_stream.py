"""Writing the dumps of a large store as streams: never the whole graph in Python objects.

:func:`peerchange.services.dumps.write_dumps` sorts every quad in memory and names the
blank nodes canonically, so a small graph (the shipped study) always gives the same bytes.
Above :data:`CANONICAL_LIMIT` quads it uses the writers here instead, which read the store
graph by graph and hand the engine's serialisers an iterator, so memory stays flat however
many triples the store holds:

- the merged dumps (Turtle, N-Triples, JSON-LD) hold each distinct triple once: a triple is
  written with the first graph that holds it (the default graph, then the named graphs in
  IRI order), found with one index lookup per quad (:func:`merged_triples`);
- the N-Quads dump is the store's own dump of every quad;
- the per-graph Turtle files are the engine's dumps of each graph.

What is promised at scale: the same store gives the same bytes (the engine reads its
indexes in a fixed order), but the triples come in the store's order, not sorted, and blank
nodes keep the store's labels; the JSON-LD is the engine's streaming JSON-LD with the
published prefixes as its context (not compacted with the full published context).
Each file is hashed and measured as it is written (:class:`Sink`), and gzip is streamed.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import pyoxigraph as ox

from peerchange.core.namespaces import PREFIXES
from peerchange.services.dataset_description import DUMPS, graph_name

#: Up to this many quads the dumps are sorted with canonical blank nodes (deterministic
#: bytes, as they always were for the shipped data); above it they are streamed.
CANONICAL_LIMIT = 25_000
#: gzip level of the streamed dumps (9 costs twice the time for a few per cent).
STREAM_GZIP_LEVEL = 6


class Recorder(Protocol):
    """Where :func:`write_streamed` writes each file (``services.dumps``' recorder)."""

    steps: int
    folder: Path

    def record(self, name: str, title: str, media: str, size: int, sha256: str, n: int, *,
               graph_iri: str | None = None, compressed: bool = False) -> None: ...

    def stream(self, name: str, title: str, media: str, items: Iterable[Any],
               fmt: ox.RdfFormat, *, graph_iri: str | None = None, compressed: bool = False,
               prefixes: dict[str, str] | None = None) -> None: ...


class Sink:
    """A binary file that counts and hashes what is written to it (``size``, ``sha256``)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = path.open("wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._hash.update(view)
        self.size += view.nbytes
        self._file.write(view)
        return view.nbytes

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class Counter:
    """Pass items through, counting them."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._items = items
        self.n = 0

    def __iter__(self) -> Iterator[Any]:
        for item in self._items:
            self.n += 1
            yield item


def named_graphs(store: ox.Store) -> list[ox.NamedNode | ox.BlankNode]:
    """The store's named graphs, in IRI order."""
    return sorted(store.named_graphs(), key=lambda g: g.value)


def merged_triples(store: ox.Store, graphs: list[ox.NamedNode | ox.BlankNode]
                   ) -> Iterator[ox.Triple]:
    """Every distinct triple of the store once, graph by graph (the default graph first):
    a triple is yielded with the first graph that holds it."""
    rank = {str(g): i for i, g in enumerate(graphs, start=1)}
    sources: list[Any] = [ox.DefaultGraph(), *graphs]
    for here, g in enumerate(sources):
        for q in store.quads_for_pattern(None, None, None, g):
            first = True
            for other in store.quads_for_pattern(q.subject, q.predicate, q.object, None):
                name = other.graph_name
                r = 0 if isinstance(name, ox.DefaultGraph) else rank.get(str(name), here)
                if r < here:
                    first = False
                    break
            if first:
                yield ox.Triple(q.subject, q.predicate, q.object)


def graph_triples(store: ox.Store, g: ox.NamedNode | ox.BlankNode) -> Iterator[ox.Triple]:
    for q in store.quads_for_pattern(None, None, None, g):
        yield ox.Triple(q.subject, q.predicate, q.object)


def write_stream(path: Path, items: Iterable[Any], fmt: ox.RdfFormat, *, gz: bool = False,
                 prefixes: dict[str, str] | None = None) -> tuple[Sink, int]:
    """Serialise ``items`` into ``path`` as they come (gzip-compressed with ``gz``).

    :return: the file's sink (size and SHA-256 of the bytes on disk) and the item count.
    """
    sink = Sink(path)
    counted = Counter(items)
    try:
        if gz:
            # mtime=0 and no file name: the same triples give the same bytes
            with gzip.GzipFile(filename="", mode="wb", fileobj=sink,  # type: ignore[arg-type]
                               compresslevel=STREAM_GZIP_LEVEL, mtime=0) as out:
                ox.serialize(counted, out, fmt, prefixes=prefixes)
        else:
            ox.serialize(counted, sink, fmt, prefixes=prefixes)  # type: ignore[arg-type]
    finally:
        sink.close()
    return sink, counted.n


def write_streamed(store: ox.Store, out: Recorder, counts: dict[str, int] | None = None
                   ) -> None:
    """Write the whole set streamed from ``store`` through ``out``.

    The merged triples are read from the store once, into a temporary N-Triples file;
    the merged Turtle, N-Triples (gzip) and JSON-LD are written from that file, the N-Quads
    from the store, each named graph by the engine's own dump.

    :param counts: the triples of each named graph, where known (the load's counts).
    """
    counts = counts or {}
    graphs = named_graphs(store)
    dumped = [g for g in graphs if isinstance(g, ox.NamedNode) and graph_name(g.value)]
    out.steps = len(DUMPS) + len(dumped)
    infos = {d.name: d for d in DUMPS}
    prefixes = published_prefixes()
    merged = out.folder / ".merged.nt"
    counted = Counter(merged_triples(store, graphs))
    ox.serialize(counted, merged, ox.RdfFormat.N_TRIPLES)
    try:
        info = infos["peerchange.ttl"]
        out.stream(info.name, info.title, info.media_type,
                   ox.parse(path=merged, format=ox.RdfFormat.N_TRIPLES), ox.RdfFormat.TURTLE,
                   prefixes=prefixes)
        info = infos["peerchange.nt.gz"]
        sink = _gzip_copy(merged, out.folder / info.name)
        out.record(info.name, info.title, info.media_type, sink.size, sink.sha256, counted.n,
                   compressed=True)
        info = infos["peerchange.nq.gz"]
        out.stream(info.name, info.title, info.media_type,
                   store.quads_for_pattern(None, None, None, None), ox.RdfFormat.N_QUADS,
                   compressed=True)
        info = infos["peerchange.jsonld"]
        out.stream(info.name, info.title, info.media_type,
                   ox.parse(path=merged, format=ox.RdfFormat.N_TRIPLES), ox.RdfFormat.JSON_LD,
                   prefixes=prefixes)
    finally:
        merged.unlink(missing_ok=True)
    for g in dumped:
        name = f"graphs/{graph_name(g.value)}.ttl"
        sink = Sink(out.folder / name)
        try:
            store.dump(sink, ox.RdfFormat.TURTLE, from_graph=g, prefixes=prefixes)
        finally:
            sink.close()
        n = counts.get(g.value)
        if n is None:
            n = sum(1 for _ in store.quads_for_pattern(None, None, None, g))
        out.record(name, f"Turtle dump of the named graph {g.value}", "text/turtle",
                   sink.size, sink.sha256, n, graph_iri=g.value)


def _gzip_copy(source: Path, target: Path) -> Sink:
    """Compress ``source`` into ``target``, streamed (the same bytes for the same file)."""
    sink = Sink(target)
    try:
        with source.open("rb") as f, gzip.GzipFile(
                filename="", mode="wb", fileobj=sink,  # type: ignore[arg-type]
                compresslevel=STREAM_GZIP_LEVEL, mtime=0) as gz:
            while chunk := f.read(1 << 20):
                gz.write(chunk)
    finally:
        sink.close()
    return sink


def published_prefixes() -> dict[str, str]:
    """The prefixes a streamed Turtle or JSON-LD dump declares (all published ones: which
    are used is not known before the end of the stream)."""
    return dict(PREFIXES)


__all__ = ["CANONICAL_LIMIT", "Sink", "graph_triples", "merged_triples", "named_graphs",
           "published_prefixes", "write_stream",
           "write_streamed"]
