"""Over a graph of more than ``SUGGEST_MAX_TRIPLES`` triples an unknown IRI's 404 reads no
list of every page (25 s of CPU at 10^6 triples): it suggests a search for its words, and
``/id/`` explains the IRI pattern. The threshold is lowered here so the shipped graph counts
as large."""

from __future__ import annotations

import pytest

from peerchange.services import resources as resources_module
from tests.conftest import app_settings


@pytest.fixture()
def large(shipped_graph, tmp_path, monkeypatch):
    from peerchange.web import create_app

    monkeypatch.setattr(resources_module, "SUGGEST_MAX_TRIPLES", 0)
    app = create_app(app_settings(tmp_path / "dumps"), shipped_graph)
    app.config["TESTING"] = True
    return app


def test_a_typo_suggests_a_search_and_reads_no_list_of_pages(large):
    client = large.test_client()
    resp = client.get("/id/mechanism/role-modeling.html", headers={"Accept": "application/json"})
    assert resp.status_code == 404
    doc = resp.get_json()
    assert [s["href"] for s in doc["suggestions"]] == [
        "http://localhost/search?q=role+modeling"]
    assert client.get(doc["suggestions"][0]["href"]).status_code == 200
    resp = client.get("/id/")
    assert resp.status_code == 404
    assert "/id/{kind}/{slug}" in resp.get_data(as_text=True)
    assert "known" not in vars(large.services.resources)  # the whole-graph read
