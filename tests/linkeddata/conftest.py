"""Fixtures for the linked-data tests.

Most tests use Flask's test client on one app built by ``create_app()`` (fast, no network);
``live_server`` is a real ``python -m peerchange serve`` (gunicorn) on a free port for the
tests that must go through HTTP. Dumps are written to a temporary folder per session.

Counts the tests compare against come from the SPARQL endpoint (``/sparql``), never from
the code under test.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient

from peerchange.core.config import Settings
from peerchange.web import create_app

# media type → rdflib parser name, for every RDF format a document is served in
RDFLIB_FORMATS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/n-quads": "nquads",
}
EXTENSION_TYPES = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "nt": "application/n-triples",
    "html": "text/html",
}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
W3ID = "https://w3id.org/peerchange/"


@pytest.fixture(scope="session")
def dumps_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dumps-cache")


@pytest.fixture(scope="session")
def app(dumps_dir: Path) -> Flask:
    """The app over the shipped graph, with the default settings and a private dump cache."""
    return create_app(Settings.from_env(environ={}, dumps_dir=str(dumps_dir)))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def media_type(response) -> str:
    """The media type of a response, without parameters."""
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip()


def parse_rdf(body: bytes | str, media: str, *, context: dict | None = None) -> rdflib.Graph:
    """Parse a body as RDF with rdflib (a JSON-LD document's remote ``@context`` URL is
    replaced by ``context`` so nothing is fetched); N-Quads give a Dataset's union."""
    fmt = RDFLIB_FORMATS[media]
    if fmt == "json-ld" and context is not None:
        doc = json.loads(body)
        if isinstance(doc.get("@context"), str):
            doc["@context"] = context["@context"]
        body = json.dumps(doc)
    if fmt == "nquads":
        raise ValueError("use quads_per_graph() for N-Quads")
    g = rdflib.Graph()
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser still builds a ConjunctiveGraph internally
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        g.parse(data=body, format=fmt)
    return g


def sparql_rows(client: FlaskClient, query: str) -> list[dict[str, str]]:
    """Run a SELECT query through /sparql and return its rows as ``{var: value}``."""
    resp = client.post("/sparql", data={"query": query},
                       headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in resp.get_json()["results"]["bindings"]]


def sparql_count(client: FlaskClient, query: str) -> int:
    rows = sparql_rows(client, query)
    return int(next(iter(rows[0].values())))


@pytest.fixture(scope="session")
def context_doc(app: Flask) -> dict:
    return app.test_client().get("/context.jsonld").get_json(force=True)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A real ``peerchange serve`` (gunicorn, 2 workers) with its own dump cache."""
    from tests.http.conftest import start_server

    folder = tmp_path_factory.mktemp("live")
    srv = start_server(log=folder / "serve.log",
                       env={"PEERCHANGE_DUMPS_DIR": str(folder / "dumps")})
    yield srv
    srv.stop()


def gunzip(data: bytes) -> bytes:
    import gzip

    return gzip.GzipFile(fileobj=io.BytesIO(data)).read()


def quads_per_graph(body: bytes) -> dict[str, int]:
    """Parse N-Quads with rdflib and return the number of quads in each named graph."""
    with warnings.catch_warnings():
        # rdflib 7 deprecates parts of its own Dataset API that parsing still uses
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
        warnings.filterwarnings("ignore", ".*is deprecated", DeprecationWarning)
        ds = rdflib.Dataset()
        ds.parse(data=body, format="nquads")
        counts = {str(g.identifier): len(g) for g in ds.graphs()}
    return {g: n for g, n in counts.items() if n}
