"""The docs of the canned queries keep up with the code: every query and every published
prefix appears in queries/README.md, and the README's "Canned queries" section exists."""

from __future__ import annotations

import re

import pytest

from peerchange.core.namespaces import PREFIXES
from tests.api.conftest import QUERIES, QUERY_IDS
from tests.conftest import ROOT

QUERIES_README = (ROOT / "queries" / "README.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_every_canned_query_is_in_the_table(query):
    row = re.search(rf"^\| `{re.escape(query.name)}` \|(.*)$", QUERIES_README, re.MULTILINE)
    assert row, f"queries/README.md does not list {query.name}"
    for param in query.params:
        assert f"`{param.name}`" in row.group(1), f"{query.name}: {param.name} not listed"


def test_no_stale_queries_in_the_table():
    table = QUERIES_README.split("## The canned queries", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.MULTILINE))
    assert listed == set(QUERY_IDS)


@pytest.mark.parametrize(("prefix", "iri"), sorted(PREFIXES.items()))
def test_published_prefixes_are_documented(prefix, iri):
    assert f"| `{prefix}:` | `{iri}` |" in QUERIES_README


def test_readme_has_a_canned_queries_section():
    assert "## Canned queries" in README
    assert "/api/openapi.json" in README
