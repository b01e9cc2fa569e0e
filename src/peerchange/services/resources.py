"""Resource descriptions for linked-data clients and readers: what ``/id/...``, ``/onto/...``
and ``/onto`` answer.

The RDF of a resource is its concise bounded description (its triples, following blank
nodes), the labels of everything it links to, and the claims about it (claims whose
subject, ``obo:SEPIO_0000388``, or object, ``obo:SEPIO_0000390``, is the resource, with all
their triples: evidence status, locator, rationale, citations), so a harvester can display
it and see the status of every link without a second request. The ontology IRI's document
is the whole ontology graph.

The HTML page is built from the same triples (:meth:`ResourceService.page`) plus "what
links here". Unknown IRIs get close-match suggestions (:meth:`ResourceService.suggest`).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import pyoxigraph as ox

from peerchange.core.describe import unique_triples, with_labels
from peerchange.core.formats import Format
from peerchange.core.knowledge_graph import KnowledgeGraph
from peerchange.core.namespaces import BASE, GRAPH, ID, ONTOLOGY, PCM, shorten
from peerchange.core.queryfiles import get_query
from peerchange.services.rdf_writer import build_context, write_document

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
OBO = "http://purl.obolibrary.org/obo/"
CITO = "http://purl.org/spar/cito/"
XSD = "http://www.w3.org/2001/XMLSchema#"

RDF_TYPE = RDF + "type"
LABELS = (RDFS + "label", SKOS + "prefLabel")
DEFINITIONS = (SKOS + "definition", DCTERMS + "description")
CLAIM_SUBJECT = OBO + "SEPIO_0000388"
CLAIM_PREDICATE = OBO + "SEPIO_0000389"
CLAIM_OBJECT = OBO + "SEPIO_0000390"
STATUS = PCM + "evidenceStatus"
LOCATOR = PCM + "locator"
RATIONALE = PCM + "rationale"
CITATION_ROLES = {
    CITO + "citesAsEvidence": "cites as evidence",
    CITO + "citesAsAuthority": "cites as authority",
    CITO + "cites": "cites",
}
# how deep nested blank nodes (OWL restrictions, lists) are shown on a page
MAX_NESTING = 4
# suggestions for unknown IRIs: the least similarity, and how much of the path is compared
SUGGEST_CUTOFF = 0.6
MAX_SUGGEST_CHARS = 120


def iri_for_path(path: str) -> str:
    """Return the IRI a request path names: ``/id/x`` and ``/peerchange/id/x`` both name
    ``https://w3id.org/peerchange/id/x`` (design.md §1)."""
    rel = path.lstrip("/")
    if rel == "peerchange" or rel.startswith("peerchange/"):
        rel = rel[len("peerchange"):].lstrip("/")
    return BASE + rel


def path_for_iri(iri: str) -> str | None:
    """Return the path (without a leading slash) of one of our IRIs, else ``None``."""
    return iri[len(BASE):] if iri.startswith(BASE) else None


# ---------------------------------------------------------------------------
# What a page shows (plain data for a template)
# ---------------------------------------------------------------------------


@dataclass
class ClaimRef:
    """The claim behind one link, and its evidence status."""

    iri: str
    label: str
    status: str | None = None
    status_label: str | None = None


@dataclass
class Value:
    """One RDF term as a page shows it.

    :param kind: ``iri``, ``literal`` or ``bnode``.
    :param text: the label (IRIs), the lexical form (literals) or a placeholder.
    :param iri: the IRI (IRIs only).
    :param note: the language tag or datatype of a literal.
    :param nested: the properties of a blank node; ``items`` those of an RDF list.
    :param claim: the claim behind the link this value ends, if any.
    """

    kind: str
    text: str
    iri: str | None = None
    note: str | None = None
    nested: list[PropertyRow] = field(default_factory=list)
    items: list[Value] | None = None
    claim: ClaimRef | None = None

    @property
    def ours(self) -> bool:
        return bool(self.iri and self.iri.startswith(BASE))

    @property
    def show_iri(self) -> bool:
        """Whether a page should print the IRI beside the label: for labelled IRIs of other
        namespaces (a bare ``prefix:name`` already says which IRI it is)."""
        return bool(self.iri) and not self.ours and self.text != self.iri and (
            ":" not in self.text or " " in self.text)


