"""The pages and documents of much-linked resources, bounded (issue 10: a theory every
study grounds its mechanisms in, a founding text every study cites). Over the shipped data
plus 30 synthetic studies, with bounds lowered so those resources exceed them: a page and
its documents show the first claims and links (in IRI order) and say how many there are
and where the whole lists are; the concise bounded description stays complete; the whole
lists, in pages (``/links/{path}``), are every claim and link the store holds."""

from __future__ import annotations

import json
import re
import shutil
from urllib.parse import quote

import pyoxigraph as ox
import pytest

from tests.conftest import sparql_rows

pytestmark = pytest.mark.slow

HYDRA = "http://www.w3.org/ns/hydra/core#"
OBO = "http://purl.obolibrary.org/obo/"
PCM = "https://w3id.org/peerchange/onto/"
ID = "https://w3id.org/peerchange/id/"
CLAIMS, LINKS, SIZE = 3, 4, 5
MENTORING = ID + "theory/mentoring"
ENDS_HERE = OBO + "SEPIO_0000390"


@pytest.fixture(scope="module")
def bounded_app(make_app, synth_nq, tmp_path_factory):
    """An app of its own (its own copy of the studies) with low bounds."""
    own = tmp_path_factory.mktemp("bounded-pages") / "studies.nq"
    shutil.copyfile(synth_nq, own)
    app = make_app(extra_files=[str(own)])
    incoming = app.services.resources.incoming
    incoming.max_claims, incoming.max_links, incoming.page_size = CLAIMS, LINKS, SIZE
    return app


@pytest.fixture(scope="module")
def bounded(bounded_app):
    return bounded_app.test_client()


def _subjects(client, predicate: str, iri: str) -> list[str]:
    rows = sparql_rows(client, f"SELECT DISTINCT ?s WHERE {{ ?s <{predicate}> <{iri}> "
                               "FILTER(isIRI(?s)) }")
    return sorted(r["s"] for r in rows)


def _listing(iri: str, predicate: str) -> str:
    path = iri[len("https://w3id.org/peerchange/"):]
    return f"/links/{path}?property={quote(predicate, safe='')}"


def _graph(body: bytes, fmt: ox.RdfFormat = ox.RdfFormat.TURTLE) -> ox.Store:
    store = ox.Store()
    store.load(body, format=fmt, base_iri="http://localhost/")
    return store


def _objects(store: ox.Store, s: ox.NamedNode | ox.BlankNode, p: str) -> list:
    return [q.object for q in store.quads_for_pattern(s, ox.NamedNode(p), None)]


def test_a_theory_page_shows_the_first_claims_and_links_and_says_how_many(bounded):
    claims = _subjects(bounded, ENDS_HERE, MENTORING)
    grounded = _subjects(bounded, PCM + "groundedIn", MENTORING)
    assert len(claims) > CLAIMS and len(grounded) > LINKS
    html = bounded.get("/id/theory/mentoring.html").get_data(as_text=True)
    body = html.split("</script>")[-1]  # the page, not its embedded JSON-LD
    starting = _subjects(bounded, OBO + "SEPIO_0000388", MENTORING)  # under the bound
    shown = [ID + "claim/" + c for c in re.findall(
        r'href="http://localhost/id/claim/([^"]+)">the claim', body)]
    assert sorted(shown) == sorted(claims[:CLAIMS] + starting)
    assert (f"Shown: the first {CLAIMS} (in IRI order) of the {len(claims)} claims that end "
            "here.") in body
    listing = "http://localhost" + _listing(MENTORING, ENDS_HERE).replace("&", "&amp;")
    assert f'href="{listing}">All {len(claims)}, in pages</a>' in body
    links_here = body.split('id="links-here"')[1]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", links_here)
    grounded_rows = [r for r in rows if "grounded in" in r[1]]
    assert len(grounded_rows) == LINKS
    # each shown link has the status of its claim beside it, though the claims are cut
    assert all('class="status' in r[2] for r in grounded_rows)
    assert f"of the {len(grounded)} resources that link here by" in links_here


def test_the_document_keeps_its_description_and_bounds_the_claims(bounded):
    claims = _subjects(bounded, ENDS_HERE, MENTORING)
    doc = _graph(bounded.get("/id/theory/mentoring.ttl").data)
    node = ox.NamedNode(MENTORING)
    described = {(t["p"], t["o"]) for t in sparql_rows(
        bounded, f"SELECT ?p ?o WHERE {{ <{MENTORING}> ?p ?o }}")}
    have = {(q.predicate.value, q.object.value) for q in doc.quads_for_pattern(node, None, None)
            if not q.predicate.value.startswith(HYDRA)}
    assert have == described  # the concise bounded description, complete
    in_doc = sorted(q.subject.value for q in doc.quads_for_pattern(
        None, ox.NamedNode(ENDS_HERE), node))
    assert in_doc == claims[:CLAIMS]
    status = _objects(doc, ox.NamedNode(in_doc[0]), PCM + "evidenceStatus")
    assert status  # a shown claim comes with all its triples
    collections = _objects(doc, node, HYDRA + "collection")
    by_property = {}
    for c in collections:
        manages = _objects(doc, c, HYDRA + "manages")[0]
        assert _objects(doc, manages, HYDRA + "object") == [node]
        by_property[_objects(doc, manages, HYDRA + "property")[0].value] = c
    whole = by_property[ENDS_HERE]
    assert whole.value == "http://localhost" + _listing(MENTORING, ENDS_HERE)
    assert int(_objects(doc, whole, HYDRA + "totalItems")[0].value) == len(claims)
    assert "partial" in _objects(doc, whole, "http://www.w3.org/2000/01/rdf-schema#comment")[0].value


