"""Full dumps of the knowledge graph, generated from the store.

One set per release (the ontology's ``owl:versionInfo``), also published as ``latest``:

- ``peerchange.ttl``: Turtle, all graphs merged (each distinct triple once);
- ``peerchange.nt.gz``: N-Triples, gzip, all graphs merged;
- ``peerchange.nq.gz``: N-Quads, gzip, named graphs kept (every quad of the store);
- ``peerchange.jsonld``: JSON-LD compacted with the published context (inlined, so the
  file is self-contained), all graphs merged;
- ``graphs/{name}.ttl``: one Turtle file per named graph;
- ``manifest.json`` and ``SHA256SUMS``: sizes, digests and triple counts.

The server writes them once per data version into a cache folder (atomically: a set is
built in a temporary folder and renamed into place, so concurrent workers never see half a
set and all serve the same bytes) and serves them as files. ``peerchange export`` writes the
same set to a folder for static publishing, with the VoID description (``void.ttl``).

The writer reads every quad of the store once, directly: a dump is the store's content,
streamed, not the answer to a query (the JSON-LD context comes through the SPARQL service,
:func:`peerchange.services.terms.published_context`). Over a remote store each published
graph is streamed with a CONSTRUCT into a file on disk, once per data version, and its
triple count checked against the publication record (``void:triples``): a store that cut
the answer gives an error (502), never a partial dump.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from peerchange.core.errors import NotFound, PeerchangeError
from peerchange.core.formats import RDF_FORMATS, find_format
from peerchange.core.namespaces import PREFIXES
from peerchange.core.remote_dump import download_graph
from peerchange.services.dataset_description import (
    DUMPS,
    DatasetDescriptionService,
    graph_name,
    release_of,
)
from peerchange.services.rdf_writer import (
    canonical_blank_nodes,
    compact_jsonld,
    sort_key,
    used_prefixes,
    write_document,
)
from peerchange.services.sparql import SparqlService
from peerchange.services.terms import published_context

Progress = Callable[[str], None]
# bump when the files or their layout change, so old cached sets are not served
LAYOUT_VERSION = "1"
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
LATEST = "latest"
TURTLE = find_format("turtle", RDF_FORMATS)
# a remote store's graph may take longer to send than a query may run
REMOTE_DUMP_SECONDS = 600.0


class DumpNotFound(NotFound):
    """No such release or dump file."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="dump")


class ExportError(PeerchangeError):
    """The dumps cannot be written to the folder given."""

    http_status = 500
    exit_code = 2
    title = "Cannot write the dumps"


@dataclass(frozen=True)
class DumpFile:
    """One written dump file.

    :param name: its path under the release folder (``peerchange.ttl``, ``graphs/x.ttl``).
    :param statements: the triples (or quads for N-Quads) it holds.
    """

    name: str
    title: str
    media_type: str
    content_type: str
    size: int
    sha256: str
    statements: int
    graph: str | None = None
    compressed: bool = False


@dataclass
class DumpSet:
    """A written set of dumps in ``folder``."""

    folder: Path
    release: str
    data_version: str
    files: list[DumpFile]
    seconds: float = 0.0

    def file(self, name: str) -> DumpFile:
        for f in self.files:
            if f.name == name:
                return f
        names = ", ".join(f.name for f in self.files)
        raise DumpNotFound(f"There is no dump called {name!r} in release {self.release}; "
                           f"the files are: {names}.")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/peerchange/dumps`` (``~/.cache/peerchange/dumps``)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "peerchange" / "dumps"


def _write(path: Path, data: bytes, *, gz: bool = False) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        # mtime=0 and no file name: the same triples give the same bytes
        data = gzip.compress(data, compresslevel=9, mtime=0)
    path.write_bytes(data)
    return data


