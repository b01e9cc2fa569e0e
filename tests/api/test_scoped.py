"""``claims-by-status`` is scoped to one source by default (``source``: the project's own
paper when omitted); ``scope=store`` lists every source's claims, as the query did before.
On the shipped data every claim is derived from the paper or its companion paper, so the
two answers are the same, byte for byte, in every format and on every page. The mechanism
queries are scoped the same way (to the mechanisms of the change models derived from
``source``), and on the shipped data answer as before too."""

from __future__ import annotations

import pytest

PCM = "https://w3id.org/peerchange/onto/"
ID = "https://w3id.org/peerchange/id/"
PAPER = ID + "ref/Gillard2015"
STATUSES = ["StatedInSource", "ReportedInCompanionPaper", "CuratedInference"]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize(("suffix", "page"), [("", "1"), ("", "2"), (".csv", "1"),
                                              (".srj", "1"), (".tsv", "3")])
def test_the_paper_scoped_answer_is_the_store_wide_one(client, status, suffix, page):
    url = f"/api/claims-by-status{suffix}"
    base = {"status": f"pcm:{status}", "per_page": "5", "page": page}
    store = client.get(url, query_string={**base, "scope": "store"})
    for scoped in (client.get(url, query_string=base),
                   client.get(url, query_string={**base, "source": PAPER})):
        if store.status_code == 400:  # past the last page: the same for both
            assert scoped.status_code == 400
            continue
        assert store.status_code == scoped.status_code == 200
        if suffix:
            assert scoped.data == store.data
        else:
            mine, theirs = scoped.get_json(), store.get_json()
            assert mine["params"] == {"status": PCM + status, "source": PAPER,
                                      "scope": "source"}
            assert theirs["params"] == {"status": PCM + status, "scope": "store"}
            for key in ("vars", "rows", "total", "pages", "page", "truncated"):
                assert mine[key] == theirs[key], key


def test_a_claim_type_within_a_source(ask):
    scoped = ask("claims-by-status", status="pcm:StatedInSource",
                 claimType="pcm:ComponentClaim", source=PAPER)
    store = ask("claims-by-status", status="pcm:StatedInSource",
                claimType="pcm:ComponentClaim", scope="store")
    assert scoped["rows"] and scoped["rows"] == store["rows"]


def test_another_source_has_its_own_claims(ask):
    """The companion paper's own claims only (none of the paper's), and a work no claim is
    derived from has none."""
    companion = ask("claims-by-status", status="pcm:ReportedInCompanionPaper",
                    source="https://w3id.org/peerchange/id/ref/Gillard2014b")
    paper = ask("claims-by-status", status="pcm:ReportedInCompanionPaper")
    assert 0 < companion["total"] <= paper["total"]
    assert all(row in paper["rows"] for row in companion["rows"])
    stated = ask("claims-by-status", status="pcm:StatedInSource",
                 source="https://w3id.org/peerchange/id/ref/Bandura1977")
    assert stated["total"] == 0 and stated["rows"] == [] and stated["pages"] == 1


def test_a_source_and_the_store_wide_scope_contradict(client):
    resp = client.get("/api/claims-by-status", query_string={
        "status": "pcm:StatedInSource", "source": PAPER, "scope": "store"})
    assert resp.status_code == 400
    assert "not both" in resp.get_json()["message"]
    resp = client.get("/api/claims-by-status", query_string={
        "status": "pcm:StatedInSource", "scope": "everywhere"})
    assert resp.status_code == 400 and "must be one of" in resp.get_json()["message"]


def _cases():
    from peerchange.services.canned import catalogue

    out = []
    for query in catalogue().values():
        if not query.bind_values:
            continue
        scoping = {query.scoped.param, query.scoped.unless[0]} if query.scoped else set()
        example = {k: v for k, v in query.example_values().items() if k not in scoping}
        required = {p.name for p in query.params if p.required}
        for name in example:
            out.append((query.name, {k: v for k, v in example.items()
                                     if k == name or k in required}))
        out.append((query.name, example))
    return out


