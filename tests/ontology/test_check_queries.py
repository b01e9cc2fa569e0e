"""Each quality check query returns zero rows on the shipped graph, and has front matter."""

from __future__ import annotations

import pytest

from peerchange.services.validation.checks import check_queries

CHECKS = check_queries()


def test_there_are_check_queries():
    assert len(CHECKS) >= 15


@pytest.mark.parametrize("query", CHECKS, ids=[q.short_name for q in CHECKS])
def test_check_returns_no_rows(shipped_store, query):
    rows = query.select(shipped_store)
    assert rows == [], f"{query.name}: {rows[:5]}"


@pytest.mark.parametrize("query", CHECKS, ids=[q.short_name for q in CHECKS])
def test_check_is_documented(query):
    assert query.meta.get("summary"), query.name
    assert query.meta.get("message"), query.name
    assert str(query.meta.get("severity")) in {"Violation", "Warning"}
