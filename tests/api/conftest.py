"""Fixtures for the canned-query API: the app (built once) and Flask test clients.

``client`` serves the shipped graph with the default limits; ``limited_client`` a second
app with a row limit of 5, for truncation. The settings are explicit, so ``PEERCHANGE_*``
variables of the calling shell do not change what the tests see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from peerchange.core.config import Settings
from peerchange.services.canned import CannedQuery, catalogue
from peerchange.web import create_app

QUERIES: list[CannedQuery] = [q for _, q in sorted(catalogue().items())]
QUERY_IDS = [q.name for q in QUERIES]
STATUS = "https://w3id.org/peerchange/onto/"
STATED, COMPANION, CURATED = (
    STATUS + "StatedInSource", STATUS + "ReportedInCompanionPaper", STATUS + "CuratedInference",
)
ID = "https://w3id.org/peerchange/id/"


@pytest.fixture(scope="session")
def app() -> Flask:
    app = create_app(Settings())
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def limited_client() -> FlaskClient:
    app = create_app(Settings(max_rows=5))
    app.config["TESTING"] = True
    return app.test_client()


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
