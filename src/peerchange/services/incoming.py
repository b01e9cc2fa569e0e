"""What links to a resource, bounded on its page and document and complete in pages.

A resource that every study links to (a shipped theory every synthetic study grounds its
mechanisms in, a founding text every study cites) has thousands of claims about it and
thousands of links to it at 10^7 triples: a page listing all of them was 10 MB and 22-30 s
of CPU (bench/results/faces.md, "Round 6"). So, per property, a resource's page shows the
first :data:`MAX_LINKS` resources that link to it (the first :data:`MAX_CLAIMS` claims
about it whose subject it is, and as many whose object it is), in IRI order, with the
total; its RDF documents carry the same claims and say, in Hydra's terms, which lists of
claims they give in part and how large they are (:meth:`IncomingService.collections`;
a document counts the claims about the resource only, ``claim-counts``).
Each whole list is served in pages of :data:`PAGE_SIZE` (``/links/{path}?property=P``,
:mod:`peerchange.web.incoming`), like the reverse trace of a work (``/cited/{Key}``).

Where nothing exceeds its bound (every page of the shipped data), nothing is cut and the
page and documents are what they were.

Queries: ``incoming-counts``, ``claim-counts``, ``incoming-subjects``, ``claim-triples`` and
``link-claims`` of ``queries/internal/linked-data/``; the last two bind their IRIs in a
``VALUES`` block (:mod:`peerchange.services.trace.batched`), so they cost what the page
shows, not what the store holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import pyoxigraph as ox

from peerchange.core.errors import NotFound
from peerchange.core.namespaces import CLAIM_OBJECT, CLAIM_SUBJECT, RDF_TYPE
from peerchange.services.paging import HYDRA, PageWindow
from peerchange.services.sparql import SparqlService
from peerchange.services.trace.batched import select_rows, select_values

QUERIES = "internal/linked-data/"
#: Claims about a resource a page and document show per end (as subject, as object).
MAX_CLAIMS = 50
#: Resources linking to a resource a page shows per property (the shipped data's most,
#: 201, the authorships typed ``pcm:Authorship``, are under it: nothing shipped is cut).
MAX_LINKS = 250
#: Resources per page of the full list (``/links/{path}?property=P&page=N``).
PAGE_SIZE = 200
#: The properties by which a claim links to what it is about.
CLAIM_ENDS = (CLAIM_SUBJECT, CLAIM_OBJECT)
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"


@dataclass(frozen=True)
class Incoming:
    """How many resources (IRIs) link to ``iri``, per property (``totals``), and how many
    of them a page shows (``max_claims`` per claim end, ``max_links`` per property)."""

    iri: str
    totals: dict[str, int] = field(hash=False)
    max_claims: int = MAX_CLAIMS
    max_links: int = MAX_LINKS

    def bound(self, predicate: str) -> int:
        """How many of the links by ``predicate`` a page shows."""
        return self.max_claims if predicate in CLAIM_ENDS else self.max_links

    def cut(self, predicate: str) -> bool:
        """Whether a page shows only some of the links by ``predicate``."""
        return self.totals.get(predicate, 0) > self.bound(predicate)

    @property
    def cut_predicates(self) -> list[str]:
        """The properties whose links a page shows in part, in IRI order."""
        return sorted(p for p in self.totals if self.cut(p))

    @property
    def claims_cut(self) -> bool:
        """Whether a page shows only some of the claims about the resource."""
        return any(self.cut(p) for p in CLAIM_ENDS)

    @property
    def links_cut(self) -> bool:
        """Whether a page shows only some of the other links to the resource."""
        return any(self.cut(p) for p in self.totals if p not in CLAIM_ENDS)


class IncomingService:
    """Counts, the first few, and pages of what links to the resources of one graph.

    :param max_claims: claims a page shows per end (:data:`MAX_CLAIMS`);
        ``max_links``, links per property (:data:`MAX_LINKS`); ``page_size``, items per
        page of a whole list (:data:`PAGE_SIZE`). Set before the first request (the
        answers are cached).
    """

    def __init__(self, sparql: SparqlService, *, max_claims: int = MAX_CLAIMS,
                 max_links: int = MAX_LINKS, page_size: int = PAGE_SIZE) -> None:
        self.sparql = sparql
        self.max_claims, self.max_links, self.page_size = max_claims, max_links, page_size
        self.of = lru_cache(maxsize=1024)(self._of)
        self._subjects = lru_cache(maxsize=64)(self._read_subjects)

    def _of(self, iri: str, claims_only: bool = False) -> Incoming:
        """The :class:`Incoming` of ``iri`` (cached as ``of``: one aggregate query); with
        ``claims_only``, of the claims about it only (``claim-counts``: what a document
        needs, without counting every other link to the resource)."""
        name = "claim-counts" if claims_only else "incoming-counts"
        rows = self.sparql.select(QUERIES + name, {"resource": ox.NamedNode(iri)})
        return Incoming(iri, {r["predicate"].value: int(r["total"].value) for r in rows
                              if "predicate" in r and "total" in r},
                        self.max_claims, self.max_links)

    def subjects(self, iri: str, predicate: str) -> tuple[str, ...]:
        """Every IRI linking to ``iri`` by ``predicate``, in IRI order (the last 64 lists
        read are kept)."""
        return self._subjects(iri, predicate)

    def _read_subjects(self, iri: str, predicate: str) -> tuple[str, ...]:
        rows = self.sparql.select(QUERIES + "incoming-subjects", {
            "resource": ox.NamedNode(iri), "predicate": ox.NamedNode(predicate)})
        return tuple(sorted({r["subject"].value for r in rows}))

    def first(self, incoming: Incoming, predicate: str) -> list[str]:
        """What a page shows of the links to ``incoming.iri`` by ``predicate``: all of
        them, or the first :meth:`Incoming.bound` in IRI order."""
        if predicate not in incoming.totals:
            return []
        return list(self.subjects(incoming.iri, predicate)[:incoming.bound(predicate)])

    def page(self, iri: str, predicate: str, number: int) -> tuple[PageWindow, list[str]]:
        """Page ``number`` (from 1) of the IRIs linking to ``iri`` by ``predicate``.

        :raise NotFound: nothing links to ``iri`` by ``predicate``, or no such page.
        """
        total = self.of(iri).totals.get(predicate, 0)
        if not total:
            raise NotFound(f"Nothing links to {iri} by {predicate}.", kind="property")
        window = PageWindow(number, total, self.page_size)
        if not window.exists:
            raise NotFound(f"The {total} resources linking to {iri} by {predicate} take "
                           f"{window.count} page(s) of {self.page_size}; there is no page "
                           f"{number}.", kind="page")
        return window, list(self.subjects(iri, predicate)[window.start:window.stop])

    def claim_triples(self, claims: Iterable[str]) -> list[ox.Triple]:
        """Every triple of the ``claims`` (one query per 200 claims)."""
        rows = select_values(self.sparql, QUERIES + "claim-triples", "claim",
                             [ox.NamedNode(c) for c in claims])
        return list(dict.fromkeys(ox.Triple(r["claim"], r["p"], r["o"]) for r in rows))

    def link_claims(self, links: Iterable[tuple[str, str, str]]) -> list[str]:
        """The claims that stand for the ``(subject, predicate, object)`` links."""
        rows = select_rows(self.sparql, QUERIES + "link-claims", [
            {"subject": ox.NamedNode(s), "predicate": ox.NamedNode(p),
             "object": ox.NamedNode(o)} for s, p, o in links])
        return list(dict.fromkeys(r["claim"].value for r in rows))

    def collections(self, incoming: Incoming, listing: Callable[[str], str],
                    predicates: Iterable[str] | None = None) -> list[ox.Triple]:
        """What a document says of the lists it gives in part (the cut properties, or
        ``predicates``): ``<resource> hydra:collection <list>``, each list a
        ``hydra:Collection`` with its ``hydra:totalItems``, what it holds
        (``hydra:manages [ hydra:property P ; hydra:object <resource> ]``) and a comment
        saying how much a page shows; ``listing(P)`` makes its URL."""
        node = ox.NamedNode(incoming.iri)
        out: list[ox.Triple] = []
        for p in incoming.cut_predicates if predicates is None else predicates:
            whole = ox.NamedNode(listing(p))
            manages = ox.BlankNode()
            total = incoming.totals.get(p, 0)
            shown = min(total, incoming.bound(p))
            what = "claims about it" if p in CLAIM_ENDS else "resources linking to it"
            said = (f"The resource's page and documents give the first {shown} (in IRI order): "
                    "they are partial." if shown < total
                    else "The resource's page and documents give all of them.")
            out += [
                ox.Triple(node, ox.NamedNode(HYDRA + "collection"), whole),
                ox.Triple(whole, ox.NamedNode(RDF_TYPE), ox.NamedNode(HYDRA + "Collection")),
                ox.Triple(whole, ox.NamedNode(HYDRA + "totalItems"), ox.Literal(total)),
                ox.Triple(whole, ox.NamedNode(HYDRA + "manages"), manages),
                ox.Triple(manages, ox.NamedNode(HYDRA + "property"), ox.NamedNode(p)),
                ox.Triple(manages, ox.NamedNode(HYDRA + "object"), node),
                ox.Triple(whole, ox.NamedNode(RDFS_COMMENT), ox.Literal(
                    f"The {what} by <{p}> ({total}), in pages of {self.page_size}. {said}",
                    language="en")),
            ]
        return out


__all__ = ["CLAIM_ENDS", "MAX_CLAIMS", "MAX_LINKS", "PAGE_SIZE", "Incoming",
           "IncomingService"]
