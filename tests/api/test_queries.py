"""Every canned query runs with its documented parameters and returns what the model implies.

The expected numbers come from the data (``data/*.ttl``): 3 mechanisms; 3 components of the
first, all stated in the source; 75 claims, 12 stated, 1 from a companion paper and 62
curated inferences (the same numbers as the shortcut edges in the graphs of those statuses);
60 references, 46 with a correction note (41 before issue 12); 8 alignments to BCIO; 8
theories in 2 families.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from peerchange.services.canned import expand_iri
from tests.api.conftest import (
    COMPANION,
    CURATED,
    ID,
    QUERIES,
    QUERY_IDS,
    STATED,
    STATUS,
    is_claim_column,
    is_status_column,
    is_status_label_column,
    projection,
)

CITO = "http://purl.org/spar/cito/"
FABIO = "http://purl.org/spar/fabio/"
BCIO = "http://humanbehaviourchange.org/ontology/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
GRAPH = "https://w3id.org/peerchange/graph/"
MECHANISMS = {ID + "mechanism/" + m for m in ("trusting-relationships", "role-modelling",
                                              "engagement")}
STATUS_LABELS = {STATED: "stated in the source", COMPANION: "reported in a companion paper",
                 CURATED: "curated inference"}


# --- every query, with its documented parameters -------------------------------------------

def _requests(query):
    """(id, params) pairs: defaults alone, all examples, each example alone, each enum value."""
    required = {p.name: p.example for p in query.params if p.required}
    out = []
    if not required:
        out.append(("defaults", {}))
    out.append(("examples", query.example_values()))
    for p in query.params:
        if p.example is not None and not p.required:
            out.append((f"{p.name}=example", {**required, p.name: p.example}))
        for value in p.enum:
            out.append((f"{p.name}={value.rsplit('/', 1)[-1].rsplit('#', 1)[-1]}",
                        {**required, p.name: value}))
    return out


CASES = [(q, params) for q in QUERIES for _, params in _requests(q)]
CASE_IDS = [f"{q.name}[{label}]" for q in QUERIES for label, _ in _requests(q)]


@pytest.mark.parametrize(("query", "params"), CASES, ids=CASE_IDS)
def test_runs_with_documented_parameters(ask, query, params):
    body = ask(query.name, **params)
    assert body["query"] == query.name
    # the values used are reported, defaults included
    for p in query.params:
        if p.name in params:
            assert body["params"][p.name] == params[p.name]
        elif p.default is not None and not _store_wide(query, params, p.name):
            assert body["params"][p.name] == p.default
        else:
            assert p.name not in body["params"]
    assert body["vars"] == projection(query) and not body["truncated"]
    for row in body["rows"]:
        assert set(row) == set(body["vars"])


def _store_wide(query, params, name: str) -> bool:
    """``name`` is a scoping parameter the request turned off (``scope=store``), or the
    scope's parameters when one of ``unless_given`` (``mechanism``) leaves it unscoped."""
    scoped = query.scoped
    if scoped is None or scoped.unless is None:
        return False
    if scoped.param == name and params.get(scoped.unless[0]) == scoped.unless[1]:
        return True
    unscoped = scoped.param not in params and any(g in params for g in scoped.unless_given)
    return unscoped and name in (scoped.param, scoped.unless[0])


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_examples_give_an_answer(ask, query):
    """The documented examples are useful: together they give at least one row."""
    assert ask(query.name, **query.example_values())["rows"]


def _required(query) -> dict[str, str]:
    return {p.name: p.example for p in query.params if p.required}


def _plain(param, value: str):
    """A parameter's value as the JSON answer shows it."""
    if param.type == "iri":
        return expand_iri(value)
    if param.type == "integer":
        return int(value)
    return value


# every parameter that has an example (or a default): (query, parameter)
# (a scoping parameter is not a column: tests/api/test_scoped.py checks what it does)
BOUND = [(q, p) for q in QUERIES for p in q.params
         if p.name in q.example_values() and p.name in projection(q)]


@pytest.mark.parametrize(("query", "param"), BOUND,
                         ids=[f"{q.name}.{p.name}" for q, p in BOUND])
def test_bound_parameters_hold_in_every_row(ask, query, param):
    """A parameter binds the variable of its name: every row has that value."""
    params = query.example_values()
    rows = ask(query.name, **params)["rows"]
    assert rows, "the examples give no rows: nothing to check"
    assert {r[param.name] for r in rows} == {_plain(param, params[param.name])}