def test_the_embedded_json_ld_is_bounded_the_same_way(bounded):
    claims = _subjects(bounded, ENDS_HERE, MENTORING)
    html = bounded.get("/id/theory/mentoring.html").get_data(as_text=True)
    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    expanded = json.loads(block)
    doc = _graph(json.dumps(expanded).encode(), ox.RdfFormat.JSON_LD)
    node = ox.NamedNode(MENTORING)
    in_doc = sorted(q.subject.value for q in doc.quads_for_pattern(
        None, ox.NamedNode(ENDS_HERE), node))
    assert in_doc == claims[:CLAIMS]
    totals = [int(_objects(doc, c, HYDRA + "totalItems")[0].value)
              for c in _objects(doc, node, HYDRA + "collection")]
    assert len(claims) in totals


@pytest.mark.parametrize("predicate", [ENDS_HERE, PCM + "groundedIn"])
def test_the_pages_of_a_whole_list_are_every_link_in_iri_order(bounded, predicate):
    expected = _subjects(bounded, predicate, MENTORING)
    url, seen, pages = _listing(MENTORING, predicate), [], 0
    while url:
        resp = bounded.get(url, headers={"Accept": "text/turtle"})
        assert resp.status_code == 200
        pages += 1
        doc = _graph(resp.data)
        here = sorted(q.subject.value for q in doc.quads_for_pattern(
            None, ox.NamedNode(predicate), ox.NamedNode(MENTORING)))
        assert 0 < len(here) <= SIZE
        seen += here
        whole = ox.NamedNode("http://localhost" + _listing(MENTORING, predicate))
        assert int(_objects(doc, whole, HYDRA + "totalItems")[0].value) == len(expected)
        view = _objects(doc, whole, HYDRA + "view")[0]
        assert _objects(doc, view, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type") == [
            ox.NamedNode(HYDRA + "PartialCollectionView")]
        nxt = re.search(r'<([^>]+)>; rel="next"', resp.headers.get("Link", ""))
        assert bool(nxt) == bool(_objects(doc, view, HYDRA + "next"))
        url = nxt.group(1) if nxt else None
    assert seen == expected and pages == -(-len(expected) // SIZE)


def test_a_claims_page_shows_each_claim_with_its_status(bounded):
    claims = _subjects(bounded, ENDS_HERE, MENTORING)
    resp = bounded.get(_listing(MENTORING, ENDS_HERE) + "&page=2",
                       headers={"Accept": "text/html"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'rel="prev"' in resp.headers["Link"]
    shown = re.findall(r'href="http://localhost/id/claim/([^"]+)">the claim', html)
    assert [ID + "claim/" + c for c in shown] == claims[SIZE:2 * SIZE]
    assert html.count("Evidence status: <span class=\"status") == len(shown)


def test_a_work_page_links_to_its_reverse_trace_and_the_whole_list(bounded):
    cites = _subjects(bounded, "http://purl.org/spar/cito/citesAsAuthority",
                      ID + "ref/Bandura1977")
    assert len(cites) > LINKS
    body = bounded.get("/id/ref/Bandura1977.html").get_data(as_text=True).split("</script>")[-1]
    assert f"of the {len(cites)} resources that link here by" in body
    assert 'href="/cited/Bandura1977">its reverse trace</a>' in body


def test_what_is_not_there_is_a_404(bounded):
    assert bounded.get(_listing(MENTORING, ENDS_HERE) + "&page=999").status_code == 404
    assert bounded.get(_listing(MENTORING, PCM + "nothing")).status_code == 404
    assert bounded.get("/links/id/theory/no-such-theory").status_code == 404
    overview = bounded.get("/links/id/theory/mentoring", headers={"Accept": "text/html"})
    assert overview.status_code == 200
    assert _listing(MENTORING, ENDS_HERE).replace("&", "&amp;") in overview.get_data(
        as_text=True)


def test_a_listing_page_asked_again_with_its_etag_is_a_304_without_the_page(bounded,
                                                                            monkeypatch):
    url = _listing(MENTORING, ENDS_HERE) + "&page=2"
    first = bounded.get(url, headers={"Accept": "text/turtle"})
    assert first.status_code == 200 and first.headers["ETag"]
    resources = bounded.application.services.resources

    def not_again(*args, **kwargs):
        raise AssertionError("the page was built for a matching If-None-Match")

    monkeypatch.setattr(resources, "links_page", not_again)
    again = bounded.get(url, headers={"Accept": "text/turtle",
                                      "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
