"""Finding what a reviewer names: a mechanism by IRI, slug or label (fuzzily), a work by its
reference key; and the errors, with the closest matches as suggestions, when nothing fits.

Pure functions over the mechanism and work lists the service keeps per data version: a
lookup runs no query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rapidfuzz import fuzz, process, utils

from peerchange.core.errors import NotFound, Suggestion
from peerchange.core.namespaces import ID
from peerchange.services.trace.model import Node, Work

#: A label match needs this score (0-100) and this lead over the next mechanism.
MATCH_SCORE = 80
MATCH_LEAD = 5
#: A work's key is suggested from this score on.
SUGGEST_SCORE = 50


class TraceNotFound(NotFound):
    """Nothing matches what the reviewer asked for; ``suggestions`` are close matches.

    Each suggestion is given as ``(slug or key, label)``.
    """

    def __init__(self, message: str, suggestions: list[tuple[str, str]], *, kind: str) -> None:
        super().__init__(message, kind=kind,
                         suggestions=[Suggestion(s, label) for s, label in suggestions])


class MechanismNotFound(TraceNotFound):
    """No change mechanism matches the text, IRI or slug."""


class WorkNotFound(TraceNotFound):
    """No work has the reference key."""


def find_mechanism(mechanisms: Sequence[Node], text: str) -> Node:
    """Return the mechanism named by ``text``: its IRI, its slug (the IRI's last segment,
    also as ``mechanism/{slug}`` or ``pcd:mechanism/{slug}``) or its label, matched
    case-insensitively and fuzzily.

    :raise MechanismNotFound: when nothing matches, or several match about equally; its
        suggestions are the closest mechanisms.
    """
    query = (text or "").strip()
    if not query:
        raise MechanismNotFound(
            "Name a change mechanism (a label, the last segment of its IRI, or its IRI).",
            _suggest(mechanisms, ""), kind="mechanism",
        )
    by_iri = {m.iri: m for m in mechanisms}
    by_slug = {m.ref.slug.lower(): m for m in mechanisms}
    if query in by_iri:
        return by_iri[query]
    candidate = query
    if re.match(r"^[a-z][a-z0-9+.-]*://", query, re.IGNORECASE) or query.startswith("<"):
        # another host serving our IRIs (http://localhost:8000/id/mechanism/x), or <iri>
        candidate = query.strip("<>").split("#", 1)[0].split("?", 1)[0].rstrip("/")
        if candidate in by_iri:
            return by_iri[candidate]
        head, _, tail = candidate.rpartition("/")
        if head.endswith("/mechanism") and tail.lower() in by_slug:
            return by_slug[tail.lower()]
        raise MechanismNotFound(
            f"No change mechanism has the IRI {query!r}.", _suggest(mechanisms, tail),
            kind="mechanism",
        )
    bare = re.sub(r"^(pcd:)?mechanism/", "", candidate, flags=re.IGNORECASE).lower()
    if bare in by_slug:
        return by_slug[bare]
    for m in mechanisms:
        if m.label.lower() == query.lower():
            return m
    scored = _score(mechanisms, query)
    best_score, best = scored[0]
    second = scored[1][0] if len(scored) > 1 else 0.0
    if best_score >= MATCH_SCORE and best_score - second >= MATCH_LEAD:
        return best
    if best_score >= MATCH_SCORE:
        message = f"{query!r} matches more than one change mechanism; be more specific."
    else:
        message = f"No change mechanism matches {query!r}."
    raise MechanismNotFound(message, _suggest(mechanisms, query), kind="mechanism")


MAX_COMPARED = 200  # characters of a key compared for suggestions


def find_work(works: Mapping[str, Work], key: str) -> Work:
    """Return the work with reference ``key`` (case-insensitive; a work IRI also works).

    :param works: every work, by key.
    :raise WorkNotFound: with the closest keys as suggestions.
    """
    query = (key or "").strip()
    if query.startswith(ID + "ref/"):
        query = query[len(ID + "ref/"):]
    if query in works:
        return works[query]
    folded = {k.lower(): w for k, w in works.items()}
    if query.lower() in folded:
        return folded[query.lower()]
    choices = {k: f"{k} {w.label}" for k, w in works.items()}
    # only the start of a long key is compared: fuzzy scoring costs grow with its length
    found = process.extract(query[:MAX_COMPARED], choices, scorer=_scorer,
                            processor=utils.default_process, limit=5)
    suggestions = [(k, works[k].label) for _, score, k in found if score >= SUGGEST_SCORE]
    raise WorkNotFound(
        f"No work has the reference key {key!r}." if query else "Name a reference key.",
        suggestions, kind="work",
    )


def _scorer(query: str, choice: str, **kwargs: Any) -> float:
    """Fuzzy score: the better of rapidfuzz's weighted ratio and its token-set ratio (so a
    query whose words all occur in a label scores high)."""
    return max(fuzz.WRatio(query, choice, **kwargs), fuzz.token_set_ratio(query, choice, **kwargs))


def _score(mechanisms: Sequence[Node], query: str) -> list[tuple[float, Node]]:
    scored = []
    for m in mechanisms:
        choices = [m.label, m.ref.slug.replace("-", " ")]
        score = max(_scorer(utils.default_process(query), utils.default_process(c))
                    for c in choices) if query else 0.0
        scored.append((score, m))
    scored.sort(key=lambda s: (-s[0], s[1].label))
    return scored


def _suggest(mechanisms: Sequence[Node], query: str) -> list[tuple[str, str]]:
    return [(m.ref.slug, m.label) for _, m in _score(mechanisms, query)][:5]
