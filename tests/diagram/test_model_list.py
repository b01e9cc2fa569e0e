"""The list of change models (``models.rq``) and the home page's model (``first-model.rq``)
over several studies' models, checked against the store's own triples (no query), and
these and the home page's claim kinds (``claim-kinds.rq``) over a Virtuoso holding the
shipped graphs."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from tests.conftest import app_settings, write_synth
from tests.remote.conftest import published, remote_app  # noqa: F401 (fixtures)

PCM = "https://w3id.org/peerchange/onto/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")

pytestmark = pytest.mark.slow  # a graph of synthetic studies; a Virtuoso


@pytest.fixture(scope="module")
def studies_app(cli, tmp_path_factory):
    from peerchange.web import create_app

    folder = tmp_path_factory.mktemp("model-list")
    data = write_synth(cli, folder / "studies.nq", "5", "11")
    return create_app(app_settings(folder / "dumps", extra_files=[str(data)]), None)


def _subjects(store: ox.Store, predicate: ox.NamedNode, obj: ox.Term | None = None):
    return {q.subject.value for q in store.quads_for_pattern(None, predicate, obj, None)
            if isinstance(q.subject, ox.NamedNode)}


def _truth(store: ox.Store) -> list[tuple[str, str]]:
    """Every model (a pcm:ChangeModel, or what has a mechanism), developed by a study
    first, then by IRI, with its label: read from the triples."""
    models = (_subjects(store, RDF_TYPE, ox.NamedNode(PCM + "ChangeModel"))
              | _subjects(store, ox.NamedNode(PCM + "hasMechanism")))
    developed = {q.object.value for q in store.quads_for_pattern(
        None, ox.NamedNode(PCM + "developsModel"), None, None)}
    labels = {}
    for m in models:
        found = {q.object.value for q in store.quads_for_pattern(
            ox.NamedNode(m), LABEL, None, None)}
        assert len(found) == 1, m  # one label each: SAMPLE has no choice to make
        labels[m] = found.pop()
    return [(m, labels[m]) for m in sorted(models, key=lambda m: (m not in developed, m))]


def test_the_model_list_is_every_model_in_order(studies_app):
    store = studies_app.services.graph.store
    truth = _truth(store)
    assert len(truth) == 6  # the paper's model and five studies'
    assert studies_app.services.diagram.models() == truth
    # the default diagram and the home page show the first model in IRI order
    first = min(_subjects(store, RDF_TYPE, ox.NamedNode(PCM + "ChangeModel")))
    assert studies_app.services.diagram.resolve() == truth[0][0] == first
    assert studies_app.services.home.summary().model.iri == first
    rows = studies_app.services.sparql.select("internal/site/first-model")
    assert [r["model"].value for r in rows] == [first]


def test_the_model_rows_are_the_embedded_ones_on_virtuoso(remote_app, app):  # noqa: F811
    assert remote_app.services.graph.backend == "remote"
    def cell(term) -> str:
        # Virtuoso 7.2 gives MAX of booleans as an integer (the service reads both)
        return {"1": "true", "0": "false"}.get(term.value, term.value) if (
            isinstance(term, ox.Literal)) else str(term)

    def rows(the_app, name):
        return sorted(sorted((k, cell(v)) for k, v in r.items())
                      for r in the_app.services.sparql.select(name))

    for name in ("internal/diagram/models", "internal/site/first-model",
                 "internal/site/claim-kinds"):
        assert rows(app, name), name
        assert rows(remote_app, name) == rows(app, name), name
    assert remote_app.services.diagram.models() == app.services.diagram.models()
    assert remote_app.services.home.summary().model == app.services.home.summary().model