def write_dumps(sparql: SparqlService, folder: Path, *, progress: Progress = lambda _: None
                ) -> DumpSet:
    """Write the full set of dumps of ``graph`` into ``folder`` (created if needed)."""
    start = time.perf_counter()
    graph = sparql.graph
    quads = sorted(canonical_blank_nodes(_all_quads(sparql, folder, progress)), key=sort_key)
    triples: list[ox.Triple] = []
    seen: set[ox.Triple] = set()
    for q in quads:
        t = ox.Triple(q.subject, q.predicate, q.object)
        if t not in seen:
            seen.add(t)
            triples.append(t)
    triples.sort(key=sort_key)
    context = published_context(sparql)
    in_graph: dict[str, list[ox.Triple]] = {}
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode) and graph_name(q.graph_name.value):
            in_graph.setdefault(q.graph_name.value, []).append(
                ox.Triple(q.subject, q.predicate, q.object))
    graphs = sorted(in_graph)
    steps = len(DUMPS) + len(graphs)
    files: list[DumpFile] = []
    step = 0

    def record(name: str, title: str, media: str, data: bytes, n: int, *,
               graph_iri: str | None = None, compressed: bool = False) -> None:
        nonlocal step
        step += 1
        content_type = "application/gzip" if compressed else (
            f"{media}; charset=utf-8" if media.startswith("text/") or media in (
                "application/n-triples", "application/n-quads") else media)
        files.append(DumpFile(name, title, media, content_type, len(data),
                              hashlib.sha256(data).hexdigest(), n, graph_iri, compressed))
        progress(f"wrote {name} ({n:,} {'quads' if 'quads' in media else 'triples'}, "
                 f"{len(data):,} bytes) [{step}/{steps}]")

    infos = {d.name: d for d in DUMPS}
    prefixes = used_prefixes(triples)
    info = infos["peerchange.ttl"]
    data = _write(folder / info.name, ox.serialize(triples, format=ox.RdfFormat.TURTLE,
                                                   prefixes=prefixes))
    record(info.name, info.title, info.media_type, data, len(triples))

    info = infos["peerchange.nt.gz"]
    data = _write(folder / info.name, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES),
                  gz=True)
    record(info.name, info.title, info.media_type, data, len(triples), compressed=True)

    info = infos["peerchange.nq.gz"]
    data = _write(folder / info.name, ox.serialize(quads, format=ox.RdfFormat.N_QUADS), gz=True)
    record(info.name, info.title, info.media_type, data, len(quads), compressed=True)

    info = infos["peerchange.jsonld"]
    data = _write(folder / info.name, compact_jsonld(triples, context, None, indent=None))
    record(info.name, info.title, info.media_type, data, len(triples))

    assert TURTLE is not None
    for iri in graphs:
        name = f"graphs/{graph_name(iri)}.ttl"
        data = _write(folder / name, write_document(in_graph[iri], TURTLE, context=context))
        record(name, f"Turtle dump of the named graph {iri}", "text/turtle", data,
               len(in_graph[iri]), graph_iri=iri)

    dump_set = DumpSet(folder, release_of(graph), graph.version, files,
                       time.perf_counter() - start)
    (folder / CHECKSUMS).write_text("".join(f"{f.sha256}  {f.name}\n" for f in files))
    (folder / MANIFEST).write_text(json.dumps(_manifest(dump_set), indent=1) + "\n")
    return dump_set


