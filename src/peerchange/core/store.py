"""The knowledge graph store: a pyoxigraph ``Store`` with one named graph per source.

Loading is all-or-nothing: :func:`build_store` reads every source into a *new* store and
returns it only if all of them parsed, so a caller that swaps stores keeps serving the
old graph when a load fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyoxigraph as ox

from peerchange.core.errors import SourceError
from peerchange.core.sources import Source

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class LoadStats:
    """What a build loaded: quads per source and in total, and how long it took."""

    per_source: list[tuple[Source, int]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def quads(self) -> int:
        return sum(n for _, n in self.per_source)


# an on-disk build loads a source this large with ``bulk_load`` (no transaction, sorted
# files written directly: about 4x faster for a 50 MB file); smaller ones with ``load``, as
# each bulk load writes new files of its own
BULK_BYTES = 4 * 1024 * 1024


def load_source(store: ox.Store, source: Source, *, bulk: bool = False) -> int:
    """Load one source into ``store`` and return how many quads it added.

    :param bulk: the store is a new on-disk store that nobody reads yet: a large source
        may be loaded with ``bulk_load`` (not atomic: on a failure the store is thrown away).
    :raise SourceError: with the file, line, column and the parser's reason on bad syntax.
    """
    before = len(store)
    kwargs = _parse_options(source)
    if source.graph:
        kwargs["to_graph"] = ox.NamedNode(source.graph)
    data = source.read_bytes()
    with _parse_errors(source):
        if bulk and len(data) >= BULK_BYTES:
            store.bulk_load(data, **kwargs)  # type: ignore[arg-type]
        else:
            store.load(data, **kwargs)  # type: ignore[arg-type]
    return len(store) - before


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
) -> tuple[ox.Store, LoadStats]:
    """Read every source into a new store.

    :param path: a new on-disk store folder (large sources are bulk-loaded into it);
        ``None`` for an in-memory store.
    :param progress: called with one line of text per loaded source.
    :return: the store and what was loaded.
    :raise SourceError: on the first source that cannot be read; nothing is returned.
    """
    store = ox.Store(path) if path else ox.Store()
    stats = LoadStats()
    start = time.perf_counter()
    sources = list(sources)
    for i, source in enumerate(sources, 1):
        t0 = time.perf_counter()
        n = load_source(store, source, bulk=path is not None)
        stats.per_source.append((source, n))
        progress(
            f"loaded {source.label} ({n:,} triples) [{i}/{len(sources)}, "
            f"{time.perf_counter() - t0:.2f} s]"
        )
    stats.seconds = time.perf_counter() - start
    return store, stats


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
            with _parse_errors(source):
                yield from ox.parse(source.read_bytes(), **_parse_options(source))  # type: ignore[arg-type]

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
