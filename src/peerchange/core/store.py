"""The knowledge graph store: a pyoxigraph ``Store`` with one named graph per source.

Loading is all-or-nothing: :func:`build_store` reads every source into a *new* store and
returns it only if all of them parsed, so a caller that swaps stores keeps serving the
old graph when a load fails.

Sources are streamed to the engine's parser (:meth:`Source.open`): a file is never held
whole in memory, nor is the graph in Python objects. A large source goes through the
engine's bulk loader (sorted files written directly, no transaction: the new store is
thrown away if it fails).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyoxigraph as ox

from peerchange.core.errors import SourceError
from peerchange.core.load_progress import METER_BYTES, LoadMeter
from peerchange.core.queryfiles import get_query
from peerchange.core.sources import LINE_FORMATS, Source

Progress = Callable[[str], None]
GRAPH_COUNTS = "internal/graph-counts"


def _quiet(_: str) -> None:
    pass


@dataclass
class LoadStats:
    """What a build loaded and how long it took: quads in total and per named graph
    (counted by the engine once every source has loaded)."""

    quads: int = 0
    graph_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# a source this large is loaded with ``bulk_load`` (sorted table files written directly,
# no transaction); smaller ones with ``load``, after the large ones (see build_store)
BULK_BYTES = 4 * 1024 * 1024


def load_source(store: ox.Store, source: Source, *, bulk: bool = False,
                meter: LoadMeter | None = None) -> None:
    """Stream one source into ``store``.

    :param bulk: the store is new and nobody reads it yet: a source of ``BULK_BYTES`` or
        more is loaded with ``bulk_load`` (not atomic: on a failure the store is thrown
        away); a smaller one with ``load`` (a transaction through the memtable).
    :param meter: told how much of a large source has been read.
    :raise SourceError: with the file, line, column and the parser's reason on bad syntax;
        or when the file cannot be read or is refused (:meth:`Source.open`).
    """
    kwargs = _parse_options(source)
    if source.graph:
        kwargs["to_graph"] = ox.NamedNode(source.graph)
    size = _size(source)
    on_read = None
    if meter is not None and size >= METER_BYTES:
        meter.start(source.label, size, source.fmt in LINE_FORMATS)
        on_read = meter.advance
    try:
        with source.open(on_read) as stream, _parse_errors(source):
            if bulk and size >= BULK_BYTES:
                store.bulk_load(stream, **kwargs)  # type: ignore[arg-type]
            else:
                store.load(stream, **kwargs)  # type: ignore[arg-type]
    finally:
        if on_read is not None and meter is not None:
            meter.finish()


def _size(source: Source) -> int:
    try:
        return source.path.stat().st_size
    except OSError:
        return 0  # Source.open says why


def _parse_options(source: Source) -> dict[str, object]:
    """The parser options every reading of ``source`` shares: its format, and its own
    location as the base of relative IRIs."""
    return {"format": source.fmt, "base_iri": source.path.resolve().as_uri()}


@contextmanager
def _parse_errors(source: Source) -> Iterator[None]:
    """Translate the parser's errors on ``source`` into :class:`SourceError`."""
    try:
        yield
    except SyntaxError as exc:
        raise _syntax_error(source, exc) from None
    except ValueError as exc:
        raise SourceError(f"cannot parse: {exc}", path=source.label) from None


def _syntax_error(source: Source, exc: SyntaxError) -> SourceError:
    message = str(exc.args[0]) if exc.args else str(exc)
    line = exc.lineno
    column = exc.offset
    if isinstance(exc.args[-1], tuple) and len(exc.args[-1]) >= 3:
        _, line, column = exc.args[-1][:3]
    # pyoxigraph prefixes the position itself; keep only the reason.
    if ": " in message and message.startswith("Parser error"):
        message = message.split(": ", 1)[1]
    return SourceError(f"syntax error: {message}", path=source.label, line=line, column=column)


