"""The list of every page the server has: the path of each IRI of the graph that has one
(the ontology, its terms, the instances, the named graphs), in order. The sitemap lists
it; the folder indexes and the 404 suggestions of a small graph read it.

Read with ``queries/internal/linked-data/page-resources.rq`` (the distinct subjects of the
store: the prefix test and the sort are made here, because pyoxigraph reads an IRI's text
for every test or comparison; about 13 s of the engine's CPU at 10^7 triples), streamed
from the query process as CSV and parsed as text (no RDF term, tuple or dict per subject),
once per data version, under the limits of shared work
(:meth:`~peerchange.services.sparql.SparqlService.for_shared_work`: a whole-store read, not
a client's query). The time is shared work
(:func:`peerchange.services.memo.per_data_version` with ``shared=True``): one thread
reads it while the others wait, and the serving layer leaves it out of the client's
budget.

The list is kept next to the dumps (the ``--dumps-dir`` folder) as
``pages-{data version}-{layout}-{query digest}.txt.gz``, one path a line, as the search
index is: the other workers and a restart over the same data read that file (about a
second at 10^7) instead of the store; workers and servers sharing the folder build one
file at a time (an exclusive lock on ``.pages-….lock``:
:mod:`peerchange.services.version_files`). A folder that cannot be written
only costs the file. In memory it is one string and the offsets of its lines
(:class:`PagePaths`: 1.2 million paths at 10^7 triples, about 40 MB).
"""

from __future__ import annotations

import codecs
import csv
import gzip
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from peerchange.core.formats import RESULT_FORMATS
from peerchange.core.namespaces import BASE, GRAPH, ID, ONTOLOGY, PCM
from peerchange.services import version_files
from peerchange.services.memo import per_data_version
from peerchange.services.sparql import SparqlService

QUERY = "internal/linked-data/page-resources"
CSV = next(f for f in RESULT_FORMATS if f.name == "csv")  # the subjects, streamed as text
#: Bump when the list made from the same rows changes (the file name holds it).
LAYOUT = "1"
_HEADER = "peerchange pages"


def has_page(iri: str) -> bool:
    """Whether ``iri``, described by the graph, has a page: the ontology, a term, an
    instance or a graph."""
    return iri == ONTOLOGY or iri.startswith((PCM, ID, GRAPH))


class PagePaths(Sequence[str]):
    """Paths in order, held as one string and where each starts (about a third of the
    memory of as many ``str`` objects)."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.offsets = array("q", [0])
        parts = []
        at = 0
        for path in paths:
            if "\n" in path:
                raise ValueError(f"a path with a line break: {path!r}")
            parts.append(path)
            at += len(path) + 1
            self.offsets.append(at)
        self.text = "\n".join(parts) + ("\n" if parts else "")

    @classmethod
    def from_text(cls, text: str) -> PagePaths:
        """The paths of ``text``, one a line, each ending in a line break (no list of
        them is made: the list's peak)."""
        held = cls(())
        held.text = text
        find, offsets, at = text.find, held.offsets, 0
        while (end := find("\n", at)) >= 0:
            at = end + 1
            offsets.append(at)
        return held

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                return [self[n] for n in range(start, stop, step)]
            if start >= stop:
                return []
            return self.text[self.offsets[start]:self.offsets[stop] - 1].split("\n")
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.text[self.offsets[i]:self.offsets[i + 1] - 1]

    def __iter__(self) -> Iterator[str]:
        return iter(self[:])

    def lengths(self) -> list[int]:
        """The length of each path, in characters."""
        off = self.offsets
        return [off[n + 1] - off[n] - 1 for n in range(len(self))]


@per_data_version(shared=True)
def page_paths(sparql: SparqlService, cache_dir: str | None) -> PagePaths:
    """The paths of every page of ``sparql``'s data version, in order (see the module
    docstring): from its file in ``cache_dir``, else from the store (and written there);
    ``cache_dir`` ``None``: no file (:func:`peerchange.services.version_files.kept`)."""
    version = sparql.graph.version
    path = None if cache_dir is None else pages_path(sparql, cache_dir)
    return version_files.kept(path, lambda p: read_pages_file(p, version),
                              lambda: _read_store(sparql),
                              lambda f, pages: _write_pages(f, version, pages))


def pages_path(sparql: SparqlService, cache_dir: str | Path) -> Path:
    """Where the list of ``sparql``'s data version is kept in ``cache_dir``."""
    return version_files.version_file(cache_dir, "pages", sparql.graph.version, LAYOUT,
                                      [sparql.prepare_file(QUERY).text], ".txt.gz")


def read_pages_file(path: Path, version: str) -> PagePaths | None:
    """The list kept in ``path`` (for data version ``version``); ``None`` when it is
    missing, unreadable or another's."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as f:
            header = f.readline()
            if header != f"{_HEADER} {version} {LAYOUT}\n":
                return None
            text = f.read()
    except (OSError, ValueError, EOFError):
        return None
    if text and not text.endswith("\n"):
        return None  # cut short
    return PagePaths.from_text(text)


def write_pages_file(path: Path, version: str, pages: PagePaths) -> None:
    """Write the list to ``path`` atomically (a temporary file renamed); a folder that
    cannot be written is left alone."""
    version_files.write_atomically(path, lambda f: _write_pages(f, version, pages))


def _write_pages(raw: IO[bytes], version: str, pages: PagePaths) -> None:
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5, mtime=0) as f:
        f.write(f"{_HEADER} {version} {LAYOUT}\n".encode())
        text, step = pages.text, 1 << 20
        for at in range(0, len(text), step):  # no second copy of the whole text
            f.write(text[at:at + step].encode("utf-8"))


def _read_store(sparql: SparqlService) -> PagePaths:
    """The paths, sorted: the subjects that :func:`has_page` and the named graphs served
    (an IRI has no line break)."""
    start = len(BASE)
    paths = {iri[start:] for iri in _subjects(sparql.for_shared_work()) if has_page(iri)}
    paths.update(g[start:] for g in sparql.graph.data_graphs if g.startswith(GRAPH))
    ordered = sorted(paths)
    del paths
    if not ordered:
        return PagePaths(())
    text = "\n".join(ordered)
    del ordered
    text += "\n"  # in place: the only reference
    return PagePaths.from_text(text)


def _subjects(sparql: SparqlService) -> Iterator[str]:
    """The subjects of ``page-resources.rq`` as text (a blank node as ``_:id``), read as
    the query process writes them in CSV: no RDF term, row or dict per subject (1.2
    million at 10^7 triples, where those held the worker at about 600 MB)."""
    answer = sparql.execute(sparql.prepare_file(QUERY), CSV, stream=True)
    chunks = answer.iter_body()
    try:
        rows = csv.reader(_lines(chunks))
        next(rows, None)  # the header
        for row in rows:
            if row:
                yield row[0]
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """The lines of a UTF-8 text that comes in pieces."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    rest = ""
    for chunk in chunks:
        lines = (rest + decoder.decode(chunk)).split("\n")
        rest = lines.pop()
        yield from lines
    rest += decoder.decode(b"", final=True)
    if rest:
        yield rest


__all__ = ["LAYOUT", "QUERY", "PagePaths", "has_page",
           "page_paths", "pages_path", "read_pages_file", "write_pages_file"]
