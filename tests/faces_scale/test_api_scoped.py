"""``/api/claims-by-status`` over the shipped study plus 30 synthetic ones: scoped to one
source (the default: the project's paper; or a synthetic study's paper), its answer is the
store-wide answer (``scope=store``, the query as it was before the scope) cut to the
claims derived from that source or from one of its companion papers (read from the data
file, not by a query), in the same order; and the shipped paper's answer is the one
without the other studies. The mechanism queries likewise, cut to the mechanisms of the
change models derived from the source."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

pytestmark = pytest.mark.slow

PROV = "http://www.w3.org/ns/prov#wasDerivedFrom"
COMPANION = "https://w3id.org/peerchange/onto/companionOf"
REPORTED = "https://w3id.org/peerchange/onto/reportedIn"
STATUSES = ["StatedInSource", "ReportedInCompanionPaper", "CuratedInference"]


@pytest.fixture(scope="module")
def derived(synth_nq: Path) -> tuple[list[str], dict[str, set[str]]]:
    """The synthetic studies' papers, and each paper's claims (derived from it or from a
    companion of it)."""
    papers, companions, sources = [], {}, {}
    for quad in ox.parse(path=str(synth_nq), format=ox.RdfFormat.N_QUADS):
        p = quad.predicate.value
        if p == REPORTED:
            papers.append(quad.object.value)
        elif p == COMPANION:
            companions[quad.subject.value] = quad.object.value
        elif p == PROV and "/claim/" in quad.subject.value:
            sources[quad.subject.value] = quad.object.value
    claims: dict[str, set[str]] = {}
    for claim, source in sources.items():
        claims.setdefault(companions.get(source, source), set()).add(claim)
    return papers, claims


def _answer(client, **params) -> dict:
    resp = client.get("/api/claims-by-status", query_string={"per_page": "10000", **params})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


@pytest.mark.parametrize("status", STATUSES)
def test_a_synthetic_papers_claims_are_the_store_wide_answer_cut(scaled, derived, status):
    papers, claims = derived
    store = _answer(scaled, status=f"pcm:{status}", scope="store")
    for paper in papers[:3]:
        mine = _answer(scaled, status=f"pcm:{status}", source=paper)
        assert mine["vars"] == store["vars"]
        expected = [row for row in store["rows"] if row["claim"] in claims[paper]]
        assert expected and mine["rows"] == expected
        assert mine["total"] == len(expected) and not mine["truncated"]


@pytest.mark.parametrize("status", STATUSES)
def test_the_default_is_the_shipped_papers_claims(scaled, client, status):
    mine = _answer(scaled, status=f"pcm:{status}")
    shipped = _answer(client, status=f"pcm:{status}", scope="store")
    assert mine["rows"] == shipped["rows"]
    assert _answer(scaled, status=f"pcm:{status}", scope="store")["total"] > mine["total"]


def test_pages_of_a_scoped_answer(scaled, derived):
    paper = derived[0][0]
    whole = _answer(scaled, status="pcm:CuratedInference", source=paper)["rows"]
    second = _answer(scaled, status="pcm:CuratedInference", source=paper, per_page="5",
                     page="2")
    assert second["rows"] == whole[5:10] and second["total"] == len(whole)
    csv = scaled.get("/api/claims-by-status.csv", query_string={
        "status": "pcm:CuratedInference", "source": paper, "per_page": "5", "page": "2"})
    assert csv.status_code == 200
    assert csv.get_data(as_text=True).count("\n") == 1 + len(second["rows"])


def test_values_bound_in_the_query_answer_as_substitutions_did(scaled_app):
    """Over other studies too: ``bind: values`` queries answer as with substitutions (a
    synthetic mechanism and the shipped one, every such query taking a mechanism)."""
    service = scaled_app.services.canned
    mechanisms = ["https://w3id.org/peerchange/id/mechanism/role-modelling",
                  "https://w3id.org/peerchange/id/mechanism/synth-1-m1"]
    checked = 0
    for query in service.queries():
        if not query.bind_values or query.param("mechanism") is None:
            continue
        for mechanism in mechanisms:
            args = {"mechanism": [mechanism]}
            bindings, _ = service.bind(query, args)
            bindings = {k: v for k, v in bindings.items() if k in args}  # not the scope's
            prepared = service.sparql.prepare_file(query.file, bindings,
                                                   max_rows=service.sparql.max_rows)
            before = service.sparql.execute(prepared)
            after = service.run(query.name, args, per_page="10000")
            assert after.rows == list(before.rows), (query.name, mechanism)
            checked += bool(before.rows)
    assert checked >= 6


HAS_MECHANISM = "https://w3id.org/peerchange/onto/hasMechanism"
MECHANISM_QUERIES = ["mechanisms", "mechanism-outcomes", "mechanism-theories",
                     "mechanism-works", "outcome-chains", "construct-links"]


@pytest.fixture(scope="module")
def mechanisms_of(synth_nq: Path) -> dict[str, set[str]]:
    """Each synthetic paper's mechanisms: those of the change models derived from it."""
    model_source: dict[str, str] = {}
    has: list[tuple[str, str]] = []
    for quad in ox.parse(path=str(synth_nq), format=ox.RdfFormat.N_QUADS):
        p = quad.predicate.value
        if p == PROV and "/model/" in quad.subject.value:
            model_source[quad.subject.value] = quad.object.value
        elif p == HAS_MECHANISM:
            has.append((quad.subject.value, quad.object.value))
    out: dict[str, set[str]] = {}
    for model, mechanism in has:
        out.setdefault(model_source[model], set()).add(mechanism)
    return out