def build_store(
    sources: Iterable[Source],
    *,
    path: str | None = None,
    progress: Progress = _quiet,
    meter: LoadMeter | None = None,
) -> tuple[ox.Store, LoadStats]:
    """Read every source into a new store, then count its quads per graph.

    :param path: a new on-disk store folder; ``None`` for an in-memory store. Either way
        large sources are bulk-loaded, largest first (the store is new: on a failure it is
        dropped).
    :param progress: called with one line of text per loaded source.
    :param meter: shows the reading of each large source (:mod:`.load_progress`).
    :return: the store and what was loaded.
    :raise SourceError: on the first source that cannot be read; nothing is returned.
    """
    store = ox.Store(path) if path else ox.Store()
    start = time.perf_counter()
    sources = _load_order(sources)
    for i, source in enumerate(sources, 1):
        t0 = time.perf_counter()
        load_source(store, source, bulk=True, meter=meter)
        progress(f"loaded {source.label} [{i}/{len(sources)}, "
                 f"{time.perf_counter() - t0:.2f} s]")
    if path:
        store.flush()
    t0 = time.perf_counter()
    quads, counts = count_quads(store)
    progress(f"counted {quads:,} triples in {len(counts)} named graphs "
             f"[{time.perf_counter() - t0:.2f} s]")
    return store, LoadStats(quads, counts, time.perf_counter() - start)


def _load_order(sources: Iterable[Source]) -> list[Source]:
    """The large sources first, largest first, then the small ones as given.

    The first bulk load goes into an empty store, so its sorted tables become the bottom
    level as written. Keys are hashes, so any data already there overlaps every key range:
    RocksDB then compacts the new tables into the old, rewriting them with the compaction's
    settings (one index of six grew 2.4x at 10^7 triples: 2.3 GB on disk instead of about
    1.6 GB). The small sources, loaded last with ``load``, end in one small flush.
    """
    sources = list(sources)
    large = sorted((s for s in sources if _size(s) >= BULK_BYTES), key=_size, reverse=True)
    return large + [s for s in sources if s not in large]


def count_quads(store: ox.Store) -> tuple[int, dict[str, int]]:
    """Count the store's quads, in all and per named graph IRI, with one query
    (``queries/internal/graph-counts.rq``): the engine scans its index once."""
    total = 0
    counts: dict[str, int] = {}
    for row in get_query(GRAPH_COUNTS).select(store, union=False):
        n = int(row["n"].value)
        total += n
        graph = row.get("g")
        if isinstance(graph, ox.NamedNode):
            counts[graph.value] = n
    return total, dict(sorted(counts.items()))


def union_ntriples(store: ox.Store) -> Iterator[str]:
    """Yield the union of all graphs as N-Triples lines (duplicates across graphs removed)."""
    return _unique_lines(store)


def source_ntriples(sources: Iterable[Source]) -> Iterator[str]:
    """Yield the union of the sources as N-Triples lines, literals exactly as written.

    The store normalises some datatypes (``"1"^^xsd:positiveInteger`` becomes
    ``xsd:integer``); validation must see what the curator wrote, so it parses the
    files again instead of reading the store.

    :raise SourceError: as :func:`load_source`.
    """
    def quads() -> Iterator[ox.Quad | ox.Triple]:
        for source in sources:
            with source.open() as stream, _parse_errors(source):
                yield from ox.parse(stream, **_parse_options(source))  # type: ignore[arg-type]

    return _unique_lines(quads())


def _unique_lines(quads: Iterable[ox.Quad | ox.Triple]) -> Iterator[str]:
    seen: set[tuple[str, str, str]] = set()
    for quad in quads:
        key = (str(quad.subject), str(quad.predicate), str(quad.object))
        if key not in seen:
            seen.add(key)
            yield f"{key[0]} {key[1]} {key[2]} .\n"


def named_graphs(store: ox.Store) -> list[str]:
    """Return the IRIs of the store's named graphs, sorted."""
    return sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))