# every column that holds an evidence status or its label: (query, column)
STATUS_COLUMNS = [(q, v) for q in QUERIES for v in projection(q)
                  if is_status_column(v) or is_status_label_column(v)]


@pytest.mark.parametrize(("query", "column"), STATUS_COLUMNS,
                         ids=[f"{q.name}.{v}" for q, v in STATUS_COLUMNS])
def test_every_status_column_holds_a_status(ask, query, column):
    rows = ask(query.name, **_required(query))["rows"]
    values = {r[column] for r in rows} - {None}
    assert values, f"{column} is never bound"
    allowed = STATUS_LABELS.values() if is_status_label_column(column) else STATUS_LABELS
    assert values <= set(allowed)


# columns that may hold a claim among other resources, and why
CLAIMS_AMONG_OTHERS = {
    # a gap concerns any resource; one concerns the companion-paper claim (reported to the
    # lead: the status of such a claim is not shown beside it)
    ("evidence-gaps", "resource"),
}


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_claims_are_only_in_claim_columns_next_to_their_status(ask, query):
    """Wherever an answer holds a claim, the column says so and the row has a status."""
    body = ask(query.name, **_required(query))
    assert body["rows"]
    holding = {v for v in body["vars"] for r in body["rows"]
               if isinstance(r[v], str) and r[v].startswith(ID + "claim/")}
    claim_columns = {v for v in body["vars"] if is_claim_column(v)}
    allowed = {v for q, v in CLAIMS_AMONG_OTHERS if q == query.name}
    assert holding <= claim_columns | allowed
    statuses = [v for v in body["vars"] if is_status_column(v)]
    for row in body["rows"]:
        if any(row[v] for v in holding & claim_columns):
            assert any(row[v] in STATUS_LABELS for v in statuses), row


# --- the answers the model implies ---------------------------------------------------------

def test_mechanisms_and_their_components(ask):
    rows = ask("mechanisms")["rows"]
    assert {r["mechanism"] for r in rows} == MECHANISMS
    assert {r["modelStatus"] for r in rows} == {STATED}
    components = defaultdict(dict)
    for r in rows:
        if r["component"]:
            components[r["mechanism"]][r["component"]] = r
    assert set(components) == {ID + "mechanism/trusting-relationships"}
    trusting = components[ID + "mechanism/trusting-relationships"]
    assert set(trusting) == {ID + "component/" + c for c in (
        "making-a-connection", "building-a-relationship", "enabling-talking-and-listening")}
    for row in trusting.values():
        assert row["componentStatus"] == STATED
        assert row["componentStatusLabel"] == "stated in the source"
        assert row["componentLocator"].startswith("Supplementary material")


def test_mechanisms_one_mechanism(ask):
    rows = ask("mechanisms", mechanism=ID + "mechanism/engagement")["rows"]
    assert len(rows) == 1 and rows[0]["component"] is None


def test_mechanism_theories_with_citations(ask):
    rows = ask("mechanism-theories", mechanism=ID + "mechanism/role-modelling")["rows"]
    assert {r["theory"] for r in rows} == {ID + "theory/" + t for t in (
        "social-learning", "self-efficacy", "social-comparison", "mentoring")}
    assert {r["statusLabel"] for r in rows} == {"curated inference"}
    authority = {r["work"] for r in rows if r["citationRole"] == CITO + "citesAsAuthority"}
    assert {ID + "ref/Bandura1977", ID + "ref/Festinger1955"} <= authority


def test_bandura_1977_leads_to_role_modelling(ask):
    """The theory Bandura (1977) founds is linked to the role-modelling mechanism."""
    rows = ask("theory-links", theory=ID + "theory/social-learning")["rows"]
    linked = {r["linked"]: r for r in rows}
    assert ID + "mechanism/role-modelling" in linked
    assert linked[ID + "mechanism/role-modelling"]["statusLabel"] == "curated inference"
    assert linked[ID + "mechanism/role-modelling"]["rationale"]
    cited = ask("work-citations", key="Bandura1977")["rows"]
    assert {r["claim"] for r in cited} == {ID + "claim/" + c for c in (
        "role-modelling--groundedIn--social-learning",
        "role-modelling--engagesConstruct--observational-learning",
        "role-modelling--engagesConstruct--model-similarity",
        "social-learning--inTheoryFamily--role-modelling",
    )}
    assert {r["role"] for r in cited} == {CITO + "citesAsAuthority"}
    assert {r["status"] for r in cited} == {CURATED}


