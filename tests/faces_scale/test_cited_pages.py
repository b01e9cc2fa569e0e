"""A reverse trace in pages (issue 10: a work every study cites has a reverse trace that
grows with the store). Over the shipped data plus synthetic studies, with a page size
small enough for several pages: the pages together give the whole reverse trace's claims
and mechanisms; every format links its pages (HTTP ``Link``, HTML links, Hydra's
``view`` in JSON and Turtle); a reverse trace that fits on one page is the page as
before, without paging."""

from __future__ import annotations

import json
import shutil

import pyoxigraph as ox
import pytest

from peerchange.services.trace import TraceService

pytestmark = pytest.mark.slow

HYDRA = "http://www.w3.org/ns/hydra/core#"
SIZE = 7


@pytest.fixture(scope="module")
def paged_app(make_app, synth_nq, tmp_path_factory):
    """An app of its own (its own copy of the studies) whose reverse traces have pages of
    seven claims."""
    own = tmp_path_factory.mktemp("cited-pages") / "studies.nq"
    shutil.copyfile(synth_nq, own)
    app = make_app(extra_files=[str(own)])
    app.services.trace.page_size = SIZE
    return app


@pytest.fixture(scope="module")
def paged(paged_app):
    return paged_app.test_client()


def _claim_iris(reverse) -> list[str]:
    return [c.claim.iri for c in reverse.claims]


def test_the_pages_together_are_the_whole_reverse_trace(scaled_app):
    svc = TraceService(scaled_app.services.sparql, page_size=SIZE)
    whole = svc.cited("Bandura1977")
    first, page = svc.cited_page("Bandura1977", 1)
    assert page.count > 3 and page.total > len(whole.claims) // 2
    claims: list[str] = []
    mechanisms: dict[str, set[str]] = {}
    for number in range(1, page.count + 1):
        part, at = svc.cited_page("Bandura1977", number)
        assert at.number == number and len(part.claims) <= SIZE
        assert part.work == whole.work and part.founding_text_of == whole.founding_text_of
        assert part.gaps == whole.gaps and part.in_reference_list == whole.in_reference_list
        claims += _claim_iris(part)
        for m in part.mechanisms:
            mechanisms.setdefault(m.mechanism.iri, set()).update(m.claims)
    assert sorted(claims) == sorted(_claim_iris(whole))
    assert len(claims) == len(set(claims))
    assert mechanisms == {m.mechanism.iri: set(m.claims) for m in whole.mechanisms}
    by_iri = {c.claim.iri: c for c in whole.claims}
    for c in first.claims:
        assert c == by_iri[c.claim.iri]


def test_a_reverse_trace_on_one_page_is_the_whole_one(scaled_app):
    svc = TraceService(scaled_app.services.sparql)
    for key in ("Bandura1977", "Gillard2015"):
        whole = svc.cited(key)
        part, page = svc.cited_page(key, 1)
        assert not page.paged
        assert part is whole


def test_every_format_links_its_pages(paged):
    html = paged.get("/cited/Bandura1977?page=2")
    assert html.status_code == 200
    links = html.headers["Link"]
    for rel, number in (("first", 1), ("prev", 1), ("next", 3)):
        assert f'</cited/Bandura1977?page={number}>; rel="{rel}"' in links
    assert 'rel="last"' in links
    text = html.get_data(as_text=True)
    assert 'href="/cited/Bandura1977?page=3" rel="next"' in text
    assert "Page 2 of" in text

    doc = json.loads(paged.get("/cited/Bandura1977.json?page=2").get_data(as_text=True))
    view = doc["view"]
    assert view["@type"] == HYDRA + "PartialCollectionView"
    assert view["@id"] == "/cited/Bandura1977.json?page=2"
    assert view["next"] == "/cited/Bandura1977.json?page=3"
    assert view["previous"] == view["first"] == "/cited/Bandura1977.json?page=1"
    assert doc["totalItems"] > 3 * SIZE and len(doc["claims"]) <= SIZE

    ttl = paged.get("/cited/Bandura1977.ttl?page=2")
    assert ttl.status_code == 200
    graph = ox.Store()
    graph.load(ttl.data, format=ox.RdfFormat.TURTLE)
    page = ox.NamedNode("http://localhost/cited/Bandura1977.ttl?page=2")
    nxt = [q.object for q in graph.quads_for_pattern(page, ox.NamedNode(HYDRA + "next"), None)]
    assert nxt == [ox.NamedNode("http://localhost/cited/Bandura1977.ttl?page=3")]
    total = list(graph.quads_for_pattern(ox.NamedNode("http://localhost/cited/Bandura1977"),
                                         ox.NamedNode(HYDRA + "totalItems"), None))
    assert int(total[0].object.value) == doc["totalItems"]


def test_a_page_past_the_last_or_not_a_number_is_not_found(paged):
    assert paged.get("/cited/Bandura1977?page=9999").status_code == 404
    assert paged.get("/cited/Bandura1977?page=0").status_code == 404
    assert paged.get("/cited/Bandura1977?page=two").status_code == 404
    moved = paged.get("/cited/bandura1977?page=2")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/cited/Bandura1977?page=2")


def test_a_page_has_no_paging_when_everything_fits(scaled):
    answer = scaled.get("/cited/Gillard2015")
    assert answer.status_code == 200
    assert 'rel="next"' not in answer.headers["Link"]
    assert "view" not in json.loads(scaled.get("/cited/Gillard2015.json").get_data(as_text=True))
