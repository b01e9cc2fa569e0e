"""The knowledge graph over a remote SPARQL store: read the publication record, load nothing.

``peerchange publish`` writes one small graph, ``https://w3id.org/peerchange/graph/
publication``, about itself: ``dcterms:hasVersion`` (the digest the embedded store would
have for the same sources, so ETags agree between backends), ``dcterms:hasPart`` for each
published data graph with its ``void:triples`` count, and ``prov:generatedAtTime``.
:func:`connect_graph` reads it (``queries/internal/remote/publication.rq``) into a
:class:`~peerchange.core.knowledge_graph.KnowledgeGraph` whose ``remote`` is the store;
a reload reads it again.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox

from peerchange.core.errors import NotPublished, StoreError
from peerchange.core.execution import QueryJob
from peerchange.core.knowledge_graph import KnowledgeGraph
from peerchange.core.namespaces import ONTOLOGY, graph_iri
from peerchange.core.queryfiles import get_query
from peerchange.core.remote_execution import parse_select, remote_text
from peerchange.core.remote_store import SELECT_MEDIA, RemoteStore, store_for

PUBLICATION = graph_iri("publication")
CONNECT_TIMEOUT = 30.0


def _select(remote: RemoteStore, name: str, bindings: dict[str, ox.NamedNode], *,
            graphs: list[str] | None = None) -> list[dict[str, Any]]:
    job = QueryJob(text=get_query(name).text, form="SELECT", substitutions=dict(bindings))
    reply = remote.request(remote_text(job), accept=SELECT_MEDIA, timeout=CONNECT_TIMEOUT,
                           default_graphs=graphs, named_graphs=graphs)
    variables, rows = parse_select(reply)
    return [{v: t for v, t in zip(variables, row, strict=True) if t is not None}
            for row in rows]


def read_publication(remote: RemoteStore) -> tuple[str, dict[str, int], str | None]:
    """The published data version, triple count per data graph and publication time.

    :raise NotPublished: the store holds no publication record.
    :raise StoreError: the record is incomplete (a graph without its count).
    """
    rows = _select(remote, "internal/remote/publication",
                   {"publication": ox.NamedNode(PUBLICATION)})
    if not rows:
        raise NotPublished(
            f"The store at {remote.url} holds no publication record (the graph "
            f"{PUBLICATION}): run peerchange publish --endpoint {remote.url} first.")
    versions = {row["version"].value for row in rows}
    if len(versions) != 1:
        raise StoreError(f"The publication record at {remote.url} names "
                         f"{len(versions)} data versions; publish again.")
    counts: dict[str, int] = {}
    for row in rows:
        part = row.get("part")
        if part is None:
            continue
        triples = row.get("triples")
        if triples is None:
            raise StoreError(f"The publication record at {remote.url} gives no "
                             f"void:triples for {part.value}; publish again.")
        counts[part.value] = int(triples.value)
    generated = next((row["generated"].value for row in rows if "generated" in row), None)
    return versions.pop(), dict(sorted(counts.items())), generated


def connect_graph(settings: Any = None, *, remote: RemoteStore | None = None
                  ) -> KnowledgeGraph:
    """The knowledge graph served from the store the settings name (``endpoint``).

    :raise StoreUnavailable: the store cannot be reached.
    :raise NotPublished: nothing was published there.
    """
    start = time.perf_counter()
    remote = remote or store_for(settings)
    remote.connect()
    version, counts, _generated = read_publication(remote)
    graphs = list(counts)
    rows = _select(remote, "internal/remote/ontology-version",
                   {"ontology": ox.NamedNode(ONTOLOGY)}, graphs=graphs or None)
    ontology_version = rows[0]["version"].value if rows else None
    if not graphs:
        raise StoreError(f"The publication record at {remote.url} lists no data graphs; "
                         "publish again.")
    return KnowledgeGraph(
        store=None, sources=[], version=version, loaded_at=datetime.now(UTC),
        seconds=time.perf_counter() - start, graph_counts=counts, remote=remote,
        remote_ontology_version=ontology_version,
    )
