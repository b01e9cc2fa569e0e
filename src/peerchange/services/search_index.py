"""The search box's index: every searchable resource with the names it goes by.

Read with ``queries/internal/site/search-labels.rq`` once per data version (two hash-joined
sides: the searchable resources and every name of the store; about 34 s of CPU at 10^7
triples, where a lookup of each resource's names took 107 s), and kept on disk next to the
dumps (``--dumps-dir``, :func:`peerchange.services.dumps.default_cache_dir`) as
``search-{data version}-{layout}-{query digest}.json.gz``: a restart over the same data
version reads that file (about 5 s of CPU at 10^7) instead of asking the store again. The
name holds everything the index is a function of (the data version, :data:`LAYOUT` for
this module's code, a digest of the query's text), so other data or another query never
reads it. Workers and servers sharing the folder build one file at a time (an exclusive
lock on ``.search-….lock``, :mod:`peerchange.services.version_files`; the others wait
and read what it wrote). A folder that cannot
be written only costs the file: the index is then built in memory, as before.

The query runs under the limits of shared work
(:meth:`~peerchange.services.sparql.SparqlService.for_shared_work`, or the service's own
limits, when larger), not a client's: it is read once per data version, not per
request.

:class:`Index` holds the entries and the flat lists a search reads: every name folded
(:func:`normalise`) and as rapidfuzz processes it, the entry each belongs to, and the
entries each folded name is exactly.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rapidfuzz import utils

from peerchange.services import version_files
from peerchange.services.sparql import SparqlService

QUERY = "internal/site/search-labels"
#: The kinds of resource searched, in the order results are listed.
KINDS = ("mechanism", "component", "theory", "family", "construct", "outcome", "work")
KIND_NAMES = {"mechanism": "change mechanism", "component": "mechanism component",
              "theory": "theory", "family": "theory family",
              "construct": "theoretical construct", "outcome": "outcome", "work": "work"}
#: Bump when the entries built from the same rows change (the file name holds it).
LAYOUT = "1"


_PUNCTUATION = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Fold case and punctuation: ``Role-Modelling  (x)`` → ``role modelling x``."""
    return " ".join(_PUNCTUATION.sub(" ", text.casefold()).split())


@dataclass(frozen=True)
class Entry:
    """A searchable resource: its IRI, kind, the label shown, a work's key, its names."""

    iri: str
    kind: str
    label: str
    key: str | None = None
    names: tuple[str, ...] = ()
    folded: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)

    @property
    def slug(self) -> str:
        """The last segment of the IRI (a mechanism's trace slug)."""
        return self.iri.rstrip("/").rsplit("/", 1)[-1]


