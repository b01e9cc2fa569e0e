"""Fixtures for the reviewer's trace: the traces of the three mechanisms (from the shared
app, ``tests/conftest.py``), and the truth about every claim read straight from the store."""

from __future__ import annotations

from typing import Any

import pytest

from tests import backend_fixtures

# this folder's own app, client and make_app, on both backends (tests/backend_fixtures.py)
app, backend, client, make_app = (backend_fixtures.app, backend_fixtures.backend,
                                  backend_fixtures.client, backend_fixtures.make_app)

ID = "https://w3id.org/peerchange/id/"
PCM = "https://w3id.org/peerchange/onto/"
MECHANISMS = ("trusting-relationships", "role-modelling", "engagement")
STATUS_LABELS = {
    "stated": "stated in the source",
    "companion": "reported in a companion paper",
    "curated": "curated inference",
}
# the four theories named in the mission, with their founding texts
MISSION_THEORIES = {
    "social learning theory": "Bandura1977",
    "working alliance theory": "Bordin1979",
    "attachment theory": "Bowlby1973",
    "social comparison theory": "Festinger1955",
}


@pytest.fixture(scope="session")
def json_traces(app) -> dict[str, dict[str, Any]]:
    """The JSON trace of each mechanism, by slug."""
    client = app.test_client()
    out = {}
    for slug in MECHANISMS:
        resp = client.get(f"/trace/{slug}", headers={"Accept": "application/json"})
        assert resp.status_code == 200, resp.data
        out[slug] = resp.get_json()
    return out


@pytest.fixture(scope="session")
def html_traces(app) -> dict[str, str]:
    client = app.test_client()
    out = {}
    for slug in MECHANISMS:
        resp = client.get(f"/trace/{slug}", headers={"Accept": "text/html"})
        assert resp.status_code == 200
        out[slug] = resp.get_data(as_text=True)
    return out


@pytest.fixture(scope="session")
def claim_truth(shipped_store) -> dict[str, dict[str, str]]:
    """Every claim in the store: its status notation and rationale, read with the store's
    own pattern matching (no trace code involved)."""
    import pyoxigraph as ox

    status_key = {
        PCM + "StatedInSource": "stated",
        PCM + "ReportedInCompanionPaper": "companion",
        PCM + "CuratedInference": "curated",
    }
    truth: dict[str, dict[str, str]] = {}
    for quad in shipped_store.quads_for_pattern(None, ox.NamedNode(PCM + "evidenceStatus"), None):
        iri = quad.subject.value
        if not iri.startswith(ID + "claim/"):
            continue
        rationale = [q.object.value for q in shipped_store.quads_for_pattern(
            quad.subject, ox.NamedNode(PCM + "rationale"), None)]
        truth[iri] = {"status": status_key[quad.object.value],
                      "rationale": rationale[0] if rationale else ""}
    assert len(truth) == 75  # 12 stated + 1 companion + 62 curated (data/README.md)
    return truth


def walk_claims(doc: Any):
    """Yield every claim object in a JSON trace (anything with subject, predicate, object
    and status), wherever it is nested."""
    if isinstance(doc, dict):
        if {"subject", "predicate", "object", "status"} <= doc.keys():
            yield doc
        for value in doc.values():
            yield from walk_claims(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from walk_claims(value)
