"""The small diagram on a trace page (issue 10, round 5): a mechanism's page draws its
links in the first model, in the order of the list of every model, whose diagram shows
them, without reading that list (``models.rq`` read every model of the store: 2.2 s of
CPU at 10^7 triples). Over the shipped data plus synthetic studies (the embedded store:
what is compared is the diagram service's choice, not a backend's answer)."""

from __future__ import annotations

import pytest

from peerchange.services.sparql import SparqlService
from peerchange.web import create_app
from tests.conftest import app_settings, write_synth

pytestmark = pytest.mark.slow

ID = "https://w3id.org/peerchange/id/"


@pytest.fixture(scope="module")
def studies_app(cli, tmp_path_factory):
    folder = tmp_path_factory.mktemp("trace-diagram")
    data = write_synth(cli, folder / "studies.nq", "6", "5")
    app = create_app(app_settings(folder / "dumps", extra_files=[str(data)]), None)
    app.config["TESTING"] = True
    return app


def _first_showing(diagram, iri: str) -> str | None:
    """The definition: the first model, in the list's order, whose diagram has a link of
    ``iri``."""
    for model, _ in diagram.models():
        if any(iri in (e.subject, e.object) for e in diagram.figure(model).edges):
            return model
    return None


def test_a_trace_page_reads_no_list_of_every_model(studies_app, monkeypatch):
    # first in this file: the next test reads the list (the models are remembered per
    # data version, and this data is this file's own)
    asked: list[str] = []
    select = SparqlService.select

    def spy(self, name, *args, **kwargs):
        asked.append(name)
        return select(self, name, *args, **kwargs)

    monkeypatch.setattr(SparqlService, "select", spy)
    client = studies_app.test_client()
    for slug in ("synth-2-m1", "trusting-relationships"):
        resp = client.get(f"/trace/{slug}")
        assert resp.status_code == 200
        assert 'class="diagram neighbourhood"' in resp.get_data(as_text=True)
    assert "internal/diagram/models-of" in asked
    assert "internal/diagram/models" not in asked


def test_the_diagram_is_drawn_in_the_first_model_that_shows_the_resource(studies_app):
    diagram = studies_app.services.diagram
    labels = dict(diagram.models())
    assert len(labels) > 5
    resources = [ID + "mechanism/role-modelling", ID + "mechanism/engagement",
                 ID + "theory/social-learning", ID + "theory/attachment",
                 ID + "ref/Bandura1977"]
    resources += [ID + f"mechanism/synth-{study}-m1" for study in (1, 4, 6)]
    for iri in resources:
        near = diagram.neighbourhood(iri)
        expected = _first_showing(diagram, iri)
        assert (near.model if near else None) == expected, iri
        if near is not None:
            assert near.model_label == labels[near.model]
    assert diagram.neighbourhood(ID + "mechanism/synth-4-m1").model != \
        diagram.neighbourhood(ID + "mechanism/role-modelling").model
