"""The home page's queries over added data: a claim also of a class narrower than its kind
is not counted (``claim-kinds.rq``); a model's paper is its study's, else the work it is
derived from (``home-paper.rq``)."""

from __future__ import annotations

import pytest

from tests.conftest import app_settings

PCM = "https://w3id.org/peerchange/onto/"
CLAIM = ("https://w3id.org/peerchange/id/claim/"
         "trusting-relationships--leadsToOutcome--feeling-understood-and-validated")
NARROWER = f"""
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix pcm: <https://w3id.org/peerchange/onto/> .
<https://example.org/NarrowOutcomeClaim> rdfs:subClassOf pcm:MechanismOutcomeClaim .
<{CLAIM}> a <https://example.org/NarrowOutcomeClaim> .
"""


@pytest.mark.slow  # a graph of its own
def test_a_claim_of_a_narrower_class_is_not_counted(app, tmp_path):
    from peerchange.web import create_app

    extra = tmp_path / "narrower.ttl"
    extra.write_text(NARROWER)
    narrowed = create_app(app_settings(tmp_path / "dumps", extra_files=[str(extra)]), None)
    before = app.services.home.summary().outcome_links
    after = narrowed.services.home.summary().outcome_links
    assert before.claims > 1 and before.curated > 1
    # the claim is a curated inference: one claim and one curated inference fewer
    assert (after.claims, after.curated) == (before.claims - 1, before.curated - 1)
    assert narrowed.services.home.summary().theory_links == app.services.home.summary(
        ).theory_links


MODELS = """
@prefix pcm: <https://w3id.org/peerchange/onto/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@base <https://w3id.org/peerchange/id/> .
<model/derived-only> a pcm:ChangeModel ; prov:wasDerivedFrom <ref/Bandura1977> .
<model/both> a pcm:ChangeModel ; prov:wasDerivedFrom <ref/Bandura1977> .
<study/of-both> pcm:developsModel <model/both> ; pcm:reportedIn <ref/Bandura1997> .
"""


@pytest.mark.slow  # a graph of its own
def test_a_models_paper_is_its_studys_else_what_it_is_derived_from(tmp_path):
    import pyoxigraph as ox

    from peerchange.web import create_app

    extra = tmp_path / "models.ttl"
    extra.write_text(MODELS)
    sparql = create_app(app_settings(tmp_path / "dumps", extra_files=[str(extra)]),
                        None).services.sparql
    ref = "https://w3id.org/peerchange/id/ref/"
    for model, paper, key in (("derived-only", ref + "Bandura1977", "Bandura1977"),
                              ("both", ref + "Bandura1997", "Bandura1997")):
        rows = sparql.select("internal/site/home-paper", {
            "model": ox.NamedNode("https://w3id.org/peerchange/id/model/" + model)})
        assert rows, model
        assert {(r["paper"].value, r["key"].value) for r in rows} == {(paper, key)}, model
        assert all("title" in r and "author" in r for r in rows), model
