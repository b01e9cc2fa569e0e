"""The reviewer's trace: from a change mechanism to everything that supports it.

A trace starts at a mechanism and follows its claims: where the mechanism sits in the
change model, its components, the theories and constructs it is linked to (and each
theory's family and founding texts), the outcomes it leads to and the downstream outcomes
those lead to (with measures), and the links to other mechanisms. Every link is shown as
its claim, with the claim's evidence status (stated in the source, reported in a companion
paper, curated inference), its locator or rationale, its evidence lines and the works it
cites with their CiTO role. The evidence gaps that concern the mechanism, the resources
and claims of the trace, and the study and change model as a whole come with it, so that a
missing link is never read as absent evidence.

The reverse trace of a work lists every claim that cites it, in which role, and the
mechanisms those claims (or the theories the work founds) lead back to.

Both faces use this module: the web (``/trace``, ``/cited``) and the command line
(``peerchange trace``). The SPARQL lives in ``queries/internal/trace/``.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rapidfuzz import fuzz, process, utils

from peerchange.core.describe import with_labels
from peerchange.core.errors import NotFound, Suggestion
from peerchange.core.formats import RDF_FORMATS
from peerchange.core.namespaces import BASE, ID, PCM, PREFIXES
from peerchange.core.queryfiles import get_query
from peerchange.core.results import write_graph
from peerchange.services.sparql import SparqlService

CITO = "http://purl.org/spar/cito/"
SEPIO_SUPPORTING_REFERENCE = "http://purl.obolibrary.org/obo/SEPIO_0000124"
SEPIO_HAS_EVIDENCE = "http://purl.obolibrary.org/obo/SEPIO_0000007"
FABIO = "http://purl.org/spar/fabio/"

#: The evidence statuses in the order a reader meets them (strongest first).
STATUS_ORDER = ("stated", "companion", "curated")

#: What each citation role means in a trace (shown beside the cited work).
ROLE_NOTES = {
    CITO + "citesAsAuthority": "the founding text of the theory or framework the link rests on",
    CITO + "citesAsEvidence": "a work that is evidence for this very link",
    CITO + "cites": "another work the reading drew on; not evidence for the link",
    SEPIO_SUPPORTING_REFERENCE: "named as a supporting reference of the claim's evidence line",
}
ROLE_NAMES = {
    CITO + "citesAsAuthority": "citesAsAuthority",
    CITO + "citesAsEvidence": "citesAsEvidence",
    CITO + "cites": "cites",
    SEPIO_SUPPORTING_REFERENCE: "evidenceLineReference",
}
ROLE_LABELS = {
    CITO + "citesAsAuthority": "cites as authority",
    CITO + "citesAsEvidence": "cites as evidence",
    CITO + "cites": "cites",
    SEPIO_SUPPORTING_REFERENCE: "supporting reference of the evidence line",
}

WORK_TYPES = {
    FABIO + "JournalArticle": "article",
    FABIO + "Book": "book",
    FABIO + "ReportDocument": "report",
}

# properties read by queries/internal/trace-node.rq
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_NODE_FIELDS = {
    "http://www.w3.org/2000/01/rdf-schema#label": "label",
    _SKOS + "definition": "definition",
    _SKOS + "scopeNote": "scope_note",
    _SKOS + "editorialNote": "editorial_note",
    _SKOS + "example": "example",
    "http://purl.org/dc/terms/description": "description",
}

# the shortcut properties a trace follows from a mechanism (the claims' predicates)
P = {name: PCM + name for name in (
    "hasMechanism", "activatesMechanism", "componentOf", "enablesMechanism", "groundedIn",
    "engagesConstruct", "leadsToOutcome", "contributesTo", "measuredBy", "inTheoryFamily",
    "drawsOnTheoryFamily", "developsModel", "followsFramework",
)}

TRACE_CACHE_SIZE = 64


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class TraceNotFound(NotFound):
    """Nothing matches what the reviewer asked for; ``suggestions`` are close matches.

    Each suggestion is given as ``(slug or key, label)``.
    """

    def __init__(self, message: str, suggestions: list[tuple[str, str]], *, kind: str) -> None:
        super().__init__(message, kind=kind,
                         suggestions=[Suggestion(s, label) for s, label in suggestions])


class MechanismNotFound(TraceNotFound):
    """No change mechanism matches the text, IRI or slug."""


class WorkNotFound(TraceNotFound):
    """No work has the reference key."""


# ---------------------------------------------------------------------------
# What a trace is made of
# ---------------------------------------------------------------------------


def _value(term: Any) -> str | None:
    return None if term is None else term.value


def slug_of(iri: str) -> str:
    """Return the last path segment of an IRI."""
    return iri.rstrip("/").rsplit("/", 1)[-1]


def kind_of(iri: str) -> str:
    """Return the kind of an instance IRI (``mechanism``, ``theory``, ``ref`` ...), or ``""``."""
    if iri.startswith(ID):
        return iri[len(ID):].split("/", 1)[0]
    if iri.startswith(PCM):
        return "term"
    return ""


def local_path(iri: str) -> str | None:
    """Return the path under which this server serves an IRI of our namespaces, if any."""
    return "/" + iri[len(BASE):] if iri.startswith(BASE) else None


@dataclass
class Ref:
    """A resource named by a trace: its IRI, label and kind."""

    iri: str
    label: str
    kind: str = ""

    @property
    def slug(self) -> str:
        return slug_of(self.iri)

    @classmethod
    def of(cls, iri: str, label: str | None) -> Ref:
        return cls(iri, label or slug_of(iri), kind_of(iri))


@dataclass
class Status:
    """An evidence status: ``key`` is its notation (``stated``, ``companion``, ``curated``)."""

    iri: str
    key: str
    label: str
    definition: str = ""


@dataclass
class Citation:
    """A work a claim cites, and the CiTO role it is cited in."""

    role: str  # citesAsAuthority, citesAsEvidence, cites
    role_label: str
    role_iri: str
    work: str  # the work's reference key (or IRI when it has none)
    work_iri: str
    note: str = ""
    claim: str = ""  # the citing claim, where the citation is listed apart from it


@dataclass
class EvidenceLine:
    """A line of evidence of a claim: what it is, where, and the works it rests on."""

    iri: str
    description: str = ""
    locator: str = ""
    references: list[str] = field(default_factory=list)


@dataclass
class Claim:
    """One link of the model as a claim (subject, predicate, object) with its evidence."""

    iri: str
    label: str
    subject: Ref
    predicate: Ref
    object: Ref
    status: Status
    locator: str = ""
    rationale: str = ""
    derived_from: str = ""
    generated_at: str = ""
    evidence: list[EvidenceLine] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    @property
    def curated(self) -> bool:
        return self.status.key == "curated"

    def other_end(self, iri: str) -> Ref:
        """Return the end of the claim that is not ``iri``."""
        return self.object if self.subject.iri == iri else self.subject


@dataclass
class Node:
    """A resource of the trace with what the graph says to describe it."""

    ref: Ref
    definition: str = ""
    scope_note: str = ""
    editorial_note: str = ""
    example: str = ""
    description: str = ""
    types: list[str] = field(default_factory=list)
    inclusion_status: Status | None = None
    founding_texts: list[str] = field(default_factory=list)
    construct_of: list[Ref] = field(default_factory=list)
    constructs: list[Ref] = field(default_factory=list)

    @property
    def iri(self) -> str:
        return self.ref.iri

    @property
    def label(self) -> str:
        return self.ref.label


@dataclass
class Work:
    """A work with its bibliographic record, as printed and as normalised."""

    iri: str
    key: str
    type: str  # article, book, report
    label: str = ""
    title: str = ""
    year: str = ""
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    page_start: str = ""
    page_end: str = ""
    doi: str = ""
    publisher: str = ""
    citation: str = ""
    printed: str = ""
    correction_note: str = ""
    editorial_note: str = ""
    pmid: str = ""
    pmcid: str = ""
    available: str = ""
    authors: list[str] = field(default_factory=list)

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""


@dataclass
class FamilyLink:
    claim: Claim
    family: Node
    model_claims: list[Claim] = field(default_factory=list)


@dataclass
class TheoryLink:
    claim: Claim
    theory: Node
    families: list[FamilyLink] = field(default_factory=list)


@dataclass
class ConstructLink:
    claim: Claim
    construct: Node
    theories: list[Node] = field(default_factory=list)


@dataclass
class MeasureLink:
    claim: Claim
    measure: Node


@dataclass
class OutcomeLink:
    claim: Claim
    outcome: Node
    downstream: list[OutcomeLink] = field(default_factory=list)
    measures: list[MeasureLink] = field(default_factory=list)

    @property
    def outcome_kind(self) -> str:
        if PCM + "ProcessOutcome" in self.outcome.types:
            return "process"
        if PCM + "DownstreamOutcome" in self.outcome.types:
            return "downstream"
        return ""


@dataclass
class ComponentLink:
    claim: Claim
    component: Node


@dataclass
class ContextLink:
    """A claim that places the mechanism (model, role, study)."""

    claim: Claim
    other: Ref
    direction: str  # "in": other → mechanism; "out": mechanism → other


@dataclass
class MechanismLink:
    claim: Claim
    mechanism: Ref
    direction: str  # "out": this mechanism → other; "in": other → this mechanism


@dataclass
class Gap:
    """What the material could not establish, and the resources of the trace it concerns."""

    iri: str
    label: str
    description: str
    concerns: list[Ref] = field(default_factory=list)
    scope: str = ""  # mechanism, linked, model (in a trace); work (in a reverse trace)


@dataclass
class CitedWork:
    """A work cited in a trace, with every (role, claim) it is cited in."""

    work: Work
    roles: list[Citation] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)

    @property
    def role_names(self) -> list[str]:
        return sorted({c.role for c in self.roles})


@dataclass
class Trace:
    """Everything that supports one change mechanism."""

    mechanism: Node
    statuses: list[Status]
    context: list[ContextLink] = field(default_factory=list)
    model_context: list[Claim] = field(default_factory=list)
    components: list[ComponentLink] = field(default_factory=list)
    theories: list[TheoryLink] = field(default_factory=list)
    constructs: list[ConstructLink] = field(default_factory=list)
    outcomes: list[OutcomeLink] = field(default_factory=list)
    mechanism_links: list[MechanismLink] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    works: list[CitedWork] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.mechanism.ref.slug

    def claims(self) -> Iterator[Claim]:
        """Every claim the trace shows, each once, in the order shown."""
        seen: set[str] = set()
        for claim in self._all_claims():
            if claim.iri not in seen:
                seen.add(claim.iri)
                yield claim

    def _all_claims(self) -> Iterator[Claim]:
        for c in self.context:
            yield c.claim
        yield from self.model_context
        for comp in self.components:
            yield comp.claim
        for t in self.theories:
            yield t.claim
            for f in t.families:
                yield f.claim
                yield from f.model_claims
        for k in self.constructs:
            yield k.claim
        yield from _outcome_claims(self.outcomes)
        for m in self.mechanism_links:
            yield m.claim

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_ORDER, 0)
        for claim in self.claims():
            counts[claim.status.key] = counts.get(claim.status.key, 0) + 1
        return counts

    def gaps_in(self, scope: str) -> list[Gap]:
        return [g for g in self.gaps if g.scope == scope]

    def work(self, key: str) -> CitedWork | None:
        return next((w for w in self.works if w.work.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        """The trace as JSON-ready data (the ``/trace/{slug}.json`` document)."""
        return {
            "mechanism": _node_dict(self.mechanism),
            "legend": [dataclasses.asdict(s) for s in self.statuses],
            "status_counts": self.status_counts(),
            "context": [
                {"direction": c.direction, "other": dataclasses.asdict(c.other),
                 "claim": _claim_dict(c.claim)} for c in self.context
            ],
            "model_context": [_claim_dict(c) for c in self.model_context],
            "components": [
                {"component": _node_dict(c.component), "claim": _claim_dict(c.claim)}
                for c in self.components
            ],
            "theories": [
                {
                    "theory": _node_dict(t.theory),
                    "claim": _claim_dict(t.claim),
                    "families": [
                        {"family": _node_dict(f.family), "claim": _claim_dict(f.claim),
                         "model_claims": [_claim_dict(m) for m in f.model_claims]}
                        for f in t.families
                    ],
                }
                for t in self.theories
            ],
            "constructs": [
                {"construct": _node_dict(k.construct), "claim": _claim_dict(k.claim),
                 "theories": [_node_dict(t) for t in k.theories]}
                for k in self.constructs
            ],
            "outcomes": [_outcome_dict(o) for o in self.outcomes],
            "mechanism_links": [
                {"direction": m.direction, "mechanism": dataclasses.asdict(m.mechanism),
                 "claim": _claim_dict(m.claim)} for m in self.mechanism_links
            ],
            "gaps": [dataclasses.asdict(g) for g in self.gaps],
            "works": [_cited_work_dict(w) for w in self.works],
        }


def _outcome_claims(links: Iterable[OutcomeLink]) -> Iterator[Claim]:
    for o in links:
        yield o.claim
        for m in o.measures:
            yield m.claim
        yield from _outcome_claims(o.downstream)


def _node_dict(node: Node) -> dict[str, Any]:
    out = dataclasses.asdict(node.ref)
    out["slug"] = node.ref.slug
    for name in ("definition", "scope_note", "editorial_note", "example", "description"):
        value = getattr(node, name)
        if value:
            out[name] = value
    if node.types:
        out["types"] = node.types
    if node.inclusion_status is not None:
        out["inclusion_status"] = dataclasses.asdict(node.inclusion_status)
    if node.founding_texts:
        out["founding_texts"] = node.founding_texts
    if node.construct_of:
        out["construct_of"] = [dataclasses.asdict(r) for r in node.construct_of]
    if node.constructs:
        out["constructs"] = [dataclasses.asdict(r) for r in node.constructs]
    return out


def _claim_dict(claim: Claim) -> dict[str, Any]:
    out = dataclasses.asdict(claim)
    out["curated"] = claim.curated
    return out


def _outcome_dict(link: OutcomeLink) -> dict[str, Any]:
    return {
        "outcome": _node_dict(link.outcome),
        "outcome_kind": link.outcome_kind,
        "claim": _claim_dict(link.claim),
        "measures": [
            {"measure": _node_dict(m.measure), "claim": _claim_dict(m.claim)}
            for m in link.measures
        ],
        "downstream": [_outcome_dict(d) for d in link.downstream],
    }


def _cited_work_dict(cited: CitedWork) -> dict[str, Any]:
    out = work_dict(cited.work)
    out["cited_as"] = [dataclasses.asdict(c) for c in cited.roles]
    return out


def work_dict(work: Work) -> dict[str, Any]:
    """A work as JSON-ready data (empty fields left out)."""
    out = {k: v for k, v in dataclasses.asdict(work).items() if v not in ("", [], None)}
    if work.doi:
        out["doi_url"] = work.doi_url
    return out


@dataclass
class CitingClaim:
    """A claim that cites a work, in one or more roles."""

    claim: Claim
    roles: list[Citation] = field(default_factory=list)


@dataclass
class MechanismReach:
    """A mechanism a work leads back to, and the claims that connect them."""

    mechanism: Ref
    claims: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)  # how: "cited by a claim", "founding text of ..."


@dataclass
class ReverseTrace:
    """Every claim a work is cited in, in which role, and what those claims link."""

    work: Work
    statuses: list[Status]
    in_reference_list: bool
    founding_text_of: list[Ref] = field(default_factory=list)
    claims: list[CitingClaim] = field(default_factory=list)
    mechanisms: list[MechanismReach] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "work": work_dict(self.work),
            "legend": [dataclasses.asdict(s) for s in self.statuses],
            "in_reference_list": self.in_reference_list,
            "founding_text_of": [dataclasses.asdict(r) for r in self.founding_text_of],
            "claims": [
                {"claim": _claim_dict(c.claim),
                 "cited_as": [dataclasses.asdict(r) for r in c.roles]}
                for c in self.claims
            ],
            "mechanisms": [
                {**dataclasses.asdict(m.mechanism), "slug": m.mechanism.slug,
                 "claims": m.claims, "via": m.via}
                for m in self.mechanisms
            ],
            "gaps": [dataclasses.asdict(g) for g in self.gaps],
        }


# ---------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------


class TraceService:
    """Traces over one (read-only) store. Safe to share between threads.

    Results are cached per service: build a new service when the store changes
    (:meth:`for_store` keeps one per store).
    """

    def __init__(self, sparql: SparqlService) -> None:
        self.sparql = sparql
        self._lock = threading.RLock()
        self._claims: dict[str, list[Claim]] = {}
        self._nodes: dict[str, Node] = {}
        self._works: dict[str, Work] | None = None
        self._gaps: list[Gap] | None = None
        self._statuses: list[Status] | None = None
        self._mechanisms: list[Node] | None = None
        self._reference_list: list[str] | None = None
        self._traces: OrderedDict[str, Trace] = OrderedDict()

    @property
    def store(self) -> ox.Store:
        return self.sparql.graph.store

    # -- lookup -----------------------------------------------------------

    def mechanisms(self) -> list[Node]:
        """Every change mechanism (label order)."""
        with self._lock:
            if self._mechanisms is None:
                rows = self.sparql.select("internal/trace/mechanisms")
                self._mechanisms = [
                    Node(
                        Ref(r["mechanism"].value, r["label"].value, "mechanism"),
                        definition=_value(r.get("definition")) or "",
                        scope_note=_value(r.get("scopeNote")) or "",
                    )
                    for r in rows
                ]
            return self._mechanisms

    def find_mechanism(self, text: str) -> Node:
        """Return the mechanism named by ``text``: its IRI, its slug (the IRI's last segment,
        also as ``mechanism/{slug}`` or ``pcd:mechanism/{slug}``) or its label, matched
        case-insensitively and fuzzily.

        :raise MechanismNotFound: when nothing matches, or several match about equally;
            its suggestions are the closest mechanisms.
        """
        mechanisms = self.mechanisms()
        query = (text or "").strip()
        if not query:
            raise MechanismNotFound(
                "Name a change mechanism (a label, the last segment of its IRI, or its IRI).",
                _suggest(mechanisms, ""), kind="mechanism",
            )
        by_iri = {m.iri: m for m in mechanisms}
        by_slug = {m.ref.slug.lower(): m for m in mechanisms}
        if query in by_iri:
            return by_iri[query]
        candidate = query
        if re.match(r"^[a-z][a-z0-9+.-]*://", query, re.IGNORECASE) or query.startswith("<"):
            # another host serving our IRIs (http://localhost:8000/id/mechanism/x), or <iri>
            candidate = query.strip("<>").split("#", 1)[0].split("?", 1)[0].rstrip("/")
            if candidate in by_iri:
                return by_iri[candidate]
            head, _, tail = candidate.rpartition("/")
            if head.endswith("/mechanism") and tail.lower() in by_slug:
                return by_slug[tail.lower()]
            raise MechanismNotFound(
                f"No change mechanism has the IRI {query!r}.", _suggest(mechanisms, tail),
                kind="mechanism",
            )
        bare = re.sub(r"^(pcd:)?mechanism/", "", candidate, flags=re.IGNORECASE).lower()
        if bare in by_slug:
            return by_slug[bare]
        for m in mechanisms:
            if m.label.lower() == query.lower():
                return m
        scored = _score(mechanisms, query)
        best_score, best = scored[0]
        second = scored[1][0] if len(scored) > 1 else 0.0
        if best_score >= 80 and best_score - second >= 5:
            return best
        if best_score >= 80:
            message = f"{query!r} matches more than one change mechanism; be more specific."
        else:
            message = f"No change mechanism matches {query!r}."
        raise MechanismNotFound(message, _suggest(mechanisms, query), kind="mechanism")

    def find_work(self, key: str) -> Work:
        """Return the work with reference ``key`` (case-insensitive; a work IRI also works).

        :raise WorkNotFound: with the closest keys as suggestions.
        """
        works = self.all_works()
        query = (key or "").strip()
        if query.startswith(ID + "ref/"):
            query = query[len(ID + "ref/"):]
        if query in works:
            return works[query]
        folded = {k.lower(): w for k, w in works.items()}
        if query.lower() in folded:
            return folded[query.lower()]
        choices = {k: f"{k} {w.label}" for k, w in works.items()}
        found = process.extract(query, choices, scorer=_scorer, processor=utils.default_process,
                                limit=5)
        suggestions = [(k, works[k].label) for _, score, k in found if score >= 50]
        raise WorkNotFound(
            f"No work has the reference key {key!r}." if query else "Name a reference key.",
            suggestions, kind="work",
        )

    # -- the trace --------------------------------------------------------

    def trace(self, text: str) -> Trace:
        """Return the trace of the mechanism named by ``text`` (see :meth:`find_mechanism`)."""
        mechanism = self.find_mechanism(text)
        with self._lock:
            cached = self._traces.get(mechanism.iri)
            if cached is not None:
                self._traces.move_to_end(mechanism.iri)
                return cached
        trace = self._build_trace(mechanism)
        with self._lock:
            self._traces[mechanism.iri] = trace
            while len(self._traces) > TRACE_CACHE_SIZE:
                self._traces.popitem(last=False)
        return trace

    def _build_trace(self, mechanism: Node) -> Trace:
        m = mechanism.iri
        node = self.node(m)
        trace = Trace(mechanism=node, statuses=self.statuses())
        model_iris: list[str] = []
        for claim in self.claims_about(m):
            p = claim.predicate.iri
            incoming = claim.object.iri == m
            other = claim.other_end(m)
            if p == P["componentOf"] and incoming:
                trace.components.append(ComponentLink(claim, self.node(other.iri)))
            elif p == P["groundedIn"] and not incoming:
                trace.theories.append(self._theory_link(claim))
            elif p == P["engagesConstruct"] and not incoming:
                construct = self.node(other.iri)
                theories = [self.node(t.iri) for t in construct.construct_of]
                trace.constructs.append(ConstructLink(claim, construct, theories))
            elif p == P["leadsToOutcome"] and not incoming:
                trace.outcomes.append(self._outcome_link(claim, depth=0))
            elif p == P["enablesMechanism"]:
                trace.mechanism_links.append(
                    MechanismLink(claim, other, "in" if incoming else "out"))
            else:
                trace.context.append(ContextLink(claim, other, "in" if incoming else "out"))
                if p == P["hasMechanism"]:
                    model_iris.append(other.iri)
        # the model's own place: the study that develops it (and what else is said of it
        # is in the gaps); kept to the claims whose object is the model
        for model in model_iris:
            trace.model_context.extend(
                c for c in self.claims_about(model)
                if c.object.iri == model and c.predicate.iri == P["developsModel"]
            )
        trace.components.sort(key=lambda c: c.component.label)
        trace.theories.sort(key=lambda t: (_status_rank(t.claim), t.theory.label))
        trace.constructs.sort(key=lambda k: (_status_rank(k.claim), k.construct.label))
        trace.outcomes.sort(key=lambda o: (o.outcome_kind != "process", o.outcome.label))
        trace.context.sort(key=lambda c: (_status_rank(c.claim), c.claim.predicate.label))
        trace.works = self._cited_works(trace)
        trace.gaps = self._trace_gaps(trace, model_iris)
        gap_by_claim: dict[str, list[str]] = {}
        for gap in trace.gaps:
            for ref in gap.concerns:
                if ref.kind == "claim":
                    gap_by_claim.setdefault(ref.iri, []).append(gap.iri)
        for claim in trace.claims():
            claim.gaps = gap_by_claim.get(claim.iri, [])
        return trace

    def _theory_link(self, claim: Claim) -> TheoryLink:
        theory = self.node(claim.object.iri)
        families = []
        for fc in self.claims_about(theory.iri):
            if fc.predicate.iri == P["inTheoryFamily"] and fc.subject.iri == theory.iri:
                family = self.node(fc.object.iri)
                model_claims = [
                    c for c in self.claims_about(family.iri)
                    if c.predicate.iri == P["drawsOnTheoryFamily"] and c.object.iri == family.iri
                ]
                families.append(FamilyLink(fc, family, model_claims))
        return TheoryLink(claim, theory, families)

    def _outcome_link(self, claim: Claim, depth: int) -> OutcomeLink:
        outcome = self.node(claim.object.iri)
        link = OutcomeLink(claim, outcome)
        for c in self.claims_about(outcome.iri):
            if c.subject.iri != outcome.iri:
                continue
            if c.predicate.iri == P["measuredBy"]:
                link.measures.append(MeasureLink(c, self.node(c.object.iri)))
            elif c.predicate.iri == P["contributesTo"] and depth < 4:
                link.downstream.append(self._outcome_link(c, depth + 1))
        link.downstream.sort(key=lambda d: d.outcome.label)
        return link

    def _cited_works(self, trace: Trace) -> list[CitedWork]:
        works = self.all_works()
        cited: dict[str, CitedWork] = {}
        for claim in trace.claims():
            for citation in claim.citations:
                work = works.get(citation.work)
                if work is None:
                    continue
                entry = cited.setdefault(work.key, CitedWork(work))
                entry.roles.append(citation_in(citation, claim))
                if claim.iri not in entry.claims:
                    entry.claims.append(claim.iri)
        # (every grounding claim cites its theory's founding text as authority, so the
        # founding texts of the theories shown are among these works)
        return sorted(cited.values(), key=lambda c: c.work.key.lower())

    def _trace_gaps(self, trace: Trace, model_iris: list[str]) -> list[Gap]:
        mechanism = trace.mechanism.iri
        study_iris = [c.subject.iri for c in trace.model_context]
        shown: dict[str, str] = {}
        for claim in trace.claims():
            shown[claim.iri] = claim.label
            shown.setdefault(claim.subject.iri, claim.subject.label)
            shown.setdefault(claim.object.iri, claim.object.label)
        for cw in trace.works:
            shown.setdefault(cw.work.iri, cw.work.label)
        out = []
        for gap in self.all_gaps():
            about = {r.iri for r in gap.concerns}
            if mechanism in about:
                scope = "mechanism"
            elif about & (set(model_iris) | set(study_iris)):
                scope = "model"
            elif about & (set(shown) - {mechanism}):
                scope = "linked"
            else:
                continue
            concerns = [r for r in gap.concerns if r.iri in shown or r.iri == mechanism]
            out.append(dataclasses.replace(gap, concerns=concerns or list(gap.concerns),
                                           scope=scope))
        order = {"mechanism": 0, "linked": 1, "model": 2}
        out.sort(key=lambda g: (order[g.scope], g.label))
        return out

    # -- the reverse trace ------------------------------------------------

    def cited(self, key: str) -> ReverseTrace:
        """Return the reverse trace of the work with reference ``key``."""
        work = self.find_work(key)
        w = ox.NamedNode(work.iri)
        rows = self.sparql.select("internal/trace/cited-in", {"work": w})
        by_claim: dict[str, list[str]] = {}
        for row in rows:
            by_claim.setdefault(row["claim"].value, []).append(row["role"].value)
        citing: list[CitingClaim] = []
        for claim_iri, roles in by_claim.items():
            claim = self.claim(claim_iri)
            if claim is None:
                continue
            cito_roles = [r for r in roles if r != SEPIO_SUPPORTING_REFERENCE] or roles
            citing.append(CitingClaim(claim, [
                citation_in(_citation(r, work.key, work.iri), claim) for r in cito_roles
            ]))
        citing.sort(key=lambda c: (_status_rank(c.claim), c.claim.label))
        founded = [
            Ref.of(r["theory"].value, _value(r.get("label")))
            for r in self.sparql.select("internal/trace/founding-text-of", {"work": w})
        ]
        mechanisms = self._mechanisms_reached(citing, founded)
        gaps = [dataclasses.replace(g, scope="work") for g in self.all_gaps()
                if work.iri in {r.iri for r in g.concerns}]
        return ReverseTrace(
            work=work,
            statuses=self.statuses(),
            in_reference_list=work.key in self.reference_keys(),
            founding_text_of=founded,
            claims=citing,
            mechanisms=mechanisms,
            gaps=gaps,
        )

    def _mechanisms_reached(self, citing: list[CitingClaim], founded: list[Ref]
                            ) -> list[MechanismReach]:
        mechanism_iris = {m.iri: m for m in self.mechanisms()}
        reach: dict[str, MechanismReach] = {}

        def add(m: str, claim: Claim, via: str) -> None:
            entry = reach.setdefault(m, MechanismReach(mechanism_iris[m].ref))
            if claim.iri not in entry.claims:
                entry.claims.append(claim.iri)
            if via not in entry.via:
                entry.via.append(via)

        for c in citing:
            for end in (c.claim.subject.iri, c.claim.object.iri):
                if end in mechanism_iris:
                    roles = ", ".join(r.role_label for r in c.roles)
                    add(end, c.claim, f"a claim about the mechanism cites the work ({roles})")
        for theory in founded:
            for target in [theory, *self.node(theory.iri).constructs]:
                for claim in self.claims_about(target.iri):
                    for end in (claim.subject.iri, claim.object.iri):
                        if end in mechanism_iris:
                            add(end, claim, f"the work is the founding text of {theory.label}, "
                                            f"which the mechanism is linked to")
        return sorted(reach.values(), key=lambda r: r.mechanism.label)

    # -- building blocks --------------------------------------------------

    def statuses(self) -> list[Status]:
        """The three evidence statuses, strongest first (the legend of every trace)."""
        with self._lock:
            if self._statuses is None:
                rows = self.sparql.select("internal/trace/evidence-statuses")
                statuses = [
                    Status(r["status"].value, r["notation"].value, r["label"].value,
                           _value(r.get("definition")) or "")
                    for r in rows
                ]
                statuses.sort(key=lambda s: _rank(s.key))
                self._statuses = statuses
            return self._statuses

    def node(self, iri: str) -> Node:
        """Return what the graph says to describe ``iri`` (cached)."""
        with self._lock:
            cached = self._nodes.get(iri)
        if cached is not None:
            return cached
        rows = self.sparql.select("internal/trace/node", {"node": ox.NamedNode(iri)})
        values: dict[str, str] = {}
        types: list[str] = []
        founding: list[str] = []
        construct_of: list[Ref] = []
        constructs: list[Ref] = []
        status: Status | None = None
        statuses = {s.iri: s for s in self.statuses()}
        works_by_iri = {w.iri: w for w in self.all_works().values()}
        for row in rows:
            prop = row["property"].value
            value = row["value"]
            if prop in _NODE_FIELDS:
                values.setdefault(_NODE_FIELDS[prop], value.value)
            elif prop == _RDF_TYPE:
                types.append(value.value)
            elif prop == PCM + "evidenceStatus" and value.value in statuses:
                status = statuses[value.value]
            elif prop == PCM + "hasFoundingText":
                work = works_by_iri.get(value.value)
                founding.append(work.key if work else value.value)
            elif prop == PCM + "constructOf":
                construct_of.append(Ref.of(value.value, _value(row.get("valueLabel"))))
            elif prop == PCM + "hasConstruct":
                constructs.append(Ref.of(value.value, _value(row.get("valueLabel"))))
        node = Node(
            Ref.of(iri, values.pop("label", None)),
            types=sorted(types),
            inclusion_status=status,
            founding_texts=sorted(founding),
            construct_of=construct_of,
            constructs=sorted(constructs, key=lambda r: r.label),
            **values,
        )
        with self._lock:
            self._nodes[iri] = node
        return node

    def claims_about(self, iri: str) -> list[Claim]:
        """Return the claims whose subject or object is ``iri``, with citations and evidence."""
        with self._lock:
            cached = self._claims.get(iri)
        if cached is not None:
            return cached
        bindings = {"node": ox.NamedNode(iri)}
        claims = self._claims_from(bindings)
        with self._lock:
            self._claims[iri] = claims
        return claims

    def claim(self, iri: str) -> Claim | None:
        """Return one claim, or ``None`` if ``iri`` is not a claim."""
        claims = self._claims_from({"claim": ox.NamedNode(iri)})
        return claims[0] if claims else None

    def _claims_from(self, bindings: dict[str, ox.NamedNode]) -> list[Claim]:
        claims: dict[str, Claim] = {}
        statuses = {s.iri: s for s in self.statuses()}
        for r in self.sparql.select("internal/trace/claims", bindings):
            iri = r["claim"].value
            if iri in claims:
                continue
            status_iri = r["status"].value
            status = statuses.get(status_iri) or Status(
                status_iri, r["statusKey"].value, r["statusLabel"].value)
            claims[iri] = Claim(
                iri=iri,
                label=_value(r.get("claimLabel")) or slug_of(iri),
                subject=Ref.of(r["subject"].value, _value(r.get("subjectLabel"))),
                predicate=Ref.of(r["predicate"].value, _value(r.get("predicateLabel"))),
                object=Ref.of(r["object"].value, _value(r.get("objectLabel"))),
                status=status,
                locator=_value(r.get("locator")) or "",
                rationale=_value(r.get("rationale")) or "",
                derived_from=_value(r.get("derivedFrom")) or "",
                generated_at=_value(r.get("generatedAt")) or "",
            )
        if not claims:
            return []
        seen_cite: set[tuple[str, str, str]] = set()
        for r in self.sparql.select("internal/trace/claim-citations", bindings):
            claim = claims.get(r["claim"].value)
            key = (r["claim"].value, r["role"].value, r["work"].value)
            if claim is None or key in seen_cite:
                continue
            seen_cite.add(key)
            work_key = _value(r.get("key")) or r["work"].value
            claim.citations.append(_citation(r["role"].value, work_key, r["work"].value))
        lines: dict[tuple[str, str], EvidenceLine] = {}
        for r in self.sparql.select("internal/trace/claim-evidence", bindings):
            claim = claims.get(r["claim"].value)
            if claim is None:
                continue
            ev_key = (claim.iri, r["evidence"].value)
            line = lines.get(ev_key)
            if line is None:
                line = lines[ev_key] = EvidenceLine(
                    r["evidence"].value,
                    description=_value(r.get("description")) or "",
                    locator=_value(r.get("locator")) or "",
                )
                claim.evidence.append(line)
            ref = _value(r.get("key")) or _value(r.get("reference"))
            if ref and ref not in line.references:
                line.references.append(ref)
        role_order = {name: i for i, name in enumerate(ROLE_NAMES.values())}
        for claim in claims.values():
            claim.citations.sort(key=lambda c: (role_order.get(c.role, 9), c.work.lower()))
        return list(claims.values())

    def all_works(self) -> dict[str, Work]:
        """Every work with a reference key, by key (the reference list, the paper, the
        companion papers)."""
        with self._lock:
            if self._works is None:
                self._works = self._load_works()
            return self._works

    def _load_works(self) -> dict[str, Work]:
        works: dict[str, Work] = {}
        for r in self.sparql.select("internal/trace/bibliography-works"):
            key = r["key"].value
            if key in works:
                continue
            works[key] = Work(
                iri=r["work"].value,
                key=key,
                type=WORK_TYPES[r["type"].value],
                label=_value(r.get("label")) or key,
                title=_value(r.get("title")) or "",
                year=_value(r.get("year")) or "",
                journal=_value(r.get("journalTitle")) or "",
                volume=_value(r.get("volume")) or "",
                issue=_value(r.get("issue")) or "",
                pages=_value(r.get("pages")) or "",
                page_start=_value(r.get("pageStart")) or "",
                page_end=_value(r.get("pageEnd")) or "",
                doi=_value(r.get("doi")) or "",
                publisher=_value(r.get("publisher")) or "",
                citation=_value(r.get("citation")) or "",
                printed=_value(r.get("printed")) or "",
                correction_note=_value(r.get("correctionNote")) or "",
                editorial_note=_value(r.get("editorialNote")) or "",
                pmid=_value(r.get("pmid")) or "",
                pmcid=_value(r.get("pmcid")) or "",
                available=_value(r.get("available")) or "",
            )
        by_iri = {w.iri: w for w in works.values()}
        for r in self.sparql.select("internal/trace/bibliography-authors"):
            work = by_iri.get(r["work"].value)
            if work is not None:
                work.authors.append(r["name"].value)
        return works

    def reference_keys(self) -> list[str]:
        """The keys of the works the study papers cite (their reference lists), sorted."""
        with self._lock:
            if self._reference_list is None:
                rows = self.sparql.select("internal/trace/reference-list")
                self._reference_list = sorted({r["key"].value for r in rows}, key=str.lower)
            return self._reference_list

    def reference_list(self) -> list[Work]:
        """The works of the paper's reference list (60 for Gillard et al. 2015), by key."""
        works = self.all_works()
        return [works[k] for k in self.reference_keys() if k in works]

    def all_gaps(self) -> list[Gap]:
        """Every evidence gap with the resources it concerns."""
        with self._lock:
            if self._gaps is None:
                gaps: dict[str, Gap] = {}
                for r in self.sparql.select("internal/trace/gaps"):
                    gap = gaps.setdefault(r["gap"].value, Gap(
                        r["gap"].value, r["label"].value, _value(r.get("description")) or ""))
                    gap.concerns.append(
                        Ref.of(r["concerns"].value, _value(r.get("concernsLabel"))))
                self._gaps = list(gaps.values())
            return self._gaps

    # -- RDF --------------------------------------------------------------

    def trace_triples(self, trace: Trace) -> list[ox.Triple]:
        """The RDF of a trace: the claims (with evidence lines), the resources, works and
        gaps it shows, and the labels of what they link to. Bare shortcut edges are left
        out: every link appears as its claim with its evidence status."""
        nodes: list[str] = [trace.mechanism.iri]
        for claim in trace.claims():
            nodes += [claim.iri, claim.subject.iri, claim.object.iri, claim.status.iri]
            nodes += [e.iri for e in claim.evidence]
        for k in trace.constructs:
            nodes += [t.iri for t in k.theories]
        for cw in trace.works:
            nodes.append(cw.work.iri)
        nodes += [g.iri for g in trace.gaps]
        return self._describe(nodes)

    def reverse_trace_triples(self, reverse: ReverseTrace) -> list[ox.Triple]:
        nodes = [reverse.work.iri] + [r.iri for r in reverse.founding_text_of]
        for c in reverse.claims:
            nodes += [c.claim.iri, c.claim.subject.iri, c.claim.object.iri, c.claim.status.iri]
            nodes += [e.iri for e in c.claim.evidence]
        nodes += [g.iri for g in reverse.gaps]
        return self._describe(nodes)

    def _describe(self, nodes: list[str]) -> list[ox.Triple]:
        query = get_query("internal/trace/describe")
        seen_nodes: set[str] = set()
        seen: set[tuple[str, str, str]] = set()
        out: list[ox.Triple] = []
        follow = {PCM + "hasAuthorship", "http://purl.org/dc/terms/isPartOf"}
        queue = list(nodes)
        while queue:
            iri = queue.pop(0)
            if iri in seen_nodes or not iri.startswith(("http://", "https://")):
                continue
            seen_nodes.add(iri)
            for t in query.construct(self.store, {"node": ox.NamedNode(iri)}):
                key = (str(t.subject), str(t.predicate), str(t.object))
                if key in seen:
                    continue
                seen.add(key)
                out.append(t)
                if t.predicate.value in follow and isinstance(t.object, ox.NamedNode):
                    queue.append(t.object.value)
        return with_labels(self.store, out)

    def turtle(self, triples: list[ox.Triple], *, title: str) -> bytes:
        """Serialize triples as Turtle with the published prefixes and a header comment."""
        header = (
            f"# {title}\n"
            "# From peerchange (https://w3id.org/peerchange). Every link is given as a claim\n"
            "# (obo:SEPIO_0000388 subject, obo:SEPIO_0000389 predicate, obo:SEPIO_0000390\n"
            "# object) with its pcm:evidenceStatus: pcm:StatedInSource (with pcm:locator),\n"
            "# pcm:ReportedInCompanionPaper (with pcm:locator) or pcm:CuratedInference (with\n"
            "# pcm:rationale, the curators' reading, not a finding of the paper). Bare shortcut\n"
            "# edges are left out on purpose; pcm:EvidenceGap resources say what the material\n"
            "# could not establish.\n"
        )
        turtle = RDF_FORMATS[0]
        return header.encode() + write_graph(turtle, triples, prefixes=PREFIXES)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _rank(key: str) -> int:
    return STATUS_ORDER.index(key) if key in STATUS_ORDER else len(STATUS_ORDER)