@dataclass
class PropertyRow:
    predicate: Value
    values: list[Value]


@dataclass
class ClaimView:
    """A claim about the resource: the link it states and what supports it."""

    iri: str
    label: str
    subject: Value
    predicate: Value
    object: Value
    status: Value | None
    locator: list[str]
    rationale: list[str]
    citations: list[tuple[str, Value]]


@dataclass
class IncomingLink:
    subject: Value
    predicate: Value
    claim: ClaimRef | None


@dataclass
class OntologyTerm:
    iri: str
    kind: str
    label: str
    definition: str
    deprecated: bool


@dataclass
class ResourcePage:
    """Everything the HTML page of one resource shows."""

    iri: str
    label: str
    definitions: list[Value]
    types: list[Value]
    properties: list[PropertyRow]
    claims: list[ClaimView]
    incoming: list[IncomingLink]
    terms: list[OntologyTerm] = field(default_factory=list)


@dataclass(frozen=True)
class Suggestion:
    iri: str
    path: str
    label: str


# ---------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------


class ResourceService:
    """Describes the resources of one loaded :class:`KnowledgeGraph`."""

    def __init__(self, graph: KnowledgeGraph) -> None:
        self.graph = graph
        self._document = lru_cache(maxsize=512)(self._document_uncached)
        self.page = lru_cache(maxsize=256)(self._page)  # type: ignore[method-assign]

    @property
    def store(self) -> ox.Store:
        return self.graph.store

    # -- what exists --------------------------------------------------------

    @cached_property
    def known(self) -> dict[str, str]:
        """Every IRI in our namespaces that the graph describes, with its label (or ``""``)."""
        return {
            row["resource"].value: row["label"].value if "label" in row else ""
            for row in get_query("internal/linked-data/known-resources").select(self.store)
        }

    @cached_property
    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))

    def exists(self, iri: str) -> bool:
        """Whether ``iri`` is the ontology, a term, an instance or a named graph we serve."""
        if iri in self.named_graphs and iri.startswith(GRAPH):
            return True
        return iri in self.known and (
            iri == ONTOLOGY or iri.startswith(PCM) or iri.startswith(ID) or iri.startswith(GRAPH)
        )

    def pages(self) -> list[str]:
        """Every IRI that has a page: the ontology, its terms, the instances, the graphs."""
        iris = {iri for iri in self.known if self.exists(iri)}
        iris.update(g for g in self.named_graphs if g.startswith(GRAPH))
        return sorted(iris)

    @cached_property
    def labels(self) -> dict[str, str]:
        """One label per IRI (``rdfs:label`` or ``skos:prefLabel``, English preferred)."""
        out: dict[str, tuple[int, str]] = {}
        for prop in LABELS:
            for quad in self.store.quads_for_pattern(None, ox.NamedNode(prop), None, None):
                if not isinstance(quad.subject, ox.NamedNode) or not isinstance(
                        quad.object, ox.Literal):
                    continue
                rank = 0 if quad.object.language in ("en", None) else 1
                rank += 0 if prop == LABELS[0] else 2
                old = out.get(quad.subject.value)
                if old is None or rank < old[0]:
                    out[quad.subject.value] = (rank, quad.object.value)
        return {iri: text for iri, (_, text) in out.items()}

    def label(self, iri: str) -> str:
        """The label of ``iri``, else its short form (``pcm:Claim``, ``<...>``)."""
        text = self.labels.get(iri)
        if text:
            return text
        short = shorten(iri)
        return short[1:-1] if short.startswith("<") else short

    @cached_property
    def context(self) -> dict[str, Any]:
        """The published JSON-LD context document."""
        return build_context(self.store)

    # -- RDF ----------------------------------------------------------------

    def triples(self, iri: str) -> list[ox.Triple]:
        """Return the RDF of the document about ``iri`` (see the module docstring)."""
        if iri == ONTOLOGY:
            return [
                ox.Triple(q.subject, q.predicate, q.object)
                for q in self.store.quads_for_pattern(None, None, None,
                                                      ox.NamedNode(GRAPH + "ontology"))
            ]
        node = ox.NamedNode(iri)
        bindings = {"resource": node}
        cbd = get_query("internal/linked-data/resource-description").construct(
            self.store, bindings)
        claims = get_query("internal/linked-data/resource-claims").construct(
            self.store, bindings)
        return with_labels(self.store, unique_triples(cbd + claims))

    def document(self, iri: str, fmt: Format, context_ref: str | None = None) -> bytes:
        """Return the document about ``iri`` in the RDF format ``fmt``.

        :param context_ref: the URL of the published JSON-LD context (JSON-LD only).
        """
        return self._document(iri, fmt, context_ref)

    def _document_uncached(self, iri: str, fmt: Format, context_ref: str | None) -> bytes:
        return write_document(self.triples(iri), fmt, context=self.context,
                              context_ref=context_ref, focus=iri)

    # -- the HTML page -------------------------------------------------------

    def page(self, iri: str) -> ResourcePage:
        """Return what the HTML page of ``iri`` shows (cached: the graph is read-only)."""
        return self._page(iri)

    def _page(self, iri: str) -> ResourcePage:
        node = ox.NamedNode(iri)
        bindings = {"resource": node}
        cbd = unique_triples(get_query("internal/linked-data/resource-description").construct(
            self.store, bindings))
        claim_triples = unique_triples(get_query("internal/linked-data/resource-claims").construct(
            self.store, bindings))
        claims = self._claims(claim_triples)
        by_link = {(c.subject.iri, c.predicate.iri, c.object.iri): c for c in claims}

        def claim_ref(s: str | None, p: str | None, o: str | None) -> ClaimRef | None:
            view = by_link.get((s, p, o))
            if view is None:
                return None
            return ClaimRef(view.iri, view.label, view.status.iri if view.status else None,
                            view.status.text if view.status else None)

        outgoing: dict[object, list[ox.Triple]] = defaultdict(list)
        for t in cbd:
            outgoing[t.subject].append(t)

        rows: dict[str, list[Value]] = defaultdict(list)
        types: list[Value] = []
        definitions: list[Value] = []
        for t in outgoing.get(node, []):
            p = t.predicate.value
            if p in LABELS[:1]:
                continue
            value = self._value(t.object, outgoing, 0)
            if p == RDF_TYPE:
                types.append(value)
                continue
            if p in DEFINITIONS and isinstance(t.object, ox.Literal):
                definitions.append(value)
                continue
            if isinstance(t.object, ox.NamedNode):
                value.claim = claim_ref(iri, p, t.object.value)
            rows[p].append(value)
        properties = [
            PropertyRow(self._iri_value(p), sorted(values, key=_value_key))
            for p, values in sorted(rows.items(), key=lambda kv: self.label(kv[0]).lower())
        ]

        incoming = []
        for row in get_query("internal/linked-data/resource-incoming").select(
                self.store, bindings):
            s, p = row["subject"].value, row["predicate"].value
            incoming.append(IncomingLink(self._iri_value(s), self._iri_value(p),
                                         claim_ref(s, p, iri)))
        incoming.sort(key=lambda link: (link.predicate.text.lower(), link.subject.text.lower()))

        terms = self._ontology_terms() if iri == ONTOLOGY else []
        return ResourcePage(
            iri=iri,
            label=self.labels.get(iri) or self.label(iri),
            definitions=definitions,
            types=sorted(types, key=_value_key),
            properties=properties,
            claims=sorted(claims, key=lambda c: (c.predicate.text, c.label)),
            incoming=incoming,
            terms=terms,
        )

    def _ontology_terms(self) -> list[OntologyTerm]:
        return [
            OntologyTerm(
                iri=row["term"].value,
                kind=row["kind"].value if "kind" in row else "",
                label=row["label"].value if "label" in row else self.label(row["term"].value),
                definition=row["definition"].value if "definition" in row else "",
                deprecated="deprecated" in row and row["deprecated"].value == "true",
            )
            for row in get_query("internal/linked-data/ontology-terms").select(self.store)
        ]

    def _iri_value(self, iri: str) -> Value:
        return Value("iri", self.label(iri), iri=iri)

    def _value(self, term: object, outgoing: dict[object, list[ox.Triple]], depth: int) -> Value:
        if isinstance(term, ox.NamedNode):
            return self._iri_value(term.value)
        if isinstance(term, ox.Literal):
            if term.language:
                note = f"@{term.language}"
            elif term.datatype.value != XSD + "string":
                note = shorten(term.datatype.value)
            else:
                note = None
            return Value("literal", term.value, note=note)
        if isinstance(term, ox.BlankNode):
            if depth >= MAX_NESTING:
                return Value("bnode", "…")
            items = self._list_items(term, outgoing, depth)
            if items is not None:
                return Value("bnode", "list", items=items)
            nested: dict[str, list[Value]] = defaultdict(list)
            for t in outgoing.get(term, []):
                nested[t.predicate.value].append(self._value(t.object, outgoing, depth + 1))
            return Value("bnode", "", nested=[
                PropertyRow(self._iri_value(p), vals) for p, vals in sorted(nested.items())
            ])
        return Value("literal", str(term))

    def _list_items(self, head: ox.BlankNode, outgoing: dict[object, list[ox.Triple]],
                    depth: int) -> list[Value] | None:
        items: list[Value] = []
        node: object = head
        seen = set()
        while isinstance(node, ox.BlankNode) and node not in seen:
            seen.add(node)
            props = {t.predicate.value: t.object for t in outgoing.get(node, [])}
            if RDF + "first" not in props:
                return None
            items.append(self._value(props[RDF + "first"], outgoing, depth + 1))
            node = props.get(RDF + "rest")
        if node != ox.NamedNode(RDF + "nil"):
            return None
        return items

    def _claims(self, triples: Iterable[ox.Triple]) -> list[ClaimView]:
        by_claim: dict[str, list[ox.Triple]] = defaultdict(list)
        for t in triples:
            if isinstance(t.subject, ox.NamedNode):
                by_claim[t.subject.value].append(t)
        views = []
        for claim, ts in by_claim.items():
            props: dict[str, list[object]] = defaultdict(list)
            for t in ts:
                props[t.predicate.value].append(t.object)

            def one(p: str, props: dict[str, list[object]] = props) -> Value:
                values = props.get(p)
                if not values:
                    return Value("literal", "(not given)")
                return self._value(values[0], {}, MAX_NESTING - 1)

            status = props.get(STATUS)
            citations = [
                (role, self._iri_value(o.value))
                for p, role in CITATION_ROLES.items()
                for o in sorted(props.get(p, []), key=str)
                if isinstance(o, ox.NamedNode)
            ]
            views.append(ClaimView(
                iri=claim,
                label=self.label(claim),
                subject=one(CLAIM_SUBJECT),
                predicate=one(CLAIM_PREDICATE),
                object=one(CLAIM_OBJECT),
                status=self._iri_value(status[0].value)
                if status and isinstance(status[0], ox.NamedNode) else None,
                locator=sorted(o.value for o in props.get(LOCATOR, [])
                               if isinstance(o, ox.Literal)),
                rationale=sorted(o.value for o in props.get(RATIONALE, [])
                                 if isinstance(o, ox.Literal)),
                citations=citations,
            ))
        return views

    # -- unknown IRIs ---------------------------------------------------------

    @cached_property
    def _candidates(self) -> list[tuple[str, str, str, str]]:
        """(IRI, lower-case path, its last segment, lower-case label) of every page."""
        out = []
        for iri in self.pages():
            path = (path_for_iri(iri) or iri).lower()
            out.append((iri, path, path.rsplit("/", 1)[-1], self.labels.get(iri, "").lower()))
        return out

    def suggest(self, iri: str, limit: int = 6) -> list[Suggestion]:
        """Return the known resources closest to ``iri`` (by path, last segment and label,
        with :mod:`difflib`). A path that is the start of known paths (``/id/mechanism``)
        lists what is under it."""
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



def _value_key(v: Value) -> tuple[str, str]:
    return (v.text.lower(), v.iri or "")
