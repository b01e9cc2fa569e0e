"""``peerchange publish``: the validated graph into a SPARQL 1.1 store, graph by graph.

The plan (``docs/publishing.md``):

1. :func:`prepare` loads the shipped and extra sources as the embedded store does and
   validates them as ``peerchange validate`` does; the caller publishes nothing when the
   report does not conform.
2. :func:`publish` reads the store's previous publication record (which also shows the
   query endpoint answers) and drops a leftover staging graph through the update endpoint
   (which shows the login is accepted), before anything visible changes.
3. Each graph goes into its staging graph ``.../graph/staging/<hex>``: one Graph Store
   Protocol ``PUT`` of its N-Triples, or SPARQL Update data insertion in bounded batches of
   skolemised triples (:mod:`peerchange.services.publish_batches`; a batch the store
   finds too large is halved). The store's count of the staging
   graph must equal the triples sent; only then does ``MOVE`` replace the target. On any
   failure the staging graph is dropped and the target is left as it was.
4. Last, the publication record (:mod:`peerchange.services.publish_record`) goes in the
   same staged way, and the graphs the previous record listed but the new data lacks are
   dropped, so publishing twice, or after removing an extra file, leaves exactly the data.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox

from peerchange.core.errors import PeerchangeError, SourceError, StoreError, StoreUnavailable
from peerchange.core.knowledge_graph import sources_digest
from peerchange.core.namespaces import GRAPH
from peerchange.core.sources import Source, shipped_sources
from peerchange.core.store import build_store, count_quads
from peerchange.services.publish_batches import (
    DEFAULT_BATCH_BYTES,
    DEFAULT_BATCH_TRIPLES,
    batches,
    graph_triples,
    ntriples_lines,
    skolemise,
)
from peerchange.services.publish_http import StoreRefused, StoreWriter
from peerchange.services.publish_record import RECORD, record_triples
from peerchange.services.validation import Report, validate_store

Progress = Callable[[str], None]
STAGING = GRAPH + "staging/"
# the statuses of a request the store finds too large: the batch is split and sent again
TOO_LARGE = frozenset({400, 413})


def staging_graph(target: str) -> str:
    """The staging graph of ``target``: ``.../graph/staging/`` and a hex digest of it."""
    return STAGING + hashlib.sha256(target.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Prepared:
    """The loaded and validated data: the store, its sources, version and report."""

    store: ox.Store
    sources: list[Source]
    version: str
    report: Report

    @cached_property
    def graphs(self) -> dict[str, int]:
        """Triples per named graph, as the embedded store counts them."""
        return count_quads(self.store)[1]


@dataclass(frozen=True)
class BatchLimits:
    """The bounds of one SPARQL Update request (its triples and bytes)."""

    triples: int = DEFAULT_BATCH_TRIPLES
    bytes: int = DEFAULT_BATCH_BYTES


@dataclass
class GraphLoad:
    """One graph published: its triples (confirmed by the store), requests and time."""

    graph: str
    triples: int
    requests: int
    seconds: float


@dataclass
class Publication:
    """What :func:`publish` did."""

    version: str
    graphs: list[GraphLoad] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def triples(self) -> int:
        return sum(g.triples for g in self.graphs)


def prepare(extra: Iterable[Source] = (), *, reasoner: bool = True,
            progress: Progress = lambda _: None) -> Prepared:
    """Load the shipped and ``extra`` sources and validate them (as ``peerchange validate``).

    :raise SourceError: a file cannot be read or parsed, or a quad file puts triples in
        the default graph (a store's default graph is not ours to replace).
    :raise ValidationUnavailable: a validation phase cannot run.
    """
    sources = shipped_sources() + list(extra)
    progress(f"Loading {len(sources)} files")
    store, _ = build_store(sources, progress=lambda line: progress("  " + line))
    if next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None):
        raise SourceError("a quad file has triples outside any named graph; give it a graph "
                          "with --graph IRI=FILE")
    report = validate_store(store, sources, reasoner=reasoner, progress=progress)
    return Prepared(store, sources, sources_digest(sources), report)


def publish(writer: StoreWriter, prepared: Prepared, *, limits: BatchLimits = BatchLimits(),
            progress: Progress = lambda _: None) -> Publication:
    """Publish ``prepared`` (which must conform) through ``writer``; see the module's plan.

    :raise StoreUnavailable: the store cannot be reached or stopped answering (exit 2).
    :raise StoreError: a login is missing or refused (exit 2).
    :raise StoreRefused: the store refused a request or lost triples (exit 1).
    """
    start = time.perf_counter()
    previous = {row["part"] for row in writer.select("publish-record-parts", {"record": RECORD})
                if "part" in row}
    writer.update("publish-drop", {"graph": staging_graph(RECORD)})
    how = "Graph Store Protocol PUT" if writer.graph_store_url else (
        f"SPARQL Update batches, at most {limits.triples:,} triples or {limits.bytes:,} "
        "bytes a request")
    progress(f"Publishing {len(prepared.graphs)} graphs to {writer.query_url} ({how})")
    result = Publication(prepared.version)
    for graph in prepared.graphs:
        try:
            load = load_graph(writer, graph, graph_triples(prepared.store, graph), limits)
        except PeerchangeError as exc:
            raise _not_published(exc, graph, len(result.graphs)) from None
        result.graphs.append(load)
        progress(f"  {graph}: {load.triples:,} triples, {load.requests} requests, "
                 f"{load.seconds:.2f} s ({_rate(load)} triples/s)")
    counts = {g.graph: g.triples for g in result.graphs}
    try:
        load_graph(writer, RECORD, record_triples(prepared.version, counts), limits)
    except PeerchangeError as exc:
        raise _not_published(exc, RECORD, len(result.graphs)) from None
    for graph in sorted(previous - set(counts) - {RECORD}):
        writer.update("publish-drop", {"graph": graph})
        result.dropped.append(graph)
        progress(f"  {graph}: dropped (published before, absent now)")
    result.seconds = time.perf_counter() - start
    progress(f"Published {result.triples:,} triples in {len(result.graphs)} graphs, version "
             f"{result.version}, in {result.seconds:.1f} s")
    return result


def load_graph(writer: StoreWriter, graph: str, triples: list[ox.Triple],
               limits: BatchLimits) -> GraphLoad:
    """Load ``triples`` into ``graph``'s staging graph, check the store's count, then move
    it over ``graph``; on a failure drop the staging graph and leave ``graph`` as it was."""
    start = time.perf_counter()
    sent_before = writer.requests_sent
    staging = staging_graph(graph)
    writer.update("publish-drop", {"graph": staging})
    try:
        if writer.graph_store_url:
            lines = ntriples_lines(triples)
            writer.put_graph(staging, "".join(lines).encode())
        else:
            lines = ntriples_lines(skolemise(graph, triples))
            for batch in batches(lines, max_triples=limits.triples, max_bytes=limits.bytes):
                insert_batch(writer, staging, batch)
        rows = writer.select("publish-count-graph", {"graph": staging})
        stored = int(rows[0]["triples"]) if rows and "triples" in rows[0] else -1
        if stored != len(lines):
            raise StoreRefused(f"the store holds {stored:,} triples of the {len(lines):,} sent")
        writer.update("publish-move", {"staging": staging, "target": graph})
    except (PeerchangeError, ValueError) as exc:
        with contextlib.suppress(PeerchangeError):
            writer.update("publish-drop", {"graph": staging})
        if isinstance(exc, ValueError):
            raise StoreRefused(f"the store's count is not a number ({exc})") from None
        raise
    return GraphLoad(graph, len(lines), writer.requests_sent - sent_before,
                     time.perf_counter() - start)


def insert_batch(writer: StoreWriter, staging: str, lines: list[str]) -> None:
    """Insert ``lines`` into ``staging``; a batch the store finds too large (it answers 400
    or 413) is split in two and each half sent again (inserting a triple twice changes
    nothing, so a half that got in before is harmless)."""
    try:
        writer.update("publish-insert-data", {"graph": staging}, "".join(lines))
    except StoreRefused as exc:
        if exc.status not in TOO_LARGE or len(lines) < 2:
            raise
        half = len(lines) // 2
        insert_batch(writer, staging, lines[:half])
        insert_batch(writer, staging, lines[half:])


def _not_published(exc: PeerchangeError, graph: str, done: int) -> PeerchangeError:
    """``exc`` (same class, so the same exit code) naming the graph and what is left."""
    if type(exc) not in (StoreUnavailable, StoreError, StoreRefused):
        return exc
    staging = ("its staging graph may remain (the next run drops it)"
               if isinstance(exc, StoreUnavailable) else "its staging graph was dropped")
    state = (f"{done} graph(s) before it were already replaced; the publication record still "
             "names the previous version. Publish again once the store is fixed."
             if done else "Nothing visible in the store changed.")
    message = exc.message[:1].lower() + exc.message[1:]
    return type(exc)(f"Graph {graph} was not published (the graph is as it was; {staging}): "
                     f"{message}", detail="\n".join(filter(None, [exc.detail, state])))


def _rate(load: GraphLoad) -> str:
    return f"{load.triples / load.seconds:,.0f}" if load.seconds > 0 else "-"
