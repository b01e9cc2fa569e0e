"""RDF sources: which file goes into which named graph, in which format.

The shipped sources follow one rule: ``ontology/*.ttl`` load into the ``ontology`` graph
and ``data/{stem}.ttl`` into the graph named ``{stem}``. Extra files given by a user go
into a graph of their own (``.../graph/extra/{stem}``) unless a graph IRI is given for
them; quad formats (N-Quads, TriG) keep the graphs they name.

A source reaches the parser as a stream (:meth:`Source.open`): never the whole file in
memory. What a user's file may make the loader do is bounded as it is read, before the
parser is given each chunk (``docs/security.md``): an extra file larger than
``max_extra_bytes`` (the setting ``PEERCHANGE_MAX_EXTRA_BYTES``, 256 MiB by default; for a
``.gz`` file, its decompressed size) is refused, and so is RDF/XML that declares entities
(``<!DOCTYPE`` with ``<!ENTITY``: nested entities expand an 844-byte file into gigabytes).
A refused load is thrown away whole (the store it went into is new). Without entity
declarations no format the loader reads has a construct that expands text, so the
characters of the literals parsed are at most the file's size, hence at most
``max_extra_bytes``. JSON-LD ``@context`` URLs are never fetched (the parser has no
document loader: a remote context is a syntax error).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from peerchange.core.config import Settings
from peerchange.core.errors import SourceError
from peerchange.core.namespaces import GRAPH, is_absolute_iri
from peerchange.core.resources import resource_files

FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".turtle": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".ntriples": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".nquads": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".n3": ox.RdfFormat.N3,
}

QUAD_FORMATS = {ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG}
LIMIT_VARIABLE = "PEERCHANGE_MAX_EXTRA_BYTES"
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
LINE_FORMATS = {ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS}
# what the parser reads from a source in one go (it asks for about 2 KB at a time)
CHUNK = 1024 * 1024
# called after each chunk with (bytes of the file read so far, lines in the chunk)
OnRead = Callable[[int, int], None]


def extra_limit() -> int:
    """The largest extra file, in bytes: ``PEERCHANGE_MAX_EXTRA_BYTES`` or its default.

    :raise SourceError: when the variable is not a whole number.
    """
    raw = os.environ.get(LIMIT_VARIABLE)
    try:
        return Settings.from_env({} if raw is None else {LIMIT_VARIABLE: raw}).max_extra_bytes
    except ValueError as exc:
        raise SourceError(str(exc)) from None


@dataclass(frozen=True)
class Source:
    """One file to load.

    :param path: the file (may end in ``.gz``).
    :param graph: the named graph IRI for triple formats; ``None`` for quad formats that
        keep their own graphs (their default-graph triples go to ``fallback_graph``).
    :param fmt: the RDF format.
    :param shipped: ``True`` for the package's own ontology and data.
    :param max_bytes: the largest size accepted (decompressed), ``None`` for no limit (the
        shipped files).
    """

    path: Path
    graph: str | None
    fmt: ox.RdfFormat
    shipped: bool = False
    max_bytes: int | None = None

    @property
    def label(self) -> str:
        """A short name for messages: ``ontology/...`` or ``data/...`` for the shipped files,
        otherwise the path relative to the working folder if possible."""
        if self.shipped:
            from peerchange.core.resources import resource_root

            try:
                return self.path.resolve().relative_to(resource_root()).as_posix()
            except ValueError:
                pass
        try:
            return str(self.path.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(self.path)

    def read_bytes(self) -> bytes:
        """The whole file, decompressed and checked as :meth:`open` checks it (for small
        files: the loader streams instead).

        :raise SourceError: as :meth:`open`.
        """
        with self.open() as stream:
            return stream.read()

    @contextlib.contextmanager
    def open(self, on_read: OnRead | None = None) -> Iterator[io.BufferedReader]:
        """The file as a stream for the parser, decompressing ``.gz`` on the way: never
        the whole file in memory. Checked as it is read.

        :param on_read: called after each chunk with the bytes of the file (compressed,
            for ``.gz``) read so far and the number of lines in the chunk (counted only
            for N-Triples and N-Quads, where a line is a statement).
        :raise SourceError: when opening or while reading: the file cannot be read, is
            larger than ``max_bytes`` (decompressed), is not valid gzip, or is RDF/XML that
            declares entities.
        """
        try:
            if self.max_bytes is not None and self.path.suffix != ".gz" \
                    and self.path.stat().st_size > self.max_bytes:
                raise self._too_large(self.path.stat().st_size)
            raw = self.path.open("rb", buffering=0)
        except FileNotFoundError:
            raise SourceError("no such file", path=self.label) from None
        except IsADirectoryError:
            raise SourceError("is a folder, not an RDF file", path=self.label) from None
        except OSError as exc:
            raise SourceError(f"cannot read file ({exc.strerror})", path=self.label) from None
        with raw, io.BufferedReader(_Reader(self, raw, on_read), CHUNK) as stream:
            yield stream

    def _too_large(self, size: int | None) -> SourceError:
        what = f"is {size:,} bytes" if size is not None else "decompresses to more bytes"
        return SourceError(f"the file {what}; extra files may be at most "
                           f"{self.max_bytes:,} bytes (set {LIMIT_VARIABLE} to change the "
                           "limit)", path=self.label)


class _Reader(io.RawIOBase):
    """A source's bytes as the parser reads them: decompressed, counted, bounded by
    ``max_bytes`` and, for RDF/XML, refused once entity declarations are seen (before the
    parser is given the chunk that declares one, so nothing is ever expanded)."""

    def __init__(self, source: Source, raw: io.RawIOBase, on_read: OnRead | None) -> None:
        super().__init__()
        self._source = source
        self._raw = raw
        self._data: io.RawIOBase | gzip.GzipFile = raw
        if source.path.suffix == ".gz":
            self._data = gzip.GzipFile(fileobj=raw, mode="rb")
        self._on_read = on_read
        self._lines = source.fmt in LINE_FORMATS
        self._xml = source.fmt == ox.RdfFormat.RDF_XML
        self._seen_doctype = self._seen_entity = False
        self._tail = b""
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        source = self._source
        try:
            n = self._data.readinto(buffer)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise SourceError(f"not a valid gzip file ({exc})", path=source.label) from None
        except OSError as exc:
            raise SourceError(f"cannot read file ({exc.strerror or exc})",
                              path=source.label) from None
        if not n:
            return 0
        self.read_so_far += n
        if source.max_bytes is not None and self.read_so_far > source.max_bytes:
            raise source._too_large(None if self._data is not self._raw else self.read_so_far)
        chunk = bytes(memoryview(buffer)[:n]) if self._xml or self._lines else b""
        if self._xml:
            self._check_entities(chunk)
        if self._on_read is not None:
            self._on_read(self._raw.tell(), chunk.count(b"\n") if self._lines else 0)
        return n

    def _check_entities(self, chunk: bytes) -> None:
        text = self._tail + chunk
        self._seen_doctype = self._seen_doctype or bool(_DOCTYPE.search(text))
        self._seen_entity = self._seen_entity or bool(_ENTITY.search(text))
        self._tail = chunk[-16:]
        if self._seen_doctype and self._seen_entity:
            raise SourceError("entity declarations are not accepted in RDF/XML (they can "
                              "expand without bound); write the values out in the file",
                              path=self._source.label)


def guess_format(path: Path) -> ox.RdfFormat:
    """Return the RDF format of ``path`` from its extension (``.gz`` is looked through).

    :raise SourceError: for an extension that names no supported format.
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    try:
        return FORMATS[ext]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise SourceError(
            f"unknown RDF file extension {ext or '(none)'!r}; use one of {known}",
            path=str(path),
        ) from None


