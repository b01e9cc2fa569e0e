"""The trace on the web (/trace, /cited): what a reviewer must see, through the Flask client."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from tests.trace.conftest import (
    ID,
    MECHANISMS,
    MISSION_THEORIES,
    PCM,
    STATUS_LABELS,
    walk_claims,
)

PCMNS = Namespace(PCM)
SEPIO_PREDICATE = URIRef("http://purl.obolibrary.org/obo/SEPIO_0000389")


# ---------------------------------------------------------------------------
# the four theories of the mission, with founding texts and each link's status
# ---------------------------------------------------------------------------


def test_the_three_traces_show_the_four_mission_theories_with_founding_texts(
    json_traces, claim_truth
):
    seen: dict[str, list[tuple[str, str, list[str]]]] = {}
    for slug, doc in json_traces.items():
        for link in doc["theories"]:
            theory = link["theory"]
            claim = link["claim"]
            seen.setdefault(theory["label"], []).append(
                (slug, claim["status"]["key"], theory.get("founding_texts", []))
            )
            # the status shown is the status the graph records for that claim
            assert claim["status"]["key"] == claim_truth[claim["iri"]]["status"]
            assert claim["status"]["label"] == STATUS_LABELS[claim["status"]["key"]]
    for theory, founding in MISSION_THEORIES.items():
        assert theory in seen, f"{theory} is in no trace"
        for slug, status, texts in seen[theory]:
            assert founding in texts, (theory, slug, texts)
            assert status in STATUS_LABELS
    # each founding text is in the works of the traces that link its theory, cited as authority
    for slug, doc in json_traces.items():
        works = {w["key"]: w for w in doc["works"]}
        for link in doc["theories"]:
            for key in link["theory"].get("founding_texts", []):
                roles = {c["role"] for c in works[key]["cited_as"]}
                assert "citesAsAuthority" in roles, (slug, key)
    assert {s for s, _, _ in seen["attachment theory"]} == {"trusting-relationships", "engagement"}
    assert {s for s, _, _ in seen["social learning theory"]} == {"role-modelling"}


def test_the_html_traces_show_the_four_theories_founding_texts_and_status(html_traces):
    found = {}
    for slug, html in html_traces.items():
        soup = BeautifulSoup(html, "html.parser")
        theories = soup.find("section", attrs={"aria-labelledby": "theories"})
        for node in theories.select("div.node"):
            name = node.find("h3").get_text(strip=True)
            first_claim = node.select_one("div.claim")
            badge = first_claim.select_one(".status").get_text(strip=True)
            found.setdefault(name, []).append((slug, badge, node.get_text(" ")))
    for theory, key in MISSION_THEORIES.items():
        assert theory in found
        for slug, badge, text in found[theory]:
            assert badge in STATUS_LABELS.values()
            assert key in text, (theory, slug)
            soup = BeautifulSoup(html_traces[slug], "html.parser")
            assert soup.find(id=f"work-{key}") is not None  # the full reference is on the page


# ---------------------------------------------------------------------------
# no trace shows a curated link without saying so
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("slug", MECHANISMS)
def test_every_link_in_the_json_trace_carries_its_true_status(json_traces, claim_truth, slug):
    claims = list(walk_claims(json_traces[slug]))
    assert len(claims) > 10
    for claim in claims:
        truth = claim_truth[claim["iri"]]
        assert claim["status"]["key"] == truth["status"], claim["iri"]
        assert claim["status"]["label"] == STATUS_LABELS[truth["status"]]
        assert claim["curated"] == (truth["status"] == "curated")
        if truth["status"] == "curated":
            assert claim["rationale"] == truth["rationale"] != ""
        else:
            assert claim["locator"], claim["iri"]
    assert json_traces[slug]["status_counts"]["curated"] > 0


@pytest.mark.parametrize("slug", MECHANISMS)
def test_every_link_in_the_html_trace_says_its_status_beside_it(
    html_traces, json_traces, claim_truth, slug
):
    soup = BeautifulSoup(html_traces[slug], "html.parser")
    shown = soup.select("div.claim")
    assert len(shown) == len(list(walk_claims(json_traces[slug])))
    curated = set()
    for element in shown:
        iri = element["data-claim"]
        truth = claim_truth[iri]
        assert element["data-status"] == truth["status"]
        link_line = element.select_one("p.link")
        badge = link_line.select_one(".status")  # beside the link, as text
        assert badge.get_text(strip=True) == STATUS_LABELS[truth["status"]], iri
        if truth["status"] == "curated":
            curated.add(iri)
            rationale = element.select_one(".rationale")
            assert rationale is not None and truth["rationale"] in rationale.get_text(" ")
            assert "curated inference" in rationale.get_text()
    assert curated == {c["iri"] for c in walk_claims(json_traces[slug]) if c["curated"]}
    assert len(curated) == json_traces[slug]["status_counts"]["curated"]
    # the legend explains the three statuses
    legend = soup.select_one("section.legend")
    for label in STATUS_LABELS.values():
        assert label in legend.get_text()
    assert "neither evidence nor a finding" in legend.get_text(" ")


@pytest.mark.parametrize("slug", MECHANISMS)
def test_the_turtle_trace_gives_every_link_as_a_claim_with_its_status(client, claim_truth, slug):
    resp = client.get(f"/trace/{slug}.ttl")
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/turtle")
    g = Graph().parse(data=resp.get_data(as_text=True), format="turtle")
    shortcuts = {URIRef(PCM + p) for p in (
        "groundedIn", "engagesConstruct", "leadsToOutcome", "contributesTo", "componentOf",
        "hasMechanism", "activatesMechanism", "enablesMechanism", "inTheoryFamily",
        "drawsOnTheoryFamily", "measuredBy", "developsModel")}
    assert not any(p in shortcuts for p in g.predicates()), "a bare shortcut edge is shown"
    claims = set(g.subjects(SEPIO_PREDICATE, None))
    assert claims
    for claim in claims:
        truth = claim_truth[str(claim)]
        status = g.value(claim, PCMNS.evidenceStatus)
        assert status is not None, claim
        if truth["status"] == "curated":
            assert status == PCMNS.CuratedInference
            assert str(g.value(claim, PCMNS.rationale)) == truth["rationale"]
    # the status concepts come with their labels
    assert (PCMNS.CuratedInference, RDF.type, PCMNS.EvidenceStatus) in g


# ---------------------------------------------------------------------------
# gaps, works, DOIs, printed text
# ---------------------------------------------------------------------------


def test_each_trace_shows_the_gaps_of_its_mechanism_and_of_the_model(json_traces):
    expected = {
        "trusting-relationships": "gap/trusting-relationships-further-sub-themes",
        "role-modelling": "gap/role-modelling-sub-themes",
        "engagement": "gap/engagement-sub-themes",
    }
    for slug, gap in expected.items():
        gaps = {g["iri"]: g for g in json_traces[slug]["gaps"]}
        assert gaps[ID + gap]["scope"] == "mechanism"
        assert gaps[ID + "gap/mechanism-outcome-links"]["scope"] == "mechanism"
        assert gaps[ID + "gap/theory-invocation"]["scope"] == "mechanism"
        assert gaps[ID + "gap/change-model-figure"]["scope"] == "model"
    # a claim-level gap sits beside its claim
    link = json_traces["trusting-relationships"]["mechanism_links"][0]
    assert link["claim"]["status"]["key"] == "companion"
    assert ID + "gap/trusting-relationships-enables-engagement-in-paper" in link["claim"]["gaps"]


def test_a_mechanism_without_components_says_it_is_a_gap_not_a_finding(html_traces):
    soup = BeautifulSoup(html_traces["role-modelling"], "html.parser")
    section = soup.find("section", attrs={"aria-labelledby": "components"})
    assert "not a finding" in section.get_text(" ")
    gaps = soup.find("section", attrs={"aria-labelledby": "gaps"})
    assert "sub-themes of the role-modelling mechanism not recovered" in gaps.get_text(" ")


def test_works_show_full_reference_doi_link_printed_text_and_correction(html_traces, json_traces):
    soup = BeautifulSoup(html_traces["role-modelling"], "html.parser")
    festinger = soup.find(id="work-Festinger1955")
    links = [a["href"] for a in festinger.find_all("a")]
    assert "https://doi.org/10.1177/001872675400700202" in links
    text = festinger.get_text(" ")
    assert "A theory of social comparison processes" in text
    assert "As printed:" in text and "Festinger, L (1955)" in text
    assert "Correction note:" in text and "1954" in text
    works = {w["key"]: w for w in json_traces["role-modelling"]["works"]}
    assert works["Festinger1955"]["doi_url"] == "https://doi.org/10.1177/001872675400700202"
    assert "1954" in works["Festinger1955"]["correction_note"]
    assert works["Bandura1977"]["printed"].startswith("Bandura, A (1977)")
    assert "doi" not in works["Bandura1977"]  # no DOI where none is known


# ---------------------------------------------------------------------------
# the reverse trace
# ---------------------------------------------------------------------------


def test_the_reverse_trace_of_bandura_1977_leads_back_to_role_modelling(client):
    doc = client.get("/cited/Bandura1977.json").get_json()
    assert [m["slug"] for m in doc["mechanisms"]] == ["role-modelling"]
    assert doc["in_reference_list"] is True
    assert [t["label"] for t in doc["founding_text_of"]] == ["social learning theory"]
    assert doc["claims"]
    for entry in doc["claims"]:
        assert {r["role"] for r in entry["cited_as"]} == {"citesAsAuthority"}
        assert entry["claim"]["status"]["label"] == "curated inference"
        assert entry["claim"]["rationale"]
    html = client.get("/cited/Bandura1977", headers={"Accept": "text/html"}).get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    section = soup.find("section", attrs={"aria-labelledby": "mechanisms"})
    assert section.find("a", href="/trace/role-modelling") is not None
    for element in soup.select("div.claim"):
        assert element.select_one("p.link .status").get_text(strip=True) == "curated inference"


def test_forward_and_reverse_traces_agree(client, json_traces):
    """Every work a trace cites leads back, in its reverse trace, to that mechanism."""
    for slug, doc in json_traces.items():
        for work in doc["works"]:
            reverse = client.get(f"/cited/{work['key']}.json").get_json()
            claims = {c["claim"]["iri"] for c in reverse["claims"]}
            cited_in_trace = {c["claim"] for c in work["cited_as"]}
            assert cited_in_trace <= claims, (slug, work["key"])


@pytest.mark.parametrize(("key", "slugs"), [
    ("Bordin1979", {"trusting-relationships"}),
    ("Bowlby1973", {"trusting-relationships", "engagement"}),
    ("Festinger1955", {"role-modelling"}),
])
def test_the_reverse_trace_of_each_founding_text(client, key, slugs):
    doc = client.get(f"/cited/{key}", headers={"Accept": "application/json"}).get_json()
    assert {m["slug"] for m in doc["mechanisms"]} == slugs


# ---------------------------------------------------------------------------
# interfaces: negotiation, twins, lookup, errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "suffix", "media"), [
    ("text/html", ".html", "text/html"),
    ("application/json", ".json", "application/json"),
    ("text/turtle", ".ttl", "text/turtle"),
])
def test_formats_by_accept_and_by_extension_twin(client, accept, suffix, media):
    by_accept = client.get("/trace/engagement", headers={"Accept": accept})
    by_twin = client.get(f"/trace/engagement{suffix}")
    for resp in (by_accept, by_twin):
        assert resp.status_code == 200
        assert resp.content_type.split(";")[0] == media
    assert by_accept.data == by_twin.data
    assert "Accept" in by_accept.headers["Vary"]
    assert 'rel="alternate"' in by_accept.headers["Link"]
    assert "/trace/engagement/bibliography.bib" in by_accept.headers["Link"]


def test_conditional_get_and_head(client):
    first = client.get("/trace/engagement.json")
    etag = first.headers["ETag"]
    again = client.get("/trace/engagement.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    head = client.head("/trace/engagement.json")
    assert head.status_code == 200 and head.data == b""


def test_trace_by_iri_parameter_and_by_search(client):
    iri = ID + "mechanism/role-modelling"
    by_iri = client.get("/trace", query_string={"iri": iri, "format": "json"})
    assert by_iri.status_code == 200
    assert by_iri.get_json()["mechanism"]["iri"] == iri
    found = client.get("/trace", query_string={"q": "role modelling"})
    assert found.status_code == 303
    assert found.headers["Location"].endswith("/trace/role-modelling")
    assert client.get("/trace/Role-Modelling").headers["Location"].endswith(
        "/trace/role-modelling")


def test_the_index_lists_the_mechanisms(client):
    doc = client.get("/trace", headers={"Accept": "application/json"}).get_json()
    assert sorted(m["slug"] for m in doc["mechanisms"]) == sorted(MECHANISMS)
    assert [s["key"] for s in doc["legend"]] == ["stated", "companion", "curated"]
    html = client.get("/trace").get_data(as_text=True)
    for slug in MECHANISMS:
        assert f'href="/trace/{slug}"' in html


def test_unknown_mechanism_is_404_with_suggestions(client):
    html = client.get("/trace/xyzzy", headers={"Accept": "text/html"})
    assert html.status_code == 404
    soup = BeautifulSoup(html.get_data(as_text=True), "html.parser")
    hrefs = {a["href"] for a in soup.select("ul.suggestions a")}
    assert hrefs == {f"/trace/{s}" for s in MECHANISMS}
    js = client.get("/trace/xyzzy.json")
    assert js.status_code == 404
    assert {s["id"] for s in js.get_json()["suggestions"]} == set(MECHANISMS)
    text = client.get("/trace/xyzzy", headers={"Accept": "text/plain"})
    assert text.status_code == 404 and b"Did you mean" in text.data
    assert client.get("/trace", query_string={"q": "xyzzy"}).status_code == 404


def test_unknown_work_is_404_with_suggestions(client):
    resp = client.get("/cited/Bandura1987.json")
    assert resp.status_code == 404
    assert [s["id"] for s in resp.get_json()["suggestions"]][:2] == ["Bandura1977", "Bandura1997"]
    assert client.get("/cited/bandura1977").headers["Location"].endswith("/cited/Bandura1977")


def test_unsupported_accept_is_406(client):
    resp = client.get("/trace/engagement", headers={"Accept": "image/png"})
    assert resp.status_code == 406
