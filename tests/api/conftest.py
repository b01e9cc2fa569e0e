"""Fixtures for the canned-query API: ``ask`` (a canned query over HTTP) and a second app
with a row limit of 5, for truncation. The app, its client and the settings are the shared
ones (``tests/conftest.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from peerchange.services.canned import CannedQuery, catalogue
from tests import backend_fixtures

# this folder's own app, client and make_app, on both backends (tests/backend_fixtures.py)
app, backend, client, make_app = (backend_fixtures.app, backend_fixtures.backend,
                                  backend_fixtures.client, backend_fixtures.make_app)

QUERIES: list[CannedQuery] = [q for _, q in sorted(catalogue().items())]
QUERY_IDS = [q.name for q in QUERIES]
STATUS = "https://w3id.org/peerchange/onto/"
STATED, COMPANION, CURATED = (
    STATUS + "StatedInSource", STATUS + "ReportedInCompanionPaper", STATUS + "CuratedInference",
)
ID = "https://w3id.org/peerchange/id/"
LIMITED_ROWS = 5


def projection(query: CannedQuery) -> list[str]:
    """The variables a canned SELECT projects, in order, read from its text: ``?v`` at the
    top level and ``(... AS ?v)``; variables inside an expression are not projected."""
    lines = [ln for ln in query.file.text.splitlines() if not ln.lstrip().startswith("#")]
    head = re.split(r"\bWHERE\b", "\n".join(lines), maxsplit=1, flags=re.IGNORECASE)[0]
    head = head[re.search(r"\bSELECT\b", head, re.IGNORECASE).end():]
    out, depth, previous = [], 0, ""
    for token in re.findall(r"\(|\)|[?$]\w+|\bAS\b", head, re.IGNORECASE):
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif token[0] in "?$" and (depth == 0 or previous.upper() == "AS"):
            out.append(token[1:])
        previous = token
    return out


def is_status_column(var: str) -> bool:
    """A column holding an evidence status IRI (``status``, ``chainStatus`` ...)."""
    return var == "status" or var.endswith("Status")


def is_status_label_column(var: str) -> bool:
    """A column holding an evidence status label (``statusLabel``, ``chainStatusLabel``)."""
    return var.lower().endswith("statuslabel")


def is_claim_column(var: str) -> bool:
    """A column named for the claims it holds (``claim``, ``chainClaim`` ...)."""
    return var.lower().endswith("claim")


@pytest.fixture(scope="session")
def limited_client(make_app) -> FlaskClient:
    """A client of the app with a row limit of 5."""
    return make_app(max_rows=LIMITED_ROWS).test_client()


Ask = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def ask(client: FlaskClient) -> Ask:
    """Run a canned query over HTTP and return its JSON answer, every row on one page."""

    def run(name: str, **params: Any) -> dict[str, Any]:
        params.setdefault("per_page", 10_000)
        resp = client.get(f"/api/{name}", query_string=params)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert resp.content_type == "application/json"
        body = resp.get_json()
        assert body["total"] == len(body["rows"]), "the answer did not fit on one page"
        return body

    return run
