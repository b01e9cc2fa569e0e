"""The trace service: lookups, traces and reverse traces over one knowledge graph, cached
per data version.

Queries (``queries/internal/trace/``), scoped to what a trace shows (issue 10: the
store-wide tables of every work and mechanism took longer than the query limit at 10^7
triples of other studies):

- once per data version: ``evidence-statuses`` and ``gaps``; the store-wide tables
  (``mechanisms``, ``bibliography-works`` with ``bibliography-authors``,
  ``reference-list``) only for the list of mechanisms, ``/references``, and a name that
  is not an exact IRI, slug or key (a label, another case, a fuzzy match, a miss);
- once per data version and name: ``mechanisms-of`` (a mechanism named by IRI or slug),
  ``works-by-key`` plus ``details-of`` (a work named by its key);
- one query per trace (``trace.rq``, bound to the mechanism) and per reverse trace
  (``cited.rq``, bound to the work): the neighbourhood the builder walks, in rows that
  also carry the RDF of what it shows; then ``details-of`` with every IRI the rows name
  bound in a ``VALUES`` block (:mod:`.scoped`, :mod:`.batched`): their labels, the works
  among them with their authors, the mechanisms among them; for a reverse trace
  ``in-reference-list``; for a trace asked for as RDF, ``trace-rdf.rq`` and its details
  (the works and gaps it shows, left out of ``trace.rq``: HTML and JSON do not need
  them).

A reverse trace first reads the IRIs of the claims it walks (``cited-claims``, once per
data version and work): when they are more than a page (:mod:`.pages`, 200), the web
serves page N from ``cited-page`` (the page's claims bound in VALUES) and ``cited-work``
(the work, the theories it founds, the gaps about it) with their details, never the
whole neighbourhood.

So an uncached trace of the shipped data costs at most nine queries in any format (three
once the statuses and gaps are read, two or three more for its RDF; ``details-of`` is one
query per 200 IRIs), a reverse trace eight, and a cached one none.
Everything is kept per data version (``graph.version``), in the service (never at class
level): when the data changes, the next call starts afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pyoxigraph as ox

from peerchange.core.errors import NotFound
from peerchange.core.namespaces import ID
from peerchange.services.sparql import SparqlService
from peerchange.services.trace import builder, lookup, rdf, rows, scoped
from peerchange.services.trace.batched import select_rows
from peerchange.services.trace.model import Gap, Node, Status, Work
from peerchange.services.trace.neighbourhood import Neighbourhood, row_iris
from peerchange.services.trace.pages import PAGE_SIZE, Page
from peerchange.services.trace.traces import ReverseTrace, Trace

#: How many traces (and, apart, reverse traces) the service keeps per data version.
TRACE_CACHE_SIZE = 64
#: How many names of mechanisms (IRIs, slugs) it remembers per data version.
NAMED_CACHE_SIZE = 1024
_MISSING = object()  # a key not remembered (None is a remembered answer)

T = TypeVar("T")


@dataclass
class _Built:
    """A trace or reverse trace, with what its RDF is made from (the rows of the resources
    it shows) and, once asked for, its RDF and Turtle."""

    value: Any
    source: Neighbourhood
    resources: list[str]
    title: str
    # the query (and its bindings) that fetches the rest of its RDF, if its rows leave out
    # some (a trace's leave out the works and gaps it shows)
    rest: tuple[str, dict[str, ox.NamedNode]] | None
    triples: list[ox.Triple] | None = None
    turtle: bytes | None = None


@dataclass
class _Version:
    """Everything the service keeps for one data version."""

    version: str
    tables: dict[str, Any] = field(default_factory=dict)
    traces: OrderedDict[str, _Built] = field(default_factory=OrderedDict)
    reverse: OrderedDict[str, _Built] = field(default_factory=OrderedDict)
    # a mechanism looked up by IRI or slug (None: not so found), by the text asked for
    named: OrderedDict[str, Node | None] = field(default_factory=OrderedDict)
    # a work looked up by its exact key (None: not so found), by the key asked for
    works: OrderedDict[str, Work | None] = field(default_factory=OrderedDict)
    # the claims a reverse trace walks, in IRI order (its pages), by the work's IRI
    cited_claims: OrderedDict[str, list[ox.NamedNode]] = field(default_factory=OrderedDict)


class TraceService:
    """Traces over the graph of one :class:`SparqlService`. Safe to share between threads."""

    def __init__(self, sparql: SparqlService, *, page_size: int = PAGE_SIZE) -> None:
        self.sparql = sparql
        #: claims per page of a reverse trace (:mod:`.pages`)
        self.page_size = page_size
        self._lock = threading.RLock()
        self._cache = _Version(version="")

    @property
    def version(self) -> str:
        """The data version the answers are for (the graph's)."""
        return self.sparql.graph.version

    def _current(self) -> _Version:
        with self._lock:
            if self._cache.version != self.version:
                self._cache = _Version(self.version)
            return self._cache

    def _table(self, name: str, load: Callable[[], T]) -> T:
        """The table ``name`` of the current data version, loaded once."""
        cache = self._current()
        with self._lock:
            if name not in cache.tables:
                cache.tables[name] = load()
            return cache.tables[name]

    def _select(self, name: str, bindings: dict[str, ox.NamedNode] | None = None
                ) -> list[dict[str, Any]]:
        return self.sparql.select(f"internal/trace/{name}", bindings)

    # -- the tables ---------------------------------------------------------

    def statuses(self) -> list[Status]:
        """The three evidence statuses, strongest first (the legend of every trace)."""
        return self._table("statuses", lambda: rows.statuses(self._select("evidence-statuses")))

    def mechanisms(self) -> list[Node]:
        """Every change mechanism (label order)."""
        return self._table("mechanisms", lambda: rows.mechanisms(self._select("mechanisms")))

    def all_works(self) -> dict[str, Work]:
        """Every work with a reference key, by key (the reference list, the paper, the
        companion papers)."""
        return self._table("works", lambda: rows.works(self._select("bibliography-works"),
                                                       self._select("bibliography-authors")))

    def all_gaps(self) -> list[Gap]:
        """Every evidence gap with the resources it concerns."""
        return self._table("gaps", lambda: rows.gaps(self._select("gaps")))

    def reference_keys(self) -> list[str]:
        """The keys of the works the study papers cite (their reference lists), sorted."""
        return self._table("reference-list",
                           lambda: rows.reference_keys(self._select("reference-list")))

    def reference_list(self) -> list[Work]:
        """The works of the paper's reference list (60 for Gillard et al. 2015), by key."""
        works = self.all_works()
        return [works[k] for k in self.reference_keys() if k in works]

    # -- lookup -------------------------------------------------------------

    def find_mechanism(self, text: str) -> Node:
        """The mechanism named by ``text`` (see :func:`lookup.find_mechanism`).

        A mechanism named by its IRI or by its slug (``/trace/role-modelling``) is looked
        up alone (``mechanisms-of.rq``, once per data version and name); a label, a fuzzy
        match or a miss uses the list of every mechanism (read once per data version).

        :raise MechanismNotFound: with the closest mechanisms as suggestions.
        """
        cache = self._current()
        named = self._remembered(cache.named, text, lambda: self._named_mechanism(text))
        found = named if named is not None else lookup.find_mechanism(self.mechanisms(), text)
        with self._lock:  # the IRI names it too (the web resolves a slug, then its IRI)
            cache.named[found.iri] = found
        return found

    def _named_mechanism(self, text: str) -> Node | None:
        """The mechanism whose IRI is ``text``, or whose IRI is ``ID + "mechanism/"`` and
        ``text`` (as given or in lower case: slugs match case-blind); ``None`` when there
        is none, or two, so that the list decides as before."""
        query = (text or "").strip()
        if not query or any(c in query for c in '<>"{}|^`\\ ') or (
                "/" in query and not query.startswith(ID)):
            return None
        if query.startswith(ID):
            candidates = [query]
        else:
            candidates = list(dict.fromkeys([ID + "mechanism/" + query,
                                             ID + "mechanism/" + query.lower()]))
        try:
            found = scoped.mechanisms(self.sparql, [ox.NamedNode(c) for c in candidates])
        except ValueError:
            return None
        if len({m.iri for m in found}) != 1:
            return None
        return found[-1]  # of several labels, the list's last (as lookup's by_iri)

    def find_work(self, key: str) -> Work:
        """The work with reference ``key`` (see :func:`lookup.find_work`).

        A key given exactly as the data writes it is looked up alone (``works-by-key.rq``
        and ``details-of.rq``, once per data version and key); another case, a miss or
        the suggestions use the table of every work.

        :raise WorkNotFound: with the closest keys as suggestions.
        """
        named = self._remembered(self._current().works, key,
                                 lambda: scoped.work_by_key(self.sparql, key))
        return named if named is not None else lookup.find_work(self.all_works(), key)

    # -- traces -------------------------------------------------------------

    def trace(self, text: str) -> Trace:
        """The trace of the mechanism named by ``text`` (see :meth:`find_mechanism`)."""
        trace: Trace = self._trace_entry(self.find_mechanism(text).iri).value
        return trace

    def cited(self, key: str) -> ReverseTrace:
        """The reverse trace of the work with reference ``key``."""
        reverse: ReverseTrace = self._reverse_entry(self.find_work(key)).value
        return reverse

    def cited_page(self, key: str, number: int) -> tuple[ReverseTrace, Page]:
        """Page ``number`` (from 1) of the reverse trace of the work with reference
        ``key``, and where it stands among the pages (:mod:`.pages`). When every claim
        fits on one page, the whole reverse trace (:meth:`cited`).

        :raise NotFound: no such page.
        """
        page = self.cited_page_of(key, number)
        if not page.paged:
            return self.cited(key), page
        work = self.find_work(key)
        claims = self._cited_claims(work)[page.start:page.stop]
        return self._page_entry(work, page, claims).value, page

    def cited_page_of(self, key: str, number: int) -> Page:
        """Where page ``number`` of the reverse trace of the work with reference ``key``
        stands among its pages (one query per data version and work: its claims' IRIs).

        :raise NotFound: no such page.
        """
        work = self.find_work(key)
        page = Page(number, len(self._cited_claims(work)), self.page_size)
        if not page.exists:
            raise NotFound(f"The reverse trace of {work.key} has {page.count} page(s) of "
                           f"{page.size} claims; there is no page {number}.", kind="page")
        return page

    def _cited_claims(self, work: Work) -> list[ox.NamedNode]:
        """The claims the reverse trace of ``work`` walks, in IRI order (read once per
        data version and work)."""
        def read() -> list[ox.NamedNode]:
            found = self._select("cited-claims", {"work": ox.NamedNode(work.iri)})
            return sorted({r["claim"] for r in found}, key=lambda c: c.value)

        return self._remembered(self._current().cited_claims, work.iri, read)

    def trace_triples(self, trace: Trace) -> list[ox.Triple]:
        """The RDF of a trace: its claims (with evidence lines), resources, works and gaps,
        and the labels of what they link to (no bare shortcut edges)."""
        return self._triples(self._trace_entry(trace.mechanism.iri))

    def reverse_trace_triples(self, reverse: ReverseTrace) -> list[ox.Triple]:
        """The RDF of a reverse trace."""
        return self._triples(self._reverse_entry(reverse.work))

    def trace_turtle(self, trace: Trace) -> bytes:
        """The Turtle document of a trace (kept once written)."""
        return self._turtle(self._trace_entry(trace.mechanism.iri))

    def reverse_trace_turtle(self, reverse: ReverseTrace, page: Page | None = None) -> bytes:
        """The Turtle document of a reverse trace, or of its ``page`` when it has
        several (kept once written)."""
        if page is not None and page.paged:
            claims = self._cited_claims(reverse.work)[page.start:page.stop]
            return self._turtle(self._page_entry(reverse.work, page, claims))
        return self._turtle(self._reverse_entry(reverse.work))

    def _triples(self, entry: _Built) -> list[ox.Triple]:
        if entry.triples is None:
            sources = [entry.source]
            if entry.rest is not None:
                sources.append(self._neighbourhood(*entry.rest)[0])
            entry.triples = rdf.describe(sources, entry.resources)
        return entry.triples

    def _turtle(self, entry: _Built) -> bytes:
        if entry.turtle is None:
            entry.turtle = rdf.turtle(self._triples(entry), entry.title)
        return entry.turtle

    def _trace_entry(self, mechanism: str) -> _Built:
        cache = self._current()
        entry = self._cached(cache.traces, mechanism)
        if entry is None:
            bindings = {"mechanism": ox.NamedNode(mechanism)}
            hood, found = self._neighbourhood("trace", bindings)
            trace = builder.build_trace(mechanism, hood, self.statuses(), found.works,
                                        self.all_gaps())
            resources = rdf.trace_resources(trace)
            entry = self._keep(cache.traces, mechanism, _Built(
                trace, hood.subset(resources, rdf.FOLLOW), resources,
                rdf.trace_title(trace), rest=("trace-rdf", bindings)))
        return entry

    def _reverse_entry(self, work: Work) -> _Built:
        cache = self._current()
        entry = self._cached(cache.reverse, work.iri)
        if entry is None:
            hood, found = self._neighbourhood("cited", {"work": ox.NamedNode(work.iri)})
            listed = [work.key] if scoped.in_reference_list(self.sparql, work.key) else []
            reverse = builder.build_reverse_trace(
                work, hood, self.statuses(), found.mechanisms, self.all_gaps(), listed)
            resources = rdf.reverse_trace_resources(reverse)
            entry = self._keep(cache.reverse, work.iri, _Built(
                reverse, hood.subset(resources, rdf.FOLLOW), resources,
                rdf.reverse_trace_title(reverse), rest=None))
        return entry

    def _page_entry(self, work: Work, page: Page, claims: list[ox.NamedNode]) -> _Built:
        """A page of a reverse trace, from the rows of its ``claims`` (``cited-page``,
        bound in VALUES) and of the work (``cited-work``); kept as a reverse trace is."""
        cache = self._current()
        key = f"{work.iri} page {page.number}"
        entry = self._cached(cache.reverse, key)
        if entry is None:
            me = ox.NamedNode(work.iri)
            found = select_rows(self.sparql, "internal/trace/cited-page",
                                [{"claim": c, "work": me} for c in claims])
            hood, details = self._neighbourhood("cited-work", {"work": me}, found)
            listed = [work.key] if scoped.in_reference_list(self.sparql, work.key) else []
            reverse = builder.build_reverse_trace(
                work, hood, self.statuses(), details.mechanisms, self.all_gaps(), listed)
            resources = rdf.reverse_trace_resources(reverse)
            title = (f"{rdf.reverse_trace_title(reverse)} (page {page.number} of "
                     f"{page.count})")
            entry = self._keep(cache.reverse, key, _Built(
                reverse, hood.subset(resources, rdf.FOLLOW), resources, title, rest=None))
        return entry

    def _neighbourhood(self, name: str, bindings: dict[str, ox.NamedNode],
                       more: list[dict[str, Any]] = ()
                       ) -> tuple[Neighbourhood, scoped.Details]:
        """The rows of query ``name`` (and ``more`` rows), with what they name (labels,
        works, mechanisms) read for those IRIs only (:func:`scoped.details`)."""
        found = list(more) + self._select(name, bindings)
        details = scoped.details(self.sparql, row_iris(found))
        hood = Neighbourhood(found, self.statuses(), details.works, details.labels)
        return hood, details

    def _remembered(self, table: OrderedDict[str, Any], key: str,
                    compute: Callable[[], Any]) -> Any:
        """``table[key]``, computed once (``None`` is an answer too) and kept among the
        last :data:`NAMED_CACHE_SIZE` keys."""
        with self._lock:
            value = table.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            with self._lock:
                table[key] = value
                while len(table) > NAMED_CACHE_SIZE:
                    table.popitem(last=False)
        return value

    def _cached(self, table: OrderedDict[str, _Built], key: str) -> _Built | None:
        with self._lock:
            entry = table.get(key)
            if entry is not None:
                table.move_to_end(key)
            return entry

    def _keep(self, table: OrderedDict[str, _Built], key: str, entry: _Built) -> _Built:
        with self._lock:
            entry = table.setdefault(key, entry)  # a concurrent build may have won
            table.move_to_end(key)
            while len(table) > TRACE_CACHE_SIZE:
                table.popitem(last=False)
            return entry
