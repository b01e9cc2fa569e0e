"""Finding a resource by name: the site's search box (``/search?q=``).

The searchable resources are the change mechanisms, their components, the theories, theory
families, theoretical constructs, outcomes and works, each with every name it goes by
(labels, alternative labels, a work's title and reference key, the last segment of the
IRI): the index of :mod:`peerchange.services.search_index`, built once per data version
(read from the store, or from the file a server wrote for that data version) when the
first search asks for it. A search runs no query.

The index grows with the store (every labelled resource of every study: 232,683 entries
at 10^7 triples): building it is not held to a client's query deadline, and searches that
arrive during the build wait for it (:func:`peerchange.services.memo.per_data_version`).
The first search of a data version is then slow on a large store (about 63 s of CPU at
10^7 to read the store, about 5 s from the file), but it answers.

A search reads every name once in C (rapidfuzz's ``process.extract`` with a score cutoff,
and Python's substring test), not a Python call per name. At 10^7 triples (552,332 names)
that is no time for an exact name, 0.45-1.3 s of CPU for words found in names, 1.1-2.6 s
for a text that matches nothing (its suggestions are scored too), up to about 7 s for a
200-character text matching nothing (bench/results/search10m.md). The answers of the last
:data:`MAX_REMEMBERED` texts are remembered per data version, so a text asked again (or by
several readers at once) is matched once.

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

import heapq
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from peerchange.services.memo import per_data_version
from peerchange.services.search_index import (
    KIND_NAMES,
    KINDS,
    QUERY,
    Entry,
    Index,
    build_index,
    normalise,
)
from peerchange.services.sparql import SparqlService

#: A fuzzy match needs this score (0-100); a suggestion this one.
MATCH_SCORE = 88
SUGGEST_SCORE = 55
#: At most this many hits and suggestions are returned.
MAX_HITS = 50
MAX_SUGGESTIONS = 8
#: The longest text searched (longer text is cut).
MAX_TEXT = 200
#: The answers of this many texts (folded) are remembered per data version.
MAX_REMEMBERED = 256


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


@per_data_version(shared=True)
def _index(sparql: SparqlService, cache_dir: str | None) -> Index:
    return build_index(sparql, cache_dir)


class SearchService:
    """Finds the resources of one loaded graph by name (see the module docstring).

    :param cache_dir: the folder the index is kept in across restarts (the dumps'
        folder); ``None``: built in memory only.
    """

    def __init__(self, sparql: SparqlService, cache_dir: str | Path | None = None) -> None:
        self.sparql = sparql
        self.cache_dir = str(cache_dir) if cache_dir else None

    @property
    def index(self) -> Index:
        """The index (built once per data version, one build at a time)."""
        return _index(self.sparql, self.cache_dir)

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every searchable resource, ordered by kind, label and IRI."""
        return self.index.entries

    def search(self, text: str) -> SearchResult:
        """Return what ``text`` matches (see the module docstring)."""
        text = (text or "").strip()[:MAX_TEXT]
        query = normalise(text)
        if not query:
            return SearchResult(text)
        hits, suggestions = _match(self.sparql, self.cache_dir, query)
        return SearchResult(text, hits, suggestions)


@per_data_version(maxsize=MAX_REMEMBERED)
def _match(sparql: SparqlService, cache_dir: str | None, query: str
           ) -> tuple[tuple[Hit, ...], tuple[Hit, ...]]:
    """The hits and suggestions of a folded text (remembered: see the module docstring)."""
    index = _index(sparql, cache_dir)
    exact = index.exact(query)
    if exact:
        return tuple(Hit(entry, 100.0, name, exact=True)
                     for entry, name in exact[:MAX_HITS]), ()
    hits = _best(index, query, MATCH_SCORE, MAX_HITS)
    if hits:
        return hits, ()
    return (), _best(index, query, SUGGEST_SCORE, MAX_SUGGESTIONS)


def _best(index: Index, query: str, cutoff: float, limit: int) -> tuple[Hit, ...]:
    """The ``limit`` best entries scoring at least ``cutoff``, best first.

    A name scores 95-99 when every word of the query is in it (a whole-word match scores
    higher), else its fuzzy score (rapidfuzz ``WRatio``); an entry scores its best name's
    (of equals, its first). Ties keep the index's order.
    """
    words = query.split()
    folded = index.folded
    contained = [i for i, name in enumerate(folded) if words[0] in name]
    for word in words[1:]:
        contained = [i for i in contained if word in folded[i]]
    scores: dict[int, float] = {}
    for i in contained:
        name = folded[i]
        whole = all(w in name.split() for w in words)
        scores[i] = 99.0 if name.startswith(query) else 97.0 if whole else 95.0
    for _, score, i in process.extract(utils.default_process(query), index.processed,
                                       scorer=fuzz.WRatio, processor=None,
                                       score_cutoff=cutoff, limit=None):
        scores.setdefault(i, score)
    best: dict[int, int] = {}  # entry → its best name
    for i in sorted(scores):
        n = index.owner[i]
        if n not in best or scores[i] > scores[best[n]]:
            best[n] = i
    entries = index.entries
    top = heapq.nsmallest(limit, sorted(best), key=lambda n: (
        -scores[best[n]], KINDS.index(entries[n].kind), entries[n].label.casefold()))
    hits = []
    for n in top:
        entry, name = index.name_at(best[n])
        hits.append(Hit(entry, scores[best[n]], name))
    return tuple(hits)


__all__ = ["QUERY", "Entry", "Hit", "KINDS",
           "KIND_NAMES", "SearchResult", "SearchService", "normalise"]
