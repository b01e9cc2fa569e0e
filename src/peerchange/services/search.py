"""Finding a resource by name: the site's search box (``/search?q=``).

The searchable resources are the change mechanisms, their components, the theories, theory
families, theoretical constructs, outcomes and works, each with every name it goes by
(labels, alternative labels, a work's title and reference key, the last segment of the
IRI), read once per data version
with ``queries/internal/site/search-labels.rq``. A search runs no query.

The index query grows with the store (every labelled resource of every study: 474,718 rows
and about 107 s of CPU at 10^7 triples), so it is not held to a client's query deadline:
it runs under :data:`INDEX_TIMEOUT` and :data:`INDEX_MEMORY_MB` (or the service's own
limits, when larger), once per data version; searches that arrive during the build wait
for it (:func:`peerchange.services.memo.per_data_version`). The first search after a data
version is then slow on a large store, but it answers.

How a text matches, in order (names and text compared case- and punctuation-blind, so
``role modelling`` is ``role-modelling``):

1. **exact**: the text is one of a resource's names. One resource so named is the answer
   (of several, the one whose label it is);
2. otherwise **partial**: every word of the text occurs in one of a resource's names, or
   the name is a close fuzzy match (rapidfuzz ``WRatio`` of at least :data:`MATCH_SCORE`);
3. nothing matches: :attr:`SearchResult.suggestions` holds the closest names (a score of at
   least :data:`SUGGEST_SCORE`), for the "not found" answer.

:attr:`SearchResult.unique` is the one clear match a face can go to directly (an exact
name of one resource, or a single partial match); otherwise a face lists
:attr:`SearchResult.hits`. Where a resource is served is the face's business.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, utils

from peerchange.services.memo import per_data_version
from peerchange.services.sparql import SparqlService

QUERY = "internal/site/search-labels"
#: The kinds of resource searched, in the order results are listed.
KINDS = ("mechanism", "component", "theory", "family", "construct", "outcome", "work")
KIND_NAMES = {"mechanism": "change mechanism", "component": "mechanism component",
              "theory": "theory", "family": "theory family",
              "construct": "theoretical construct", "outcome": "outcome", "work": "work"}
#: A fuzzy match needs this score (0-100); a suggestion this one.
MATCH_SCORE = 88
SUGGEST_SCORE = 55
#: At most this many hits and suggestions are returned.
MAX_HITS = 50
MAX_SUGGESTIONS = 8
#: The longest text searched (longer text is cut).
MAX_TEXT = 200
#: Seconds the index query may take (it is read once per data version, not per request).
INDEX_TIMEOUT = 600.0
#: Megabytes the index query's process may grow by (its 474,718 rows at 10^7 triples pass
#: the 1,024 of a client's query).
INDEX_MEMORY_MB = 3072


def normalise(text: str) -> str:
    """Fold case and punctuation: ``Role-Modelling  (x)`` → ``role modelling x``."""
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


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


@dataclass(frozen=True)
class Hit:
    """A resource that matches, how well (0-100) and by which of its names."""

    entry: Entry
    score: float
    name: str
    exact: bool = False


@dataclass(frozen=True)
class SearchResult:
    """What a text matches: ``hits`` best first, or ``suggestions`` when there are none."""

    text: str
    hits: tuple[Hit, ...] = ()
    suggestions: tuple[Hit, ...] = ()

    @property
    def unique(self) -> Entry | None:
        """The one clear match: a single exact match (or, of several, the single one whose
        label it is: "social learning theory" is the theory, not the book of that title),
        else a single partial match."""
        exact = [h for h in self.hits if h.exact]
        if len(exact) == 1:
            return exact[0].entry
        by_label = [h for h in exact if normalise(h.name) == normalise(h.entry.label)]
        if len(by_label) == 1:
            return by_label[0].entry
        if not exact and len(self.hits) == 1:
            return self.hits[0].entry
        return None


@per_data_version()
def _entries(sparql: SparqlService) -> tuple[Entry, ...]:
    found: dict[str, dict[str, object]] = {}
    # ordered here, not by the engine (sorting 47,000 rows there took 3 s at 10^6):
    # a resource's names keep the order of kind, resource and name
    rows = sorted(_index_service(sparql).select(QUERY), key=lambda r: (
        r["kind"].value, r["resource"].value, r["name"].value))
    for row in rows:
        iri = row["resource"].value
        kind = row["kind"].value
        entry = found.setdefault(iri, {"kind": kind, "names": [], "key": None, "label": ""})
        if KINDS.index(kind) < KINDS.index(str(entry["kind"])):
            entry["kind"] = kind
        if "key" in row:
            entry["key"] = row["key"].value
        name = row["name"].value.strip()
        if "labelled" in row and name and (not entry["label"] or name < str(entry["label"])):
            entry["label"] = name
        names = entry["names"]
        assert isinstance(names, list)
        if name and name not in names:
            names.append(name)
    entries = []
    for iri, e in found.items():
        names = tuple(e["names"])  # type: ignore[arg-type]
        slug = iri.rstrip("/").rsplit("/", 1)[-1]
        if e["kind"] != "work" and slug not in names:
            names += (slug,)  # a mechanism's trace slug, the end of any IRI
        label = str(e["label"] or (names[0] if names else iri))
        entries.append(Entry(iri, str(e["kind"]), label, e["key"],  # type: ignore[arg-type]
                             names, tuple(normalise(n) for n in names)))
    entries.sort(key=lambda x: (KINDS.index(x.kind), x.label.casefold(), x.iri))
    return tuple(entries)


def _index_service(sparql: SparqlService) -> SparqlService:
    """``sparql`` with limits of at least :data:`INDEX_TIMEOUT` seconds and
    :data:`INDEX_MEMORY_MB` (no limit stays none)."""
    index = copy.copy(sparql)
    if sparql.timeout and sparql.timeout < INDEX_TIMEOUT:
        index.timeout = INDEX_TIMEOUT
    if sparql.query_memory_mb and sparql.query_memory_mb < INDEX_MEMORY_MB:
        index.query_memory_mb = INDEX_MEMORY_MB
    return index


class SearchService:
    """Finds the resources of one loaded graph by name (see the module docstring)."""

    def __init__(self, sparql: SparqlService) -> None:
        self.sparql = sparql

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every searchable resource (read once per data version, one build at a time)."""
        return _entries(self.sparql)

    def search(self, text: str) -> SearchResult:
        """Return what ``text`` matches (see the module docstring)."""
        text = (text or "").strip()[:MAX_TEXT]
        query = normalise(text)
        if not query:
            return SearchResult(text)
        exact = [Hit(e, 100.0, e.names[i], exact=True) for e in self.entries
                 for i in _exact_index(e, query)]
        if exact:
            return SearchResult(text, tuple(exact[:MAX_HITS]))
        scored = [_score(e, query) for e in self.entries]
        hits = sorted((h for h in scored if h.score >= MATCH_SCORE), key=_rank)
        if hits:
            return SearchResult(text, tuple(hits[:MAX_HITS]))
        near = sorted((h for h in scored if h.score >= SUGGEST_SCORE), key=_rank)
        return SearchResult(text, suggestions=tuple(near[:MAX_SUGGESTIONS]))


def _exact_index(entry: Entry, query: str) -> list[int]:
    """The index of the first name of ``entry`` equal to ``query`` (a list of 0 or 1)."""
    for i, name in enumerate(entry.folded):
        if name == query:
            return [i]
    return []


def _score(entry: Entry, query: str) -> Hit:
    """The best score of ``query`` against the names of ``entry``: 95-99 when every word
    of the query is in a name (a whole-word match scores higher), else the fuzzy score."""
    words = query.split()
    best = Hit(entry, 0.0, entry.label)
    for name, folded in zip(entry.names, entry.folded, strict=True):
        if all(w in folded for w in words):
            whole = all(w in folded.split() for w in words)
            score = 99.0 if folded.startswith(query) else 97.0 if whole else 95.0
        else:
            score = fuzz.WRatio(query, folded, processor=utils.default_process)
        if score > best.score:
            best = Hit(entry, score, name)
    return best


def _rank(hit: Hit) -> tuple[float, int, str]:
    return (-hit.score, KINDS.index(hit.entry.kind), hit.entry.label.casefold())


__all__ = ["Entry", "Hit", "KINDS", "KIND_NAMES", "SearchResult", "SearchService",
           "normalise"]
