"""Download a named graph of a remote store to a file, and check it is complete.

A store may cut a long CONSTRUCT answer without saying so (Virtuoso's
``ResultSetMaxRows`` applies to graphs too, with no header), so a graph written to disk is
counted and compared with the triple count of the publication record
(``void:triples``); a short answer is refused rather than served as a complete dump.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from peerchange.core.errors import StoreError
from peerchange.core.execution import QueryJob
from peerchange.core.queryfiles import get_query
from peerchange.core.remote_execution import remote_text
from peerchange.core.remote_store import GRAPH_MEDIA, RemoteStore


def download_graph(remote: RemoteStore, iri: str, path: Path, *, expected: int,
                   timeout: float) -> list[ox.Quad]:
    """Stream the graph ``iri`` as N-Triples into ``path``; return its quads (in ``iri``).

    :raise StoreError: the store gave fewer (or more) triples than ``expected``.
    """
    job = QueryJob(text=get_query("internal/linked-data/graph-triples").text,
                   form="CONSTRUCT", substitutions={"graph": ox.NamedNode(iri)})
    with path.open("wb") as sink:
        remote.request(remote_text(job), accept=GRAPH_MEDIA, timeout=timeout,
                       named_graphs=[iri], sink=sink)
    graph = ox.NamedNode(iri)
    try:
        quads = [ox.Quad(q.subject, q.predicate, q.object, graph)
                 for q in ox.parse(path=path, format=ox.RdfFormat.N_TRIPLES)]
    except SyntaxError as exc:
        raise StoreError(f"The store's copy of {iri} cannot be read: {exc}") from None
    distinct = len(set(quads))
    if distinct != expected:
        raise StoreError(
            f"The store gave {distinct:,} triples of {iri}, but {expected:,} were published "
            "(void:triples): it cut the answer (e.g. Virtuoso's ResultSetMaxRows) or the "
            "graph changed since peerchange publish. No dump is written from it.")
    return quads


@contextmanager
def local_copy(remote: RemoteStore, counts: dict[str, int], work: Path, *, timeout: float,
               progress: Callable[[str], None] = lambda _: None) -> Iterator[ox.Store]:
    """A temporary on-disk store holding every graph of ``counts`` as the remote store has
    it: each graph streamed to a file in ``work`` (:func:`download_graph`, count checked),
    then bulk-loaded. ``work`` is removed afterwards.

    :raise StoreError: a graph's count differs from ``counts`` (a cut answer).
    """
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        store = ox.Store(str(work / "store"))
        for n, (iri, expected) in enumerate(counts.items(), 1):
            path = work / f"graph-{n}.nt"
            download_graph(remote, iri, path, expected=expected, timeout=timeout)
            store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES,
                            to_graph=ox.NamedNode(iri))
            path.unlink()
            progress(f"read {iri} from {remote.url} ({expected:,} triples)")
        yield store
        del store
    finally:
        shutil.rmtree(work, ignore_errors=True)
