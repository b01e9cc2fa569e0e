"""Every shipped query with parameters gives the same rows over both backends: the
parameters reach the store as a VALUES block written from RDF terms."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from peerchange.core.queryfiles import all_queries

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def own_remote_app(tmp_path_factory, shipped_graph):
    """An app over a Virtuoso of this module's own: the session's also serves the tests
    that send runaway queries, which the store keeps working on for a while."""
    from peerchange.web import create_app
    from tests.conftest import app_settings
    from tests.remote.conftest import publish_by_gsp
    from tests.virtuoso import running_virtuoso

    with running_virtuoso(tmp_path_factory, "queries-virtuoso") as server:
        publish_by_gsp(server, shipped_graph)
        yield create_app(app_settings(tmp_path_factory.mktemp("queries-dumps"),
                                      endpoint=server.sparql))


# Virtuoso 7.2 gives other rows for these; not handled yet (the queries are not the remote
# backend's to change; see docs/architecture.md, "A remote store"). Strict: a fix shows up.
DIFFERS_ON_VIRTUOSO: dict[str, str] = {}  # none at present


def _with_params():
    out = []
    for query in all_queries().values():
        params = query.meta.get("params") or {}
        if params and all("example" in p for p in params.values()):
            marks = ([pytest.mark.xfail(strict=True, reason="Virtuoso 7.2: "
                                        + DIFFERS_ON_VIRTUOSO[query.name])]
                     if query.name in DIFFERS_ON_VIRTUOSO else [])
            out.append(pytest.param(query, marks=marks, id=query.name))
    return out


def _term(spec: dict, value: str):
    return (ox.NamedNode(value) if spec.get("type", "iri") == "iri"
            else ox.Literal(str(value)))


def _cell(term) -> str:
    if isinstance(term, ox.BlankNode):
        return "_:b"
    if isinstance(term, ox.Literal) and ", " in term.value:
        # GROUP_CONCAT: the order of the parts is the engine's choice
        return ", ".join(sorted(term.value.split(", ")))
    return str(term)


def _canonical(values) -> list[str]:
    return sorted(" ".join(_cell(t) for t in row) for row in values)


@pytest.mark.parametrize("query", _with_params())
def test_same_answer_on_both_backends(query, own_remote_app, app):
    bindings = {name: _term(spec, spec["example"])
                for name, spec in query.meta["params"].items()}
    answers = []
    for the_app in (app, own_remote_app):
        sparql = the_app.services.sparql
        prepared = sparql.prepare_file(query, bindings)
        answer = sparql.execute(prepared)
        if prepared.form == "SELECT":
            answers.append(_canonical(answer.rows))
        elif prepared.form == "ASK":
            answers.append(answer.boolean)
        else:
            answers.append(_canonical((t.subject, t.predicate, t.object)
                                      for t in answer.triples))
    assert answers[1] == answers[0]
