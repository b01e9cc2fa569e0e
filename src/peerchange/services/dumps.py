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

The writer reads the store directly: a dump is the store's content, not the answer to a
query. Up to :data:`~peerchange.services.dump_stream.CANONICAL_LIMIT` quads the triples
are sorted with canonical blank nodes (the same bytes for the same data; the JSON-LD is
compacted with the published context, :func:`peerchange.services.terms.published_context`);
above it every file is streamed to disk (:mod:`peerchange.services.dump_stream` says what
is promised then). One build per data version: see :class:`DumpService`. Over a remote
store each published graph is first streamed with a CONSTRUCT into a file on disk and its
triple count checked against the publication record (``void:triples``): a store that cut
the answer gives an error (502), never a partial dump; the files are loaded into a
temporary on-disk store that the writers then read like the embedded one.
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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from peerchange.core.errors import NotFound, PeerchangeError
from peerchange.core.formats import RDF_FORMATS, find_format
from peerchange.core.namespaces import PREFIXES
from peerchange.services.dataset_description import (
    DUMPS,
    DatasetDescriptionService,
    graph_name,
    release_of,
)
from peerchange.services.dump_stream import CANONICAL_LIMIT, write_stream, write_streamed
from peerchange.services.rdf_writer import (
    canonical_blank_nodes,
    compact_jsonld,
    sort_key,
    used_prefixes,
    write_document,
)
from peerchange.services.sparql import SparqlService
from peerchange.services.terms import published_context
from peerchange.services.version_files import exclusive

Progress = Callable[[str], None]
# bump when the files or their layout change, so old cached sets are not served
LAYOUT_VERSION = "1"
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
LATEST = "latest"
TURTLE = find_format("turtle", RDF_FORMATS)
#: seconds a request waits for the dumps being written before it is answered 503
BUILD_WAIT = 10.0
#: the ``Retry-After`` of that 503
RETRY_AFTER = 15
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


def write_dumps(sparql: SparqlService, folder: Path, *, progress: Progress = lambda _: None,
                canonical_limit: int = CANONICAL_LIMIT) -> DumpSet:
    """Write the full set of dumps of ``graph`` into ``folder`` (created if needed).

    Up to ``canonical_limit`` quads the triples are sorted with canonical blank nodes
    (deterministic bytes); above it they are streamed from the store
    (:mod:`peerchange.services.dump_stream`, which says what is promised then).
    """
    start = time.perf_counter()
    graph = sparql.graph
    writer = _Recorder(folder, progress)
    with _readable_store(sparql, folder, progress) as store:
        if graph.triples <= canonical_limit:
            _write_canonical(sparql, store, writer)
        else:
            write_streamed(store, writer, graph.graph_counts)
    dump_set = DumpSet(folder, release_of(graph), graph.version, writer.files,
                       time.perf_counter() - start)
    (folder / CHECKSUMS).write_text("".join(f"{f.sha256}  {f.name}\n" for f in writer.files))
    (folder / MANIFEST).write_text(json.dumps(_manifest(dump_set), indent=1) + "\n")
    return dump_set


class _Recorder:
    """Writes (or is told about) each file of a set and keeps its :class:`DumpFile`."""

    def __init__(self, folder: Path, progress: Progress) -> None:
        self.folder = folder
        self.progress = progress
        self.files: list[DumpFile] = []
        self.steps = 0

    def record(self, name: str, title: str, media: str, size: int, sha256: str, n: int, *,
               graph_iri: str | None = None, compressed: bool = False) -> None:
        content_type = "application/gzip" if compressed else (
            f"{media}; charset=utf-8" if media.startswith("text/") or media in (
                "application/n-triples", "application/n-quads") else media)
        self.files.append(DumpFile(name, title, media, content_type, size, sha256, n,
                                   graph_iri, compressed))
        self.progress(f"wrote {name} ({n:,} {'quads' if 'quads' in media else 'triples'}, "
                      f"{size:,} bytes) [{len(self.files)}/{self.steps}]")

    def data(self, name: str, title: str, media: str, data: bytes, n: int, *,
             graph_iri: str | None = None, compressed: bool = False) -> None:
        """Write ``data`` (gzip-compressed first with ``compressed``) and record it."""
        data = _write(self.folder / name, data, gz=compressed)
        self.record(name, title, media, len(data), hashlib.sha256(data).hexdigest(), n,
                    graph_iri=graph_iri, compressed=compressed)

    def stream(self, name: str, title: str, media: str, items: Iterable[Any],
               fmt: ox.RdfFormat, *, graph_iri: str | None = None, compressed: bool = False,
               prefixes: dict[str, str] | None = None) -> None:
        """Serialise ``items`` into the file as they come, and record it."""
        sink, n = write_stream(self.folder / name, items, fmt, gz=compressed,
                               prefixes=prefixes)
        self.record(name, title, media, sink.size, sink.sha256, n, graph_iri=graph_iri,
                    compressed=compressed)


@contextmanager
def _readable_store(sparql: SparqlService, folder: Path, progress: Progress
                    ) -> Iterator[ox.Store]:
    """The store the dumps are written from: the embedded one, or a temporary copy of a
    remote store's published graphs (:func:`~peerchange.core.remote_dump.local_copy`)."""
    graph = sparql.graph
    if graph.remote is None:
        assert graph.store is not None
        yield graph.store
        return
    from peerchange.core.remote_dump import local_copy  # requests: --endpoint only

    with local_copy(graph.remote, graph.graph_counts, folder / ".remote",
                    timeout=max(REMOTE_DUMP_SECONDS, sparql.timeout),
                    progress=progress) as store:
        yield store


