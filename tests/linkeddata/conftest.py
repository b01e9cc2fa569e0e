"""Helpers for the linked-data tests.

Most tests use the shared app and its Flask test client (``tests/conftest.py``: built once,
fast, no network, dumps written to a private folder per session); ``live_server`` is a real
``python -m peerchange serve`` (gunicorn) on a free port for the tests that must go through
HTTP, started by the shared ``start_live_server``.

Counts the tests compare against come from the SPARQL endpoint (``/sparql``), never from
the code under test.
"""

from __future__ import annotations

import io
import json
import warnings

import pytest
import rdflib
from flask import Flask

from tests import backend_fixtures

# this folder's own app, client and make_app, on both backends (tests/backend_fixtures.py)
app, backend, client, make_app = (backend_fixtures.app, backend_fixtures.backend,
                                  backend_fixtures.client, backend_fixtures.make_app)

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


@pytest.fixture(scope="session")
def context_doc(app: Flask) -> dict:
    return app.test_client().get("/context.jsonld").get_json(force=True)


@pytest.fixture(scope="session")
def live_server(start_live_server, backend):
    """A real ``peerchange serve`` (gunicorn, 2 workers) of the shipped graph on ``backend``
    with its own dump folder (the same server as ``tests/http``'s ``server`` when both run in
    one session)."""
    return start_live_server(*backend.serve_args())


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
