"""A trace shows its mechanism's own study only (issue 10): over the shipped data plus
synthetic studies that ground their mechanisms in the paper's theories, no trace shows a
claim made by another study's change model or mechanism. (The trace queries' cost at
10^7 triples and the forms tried: bench/results/trace10m.md; a faster form can be checked
against this test and against the shipped rows.)"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from peerchange.services.trace import TraceService

pytestmark = pytest.mark.slow

ID = "https://w3id.org/peerchange/id/"
OBO = "http://purl.obolibrary.org/obo/"
PCM = "https://w3id.org/peerchange/onto/"


@pytest.fixture(scope="module")
def svc(scaled_app) -> TraceService:
    return TraceService(scaled_app.services.sparql)


def _triples(svc: TraceService, mechanism: str) -> dict[str, dict[str, set[str]]]:
    found = svc.sparql.select("internal/trace/trace", {"mechanism": ox.NamedNode(mechanism)})
    out: dict[str, dict[str, set[str]]] = {}
    for r in found:
        out.setdefault(r["node"].value, {}).setdefault(r["property"].value, set()).add(
            getattr(r["value"], "value", str(r["value"])))
    return out


def _own(triples, mechanism: str) -> set[str]:
    """The mechanism, its change model(s) and their mechanisms, as the claims in the rows
    say (the rows leave out the bare shortcut edges)."""
    has = [(p[OBO + "SEPIO_0000388"], p[OBO + "SEPIO_0000390"]) for p in triples.values()
           if PCM + "hasMechanism" in p.get(OBO + "SEPIO_0000389", set())]
    models = {m for s, o in has if mechanism in o for m in s}
    return {mechanism, *models, *(x for s, o in has if s & models for x in o)}


@pytest.mark.parametrize("slug", ["role-modelling", "engagement", "trusting-relationships",
                                  "synth-1-m1", "synth-17-m2", "synth-30-m1"])
def test_a_trace_shows_no_claim_of_another_study(svc, slug):
    mechanism = ID + "mechanism/" + slug
    triples = _triples(svc, mechanism)
    own = _own(triples, mechanism)
    claims = {n: p for n, p in triples.items() if PCM + "Claim" in p.get(
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", set())}
    assert claims
    kinds = {PCM + "ChangeMechanism", PCM + "ChangeModel"}
    for iri, props in claims.items():
        (subject,) = props[OBO + "SEPIO_0000388"]
        types = triples.get(subject, {}).get(
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", set())
        assert subject in own or not types & kinds, (slug, iri)


def test_other_studies_claims_about_a_shared_theory_stay_out(svc):
    paper = set(_triples(svc, ID + "mechanism/role-modelling"))
    synthetic = {n for n in _triples(svc, ID + "mechanism/synth-1-m1")
                 if n.startswith(ID + "claim/synth-")}
    assert synthetic
    assert not synthetic & paper

