"""Query files: front matter, and no SPARQL inside the Python package."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from peerchange.core.queryfiles import all_queries, parse_front_matter

SRC = Path(__file__).resolve().parents[2] / "src" / "peerchange"
QUERIES = sorted(all_queries().values(), key=lambda q: q.name)


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_every_query_has_a_summary(query):
    assert isinstance(query.meta.get("summary"), str) and query.meta["summary"].strip()


def test_front_matter_is_yaml():
    text = "#+ summary: hello\n#+ tags: [a, b]\n#+ params:\n#+   x:\n#+     type: iri\nSELECT * {}"
    assert parse_front_matter(text) == {
        "summary": "hello",
        "tags": ["a", "b"],
        "params": {"x": {"type": "iri"}},
    }


def test_front_matter_stops_at_the_query():
    assert parse_front_matter("SELECT * {}\n#+ summary: late") == {}


SPARQL = re.compile(
    r"""["'].*\b(SELECT\s+[?*(]|CONSTRUCT\s*\{|ASK\s*\{|DESCRIBE\s+[?<]|PREFIX\s+\w*:\s*<|INSERT\s+DATA)""",
    re.IGNORECASE,
)


def test_no_sparql_strings_in_python():
    offenders = [
        f"{p.relative_to(SRC)}:{i}"
        for p in SRC.rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if SPARQL.search(line)
    ]
    assert offenders == []