def test_work_citations_of_the_paper_separate_evidence_from_mentions(ask):
    rows = ask("work-citations", key="Gillard2015")["rows"]
    by_role = defaultdict(set)
    for r in rows:
        by_role[r["role"]].add(r["status"])
    # the paper is evidence only for what it states; curated readings merely cite it
    assert by_role[CITO + "citesAsEvidence"] == {STATED}
    assert by_role[CITO + "cites"] <= {CURATED, COMPANION}
    assert sum(1 for r in rows if r["role"] == CITO + "citesAsEvidence") == 12


def test_unknown_key_gives_no_rows(ask):
    assert ask("work-citations", key="NoSuchKey1900")["rows"] == []


def test_outcomes_per_mechanism(ask):
    body = ask("mechanism-outcomes")
    assert body["total"] == 25
    counts = Counter(r["mechanism"] for r in body["rows"])
    assert counts == {ID + "mechanism/trusting-relationships": 7,
                      ID + "mechanism/role-modelling": 7, ID + "mechanism/engagement": 11}
    assert {r["status"] for r in body["rows"]} == {CURATED}
    assert all(r["rationale"] for r in body["rows"])
    downstream = ask("mechanism-outcomes", mechanism=ID + "mechanism/role-modelling",
                     outcomeType="pcm:DownstreamOutcome")["rows"]
    assert {r["outcome"] for r in downstream} == {ID + "outcome/" + o for o in (
        "well-being", "personal-recovery", "reduced-psychiatric-admission")}
    wellbeing = next(r for r in downstream if r["outcome"] == ID + "outcome/well-being")
    assert wellbeing["measure"] == ID + "measure/wemwbs"
    assert wellbeing["measureStatusLabel"] == "curated inference"


def test_process_to_downstream_chains(ask):
    rows = ask("outcome-chains")["rows"]
    assert len({r["chainClaim"] for r in rows}) == 10
    assert {r["chainStatus"] for r in rows} == {CURATED}
    assert {r["mechanismStatus"] for r in rows} == {CURATED}
    chains = {(r["mechanism"].rsplit("/", 1)[1], r["processOutcome"].rsplit("/", 1)[1],
               r["downstreamOutcome"].rsplit("/", 1)[1]) for r in rows}
    assert ("role-modelling", "hope", "personal-recovery") in chains
    assert ("engagement", "social-connection", "social-inclusion") in chains
    one = ask("outcome-chains", mechanism=ID + "mechanism/engagement",
              downstreamOutcome=ID + "outcome/personal-recovery")["rows"]
    assert [r["processOutcome"] for r in one] == [ID + "outcome/illness-self-management"]


def test_what_leads_to_an_outcome(ask):
    rows = ask("outcome-sources", outcome=ID + "outcome/reduced-psychiatric-admission")["rows"]
    sources = {r["source"]: r for r in rows}
    assert set(sources) == MECHANISMS | {ID + "outcome/engagement-with-services"}
    chain = sources[ID + "outcome/engagement-with-services"]
    assert chain["predicate"] == "https://w3id.org/peerchange/onto/contributesTo"
    assert {"Killaspy2000", "Olfson2011"} <= set(chain["citedWorks"].split(", "))
    assert {r["statusLabel"] for r in rows} == {"curated inference"}


@pytest.mark.parametrize(("status", "count"), [(STATED, 12), (COMPANION, 1), (CURATED, 62)])
def test_claims_by_status(app, ask, status, count):
    body = ask("claims-by-status", status=status)
    assert body["total"] == count
    assert {r["status"] for r in body["rows"]} == {status}
    assert {r["statusLabel"] for r in body["rows"]} == {STATUS_LABELS[status]}
    assert len({r["claim"] for r in body["rows"]}) == count
    # consistent with the graph: one shortcut edge per claim, in the graph of its status
    graph = {STATED: "stated", COMPANION: "companion", CURATED: "curated"}[status]
    counts = app.services.graph.graph_counts
    assert counts[GRAPH + graph] == count
    for r in body["rows"]:
        if status == CURATED:
            assert r["rationale"] and r["locator"] is None
        else:
            assert r["locator"]


