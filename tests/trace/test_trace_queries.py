"""What a trace costs: queries per uncached trace (batched), none on a cache hit or an ETag
hit, caches kept per data version; and the RDF the batched rows give is complete."""

from __future__ import annotations

import dataclasses
import re

import pyoxigraph as ox
import pytest
from rdflib import Graph

from peerchange.services.sparql import SparqlService
from peerchange.services.trace import TraceService
from tests.trace.conftest import ID, MECHANISMS, PCM, walk_claims

#: The budget of query evaluations for one uncached trace or reverse trace, any format.
#: 12 (was 10): nothing store-wide is read for a trace any more (issue 10), so the details
#: of what it shows are read with their IRIs bound, one query more per kind: the trace's
#: details (labels, works, mechanisms), the mechanism or work named in the URL, and on an
#: HTML page the diagram's claims and labels (edge-claims, node-details).
BUDGET = 12

TRACE_URLS = [f"/trace/{slug}{suffix}" for slug in MECHANISMS
              for suffix in (".html", ".json", ".ttl", "/bibliography.bib")]
CITED_URLS = [f"/cited/{key}{suffix}" for key in ("Bandura1977", "Gillard2015", "Bowlby1973")
              for suffix in (".html", ".json", ".ttl")]
PAGE_ACCEPTS = [("text/html", "text/html"), ("application/json", "application/json"),
                ("text/turtle", "text/turtle")]


@pytest.fixture()
def cold(app, monkeypatch):
    """The app with a trace service that has cached nothing yet; returns a function that
    counts the queries a request runs."""
    monkeypatch.setattr(app.services, "trace", TraceService(app.services.sparql))
    client = app.test_client()

    def get(url: str, **kwargs):
        before = app.services.sparql.executed
        resp = client.get(url, **kwargs)
        return resp, app.services.sparql.executed - before

    return get


@pytest.mark.parametrize("url", TRACE_URLS + CITED_URLS)
def test_an_uncached_trace_runs_at_most_twelve_queries(cold, url):
    resp, queries = cold(url)
    assert resp.status_code == 200, resp.data
    assert 0 < queries <= BUDGET, queries


@pytest.mark.parametrize(("accept", "media"), PAGE_ACCEPTS)
def test_negotiated_traces_stay_within_the_budget(cold, accept, media):
    resp, queries = cold("/trace/role-modelling", headers={"Accept": accept})
    assert resp.status_code == 200 and resp.content_type.startswith(media)
    assert queries <= BUDGET
    resp, queries = cold("/cited/Festinger1955", headers={"Accept": accept})
    assert resp.status_code == 200 and resp.content_type.startswith(media)
    assert queries <= BUDGET


def test_once_the_tables_are_read_a_trace_is_three_queries(cold):
    """The tables (statuses, gaps) are read once per data version. Nothing store-wide is
    read for a trace any more (issue 10: at 10^7 triples the tables of every work and
    mechanism took longer than the query limit), so a trace costs what it shows: the
    mechanism named by its slug (one lookup, remembered per data version), its
    neighbourhood, and the details of what the neighbourhood names (labels, works and
    their authors, mechanisms: one query per 200 IRIs); a trace's RDF two or three more
    (its works' and gaps' rows and their details, which HTML and JSON do not need). A reverse trace:
    the work named by its key (the key, then the work's details), its neighbourhood and
    their details, and whether a reference list cites it; first, the IRIs of the claims it
    walks (cited-claims: how many pages it has, issue 10). The HTML page's diagram looks
    up the labels of the nodes it shows that no page showed before, one lookup each,
    remembered per data version (no whole-graph label table: it does not scale), at most
    4 here."""
    cold("/trace/engagement.ttl")
    cold("/trace/engagement.html")  # the diagram's tables (models, founding texts) too
    cold("/cited/Bandura1977.ttl")
    for url, expected in (("/trace/role-modelling.json", 3), ("/trace/role-modelling.ttl", 2),
                          # the RDF's rows name more than 200 IRIs: two queries of details
                          ("/trace/trusting-relationships.ttl", 6),
                          ("/trace/trusting-relationships.html", 4),
                          # a reverse trace: its claims' IRIs first (how many pages)
                          ("/cited/Bowlby1973.ttl", 6), ("/cited/Festinger1955.json", 6)):
        resp, queries = cold(url)
        assert resp.status_code == 200
        if url.endswith(".html"):
            # label lookups only: none when earlier pages of this data version showed them
            assert queries <= expected, url
        else:
            assert queries == expected, url