BIND_VALUES = _cases()


@pytest.mark.parametrize(("name", "params"), BIND_VALUES,
                         ids=[f"{n}-{'-'.join(p)}" for n, p in BIND_VALUES])
def test_values_bound_in_the_query_answer_as_substitutions_did(app, name, params):
    """A query with ``bind: values`` answers with its parameters in a VALUES block exactly
    what it answered with them as pyoxigraph ``substitutions`` (the same rows, in order),
    asked store-wide where the query has a scope."""
    service = app.services.canned
    query = service.get(name)
    args = {k: [v] for k, v in params.items()}
    if query.scoped:
        args[query.scoped.unless[0]] = [query.scoped.unless[1]]
    bindings, _ = service.bind(query, args)
    bindings = {k: v for k, v in bindings.items() if k in params}
    prepared = service.sparql.prepare_file(query.file, bindings,
                                           max_rows=service.sparql.max_rows)
    before = service.sparql.execute(prepared)
    after = service.run(name, args, per_page="10000")
    assert before.rows and after.rows == list(before.rows)
    assert after.variables == before.variables and after.truncated == before.truncated


MECHANISM_QUERIES = ["mechanisms", "mechanism-outcomes", "mechanism-theories",
                     "mechanism-works", "outcome-chains", "construct-links"]


@pytest.mark.parametrize("name", MECHANISM_QUERIES)
@pytest.mark.parametrize("suffix", ["", ".csv", ".srj", ".tsv"])
def test_the_papers_mechanisms_are_the_store_wide_ones(client, name, suffix):
    """The mechanism queries are scoped as claims-by-status is (to the mechanisms of the
    change models derived from ``source``: the paper by default); on the shipped data that
    is every mechanism, so the answer is the store-wide one, byte for byte."""
    url = f"/api/{name}{suffix}"
    store = client.get(url, query_string={"scope": "store", "per_page": "1000"})
    assert store.status_code == 200
    for params in ({}, {"source": PAPER}, {"scope": "source"}):
        scoped = client.get(url, query_string={**params, "per_page": "1000"})
        assert scoped.status_code == 200
        if suffix:
            assert scoped.data == store.data
            continue
        mine, theirs = scoped.get_json(), store.get_json()
        assert mine["params"] == {"source": PAPER, "scope": "source"}
        assert theirs["params"] == {"scope": "store"}
        assert mine["rows"] and mine["rows"] == theirs["rows"]
        for key in ("vars", "total", "pages", "page", "truncated"):
            assert mine[key] == theirs[key], key


@pytest.mark.parametrize("name", MECHANISM_QUERIES)
def test_a_given_mechanism_is_not_scoped_by_the_default_source(ask, name):
    """``mechanism`` names one study's mechanism already: without ``source`` the default
    does not apply (another study's mechanism keeps its rows); with it, both restrict."""
    mechanism = "https://w3id.org/peerchange/id/mechanism/role-modelling"
    alone = ask(name, mechanism=mechanism)
    assert alone["params"] == {"mechanism": mechanism}
    assert alone["rows"] == ask(name, mechanism=mechanism, scope="store")["rows"]
    assert ask(name, mechanism=mechanism, source=PAPER)["rows"] == alone["rows"]
    other = ask(name, mechanism=mechanism,
                source="https://w3id.org/peerchange/id/ref/Bandura1977")
    assert other["rows"] == [] and other["total"] == 0


@pytest.mark.parametrize("name", MECHANISM_QUERIES)
def test_a_mechanism_querys_source_and_store_scope_contradict(client, name):
    resp = client.get(f"/api/{name}", query_string={"source": PAPER, "scope": "store"})
    assert resp.status_code == 400 and "not both" in resp.get_json()["message"]