def test_claims_by_status_and_type(ask):
    rows = ask("claims-by-status", status="pcm:StatedInSource",
               claimType="pcm:ComponentClaim")["rows"]
    assert len(rows) == 3
    assert {r["object"] for r in rows} == {ID + "mechanism/trusting-relationships"}
    companion = ask("claims-by-status", status=COMPANION)["rows"]
    assert [(r["subject"], r["predicate"], r["object"]) for r in companion] == [(
        ID + "mechanism/trusting-relationships",
        "https://w3id.org/peerchange/onto/enablesMechanism",
        ID + "mechanism/engagement",
    )]


def test_claim_counts(ask):
    rows = ask("claim-counts")["rows"]
    per_status = Counter()
    for r in rows:
        per_status[r["status"]] += r["claims"]
        assert isinstance(r["claims"], int)
    assert per_status == {STATED: 12, COMPANION: 1, CURATED: 62}
    by_type = {(r["status"], r["claimType"].rsplit("/", 1)[1]): r["claims"] for r in rows}
    assert by_type[(STATED, "ComponentClaim")] == 3
    assert by_type[(CURATED, "TheoreticalGroundingClaim")] == 17
    assert by_type[(CURATED, "MechanismOutcomeClaim")] == 25


def test_works_cited_per_mechanism(ask):
    rows = ask("mechanism-works", mechanism=ID + "mechanism/role-modelling",
               role="cito:citesAsAuthority")["rows"]
    assert {r["key"] for r in rows} == {"Bandura1977", "Bandura1997", "Festinger1955",
                                        "Bozeman2007"}
    assert {r["status"] for r in rows} == {CURATED}
    every = ask("mechanism-works")["rows"]
    assert {r["mechanism"] for r in every} == MECHANISMS
    # citesAsEvidence only where the work is evidence for that link: never on a curated claim
    evidence = [r for r in every if r["role"] == CITO + "citesAsEvidence"]
    assert evidence and all(r["status"] in (STATED, COMPANION) for r in evidence)
    assert {r["key"] for r in evidence} == {"Gillard2015", "Gillard2014b"}


def test_references_by_year_and_type(ask):
    body = ask("references-by-year")
    assert body["total"] == 60
    assert len({r["key"] for r in body["rows"]}) == 60
    assert all(r["year"] and r["type"].startswith(FABIO) for r in body["rows"])
    years = [int(r["year"]) for r in body["rows"]]
    assert years == sorted(years) and years[0] == 1955
    window = ask("references-by-year", **{"from": 2010, "to": 2011})["rows"]
    assert window and {int(r["year"]) for r in window} <= {2010, 2011}
    assert len(window) == sum(1 for y in years if 2010 <= y <= 2011)
    books = ask("references-by-year", type="fabio:Book")["rows"]
    assert {r["key"] for r in books} >= {"Bandura1977", "Bandura1997", "Bowlby1973"}
    assert {r["type"] for r in books} == {FABIO + "Book"}
    assert ask("references-by-year", **{"from": 2015})["rows"] == []
    assert ask("references-by-year", **{"from": 2013, "to": 2010})["rows"] == []


def test_reference_counts_add_up(ask):
    rows = ask("reference-counts")["rows"]
    assert sum(r["works"] for r in rows) == 60
    types = Counter()
    for r in rows:
        types[r["type"]] += r["works"]
    listed = Counter(r["type"] for r in ask("references-by-year")["rows"])
    assert types == listed
    window = ask("reference-counts", **{"from": 2000, "to": 2009})["rows"]
    assert {int(r["year"]) for r in window} <= set(range(2000, 2010))


def test_corrections_to_the_printed_reference_list(ask):
    body = ask("reference-corrections")
    # 41 before issue 12; Gillard2014, Kaufman2012, JCPMH2012a, JCPMH2012b, Trachtenberg2013
    # now say how their normalised fields differ from the printed text
    assert body["total"] == 46
    notes = {r["key"]: r for r in body["rows"]}
    assert "1954" in notes["Festinger1955"]["note"]
    assert "1955" in notes["Festinger1955"]["printed"]
    assert "ISSN" in notes["Tennant2007"]["note"] and "63" in notes["Tennant2007"]["note"]
    assert all(r["printed"] for r in body["rows"])
    assert "Health Service Delivery Research" in notes["Gillard2014"]["note"]
    assert "Issue number 6" in notes["Bozeman2007"]["note"]
    assert "colon" in notes["Kaufman2012"]["note"]
    assert "2014" in notes["Kelly2013"]["note"]
    assert "not been verified" in notes["Simpson2013"]["note"]
    one = ask("reference-corrections", key="Tennant2007")["rows"]
    assert [r["key"] for r in one] == ["Tennant2007"]
    assert one[0]["doi"] == "10.1186/1477-7525-5-63"


