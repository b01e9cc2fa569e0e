"""Where one page stands among the pages of a list: the arithmetic every paged answer
shares (the canned API's pages of rows, :class:`peerchange.services.canned.Page`; a
reverse trace's pages of claims, :mod:`peerchange.services.trace.pages`).

The links between pages (RFC 8288 relations, the URLs) are the web's
(:mod:`peerchange.web.paging`); what a page of RDF says of its place (Hydra's
``PartialCollectionView``, :func:`page_view`) is here, for the reverse trace's pages and
the pages of what links to a resource (:mod:`peerchange.services.incoming`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from peerchange.core.formats import RDF_FORMATS
from peerchange.core.namespaces import RDF_TYPE
from peerchange.core.results import write_graph


@dataclass(frozen=True)
class PageWindow:
    """Page ``number`` (from 1) of ``total`` items, ``size`` a page."""

    number: int
    total: int
    size: int

    @property
    def count(self) -> int:
        """How many pages there are (one for no items)."""
        return max(1, -(-self.total // self.size))

    @property
    def paged(self) -> bool:
        """Whether the items take more than one page."""
        return self.count > 1

    @property
    def exists(self) -> bool:
        """Whether there is such a page (the one page of no items included)."""
        return 1 <= self.number <= self.count

    @property
    def start(self) -> int:
        """The index of the page's first item (from 0)."""
        return (self.number - 1) * self.size

    @property
    def stop(self) -> int:
        """The index after the page's last item."""
        return min(self.total, self.start + self.size)

    @property
    def previous(self) -> int | None:
        """The number of the page before, if any."""
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        """The number of the page after, if any."""
        return self.number + 1 if self.number < self.count else None


_TURTLE = next(f for f in RDF_FORMATS if f.name == "turtle")
HYDRA = "http://www.w3.org/ns/hydra/core#"
#: Hydra's names of the relations between pages (RFC 8288's ``prev`` is its ``previous``),
#: in the order the RDF gives them.
HYDRA_RELATIONS = {"first": "first", "prev": "previous", "next": "next", "last": "last"}
# the order of the JSON view's members (as written since the pages came, round 4)
_JSON_ORDER = ("first", "last", "previous", "next")


@dataclass(frozen=True)
class PageView:
    """Where a page of a paged collection (a reverse trace, what links to a resource)
    stands, as RDF (Hydra Core): the collection ``hydra:view`` the page and its
    ``hydra:totalItems``; the page a ``hydra:PartialCollectionView`` with
    ``hydra:first``, ``previous``, ``next`` and ``last``. Built once (:func:`page_view`),
    written as Turtle (absolute IRIs) or as the JSON document's ``totalItems`` and
    ``view`` (Hydra's names as keys, root-relative URLs, and the page's number, the count
    of pages and their size)."""

    page: PageWindow
    base: str
    triples: tuple[ox.Triple, ...]

    def turtle(self) -> str:
        """The statements, appended to the page's Turtle document."""
        return "\n" + write_graph(_TURTLE, list(self.triples)).decode()

    def json(self) -> dict[str, Any]:
        """The members the JSON document gets (after its own)."""
        total = next(int(t.object.value) for t in self.triples
                     if t.predicate.value == HYDRA + "totalItems")
        here = next(t.object for t in self.triples if t.predicate.value == HYDRA + "view")
        said = {t.predicate.value[len(HYDRA):]: self._relative(t.object.value)
                for t in self.triples if t.subject == here and t.predicate.value != RDF_TYPE}
        return {"totalItems": total,
                "view": {"@type": HYDRA + "PartialCollectionView",
                         "@id": self._relative(here.value),
                         **{name: said[name] for name in _JSON_ORDER if name in said},
                         "page": self.page.number, "pages": self.page.count,
                         "itemsPerPage": self.page.size}}

    def _relative(self, iri: str) -> str:
        return iri[len(self.base):] if iri.startswith(self.base) else iri


def page_view(page: PageWindow, collection: str, links: Mapping[str, str], *,
              base: str) -> PageView:
    """The :class:`PageView` of ``page`` of the collection at ``collection`` (a reverse
    trace, what links to a resource).

    :param links: the URLs of this page (``self``) and the pages around it by RFC 8288
        relation (``first``, ``prev``, ``next``, ``last``), root-relative, as
        ``collection``.
    :param base: the site's root (scheme and host), which makes them IRIs.
    """
    def iri(url: str) -> ox.NamedNode:
        return ox.NamedNode(base + url)

    whole, here = iri(collection), iri(links["self"])
    triples = [ox.Triple(whole, ox.NamedNode(HYDRA + "view"), here),
               ox.Triple(whole, ox.NamedNode(HYDRA + "totalItems"), ox.Literal(page.total)),
               ox.Triple(here, ox.NamedNode(RDF_TYPE),
                         ox.NamedNode(HYDRA + "PartialCollectionView"))]
    triples += [ox.Triple(here, ox.NamedNode(HYDRA + name), iri(links[rel]))
                for rel, name in HYDRA_RELATIONS.items() if rel in links]
    return PageView(page, base, tuple(triples))
