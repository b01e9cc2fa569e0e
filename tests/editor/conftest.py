"""Helpers for the query editor tests (``/sparql`` for browsers, its static files).

The tests use the shared app and its Flask test client (``tests/conftest.py``). Browser
behaviour (running a query, the results table, downloads) is tested in ``tests/browser``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient

import peerchange.web

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
WEB = Path(peerchange.web.__file__).resolve().parent
STATIC = WEB / "static"
VENDOR = STATIC / "vendor"
ASSETS = WEB / "assets"
# what the editor page loads, and nothing more
VENDOR_FILES = {"yasgui.min.js", "yasgui.min.css", "LICENSE.txt"}


@pytest.fixture(scope="session")
def page_response(client: FlaskClient):
    resp = client.get("/sparql", headers={"Accept": BROWSER})
    assert resp.status_code == 200, resp.data[:500]
    return resp


@pytest.fixture(scope="session")
def page(page_response) -> BeautifulSoup:
    return BeautifulSoup(page_response.get_data(as_text=True), "html.parser")