def test_bcio_alignments(ask):
    rows = ask("bcio-alignments")["rows"]
    assert len(rows) == 8
    assert all(r["bcioTerm"].startswith(BCIO) and r["bcioLabel"] for r in rows)
    pairs = {(r["term"].rsplit("/", 1)[1], r["relation"], r["bcioTerm"][len(BCIO):])
             for r in rows}
    assert ("ChangeMechanism", RDFS + "subClassOf", "BCIO_006000") in pairs
    assert ("PeerWorkerRole", SKOS + "closeMatch", "BCIO_010104") in pairs
    assert ("self-efficacy", SKOS + "closeMatch", "BCIO_006154") in pairs
    close = ask("bcio-alignments", relation="skos:closeMatch")["rows"]
    assert len(close) == 4 and {r["relation"] for r in close} == {SKOS + "closeMatch"}
    assert {r["graph"] for r in rows} == {GRAPH + "ontology", GRAPH + "theories"}


def test_study_design_facts(ask):
    rows = ask("study-design")["rows"]
    facts = defaultdict(list)
    for r in rows:
        facts[r["property"].rsplit("/", 1)[1]].append(r)
    assert [r["value"] for r in facts["numberOfCases"]] == [10]
    # 71 people (abstract, Methods); the number of interviews is not given (issue 12)
    assert [r["value"] for r in facts["numberOfParticipants"]] == [71]
    assert "numberOfInterviews" not in facts
    assert facts["studyDesign"][0]["valueLabel"] == "qualitative comparative case study"
    assert facts["analysisMethod"][0]["valueLabel"] == "grounded theory"
    assert len(facts["hasParticipantGroup"]) == 4 and len(facts["hasCase"]) == 3
    # the partnership sector is an inference and is deliberately not asserted on the study
    assert {r["valueLabel"] for r in facts["sector"]} == {"statutory sector", "voluntary sector"}
    assert facts["developsModel"][0]["status"] == STATED
    assert facts["followsFramework"][0]["status"] == CURATED
    assert facts["followsFramework"][0]["graph"] == GRAPH + "curated"
    assert all(r["status"] is None for r in facts["numberOfCases"])


def test_evidence_gaps_per_resource(ask):
    # 75 (gap, resource) pairs: issue 12 took ref/Gillard2013 (a different study) out of the
    # companion publications that gap/contextual-factors concerns
    assert ask("evidence-gaps")["total"] == 75
    rows = ask("evidence-gaps", resource="pcd:mechanism/role-modelling")["rows"]
    gaps = {r["gap"].rsplit("/", 1)[1] for r in rows}
    assert "role-modelling-sub-themes" in gaps and "theory-invocation" in gaps
    assert all(r["description"] for r in rows)


def test_theory_families_and_their_theories(ask):
    rows = ask("theory-families")["rows"]
    assert len(rows) == 8
    per_family = Counter(r["family"].rsplit("/", 1)[1] for r in rows)
    assert per_family == {"role-modelling": 4, "relationship": 4}
    assert {r["familyStatus"] for r in rows} == {STATED}
    assert {r["status"] for r in rows} == {CURATED}
    founding = {r["theory"].rsplit("/", 1)[1]: set(r["foundingTexts"].split(", ")) for r in rows}
    assert founding["social-learning"] == {"Bandura1977"}
    assert founding["working-alliance"] == {"Bordin1979"}
    assert founding["attachment"] == {"Bowlby1973"}
    assert founding["social-comparison"] == {"Festinger1955"}


def test_construct_links(ask):
    rows = ask("construct-links")["rows"]
    assert len(rows) == 7 and {r["status"] for r in rows} == {CURATED}
    one = ask("construct-links", construct="pcd:construct/observational-learning")["rows"]
    assert len(one) == 1
    assert one[0]["mechanism"] == ID + "mechanism/role-modelling"
    assert one[0]["theory"] == ID + "theory/social-learning"
    assert one[0]["authority"] == "Bandura1977"


def test_paper_references(ask):
    body = ask("paper-references")
    assert body["total"] == 60
    assert sum(1 for r in body["rows"] if r["doi"]) == 6


def test_status_iris_are_the_scheme(ask):
    """Status columns hold the scheme's concepts (a guard on STATUS_LABELS above)."""
    rows = ask("claims-by-status", status=STATED)["rows"]
    assert rows[0]["status"].startswith(STATUS)
