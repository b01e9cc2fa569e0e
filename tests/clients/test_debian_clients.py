"""Debian's Redland command-line clients against a real ``peerchange serve`` (issue 13):
rapper (raptor2-utils) parses every dump and a dereferenced resource from its URL; roqet
(rasqal-utils) queries the endpoint as a remote SPARQL service. ``tests/setup.sh`` installs
both (two small packages, about 1.5 MB); without them the tests skip locally and fail
under ``CI=true``.

Client limits that remain on their side: roqet asks the endpoint for SPARQL XML results
only, which the endpoint serves (``-r`` picks what roqet prints, not what it fetches);
raptor2 has no JSON-LD parser, so rapper reads the Turtle, N-Triples and N-Quads dumps,
not ``peerchange.jsonld``."""

from __future__ import annotations

import re
import subprocess

import pytest
import requests

from tests.conftest import require_tool

pytestmark = pytest.mark.slow

WHY = "the Redland clients of issue 13"


@pytest.fixture(scope="module")
def server(start_live_server):
    return start_live_server()


@pytest.fixture(scope="module")
def manifest(server) -> dict:
    return requests.get(f"{server.base}/dumps/latest/", timeout=30,
                        headers={"Accept": "application/json"}).json()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _count(stderr: str) -> int:
    found = re.search(r"Parsing returned (\d+) (?:triples|statements)", stderr)
    assert found, stderr
    return int(found.group(1))


@pytest.mark.parametrize(("name", "syntax"), [
    ("peerchange.ttl", "turtle"), ("peerchange.nt.gz", "ntriples"),
    ("peerchange.nq.gz", "nquads"),
])
def test_rapper_parses_each_dump_by_url(server, manifest, name, syntax):
    require_tool("rapper", WHY)
    f = next(f for f in manifest["files"] if f["name"] == name)
    done = _run("rapper", "-i", syntax, "-c", f["url"])
    assert done.returncode == 0, done.stderr
    assert _count(done.stderr) == f["statements"]


def test_rapper_dereferences_a_resource(server):
    require_tool("rapper", WHY)
    done = _run("rapper", "-i", "guess", "-c", f"{server.base}/id/mechanism/role-modelling")
    assert done.returncode == 0, done.stderr
    assert _count(done.stderr) > 0


def test_roqet_queries_the_endpoint(server):
    require_tool("roqet", WHY)
    done = _run("roqet", "-q", "-p", server.sparql, "-e",
                "SELECT ?m WHERE { ?m a <https://w3id.org/peerchange/onto/ChangeMechanism> }")
    assert done.returncode == 0, done.stderr
    assert len(re.findall(r"^row: \[m=uri<https://w3id\.org/peerchange/id/mechanism/",
                          done.stdout, re.M)) == 3
