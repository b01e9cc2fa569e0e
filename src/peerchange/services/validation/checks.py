"""Phase 3: quality check queries, ``queries/checks/*-violation.rq`` (ODK style).

Each query must return zero rows. A row is one finding: the query selects ``?focus`` (the
resource at fault) and may select ``?path``, ``?value`` and ``?detail``; the front matter
gives the rule's ``summary``, the curator's ``message`` and the ``severity``.
"""

from __future__ import annotations

import time

import pyoxigraph as ox

from peerchange.core.queryfiles import QueryFile, queries_of_kind
from peerchange.services.validation.report import FAILED, VIOLATION, WARNING, Finding, Phase


def check_queries() -> list[QueryFile]:
    """Return the shipped check queries (names ending in ``-violation``)."""
    return [q for q in queries_of_kind("checks") if q.short_name.endswith("-violation")]


def _text(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def run_checks(store: ox.Store) -> Phase:
    """Run every check query over ``store`` and return the phase."""
    phase = Phase("checks", "Quality check queries")
    start = time.perf_counter()
    queries = check_queries()
    for query in queries:
        warning = str(query.meta.get("severity", "")).lower() == "warning"
        severity = WARNING if warning else VIOLATION
        message = str(query.meta.get("message") or query.summary)
        rule = query.short_name.removesuffix("-violation")
        for row in query.select(store):
            detail = row.get("detail")
            phase.findings.append(
                Finding(
                    phase="checks",
                    severity=severity,
                    focus=_text(row["focus"]) if "focus" in row else "",
                    rule=rule,
                    message=message + (f" ({_text(detail)})" if detail is not None else ""),
                    path=_text(row["path"]) if "path" in row else None,
                    value=_text(row["value"]) if "value" in row else None,
                )
            )
    phase.seconds = time.perf_counter() - start
    phase.note = f"{len(queries)} check queries"
    if phase.count(VIOLATION):
        phase.status = FAILED
    return phase