def _status_rank(claim: Claim) -> int:
    return _rank(claim.status.key)


def _citation(role_iri: str, work_key: str, work_iri: str) -> Citation:
    return Citation(
        role=ROLE_NAMES.get(role_iri, slug_of(role_iri)),
        role_label=ROLE_LABELS.get(role_iri, slug_of(role_iri)),
        role_iri=role_iri,
        work=work_key,
        work_iri=work_iri,
        note=ROLE_NOTES.get(role_iri, ""),
    )


def citation_in(citation: Citation, claim: Claim) -> Citation:
    """Return ``citation`` naming the claim it belongs to."""
    return dataclasses.replace(citation, claim=claim.iri)


def _scorer(query: str, choice: str, **kwargs: Any) -> float:
    """Fuzzy score: the better of rapidfuzz's weighted ratio and its token-set ratio (so a
    query whose words all occur in a label scores high)."""
    return max(fuzz.WRatio(query, choice, **kwargs), fuzz.token_set_ratio(query, choice, **kwargs))


def _score(mechanisms: list[Node], query: str) -> list[tuple[float, Node]]:
    scored = []
    for m in mechanisms:
        choices = [m.label, m.ref.slug.replace("-", " ")]
        score = max(_scorer(utils.default_process(query), utils.default_process(c))
                    for c in choices) if query else 0.0
        scored.append((score, m))
    scored.sort(key=lambda s: (-s[0], s[1].label))
    return scored


def _suggest(mechanisms: list[Node], query: str) -> list[tuple[str, str]]:
    return [(m.ref.slug, m.label) for _, m in _score(mechanisms, query)][:5]
