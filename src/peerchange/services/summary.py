"""Counts that describe the loaded graph: triples, classes, claims by status, references."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from peerchange.core.queryfiles import get_query


def _int(term: Any) -> int:
    return int(term.value) if term is not None else 0


def summarize(store: ox.Store) -> dict[str, Any]:
    """Return the summary counts of ``store`` (see ``queries/reports/summary-*.rq``)."""
    counts = get_query("reports/summary-counts").select(store)[0]
    by_status = {
        row["statusLabel"].value: _int(row["claims"])
        for row in get_query("reports/claims-by-status").select(store)
    }
    return {
        "triples": len(store),
        "named_graphs": sum(1 for _ in store.named_graphs()),
        "classes": _int(counts.get("classes")),
        "properties": _int(counts.get("properties")),
        "mechanisms": _int(counts.get("mechanisms")),
        "theories": _int(counts.get("theories")),
        "outcomes": _int(counts.get("outcomes")),
        "claims": sum(by_status.values()),
        "claims_by_status": by_status,
        "references": _int(counts.get("references")),
        "evidence_gaps": _int(counts.get("gaps")),
    }
