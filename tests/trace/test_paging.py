"""Paging in one place (issue 10, round 5): the arithmetic every paged answer shares
(:mod:`peerchange.services.paging`, the canned API's pages and a reverse trace's), and
the Hydra view of a reverse trace's page, built once as RDF and written as JSON and as
Turtle."""

from __future__ import annotations

import pyoxigraph as ox

from peerchange.services.canned import Page as CannedPage
from peerchange.services.paging import PageWindow
from peerchange.services.trace.documents import HYDRA, page_view


def test_where_a_page_stands():
    page = PageWindow(2, 45, 20)
    assert (page.count, page.paged, page.exists, page.start, page.stop) == (3, True, True,
                                                                               20, 40)
    assert (page.previous, page.next) == (1, 3)
    last = PageWindow(3, 45, 20)
    assert (last.stop, last.next, last.previous) == (45, None, 2)
    assert PageWindow(1, 0, 20).count == 1 and not PageWindow(1, 0, 20).paged
    assert not PageWindow(4, 45, 20).exists and not PageWindow(0, 45, 20).exists


def test_the_canned_pages_share_it():
    def page(number, total, per_page):
        return CannedPage(query=None, params={}, variables=[], rows=[], total=total,
                          page=number, per_page=per_page)

    assert (page(2, 60, 7).pages, page(2, 60, 7).has_prev, page(2, 60, 7).has_next) == (
        9, True, True)
    assert (page(9, 60, 7).has_next, page(1, 60, 7).has_prev) == (False, False)
    assert (page(1, 60, None).pages, page(1, 0, None).pages, page(1, 0, 5).pages) == (1, 1, 1)


def test_the_view_is_one_graph_written_twice():
    links = {"self": "/cited/K.json?page=2", "first": "/cited/K.json?page=1",
             "prev": "/cited/K.json?page=1", "next": "/cited/K.json?page=3",
             "last": "/cited/K.json?page=3"}
    view = page_view(PageWindow(2, 45, 20), "/cited/K", links, base="http://example.org")
    doc = view.json()
    assert doc["totalItems"] == 45
    assert doc["view"] == {
        "@type": HYDRA + "PartialCollectionView", "@id": "/cited/K.json?page=2",
        "first": "/cited/K.json?page=1", "last": "/cited/K.json?page=3",
        "previous": "/cited/K.json?page=1", "next": "/cited/K.json?page=3",
        "page": 2, "pages": 3, "itemsPerPage": 20}
    graph = {q.triple for q in ox.parse(view.turtle().encode(), format=ox.RdfFormat.TURTLE)}
    assert graph == set(view.triples)
    here = ox.NamedNode("http://example.org/cited/K.json?page=2")
    assert ox.Triple(ox.NamedNode("http://example.org/cited/K"), ox.NamedNode(HYDRA + "view"),
                     here) in graph
    assert ox.Triple(here, ox.NamedNode(HYDRA + "previous"),
                     ox.NamedNode("http://example.org/cited/K.json?page=1")) in graph