def shipped_sources() -> list[Source]:
    """Return the package's ontology and data files with their graphs."""
    sources = [
        Source(p, GRAPH + "ontology", ox.RdfFormat.TURTLE, shipped=True)
        for p in resource_files("ontology")
    ]
    sources += [
        Source(p, GRAPH + p.stem, ox.RdfFormat.TURTLE, shipped=True)
        for p in resource_files("data")
    ]
    return sources


def extra_source(path: str | Path, graph: str | None = None, *,
                 max_bytes: int | None = None) -> Source:
    """Return the :class:`Source` for a user-given file.

    :param graph: the graph IRI to load a triple format into; by default
        ``.../graph/extra/{stem}``. Ignored for quad formats unless given explicitly, in
        which case their default-graph triples go there.
    :param max_bytes: the largest file accepted; by default :func:`extra_limit`.
    """
    p = Path(path)
    fmt = guess_format(p)
    if graph is None and fmt not in QUAD_FORMATS:
        stem = p.name.split(".")[0] or "file"
        graph = GRAPH + "extra/" + stem
    return Source(p, graph, fmt, max_bytes=extra_limit() if max_bytes is None else max_bytes)


def parse_graph_option(spec: str, *, max_bytes: int | None = None) -> Source:
    """Parse a ``--graph IRI=FILE`` option into a :class:`Source`.

    :raise SourceError: if ``spec`` is not ``IRI=FILE`` with an absolute IRI.
    """
    iri, sep, file = spec.partition("=")
    if not sep or not iri or not file:
        raise SourceError(f"--graph expects IRI=FILE, got {spec!r}")
    if not is_absolute_iri(iri):
        raise SourceError(f"--graph: {iri!r} is not an absolute IRI")
    return extra_source(file, graph=iri, max_bytes=max_bytes)
