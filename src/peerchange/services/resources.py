"""Resource descriptions for linked-data clients and readers: what ``/id/...``, ``/onto/...``
and ``/onto`` answer.

The RDF of a resource is its concise bounded description (its triples, following blank
nodes), the labels of everything it links to, and the claims about it (claims whose
subject, ``obo:SEPIO_0000388``, or object, ``obo:SEPIO_0000390``, is the resource, with all
their triples: evidence status, locator, rationale, citations), so a harvester can display
it and see the status of every link without a second request. The ontology IRI's document
is the whole ontology graph.

The HTML page is built from the same triples plus "what links here"
(:mod:`peerchange.services.resource_page`). Both are bounded
(:mod:`peerchange.services.incoming`): past :data:`~peerchange.services.incoming.MAX_CLAIMS`
claims about it (per end) or :data:`~peerchange.services.incoming.MAX_LINKS` links to it
by one property, a page and a document give the first of them in IRI order, with the
totals and where the whole lists are (Hydra collections in the RDF); the concise bounded
description is always complete. Unknown IRIs get close-match suggestions
(:meth:`ResourceService.suggest`, read from every page: up to :data:`SUGGEST_MAX_TRIPLES`
triples). The labels of what links to a page are read in batches. The list of every page
(the sitemap's) is :mod:`peerchange.services.page_list`'s. Every read goes through the
SPARQL service, with the queries of ``queries/internal/linked-data/``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox

from peerchange.core.describe import add_labels, unique_triples
from peerchange.core.formats import Format
from peerchange.core.namespaces import BASE, GRAPH, ID, ONTOLOGY, PCM, shorten
from peerchange.services.incoming import CLAIM_ENDS, Incoming, IncomingService
from peerchange.services.page_list import PagePaths, has_page, page_paths
from peerchange.services.rdf_writer import write_document
from peerchange.services.resource_page import (
    ClaimRef,
    IncomingLink,
    LinksPage,
    OntologyTerm,
    PageBuilder,
    ResourcePage,
)
from peerchange.services.sparql import SparqlService
from peerchange.services.terms import LABELS_OF, LabelLookup, Labels, labels, published_context
from peerchange.services.trace.batched import select_values

QUERIES = "internal/linked-data/"
# suggestions for unknown IRIs: the least similarity, and how much of the path is compared
SUGGEST_CUTOFF = 0.6
MAX_SUGGEST_CHARS = 120
#: up to this many triples an unknown IRI's 404 (and ``/id/``'s) lists close matches from
#: every page of the graph (:attr:`ResourceService.known`, read once); above it that read
#: is skipped (25 s of CPU at 10^6 triples, past the deadline at 10^7, and 1.4 s of
#: matching per 404 after it): the web layer suggests a search instead
#: (bench/results/faces.md, "Round 5")
SUGGEST_MAX_TRIPLES = 250_000


def _named(triples: Iterable[ox.Triple]) -> set[str]:
    """The IRIs ``triples`` use as subject, predicate or object."""
    return {n.value for t in triples for n in (t.subject, t.predicate, t.object)
            if isinstance(n, ox.NamedNode)}


def listing_path(iri: str, predicate: str) -> str:
    """The site path (no leading slash) of the paged list of what links to ``iri`` by
    ``predicate`` (:mod:`peerchange.web.incoming`)."""
    return f"links/{path_for_iri(iri) or iri}?{urlencode({'property': predicate})}"


def path_for_iri(iri: str) -> str | None:
    """Return the path (without a leading slash) of one of our IRIs, else ``None``."""
    return iri[len(BASE):] if iri.startswith(BASE) else None


@dataclass(frozen=True)
class Suggestion:
    iri: str
    path: str
    label: str


# ---------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------


class ResourceService:
    """Describes the resources of one loaded :class:`KnowledgeGraph`.

    :param sparql: the SPARQL service to query through (one over ``graph`` with the
        default limits if not given).
    :param cache_dir: the folder the list of pages is kept in across workers and
        restarts (the dumps' folder, :mod:`peerchange.services.page_list`); ``None``:
        in memory only.
    """

    def __init__(self, sparql: SparqlService, cache_dir: str | Path | None = None) -> None:
        self.sparql = sparql
        self.cache_dir = str(cache_dir) if cache_dir else None
        self.graph = sparql.graph
        self.incoming = IncomingService(sparql)
        self.document = lru_cache(maxsize=512)(self._document)
        self.page = lru_cache(maxsize=256)(self._page)
        self._described_at_all = lru_cache(maxsize=4096)(self._is_described)

    # -- what exists --------------------------------------------------------

    @cached_property
    def known(self) -> dict[str, str]:
        """Every IRI in our namespaces that the graph describes, with its label (or ``""``):
        a whole-graph read, done at most once per service (data version), and only for
        the labels of the suggestions (up to :data:`SUGGEST_MAX_TRIPLES` triples)."""
        return {
            row["resource"].value: row["label"].value if "label" in row else ""
            for row in self.sparql.select(QUERIES + "known-resources")
        }

    @cached_property
    def named_graphs(self) -> list[str]:
        """The named graphs served, from the knowledge graph's own list (the load's counts,
        or a remote store's publication record): Virtuoso 7.2 answers nothing to
        ``GRAPH ?g {}``, so the store is not asked."""
        return list(self.sparql.graph.data_graphs)

    def exists(self, iri: str) -> bool:
        """Whether ``iri`` is the ontology, a term, an instance or a named graph we serve:
        one lookup of ``iri`` (``resource-exists.rq``), remembered."""
        if iri in self.named_graphs and iri.startswith(GRAPH):
            return True
        if not (iri == ONTOLOGY or iri.startswith(PCM) or iri.startswith(ID)
                or iri.startswith(GRAPH)):
            return False
        return self._described_at_all(iri)

    def _is_described(self, iri: str) -> bool:
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return False
        return self.sparql.ask(QUERIES + "resource-exists", {"resource": node})

    @property
    def suggests_from_every_page(self) -> bool:
        """Whether :meth:`suggest` reads every page of the graph (at most
        :data:`SUGGEST_MAX_TRIPLES` triples): else it suggests nothing, in no time."""
        return self.graph.triples <= SUGGEST_MAX_TRIPLES

    def exists_in_known(self, iri: str) -> bool:
        """:meth:`exists` answered from :attr:`known` (no query per IRI)."""
        if iri in self.named_graphs and iri.startswith(GRAPH):
            return True
        return iri in self.known and has_page(iri)

    def page_paths(self) -> PagePaths:
        """The path (from the site root, no leading slash) of every IRI that has a page:
        the ontology, its terms, the instances, the graphs, in order (read once per data
        version, shared by every request and thread, kept in ``cache_dir``:
        :mod:`peerchange.services.page_list`)."""
        return page_paths(self.sparql, self.cache_dir)

    def pages(self) -> list[str]:
        """Every IRI that has a page (:meth:`page_paths`), in order."""
        return [BASE + path for path in self.page_paths()]

    @property
    def labels(self) -> LabelLookup:
        """One label per IRI (``rdfs:label`` or ``skos:prefLabel``, English preferred),
        looked up as asked for."""
        return labels(self.sparql)

    def label(self, iri: str) -> str:
        """The label of ``iri``, else its short form (``pcm:Claim``, ``<...>``)."""
        text = self.labels.get(iri)
        if text:
            return text
        return self._short(iri)

    @staticmethod
    def _short(iri: str) -> str:
        short = shorten(iri)
        return short[1:-1] if short.startswith("<") else short

    # -- RDF ----------------------------------------------------------------

    def _described(self, iri: str, *, claims_only: bool = False
                   ) -> tuple[list[ox.Triple], list[ox.Triple], Incoming]:
        """The concise bounded description of ``iri``, the claims about it (all of them,
        or the first :data:`~peerchange.services.incoming.MAX_CLAIMS` per end) and what
        links to it, counted (with ``claims_only``, the claims only: a document's)."""
        node = ox.NamedNode(iri)
        bindings = {"resource": node}
        # the endpoint's DESCRIBE also brings the labels of what the resource links to (IRI
        # subjects); keep the description itself: labels are added once, to the whole document
        cbd = [t for t in self.sparql.construct(QUERIES + "resource-description", bindings)
               if t.subject == node or isinstance(t.subject, ox.BlankNode)]
        incoming = self.incoming.of(iri, claims_only)
        if incoming.claims_cut:
            claims = self.incoming.claim_triples(
                c for p in CLAIM_ENDS for c in self.incoming.first(incoming, p))
        else:
            claims = unique_triples(self.sparql.construct(QUERIES + "resource-claims",
                                                          bindings))
        return unique_triples(cbd), claims, incoming

    def triples(self, iri: str, base: str = BASE) -> list[ox.Triple]:
        """Return the RDF of the document about ``iri`` (see the module docstring); where
        it gives the claims about it in part, the Hydra collections of the whole lists, on
        the site at ``base`` (ends in ``/``)."""
        if iri == ONTOLOGY:
            return self.sparql.construct(QUERIES + "graph-triples",
                                         {"graph": ox.NamedNode(GRAPH + "ontology")})
        cbd, claims, incoming = self._described(iri, claims_only=True)
        triples = add_labels(unique_triples(cbd + claims), self._labels_of)
        return triples + self.incoming.collections(
            incoming, lambda p: base + listing_path(iri, p))

    def _labels_of(self, iris: Iterable[ox.NamedNode]) -> list[ox.Triple]:
        """The label triples of ``iris``, as :meth:`LabelLookup.of` gives them, read in
        batches of many IRIs (a theory's document links to thousands at 10^7 triples)."""
        iris = list(iris)
        return self._label_table(iris).of(iris)

    def _label_table(self, iris: Iterable[ox.NamedNode]) -> Labels:
        rows = select_values(self.sparql, LABELS_OF, "resource", iris)
        return Labels(ox.Triple(r["resource"], r["labelProperty"], r["label"])
                      for r in rows if "labelProperty" in r and "label" in r)

    def _document(self, iri: str, fmt: Format, context_ref: str | None = None,
                  base: str = BASE) -> bytes:
        """The document about ``iri`` in the RDF format ``fmt`` (cached as ``document``).

        :param context_ref: the URL of the published JSON-LD context (JSON-LD only).
        :param base: the site the URLs of the whole lists are on (see :meth:`triples`).
        """
        return write_document(self.triples(iri, base), fmt, context=published_context(self.sparql),
                              context_ref=context_ref, focus=iri)

    # -- the HTML page -------------------------------------------------------

    def _page(self, iri: str) -> ResourcePage:
        """What the HTML page of ``iri`` shows (cached as ``page``: the graph is read-only):
        bounded like its documents (see :meth:`_described`), what links to it by each
        property too; where the claims are cut, the claims behind the links it shows are
        read for their status badges."""
        cbd, claims, incoming = self._described(iri)
        if incoming.links_cut:
            links = [(s, p) for p in sorted(incoming.totals) if p not in CLAIM_ENDS
                     for s in self.incoming.first(incoming, p)]
        else:
            links = [(row["subject"].value, row["predicate"].value)
                     for row in self.sparql.select(QUERIES + "resource-incoming",
                                                   {"resource": ox.NamedNode(iri)})]
        badges: list[ox.Triple] = []
        # what the page names, labelled in batches (one query per IRI was 0.3 s of 0.8 at
        # 10^6 triples for the 50 claims of a bounded page; more before: every claim's)
        labelled = {s for s, _ in links} | _named(cbd) | _named(claims)
        if incoming.claims_cut:
            node = ox.NamedNode(iri)
            shown = {t.subject.value for t in claims}
            behind = self.incoming.link_claims(
                [(s, p, iri) for s, p in links]
                + [(iri, t.predicate.value, t.object.value) for t in cbd
                   if t.subject == node and isinstance(t.object, ox.NamedNode)])
            badges = self.incoming.claim_triples(c for c in behind if c not in shown)
            labelled |= shown | set(behind) | _named(badges)
        cut = [(p, incoming.bound(p), incoming.totals[p], listing_path(iri, p))
               for p in incoming.cut_predicates]
        return PageBuilder(self._labeller(labelled)).page(
            iri, self.labels.get(iri) or self.label(iri), cbd, claims, links,
            self._ontology_terms() if iri == ONTOLOGY else [], badges=badges, cut=cut)

    def links_page(self, iri: str, predicate: str, number: int) -> LinksPage:
        """Page ``number`` (from 1) of what links to ``iri`` by ``predicate``, in IRI
        order, :data:`~peerchange.services.incoming.PAGE_SIZE` a page.

        :raise NotFound: nothing links to ``iri`` by ``predicate``, or no such page.
        """
        window, subjects = self.incoming.page(iri, predicate, number)
        claims = subjects if predicate in CLAIM_ENDS else self.incoming.link_claims(
            (s, predicate, iri) for s in subjects)
        claim_triples = self.incoming.claim_triples(claims)
        builder = PageBuilder(self._labeller(set(subjects) | _named(claim_triples)))
        views = builder.claims(claim_triples)
        by_link = {(c.subject.iri, c.predicate.iri, c.object.iri): c for c in views}
        node, prop = ox.NamedNode(iri), ox.NamedNode(predicate)
        links = []
        for s in subjects:
            view = by_link.get((s, predicate, iri))
            ref = view and ClaimRef(view.iri, view.label, view.status and view.status.iri,
                                    view.status and view.status.text)
            links.append(IncomingLink(builder.iri_value(s), builder.iri_value(predicate), ref))
        triples = [ox.Triple(ox.NamedNode(s), prop, node) for s in subjects] + claim_triples
        return LinksPage(iri, self.label(iri), builder.iri_value(predicate), window, links,
                         sorted(views, key=lambda c: c.iri) if predicate in CLAIM_ENDS else [],
                         add_labels(unique_triples(triples), self._labels_of))

    def _labeller(self, iris: set[str]) -> Callable[[str], str]:
        """:meth:`label`, with the labels of ``iris`` (what links to a page: 12,800 works
        cite a work cited by every study at 10^7 triples) read in batches of many IRIs
        (``labels-of.rq``, the rows :class:`LabelLookup` reads one IRI at a time): one
        query per IRI was 80 % of such a page's CPU."""
        known: dict[str, str | None] = dict.fromkeys(iris)
        known.update(self._label_table(ox.NamedNode(i) for i in iris).text)

        def label(iri: str) -> str:
            if iri not in known:
                return self.label(iri)
            return known[iri] or self._short(iri)

        return label

    def _ontology_terms(self) -> list[OntologyTerm]:
        return [
            OntologyTerm(
                iri=row["term"].value,
                kind=row["kind"].value if "kind" in row else "",
                label=row["label"].value if "label" in row else self.label(row["term"].value),
                definition=row["definition"].value if "definition" in row else "",
                deprecated="deprecated" in row and row["deprecated"].value == "true",
            )
            for row in self.sparql.select(QUERIES + "ontology-terms")
        ]

    # -- unknown IRIs ---------------------------------------------------------

    @cached_property
    def _candidates(self) -> list[tuple[str, str, str, str]]:
        """(IRI, lower-case path, its last segment, lower-case label) of every page."""
        out = []
        for iri in self.pages():
            path = (path_for_iri(iri) or iri).lower()
            out.append((iri, path, path.rsplit("/", 1)[-1], self.known.get(iri, "").lower()))
        return out

    def suggest(self, iri: str, limit: int = 6) -> list[Suggestion]:
        """Return the known resources closest to ``iri`` (by path, last segment and label,
        with :mod:`difflib`). A path that is the start of known paths (``/id/mechanism``)
        lists what is under it. Nothing above :data:`SUGGEST_MAX_TRIPLES` triples (see
        :attr:`suggests_from_every_page`)."""
        if not self.suggests_from_every_page:
            return []
        wanted = (path_for_iri(iri) or iri).strip("/").lower()[:MAX_SUGGEST_CHARS]
        for ext in (".html", ".ttl", ".jsonld", ".rdf", ".nt"):
            wanted = wanted.removesuffix(ext)
        last = wanted.rsplit("/", 1)[-1]
        words = last.replace("-", " ").replace("_", " ")
        under = [c for c, path, _, _ in self._candidates if path.startswith(wanted + "/")]
        if wanted and under:
            chosen = under[:limit]
        else:
            # seq2 is the query: difflib caches what it learns about it
            matchers = []
            for query, index in ((wanted, 1), (last, 2), (words, 3)):
                if query:
                    m = difflib.SequenceMatcher()
                    m.set_seq2(query)
                    matchers.append((m, index))
            scored = []
            for cand in self._candidates:
                best, found = SUGGEST_CUTOFF, False
                for m, index in matchers:
                    text = cand[index]
                    if not text:
                        continue
                    m.set_seq1(text)
                    if m.real_quick_ratio() >= best and m.quick_ratio() >= best:
                        ratio = m.ratio()
                        if ratio >= best:
                            best, found = ratio, True
                if found:
                    scored.append((-best, cand[0]))
            chosen = [c for _, c in sorted(scored)[:limit]]
        return [Suggestion(c, path_for_iri(c) or c, self.label(c)) for c in chosen]

