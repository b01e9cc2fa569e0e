"""Helpers for the reload tests: an extra file whose one triple the tests change, apps
built over it in this process, and what a SPARQL GET answers (value and ETag)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.store.conftest import Lines, lines  # noqa: F401  (the progress lines fixture)

SUBJECT = "http://example.org/reload/thing"
VALUE = "http://example.org/reload/value"
# the one query the tests ask: the extra triple's value
QUERY = f"SELECT ?v {{ <{SUBJECT}> <{VALUE}> ?v }}"
BROKEN = f"<{SUBJECT}> <{VALUE}> .\n"  # no object: a syntax error on line 1


def triple(value: int) -> str:
    """The extra file's Turtle with ``value`` as the triple's object."""
    return f"<{SUBJECT}> <{VALUE}> {value} .\n"


@dataclass
class Answer:
    values: list[str]
    etag: str


def ask(get: Any) -> Answer:
    """Ask :data:`QUERY` with ``get(path, params, headers)`` (a test client or requests)."""
    resp = get("/sparql", {"query": QUERY}, {"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp
    body = resp.json() if callable(getattr(resp, "json", None)) else resp.get_json()
    return Answer([b["v"]["value"] for b in body["results"]["bindings"]],
                  resp.headers["ETag"])


def client_get(app: Any):
    client = app.test_client()
    return lambda path, params, headers: client.get(path, query_string=params,
                                                    headers=headers)


@pytest.fixture
def extra_file(tmp_path: Path) -> Path:
    path = tmp_path / "extra.ttl"
    path.write_text(triple(1), encoding="utf-8")
    return path