def _ask(client, name: str, **params) -> dict:
    resp = client.get(f"/api/{name}", query_string={"per_page": "10000", **params})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


@pytest.mark.parametrize("name", MECHANISM_QUERIES)
def test_a_synthetic_papers_mechanisms_are_the_store_wide_answer_cut(
        scaled, client, derived, mechanisms_of, name):
    """Scoped to a synthetic paper: the store-wide rows of that paper's mechanisms, in the
    same order (GROUP_CONCAT'ed keys too); the default: the shipped data's answer."""
    store = _ask(scaled, name, scope="store")
    assert not store["truncated"]
    for paper in derived[0][:3]:
        mine = _ask(scaled, name, source=paper)
        expected = [row for row in store["rows"] if row["mechanism"] in mechanisms_of[paper]]
        assert expected and mine["rows"] == expected and mine["vars"] == store["vars"]
    default = _ask(scaled, name)
    assert default["rows"] == _ask(client, name, scope="store")["rows"]
    assert store["total"] > default["total"]


@pytest.mark.parametrize("name", ["api/mechanisms", "internal/api/mechanisms-of-source",
                                  "internal/api/mechanism-outcomes-of-source"])
def test_the_blocks_in_the_optional_groups_change_no_row(scaled_app, derived,
                                                          mechanisms_of, name):
    """``values_in_optional`` over the synthetic studies too: each file answers the rows
    (in order) it answers with the block opening its WHERE group only (services.trace.
    batched, the form before the blocks also opened the OPTIONAL groups), for three
    synthetic papers and for their mechanisms one by one and all together."""
    from peerchange.services import canned_values
    from peerchange.services.trace.batched import select_rows

    sparql = scaled_app.services.sparql
    cases: list[list[dict]] = []
    for paper in derived[0][:3]:
        source = {"source": ox.NamedNode(paper)}
        mechanisms = sorted(mechanisms_of[paper])
        if name.startswith("internal/"):
            cases.append([source])
            cases += [[{**source, "mechanism": ox.NamedNode(m)}] for m in mechanisms[:2]]
        else:
            cases += [[{"mechanism": ox.NamedNode(m)}] for m in mechanisms[:2]]
            cases.append([{"mechanism": ox.NamedNode(m)} for m in mechanisms])
    checked = 0
    for rows in cases:
        before = select_rows(sparql, name, rows, batch=len(rows))
        after = canned_values.select_rows(sparql, name, rows)
        assert after == before, (name, rows)
        checked += bool(before)
    assert checked >= 3