def test_the_two_trace_queries_walk_from_the_same_hubs():
    """trace.rq and trace-rdf.rq select the same claims (the RDF's works and gaps are
    those of the claims the trace is built from), from the same hubs."""
    from peerchange.core.queryfiles import get_query

    def claim_selection(name: str) -> str:
        """The sub-SELECT of the claims, comments and spacing left out."""
        lines = [ln for ln in get_query(f"internal/trace/{name}").text.splitlines()
                 if not ln.lstrip().startswith("#")]
        text = " ".join(" ".join(lines).split())
        inner = "SELECT ?mechanism ?claim WHERE"
        text = text[text.index(inner) + len(inner):]
        return text[:text.index("LIMIT ")]

    selection = claim_selection("trace")
    assert selection == claim_selection("trace-rdf")
    # the hubs: the mechanism itself, its model(s) either way, its theories, their
    # families, its outcomes and what they contribute to; then the claims made by the
    # mechanism and by its model(s)
    assert re.findall(r"\{ \?mechanism ([^{}]*?) \?claim \. \}", selection) == [
        "(pcm:hasMechanism | ^pcm:hasMechanism | pcm:groundedIn)?",
        "pcm:groundedIn/pcm:inTheoryFamily", "pcm:leadsToOutcome/pcm:contributesTo*",
        "^obo:SEPIO_0000388", "^pcm:hasMechanism/^obo:SEPIO_0000388"]


@pytest.mark.parametrize("url", TRACE_URLS + CITED_URLS + ["/trace", "/references.json",
                                                           "/references.bib"])
def test_a_repeat_is_served_from_the_cache(cold, url):
    first, _ = cold(url)
    again, queries = cold(url)
    assert queries == 0
    assert again.status_code == 200
    assert again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.parametrize("url", TRACE_URLS + CITED_URLS + ["/trace", "/references.json",
                                                           "/references.bib"])
def test_an_etag_hit_is_304_without_a_query(cold, url):
    first, _ = cold(url)
    resp, queries = cold(url, headers={"If-None-Match": first.headers["ETag"]})
    assert resp.status_code == 304
    assert queries == 0
    assert resp.data == b""
    assert resp.headers["ETag"] == first.headers["ETag"]
    for header in ("Vary", "Cache-Control"):
        assert resp.headers[header] == first.headers[header]
    assert resp.headers.get("Link") == first.headers.get("Link")


def test_the_etag_is_checked_before_the_trace_is_built(app, cold, monkeypatch):
    """A client holding the ETag of a trace gets 304 from a service that never built it
    (another worker's, or this one's after a restart): resolving the slug needs the
    mechanism list, nothing more."""
    etag = cold("/trace/engagement.ttl")[0].headers["ETag"]
    monkeypatch.setattr(app.services, "trace", TraceService(app.services.sparql))
    resp, queries = cold("/trace/engagement.ttl", headers={"If-None-Match": etag})
    assert resp.status_code == 304
    assert queries == 1  # the mechanism named by the slug, to resolve it


def test_negotiation_and_redirects_come_before_building(cold):
    resp, queries = cold("/trace/Role-Modelling.json")
    assert resp.status_code == 301
    assert resp.headers["Location"].endswith("/trace/role-modelling.json")
    assert queries == 1  # the mechanism named by the slug (in lower case: slugs match so)
    resp, queries = cold("/trace/engagement", headers={"Accept": "image/png"})
    assert resp.status_code == 406
    assert queries == 1  # the mechanism named by the slug; nothing built
    resp, queries = cold("/cited/bandura1977.ttl")
    assert resp.status_code == 301
    assert queries == 3  # no work has the key in this case; the works and their authors


def test_etags_differ_by_format_and_resource(client):
    etags = {client.get(url).headers["ETag"] for url in TRACE_URLS + CITED_URLS}
    assert len(etags) == len(TRACE_URLS + CITED_URLS)
    by_accept = client.get("/trace/engagement", headers={"Accept": "application/json"})
    assert by_accept.headers["ETag"] != client.get("/trace/engagement.ttl").headers["ETag"]