VALUES_IN_OPTIONAL = {"api/mechanisms": True,
                      "internal/api/mechanisms-of-source": "internal/api/mechanisms-of-a-source",
                      "internal/api/mechanism-outcomes-of-source":
                          "internal/api/outcomes-of-a-source"}


def test_blocks_open_the_optional_groups_that_name_their_variables():
    """``values_in_optional``: the request's block opens the WHERE group; the inner rows
    (the request's, or another query's), cut down to the variables each names (repeats
    dropped), open every OPTIONAL group naming one of them; the others (a locator's
    inside a component group) are left alone."""
    import pyoxigraph as ox

    from peerchange.core.errors import QueryFileError
    from peerchange.core.queryfiles import all_queries, get_query
    from peerchange.services import canned_values

    found = {n: canned_values.wanted(n) for n in all_queries() if canned_values.wanted(n)}
    assert found == VALUES_IN_OPTIONAL
    text = get_query("internal/api/mechanisms-of-source").text
    paper = ox.NamedNode(PAPER)
    assert canned_values.with_values(text, [{"source": paper}]).count("\nVALUES ") == 1
    mechanisms = [{"mechanism": ox.NamedNode(f"{PCM}m{i}")} for i in (1, 2, 1)]
    out = canned_values.with_values(text, [{"source": paper}], inner=mechanisms)
    assert out.count(f"VALUES ?source {{\n  <{PAPER}>\n}}") == 1
    assert out.count(f"VALUES ?mechanism {{\n  <{PCM}m1>\n  <{PCM}m2>\n}}") == 3
    assert "OPTIONAL { ?componentClaim pcm:locator" in out
    two = [{"source": paper, **m} for m in mechanisms]
    out = canned_values.with_values(get_query("api/mechanisms").text, two, inner=two)
    assert out.count("VALUES (?source ?mechanism) {") == 1  # the WHERE group's
    assert out.count(f"VALUES ?mechanism {{\n  <{PCM}m1>\n  <{PCM}m2>\n}}") == 3
    sub = "SELECT ?a WHERE { ?a ?b ?c OPTIONAL { { SELECT ?c WHERE { ?c ?d ?e } } } }"
    with pytest.raises(QueryFileError, match="sub-SELECT"):
        canned_values.with_values(sub, [{"a": paper}], inner=[{"c": paper}])
    assert canned_values.with_values(sub, [{"a": paper}], inner=[{"a": paper}]).count(
        "VALUES ?a") == 1  # not named in the OPTIONAL group


@pytest.mark.parametrize("name", VALUES_IN_OPTIONAL)
def test_the_blocks_in_the_optional_groups_change_no_row(app, name):
    """Each ``values_in_optional`` file answers the same rows, in the same order, as with
    the block opening its WHERE group only (services.trace.batched, as before): for the
    shipped paper, a mechanism, two mechanisms and a paper with no mechanism (both
    backends; over Virtuoso the inner blocks are not written)."""
    import pyoxigraph as ox

    from peerchange.services import canned_values
    from peerchange.services.trace.batched import select_rows

    sparql = app.services.sparql
    mech = "https://w3id.org/peerchange/id/mechanism/"
    cases = [[{"mechanism": ox.NamedNode(mech + "role-modelling")}],
             [{"mechanism": ox.NamedNode(mech + "role-modelling")},
              {"mechanism": ox.NamedNode(mech + "trusting-relationships")}]]
    if name.startswith("internal/"):
        paper = {"source": ox.NamedNode(PAPER)}
        cases = [[paper], [{"source": ox.NamedNode(ID + "ref/Bandura1977")}],
                 *([{**paper, **row} for row in rows] for rows in cases)]
    checked = 0
    for rows in cases:
        before = select_rows(sparql, name, rows, batch=len(rows))
        after = canned_values.select_rows(sparql, name, rows)
        assert after == before, rows
        checked += bool(before)
    assert checked >= 2
