"""What a served process imports: only what serving needs.

A start is mostly Python importing modules (bench/results/startup.md). The libraries of
other commands and other backends (validation: pySHACL, rdflib, owlready2; the remote
store's client: requests; JSON-LD documents: pyld) are imported where they are used, so
that ``peerchange serve`` does not load them. Checked in a fresh interpreter that runs the
real ``peerchange serve --store DIR`` command up to gunicorn (its run loop is replaced by
one that answers a SPARQL query and a page through the app, then prints ``sys.modules``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, clean_env

# each test runs a fresh interpreter that loads the graph into an on-disk store: 2-5 s
pytestmark = pytest.mark.slow

# top-level packages no part of serving the embedded store needs at start
NOT_FOR_SERVING = ("pyshacl", "owlready2", "rdflib", "graphviz", "requests", "urllib3",
                   "pyld", "SPARQLWrapper", "pandas", "numpy", "matplotlib")

SERVE = """
import json, sys
import peerchange.serving.gunicorn_app as gunicorn_app
from peerchange.cli import main

def run_gunicorn(app, **options):
    # what a worker imports to serve, and its first answers (through the app)
    import peerchange.serving.worker  # noqa: F401
    client = app.test_client()
    ask = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"},
                      headers={"Accept": "application/sparql-results+json"})
    health = client.get("/health")
    print(json.dumps({"ask": ask.status_code, "health": health.status_code,
                      "reloader": type(options["reloader"]).__name__,
                      "modules": sorted({m.split(".")[0] for m in sys.modules})}))

gunicorn_app.run_gunicorn = run_gunicorn
main(["serve", "--store", sys.argv[1], "--port", "0", "-q"], standalone_mode=False)
"""


def serve_until_gunicorn(store: Path) -> dict:
    """Run ``peerchange serve --store store`` in a fresh interpreter up to gunicorn."""
    done = subprocess.run([sys.executable, "-c", SERVE, str(store)], cwd=ROOT,
                          env=clean_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_serve_imports_no_validation_remote_or_jsonld_library(tmp_path):
    first = serve_until_gunicorn(tmp_path / "store")  # builds the store
    again = serve_until_gunicorn(tmp_path / "store")  # a restart: reuses it
    for run in (first, again):
        assert run["ask"] == 200 and run["health"] == 200
        assert run["reloader"] == "Reloader"  # SIGHUP reloads stay available
        assert "peerchange" in run["modules"] and "flask" in run["modules"]
        loaded = sorted(set(NOT_FOR_SERVING) & set(run["modules"]))
        assert not loaded, f"imported by serve: {loaded}"


def test_the_libraries_are_imported_where_they_are_used(client):
    """The other side: the faces that need them still work (they import on use)."""
    resp = client.get("/dataset", headers={"Accept": "application/ld+json"})
    assert resp.status_code == 200
    assert "@context" in resp.get_data(as_text=True)
    assert "pyld" in sys.modules