# ---------------------------------------------------------------------------
# the service: caches per data version, none at class level
# ---------------------------------------------------------------------------


def test_the_service_caches_per_data_version(shipped_graph):
    sparql = SparqlService(shipped_graph)
    svc = TraceService(sparql)
    first = svc.trace("engagement")
    assert svc.trace("engagement") is first
    queries = sparql.executed
    svc.trace_turtle(first)
    # its works' and gaps' RDF, and their details (more than 200 IRIs: two queries)
    assert sparql.executed - queries == 3
    queries = sparql.executed
    svc.trace_turtle(first)
    svc.cited("Bandura1977")
    svc.cited("Bandura1977")
    # the work by its key and its details, the reverse trace and its details, whether a
    # reference list cites it
    assert sparql.executed - queries == 5
    # new data: everything is read again
    sparql.graph = dataclasses.replace(shipped_graph, version="another version")
    queries = sparql.executed
    again = svc.trace("engagement")
    assert again is not first
    assert 1 < sparql.executed - queries <= BUDGET


def test_there_are_no_class_level_registries(shipped_graph):
    """Each service keeps its own caches: two services over one graph share nothing."""
    shared = {name: value for name, value in vars(TraceService).items()
              if isinstance(value, dict | list | set)}
    assert shared == {}
    assert not hasattr(TraceService, "for_store")
    one, two = (TraceService(SparqlService(shipped_graph)) for _ in range(2))
    one.trace("engagement")
    assert two.sparql.executed == 0
    two.trace("engagement")
    assert two.sparql.executed > 0


# ---------------------------------------------------------------------------
# the RDF taken from the batched rows is complete
# ---------------------------------------------------------------------------


def _described(store: ox.Store, iri: str) -> set[tuple[str, str, str]]:
    """The triples of ``iri`` in the store, bare shortcut edges left out."""
    reified = {q.subject.value for q in store.quads_for_pattern(
        None, ox.NamedNode(PCM + "reifiedAs"), None)}
    return {(q.subject.value, q.predicate.value, str(q.object))
            for q in store.quads_for_pattern(ox.NamedNode(iri), None, None)
            if q.predicate.value not in reified}


@pytest.mark.parametrize("slug", MECHANISMS)
def test_the_turtle_trace_describes_everything_it_shows(client, json_traces, shipped_store,
                                                        slug):
    """Every resource the trace shows (mechanism, claims and their ends, statuses and
    evidence lines, works with their authorships, gaps) comes with all its triples."""
    graph = Graph().parse(data=client.get(f"/trace/{slug}.ttl").get_data(as_text=True),
                          format="turtle")
    have = {(str(s), str(p)) for s, p, _ in graph}
    doc = json_traces[slug]
    shown = {doc["mechanism"]["iri"]}
    shown |= {g["iri"] for g in doc["gaps"]}
    for w in doc["works"]:
        shown.add(w["iri"])
    for c in walk_claims(doc):
        shown |= {c["iri"], c["subject"]["iri"], c["object"]["iri"], c["status"]["iri"]}
        shown |= {e["iri"] for e in c["evidence"]}
    for iri in shown:
        triples = _described(shipped_store, iri)
        assert triples, iri
        missing = {(s, p) for s, p, _ in triples} - have
        assert not missing, (iri, missing)
    authorships = {str(o) for _, p, o in graph if str(p) == PCM + "hasAuthorship"}
    assert authorships
    for iri in authorships:
        assert {(s, p) for s, p, _ in _described(shipped_store, iri)} <= have, iri


def test_the_reverse_turtle_trace_describes_the_work_and_its_claims(client, shipped_store):
    graph = Graph().parse(data=client.get("/cited/Bandura1977.ttl").get_data(as_text=True),
                          format="turtle")
    have = {(str(s), str(p)) for s, p, _ in graph}
    doc = client.get("/cited/Bandura1977.json").get_json()
    shown = {doc["work"]["iri"], ID + "theory/social-learning"}
    for entry in doc["claims"]:
        c = entry["claim"]
        shown |= {c["iri"], c["subject"]["iri"], c["object"]["iri"], c["status"]["iri"]}
    for iri in shown:
        missing = {(s, p) for s, p, _ in _described(shipped_store, iri)} - have
        assert not missing, (iri, missing)
