"""Query rows → model objects: the tables that are the same for every trace, read once per
data version (``evidence-statuses``, ``mechanisms``, ``bibliography-works`` with
``bibliography-authors``, ``gaps``, ``reference-list``; one function each, named after what
it reads), and citations.

The rows of the per-trace queries (``trace.rq``, ``cited.rq``) are read by
:class:`peerchange.services.trace.neighbourhood.Neighbourhood`. The queries are in
``queries/internal/trace/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from peerchange.core.namespaces import (
    FABIO,
)
from peerchange.services.trace.model import (
    ROLE_LABELS,
    ROLE_NAMES,
    ROLE_NOTES,
    Citation,
    Gap,
    Node,
    Ref,
    Status,
    Work,
    slug_of,
    status_rank,
)

Row = Mapping[str, Any]

WORK_TYPES = {
    FABIO + "JournalArticle": "article",
    FABIO + "Book": "book",
    FABIO + "ReportDocument": "report",
}


def text(row: Row, name: str) -> str:
    """The value of ``name`` in ``row`` as text (``""`` when unbound)."""
    term = row.get(name)
    return "" if term is None else term.value


# ---------------------------------------------------------------------------
# the tables
# ---------------------------------------------------------------------------


def statuses(rows: Iterable[Row]) -> list[Status]:
    """``evidence-statuses`` rows → the statuses, strongest first."""
    out = [Status(r["status"].value, r["notation"].value, r["label"].value,
                  text(r, "definition")) for r in rows]
    return sorted(out, key=lambda s: status_rank(s.key))


def mechanisms(rows: Iterable[Row]) -> list[Node]:
    """``mechanisms`` rows → the change mechanisms (label order)."""
    return [Node(Ref(r["mechanism"].value, r["label"].value, "mechanism"),
                 definition=text(r, "definition"), scope_note=text(r, "scopeNote"))
            for r in rows]


def works(records: Iterable[Row], authors: Iterable[Row]) -> dict[str, Work]:
    """``bibliography-works`` and ``bibliography-authors`` rows → every work with a
    reference key, by key, with its authors in order."""
    out: dict[str, Work] = {}
    for r in records:
        key = r["key"].value
        if key in out:
            continue
        out[key] = Work(
            iri=r["work"].value, key=key, type=WORK_TYPES[r["type"].value],
            label=text(r, "label") or key, title=text(r, "title"), year=text(r, "year"),
            journal=text(r, "journalTitle"), volume=text(r, "volume"),
            issue=text(r, "issue"), pages=text(r, "pages"), page_start=text(r, "pageStart"),
            page_end=text(r, "pageEnd"), doi=text(r, "doi"), publisher=text(r, "publisher"),
            citation=text(r, "citation"), printed=text(r, "printed"),
            correction_note=text(r, "correctionNote"), editorial_note=text(r, "editorialNote"),
            pmid=text(r, "pmid"), pmcid=text(r, "pmcid"), available=text(r, "available"),
        )
    by_iri = {w.iri: w for w in out.values()}
    for r in sorted(authors, key=_authorship_order):
        work = by_iri.get(r["work"].value)
        if work is not None:
            work.authors.append(r["name"].value)
    return out


def _authorship_order(row: Row) -> tuple[str, int, str]:
    """An authorship's place: by work, then position (an integer; as text if not)."""
    position = row["position"].value
    return (row["work"].value, int(position) if position.isdigit() else 0, position)


def gaps(rows: Iterable[Row]) -> list[Gap]:
    """``gaps`` rows → every evidence gap with the resources it concerns."""
    out: dict[str, Gap] = {}
    for r in rows:
        gap = out.setdefault(r["gap"].value, Gap(r["gap"].value, r["label"].value,
                                                 text(r, "description")))
        gap.concerns.append(Ref.of(r["concerns"].value, text(r, "concernsLabel") or None))
    return list(out.values())


def reference_keys(rows: Iterable[Row]) -> list[str]:
    """``reference-list`` rows → the keys of the works the study papers cite, sorted."""
    return sorted({r["key"].value for r in rows}, key=str.lower)


def citation(role_iri: str, work_key: str, work_iri: str) -> Citation:
    """A citation of a work in a CiTO role (or as an evidence line's reference)."""
    return Citation(
        role=ROLE_NAMES.get(role_iri, slug_of(role_iri)),
        role_label=ROLE_LABELS.get(role_iri, slug_of(role_iri)),
        role_iri=role_iri,
        work=work_key,
        work_iri=work_iri,
        note=ROLE_NOTES.get(role_iri, ""),
    )
