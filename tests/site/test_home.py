"""The home page: what the graph is, where it comes from, the evidence-status warning, live
counts, the change-model diagram, the ways in; and the dataset description for RDF clients."""

from __future__ import annotations

import pytest

from tests.conftest import media_type, sparql_count, sparql_rows
from tests.site.conftest import BROWSER, soup

PCM = "PREFIX pcm: <https://w3id.org/peerchange/onto/>\n"
RDFS = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"


@pytest.fixture(scope="module")
def home(client):
    resp = client.get("/", headers={"Accept": BROWSER})
    assert resp.status_code == 200
    assert media_type(resp) == "text/html"
    return resp


def test_home_says_where_the_graph_comes_from_as_the_data_records_it(client, home):
    text = soup(home).get_text(" ")
    paper = sparql_rows(client, """
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX bibo: <http://purl.org/ontology/bibo/>
        PREFIX fabio: <http://purl.org/spar/fabio/>
        SELECT ?title ?doi ?journal ?year WHERE {
          <https://w3id.org/peerchange/id/ref/Gillard2015> dcterms:title ?title ;
             bibo:doi ?doi ; fabio:hasPublicationYear ?year ;
             dcterms:isPartOf/dcterms:title ?journal }""")[0]
    for value in paper.values():
        assert value in text
    assert paper["doi"] == "10.1017/S2045796014000407"
    assert "Gillard S, Gibson SL, Holley J, Lucock M" in text
    assert "24(5), 435–445" in text
    assert soup(home).find("a", href="https://doi.org/10.1017/S2045796014000407")
    assert soup(home).find("a", href="/cited/Gillard2015")


def test_home_warns_that_theory_and_outcome_links_are_curated_inferences(client, home):
    page = soup(home)
    warning = page.find(id="evidence-warning").get_text(" ")
    assert "curated inference" in warning and "not the paper's finding" in warning
    theory_links = sparql_count(client, PCM + """SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {
        ?c a pcm:TheoreticalGroundingClaim ; pcm:evidenceStatus pcm:CuratedInference }""")
    outcome_links = sparql_count(client, PCM + """SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {
        ?c a pcm:MechanismOutcomeClaim ; pcm:evidenceStatus pcm:CuratedInference }""")
    assert f"theory→mechanism link ({theory_links})" in warning
    assert f"mechanism→outcome link ({outcome_links})" in warning


COUNT_QUERIES = {
    "triples": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "mechanisms": PCM + "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a pcm:ChangeMechanism }",
    "theories": PCM + "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?t a pcm:Theory }",
    "outcomes": PCM + RDFS + "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { "
                             "?o a/rdfs:subClassOf* pcm:Outcome }",
    "works": PCM + "SELECT (COUNT(DISTINCT ?w) AS ?n) WHERE { ?w pcm:referenceKey ?k }",
    "claims": PCM + "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a pcm:Claim }",
}


@pytest.mark.parametrize("name", COUNT_QUERIES)
def test_each_count_on_the_home_page_equals_a_sparql_count(client, home, name):
    shown = soup(home).find(attrs={"data-count": name}).get_text(strip=True)
    assert int(shown.replace(",", "")) == sparql_count(client, COUNT_QUERIES[name])


def test_claims_by_status_equal_a_sparql_count(client, home):
    rows = sparql_rows(client, PCM + """SELECT ?status (COUNT(DISTINCT ?c) AS ?n) WHERE {
        ?c a pcm:Claim ; pcm:evidenceStatus ?status } GROUP BY ?status""")
    keys = {"StatedInSource": "stated", "ReportedInCompanionPaper": "companion",
            "CuratedInference": "curated"}
    page = soup(home)
    assert len(rows) == 3
    for row in rows:
        key = keys[row["status"].rsplit("/", 1)[-1]]
        shown = page.find(attrs={"data-status": key})
        assert int(shown.get_text(strip=True)) == int(row["n"])
        badge = shown.find_previous_sibling("span")
        assert badge["class"] == ["status", key]


def test_home_links_every_way_in(home):
    hrefs = {a["href"] for a in soup(home).find("main").find_all("a", href=True)}
    for path in ("/sparql", "/trace", "/references", "/dataset", "/dumps/", "/api"):
        assert path in hrefs, path


def test_home_shows_the_change_model_diagram_or_says_where_the_model_is(app, home):
    page = soup(home)
    anchors = page.find_all(id="change-model")
    assert len(anchors) == 1  # the navigation's /#change-model lands on it
    if hasattr(app.services, "diagram") and app.services.diagram.figure().svg:
        figure = anchors[0]
        assert figure.name == "figure"
        assert figure.find("svg") is not None
        assert figure.find(id="diagram-text") is not None


@pytest.mark.parametrize(("accept", "ext"), [
    ("text/turtle", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/rdf+xml", "rdf"),
    ("application/n-triples", "nt"),
    ("text/turtle;q=1, text/html;q=0.5", "ttl"),
])
def test_rdf_clients_get_the_dataset_description(client, accept, ext):
    resp = client.get("/", headers={"Accept": accept})
    dataset = client.get(f"/dataset.{ext}")
    assert resp.status_code == 200
    assert media_type(resp) == media_type(dataset) != "text/html"
    assert resp.data == dataset.data
    assert b"dataset/peerchange" in resp.data  # the VoID/DCAT description
    assert b"Dataset" in resp.data
    assert "Accept" in resp.headers["Vary"]
    assert resp.headers["Content-Location"].endswith(f"/dataset.{ext}")


def test_format_parameter_and_browsers(client):
    assert media_type(client.get("/?format=ttl")) == "text/turtle"
    for headers in ({}, {"Accept": "*/*"}, {"Accept": BROWSER}):
        resp = client.get("/", headers=headers)
        assert media_type(resp) == "text/html"
        assert "Accept" in resp.headers["Vary"]
    assert client.get("/", headers={"Accept": "image/png"}).status_code == 406