def _write_canonical(sparql: SparqlService, store: ox.Store, out: _Recorder) -> None:
    """The whole set from sorted quads with canonical blank nodes (small graphs)."""
    quads = sorted(canonical_blank_nodes(list(store)), key=sort_key)
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
    out.steps = len(DUMPS) + len(graphs)
    infos = {d.name: d for d in DUMPS}

    info = infos["peerchange.ttl"]
    out.data(info.name, info.title, info.media_type, ox.serialize(
        triples, format=ox.RdfFormat.TURTLE, prefixes=used_prefixes(triples)), len(triples))
    info = infos["peerchange.nt.gz"]
    out.data(info.name, info.title, info.media_type,
             ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), len(triples),
             compressed=True)
    info = infos["peerchange.nq.gz"]
    out.data(info.name, info.title, info.media_type,
             ox.serialize(quads, format=ox.RdfFormat.N_QUADS), len(quads), compressed=True)
    info = infos["peerchange.jsonld"]
    out.data(info.name, info.title, info.media_type,
             compact_jsonld(triples, context, None, indent=None), len(triples))
    assert TURTLE is not None
    for iri in graphs:
        out.data(f"graphs/{graph_name(iri)}.ttl", f"Turtle dump of the named graph {iri}",
                 "text/turtle", write_document(in_graph[iri], TURTLE, context=context),
                 len(in_graph[iri]), graph_iri=iri)


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


class DumpsBuilding(PeerchangeError):
    """The dumps of this data version are being written; ``Retry-After`` says when to ask
    again."""

    http_status = 503
    exit_code = 2
    title = "Dumps being written"


class DumpService:
    """The dumps of one loaded graph, written once into a cache folder and reused.

    One build per data version: the first request starts it in a background thread, which
    holds an exclusive lock on ``{cache_dir}/.{version}-{layout}.lock`` while it writes, so
    the other workers (and other servers over the same folder) wait for that build and
    read its set instead of writing another. A request waits up to ``wait`` seconds for the
    set; a longer build answers :class:`DumpsBuilding` (503, ``Retry-After``) meanwhile.

    :param wait: seconds a request waits for a build (``None``: until it is done).
    """

    def __init__(self, sparql: SparqlService, cache_dir: str | Path | None = None, *,
                 wait: float | None = BUILD_WAIT) -> None:
        self.sparql = sparql
        self.graph = sparql.graph
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.wait = wait
        self._lock = threading.Lock()
        self._set: DumpSet | None = None
        self._builder: threading.Thread | None = None
        self._done = threading.Event()
        self._error: BaseException | None = None
        #: how many sets this process has written (not read from the cache)
        self.builds = 0

    @property
    def release(self) -> str:
        return release_of(self.graph)

    @property
    def folder(self) -> Path:
        """Where this data version's set lives."""
        return self.cache_dir / f"{self.graph.version}-{LAYOUT_VERSION}"

    def ensure(self, progress: Progress = lambda _: None, *,
               wait: float | None | bool = True) -> DumpSet:
        """Return the written set, writing it first if it is not there yet.

        :param wait: seconds to wait for a build (``True``: the service's ``wait``;
            ``None``: until it is done).
        :raise DumpsBuilding: when the build takes longer than that.
        """
        if self._set is not None:
            return self._set
        with self._lock:
            if self._set is None and (found := read_dump_set(self.folder)) is not None:
                self._set = found
            if self._set is not None:
                return self._set
            if self._builder is None:
                self._done.clear()
                self._error = None
                self._builder = threading.Thread(target=self._run, args=(progress,),
                                                 name="peerchange-dumps", daemon=True)
                self._builder.start()
            done = self._done
        seconds = self.wait if wait is True else wait
        if not done.wait(None if seconds is None else float(seconds)):
            raise DumpsBuilding(
                f"The dumps of data version {self.graph.version} are being written; "
                f"ask again in {RETRY_AFTER} seconds.",
                headers={"Retry-After": str(RETRY_AFTER)})
        with self._lock:
            if self._set is None:
                error = self._error
                self._builder = None  # the next request tries again
                if isinstance(error, PeerchangeError):
                    raise error
                raise ExportError(f"the dumps could not be written to {self.folder}: "
                                  f"{error}") from error
            return self._set

    def _run(self, progress: Progress) -> None:
        try:
            dump_set = self._build_once(progress)
            with self._lock:
                self._set = dump_set
        except BaseException as exc:  # reported to every waiting request
            self._error = exc
        finally:
            self._done.set()

    def _build_once(self, progress: Progress) -> DumpSet:
        """Wait for any other process's build of this version, then build unless it did."""
        lock_path = self.cache_dir / f".{self.folder.name}.lock"
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            lock_path.touch()
        except OSError as exc:
            raise ExportError(f"cannot create the dump cache folder {self.cache_dir}: "
                              f"{exc.strerror}; set PEERCHANGE_DUMPS_DIR to a writable "
                              "folder") from None
        # a record lock: the query processes forked during a build do not inherit it
        with exclusive(lock_path):
            found = read_dump_set(self.folder)
            if found is not None:
                return found
            self.builds += 1
            return self._build(progress)

    def _build(self, progress: Progress) -> DumpSet:
        try:
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
                # a set written without the lock (an older server): use it (same data)
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
    "DumpFile", "DumpNotFound", "DumpsBuilding", "DumpService", "DumpSet", "ExportError", "LATEST",
    "default_cache_dir", "export_dumps", "read_dump_set", "write_dumps",
]