class Index:
    """The entries, ordered by kind, label and IRI, and the flat lists a search reads."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = tuple(entries)
        #: per name of every entry (in entry order, then name order): the entry's number,
        #: the name folded and as rapidfuzz's ``default_process`` makes it
        self.owner = array("l")
        self.folded: list[str] = []
        self.processed: list[str] = []
        #: where each entry's names start in those lists
        self.first = array("l")
        #: a folded name → where it is in those lists (of an entry, its first name so
        #: folded; of several entries, a list in entry order)
        self._exact: dict[str, int | list[int]] = {}
        for n, entry in enumerate(self.entries):
            self.first.append(len(self.folded))
            seen: set[str] = set()
            for name in entry.folded:
                at = len(self.folded)
                self.owner.append(n)
                self.folded.append(name)
                processed = utils.default_process(name)
                self.processed.append(name if processed == name else processed)
                if name not in seen:
                    seen.add(name)
                    found = self._exact.setdefault(name, at)
                    if found != at:
                        if isinstance(found, int):
                            self._exact[name] = found = [found]
                        found.append(at)

    def exact(self, folded: str) -> list[tuple[Entry, str]]:
        """The entries one of whose names is ``folded`` (folded), in order, each with
        the first of its names so folded."""
        found = self._exact.get(folded)
        if found is None:
            return []
        return [self.name_at(at) for at in ([found] if isinstance(found, int) else found)]

    def name_at(self, at: int) -> tuple[Entry, str]:
        """The entry of the ``at``-th name of the flat lists, and that name as written."""
        entry = self.entries[self.owner[at]]
        return entry, entry.names[at - self.first[self.owner[at]]]


def entries_from_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[Entry, ...]:
    """Build the entries from the query's rows (``resource``, ``kind``, ``name`` and the
    flags ``labelled`` and ``keyed``), in any order."""
    found: dict[str, dict[str, Any]] = {}
    # ordered here, not by the engine (sorting 47,000 rows there took 3 s at 10^6):
    # a resource's names keep the order of kind, resource and name
    for row in sorted(rows, key=lambda r: (r["kind"].value, r["resource"].value,
                                           r["name"].value)):
        iri = row["resource"].value
        kind = row["kind"].value
        entry = found.setdefault(iri, {"kind": kind, "names": [], "key": None, "label": ""})
        if KINDS.index(kind) < KINDS.index(entry["kind"]):
            entry["kind"] = kind
        if "keyed" in row:
            entry["key"] = row["name"].value
        name = row["name"].value.strip()
        if "labelled" in row and name and (not entry["label"] or name < entry["label"]):
            entry["label"] = name
        if name and name not in entry["names"]:
            entry["names"].append(name)
    entries = []
    for iri, e in found.items():
        names = tuple(e["names"])
        slug = iri.rstrip("/").rsplit("/", 1)[-1]
        if e["kind"] != "work" and slug not in names:
            names += (slug,)  # a mechanism's trace slug, the end of any IRI
        label = str(e["label"] or (names[0] if names else iri))
        entries.append(make_entry(iri, e["kind"], label, e["key"], names))
    entries.sort(key=lambda x: (KINDS.index(x.kind), x.label.casefold(), x.iri))
    return tuple(entries)


def make_entry(iri: str, kind: str, label: str, key: str | None,
               names: Iterable[str]) -> Entry:
    names = tuple(names)
    return Entry(iri, kind, label, key, names, tuple(normalise(n) for n in names))


def build_index(sparql: SparqlService, cache_dir: str | Path | None) -> Index:
    """The index of ``sparql``'s data version: read from its file in ``cache_dir``, else
    read from the store (and written there); ``cache_dir`` ``None``: no file
    (:func:`peerchange.services.version_files.kept`)."""
    path = None if cache_dir is None else index_path(sparql, cache_dir)
    return Index(version_files.kept(
        path, read_index_file, lambda: _read_store(sparql),
        lambda f, entries: write_entries(f, sparql.graph.version, entries)))


def index_path(sparql: SparqlService, cache_dir: str | Path) -> Path:
    """Where the index of ``sparql``'s data version is kept in ``cache_dir``."""
    return version_files.version_file(cache_dir, "search", sparql.graph.version, LAYOUT,
                                      [sparql.prepare_file(QUERY).text], ".json.gz")


def read_index_file(path: Path) -> tuple[Entry, ...] | None:
    """The entries kept in ``path``; ``None`` when it is missing or unreadable."""
    return version_files.read_document(path, LAYOUT, None, lambda doc: tuple(
        make_entry(iri, kind, label, key, names)
        for iri, kind, label, key, names in doc["entries"]))


def write_entries(raw: IO[bytes], version: str, entries: Iterable[Entry]) -> None:
    """Write the entries' document (gzipped JSON) to ``raw``."""
    version_files.json_writer({
        "layout": LAYOUT, "data_version": version,
        "entries": [[e.iri, e.kind, e.label, e.key, list(e.names)] for e in entries]})(raw)


def _read_store(sparql: SparqlService) -> tuple[Entry, ...]:
    return entries_from_rows(sparql.for_shared_work().select(QUERY))


__all__ = ["KINDS", "KIND_NAMES", "LAYOUT", "Entry",
           "Index", "build_index", "entries_from_rows", "index_path", "normalise",
           "read_index_file", "write_entries"]
