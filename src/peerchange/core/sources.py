"""RDF sources: which file goes into which named graph, in which format.

The shipped sources follow one rule: ``ontology/*.ttl`` load into the ``ontology`` graph
and ``data/{stem}.ttl`` into the graph named ``{stem}``. Extra files given by a user go
into a graph of their own (``.../graph/extra/{stem}``) unless a graph IRI is given for
them; quad formats (N-Quads, TriG) keep the graphs they name.

What a user's file may make the loader do is bounded before any parser sees it
(``docs/security.md``): an extra file larger than ``max_extra_bytes`` (the setting
``PEERCHANGE_MAX_EXTRA_BYTES``, 256 MiB by default; for a ``.gz`` file, its decompressed
size) is refused, and so is RDF/XML that declares entities (``<!DOCTYPE`` with
``<!ENTITY``: nested entities expand an 844-byte file into gigabytes). Without entity
declarations no format the loader reads has a construct that expands text, so the
characters of the literals parsed are at most the file's size, hence at most
``max_extra_bytes``. JSON-LD ``@context`` URLs are never fetched (the parser has no
document loader: a remote context is a syntax error).
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
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
        """Return the file's bytes, decompressing ``.gz``.

        :raise SourceError: if the file cannot be read, is larger than ``max_bytes``
            (decompressed), or is RDF/XML that declares entities.
        """
        limit = self.max_bytes
        try:
            if self.path.suffix == ".gz":
                raw = self._decompress(limit)
            else:
                if limit is not None and self.path.stat().st_size > limit:
                    raise self._too_large(self.path.stat().st_size)
                raw = self.path.read_bytes()
        except FileNotFoundError:
            raise SourceError("no such file", path=self.label) from None
        except IsADirectoryError:
            raise SourceError("is a folder, not an RDF file", path=self.label) from None
        except OSError as exc:
            raise SourceError(f"cannot read file ({exc.strerror})", path=self.label) from None
        if limit is not None and len(raw) > limit:  # the file grew since its size was read
            raise self._too_large(len(raw))
        if self.fmt == ox.RdfFormat.RDF_XML and _DOCTYPE.search(raw) and _ENTITY.search(raw):
            raise SourceError("entity declarations are not accepted in RDF/XML (they can "
                              "expand without bound); write the values out in the file",
                              path=self.label)
        return raw

    def _decompress(self, limit: int | None) -> bytes:
        try:
            with gzip.open(self.path, "rb") as fh:
                data = fh.read(-1 if limit is None else limit + 1)
        except (gzip.BadGzipFile, EOFError, ValueError, zlib.error) as exc:
            raise SourceError(f"not a valid gzip file ({exc})", path=self.label) from None
        if limit is not None and len(data) > limit:
            raise self._too_large(None)
        return data

    def _too_large(self, size: int | None) -> SourceError:
        what = f"is {size:,} bytes" if size is not None else "decompresses to more bytes"
        return SourceError(f"the file {what}; extra files may be at most "
                           f"{self.max_bytes:,} bytes (set {LIMIT_VARIABLE} to change the "
                           "limit)", path=self.label)


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
