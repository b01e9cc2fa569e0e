"""Helpers for the site tests: the home page, the search and what every page shares.

The tests use the shared app and its Flask test client (``tests/conftest.py``); an app with
an extra data file (a ``javascript:`` IRI and a label holding markup) is built once per
session by ``hostile_app``. Counts the tests compare against come from the SPARQL endpoint,
never from the code under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
W3ID = "https://w3id.org/peerchange/"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# the header navigation of every page: href → text
NAV = {"/": "Home", "/sparql": "Query", "/#change-model": "Change model", "/trace": "Traces",
       "/references": "References", "/dataset": "Dataset", "/dumps/": "Dumps", "/api": "API"}

# every kind of HTML page the site serves: (path, status)
PAGE_TYPES = [
    ("/", 200),
    ("/search", 200),
    ("/search?q=gillard", 200),
    ("/search?q=xyzzy-nothing", 404),
    ("/sparql", 200),
    ("/trace", 200),
    ("/trace/role-modelling", 200),
    ("/trace/no-such-mechanism", 404),
    ("/cited/Bandura1977", 200),
    ("/cited/NoSuchKey1999", 404),
    ("/references", 200),
    ("/dataset", 200),
    ("/dumps/", 200),
    ("/onto.html", 200),
    ("/id/mechanism/role-modelling.html", 200),
    ("/id/theory/attachment.html", 200),
    ("/graph/claims.html", 200),
    ("/id/mechanism/no-such-thing", 404),
    ("/no/such/page", 404),
]

# the extra data of the hostile app: a javascript: IRI as a value of a served resource, and
# a theory whose label holds markup
HOSTILE_TTL = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix pcm: <https://w3id.org/peerchange/onto/> .
<https://w3id.org/peerchange/id/mechanism/role-modelling>
    rdfs:seeAlso <javascript:alert(1)> .
<https://w3id.org/peerchange/id/theory/hostile-test>
    a pcm:Theory ;
    rdfs:label "<script>alert(2)</script> hostile theory"@en ;
    rdfs:seeAlso <javascript:alert(3)>, <https://example.org/fine> .
"""
HOSTILE_THEORY = W3ID + "id/theory/hostile-test"


def soup(resp) -> BeautifulSoup:
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


@pytest.fixture(scope="session")
def hostile_app(make_app, tmp_path_factory: pytest.TempPathFactory):
    """The app over the shipped graph plus :data:`HOSTILE_TTL`."""
    path: Path = tmp_path_factory.mktemp("hostile") / "hostile.ttl"
    path.write_text(HOSTILE_TTL, encoding="utf-8")
    return make_app(extra_files=[str(path)])


@pytest.fixture(scope="session")
def hostile_client(hostile_app) -> FlaskClient:
    return hostile_app.test_client()