def _all_quads(sparql: SparqlService, folder: Path, progress: Progress) -> list[ox.Quad]:
    """Every quad of the store: read directly from the embedded store, or, over a remote
    store, each published graph streamed to a file (``.remote/``, removed after) and
    checked against its published triple count."""
    graph = sparql.graph
    if graph.remote is None:
        assert graph.store is not None
        return list(graph.store)
    work = folder / ".remote"
    work.mkdir(parents=True, exist_ok=True)
    quads: list[ox.Quad] = []
    try:
        for n, (iri, expected) in enumerate(graph.graph_counts.items(), 1):
            quads += download_graph(graph.remote, iri, work / f"graph-{n}.nt",
                                    expected=expected,
                                    timeout=max(REMOTE_DUMP_SECONDS, sparql.timeout))
            progress(f"read {iri} from {graph.remote.url} ({expected:,} triples)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return quads


def _manifest(dump_set: DumpSet) -> dict[str, Any]:
    return {
        "release": dump_set.release,
        "data_version": dump_set.data_version,
        "layout": LAYOUT_VERSION,
        "seconds": round(dump_set.seconds, 3),
        "prefixes": PREFIXES,
        "files": [asdict(f) for f in dump_set.files],
    }


def read_dump_set(folder: Path) -> DumpSet | None:
    """Return the set written in ``folder``, or ``None`` if there is no complete one."""
    try:
        doc = json.loads((folder / MANIFEST).read_text())
        files = [DumpFile(**f) for f in doc["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if doc.get("layout") != LAYOUT_VERSION or not all((folder / f.name).is_file()
                                                      for f in files):
        return None
    return DumpSet(folder, doc["release"], doc["data_version"], files, doc.get("seconds", 0.0))


class DumpService:
    """The dumps of one loaded graph, written once into a cache folder and reused."""

    def __init__(self, sparql: SparqlService, cache_dir: str | Path | None = None) -> None:
        self.sparql = sparql
        self.graph = sparql.graph
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self._lock = threading.Lock()
        self._set: DumpSet | None = None

    @property
    def release(self) -> str:
        return release_of(self.graph)

    @property
    def folder(self) -> Path:
        """Where this data version's set lives."""
        return self.cache_dir / f"{self.graph.version}-{LAYOUT_VERSION}"

    def ensure(self, progress: Progress = lambda _: None) -> DumpSet:
        """Return the written set, writing it first if it is not there yet."""
        if self._set is not None:
            return self._set
        with self._lock:
            if self._set is None:
                self._set = read_dump_set(self.folder) or self._build(progress)
        return self._set

    def _build(self, progress: Progress) -> DumpSet:
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=self.cache_dir))
        except OSError as exc:
            raise ExportError(f"cannot create the dump cache folder {self.cache_dir}: "
                              f"{exc.strerror}; set PEERCHANGE_DUMPS_DIR to a writable "
                              "folder") from None
        try:
            write_dumps(self.sparql, tmp, progress=progress)
            try:
                tmp.rename(self.folder)
            except OSError:
                # another worker finished first: use its set (same bytes)
                if read_dump_set(self.folder) is None:
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        dump_set = read_dump_set(self.folder)
        if dump_set is None:
            raise ExportError(f"the dumps written to {self.folder} cannot be read back")
        return dump_set

    def file(self, release: str, name: str) -> tuple[DumpFile, Path]:
        """Return the file ``name`` of ``release`` (or ``latest``) and its path.

        :raise DumpNotFound: for another release or an unknown file.
        """
        if release not in (LATEST, self.release):
            raise DumpNotFound(
                f"This server holds release {self.release} only (also published as "
                f"'{LATEST}'); there are no dumps of release {release!r} here."
            )
        dump_set = self.ensure()
        if name in (CHECKSUMS, MANIFEST):
            path = dump_set.folder / name
            data = path.read_bytes()
            media = "text/plain" if name == CHECKSUMS else "application/json"
            charset = "; charset=utf-8" if name == CHECKSUMS else ""
            return DumpFile(name, name, media, media + charset, len(data),
                            hashlib.sha256(data).hexdigest(), 0), path
        f = dump_set.file(name)
        return f, dump_set.folder / f.name

    def manifest(self) -> dict[str, Any]:
        return _manifest(self.ensure())


def export_dumps(sparql: SparqlService, directory: Path, *, base_url: str,
                 progress: Progress = lambda _: None) -> tuple[DumpSet, list[Path]]:
    """Write the dumps of ``graph`` to ``directory/{release}/`` and ``directory/latest/``
    with a VoID description (``void.ttl``) whose dump URLs start with
    ``{base_url}dumps/``. Existing files of those two folders are replaced; nothing else in
    ``directory`` is touched.

    :return: the release's set and the folders written.
    :raise ExportError: when the folder cannot be written.
    """
    graph = sparql.graph
    description = DatasetDescriptionService(sparql)
    release = description.release
    target = directory / release
    latest = directory / LATEST
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=directory))
    except OSError as exc:
        raise ExportError(f"cannot write to {directory}: {exc.strerror}") from None
    try:
        progress(f"writing release {release} (data version {graph.version})")
        dump_set = write_dumps(sparql, tmp, progress=progress)
        assert TURTLE is not None
        void = description.document(base_url, TURTLE, None)
        (tmp / "void.ttl").write_bytes(void)
        progress(f"wrote void.ttl ({len(void):,} bytes)")
        for folder in (target, latest):
            if folder.exists():
                shutil.rmtree(folder)
            shutil.copytree(tmp, folder)
            progress(f"published {folder}")
    except OSError as exc:
        raise ExportError(f"cannot write the dumps to {directory}: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    dump_set.folder = target
    return dump_set, [target, latest]


__all__ = [
    "DumpFile", "DumpNotFound", "DumpService", "DumpSet", "ExportError", "LATEST",
    "default_cache_dir", "export_dumps", "read_dump_set", "write_dumps",
]
