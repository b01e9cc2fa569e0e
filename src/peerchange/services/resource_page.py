"""What the HTML page of a resource shows, as plain data for a template.

:class:`PageBuilder` reads a resource's concise bounded description, the claims about it
(with their evidence status, locator, rationale and citations) and the links to it, and
returns a :class:`ResourcePage`: labels instead of IRIs, nested blank nodes and RDF lists
unfolded, and beside each link the claim that stands for it and its status. Where the
service gives only the first of the claims about the resource or of the links to it by a
property (:mod:`peerchange.services.incoming`), the page says so (:class:`CutList`: how
many it shows, how many there are, where the whole list is).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from peerchange.core.namespaces import (
    BASE,
    CITO,
    CLAIM_OBJECT,
    CLAIM_PREDICATE,
    CLAIM_SUBJECT,
    DCTERMS,
    LABEL_PROPERTIES,
    PCM,
    RDF,
    RDF_TYPE,
    SKOS,
    XSD_STRING,
    shorten,
)
from peerchange.services.paging import PageWindow

DEFINITIONS = (SKOS + "definition", DCTERMS + "description")
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
class CutList:
    """A list the page shows in part: the claims about the resource by one end
    (``claims``), or the resources linking to it by one property.

    :param shown: how many the page shows (the first, in IRI order).
    :param total: how many there are.
    :param path: the site path (no leading slash) of the whole list, in pages.
    """

    predicate: Value
    shown: int
    total: int
    path: str
    claims: bool

    @property
    def what(self) -> str:
        """What the list holds, said after its total."""
        if not self.claims:
            return "resources that link here by"
        return ("claims that start here" if self.predicate.iri == CLAIM_SUBJECT
                else "claims that end here")


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
    cut: list[CutList] = field(default_factory=list)

    @property
    def claims_cut(self) -> list[CutList]:
        """The ends by which the page shows only some of the claims about the resource."""
        return [c for c in self.cut if c.claims]

    @property
    def links_cut(self) -> list[CutList]:
        """The properties by which the page shows only some of the links to it."""
        return [c for c in self.cut if not c.claims]


@dataclass
class LinksPage:
    """One page of what links to a resource by one property (``/links/{path}``): the
    links, each with the claim behind it, or (by a claim's subject or object) the claims
    themselves; ``triples`` its RDF (the links, the claims' triples, labels)."""

    iri: str
    label: str
    predicate: Value
    window: PageWindow
    links: list[IncomingLink]
    claims: list[ClaimView]
    triples: list[ox.Triple]


Outgoing = dict[Any, list[ox.Triple]]


class PageBuilder:
    """Builds pages with one labelling function (an IRI's label, else its short form)."""

    def __init__(self, label: Callable[[str], str]) -> None:
        self.label = label

    def page(self, iri: str, title: str, cbd: Iterable[ox.Triple],
             claim_triples: Iterable[ox.Triple], incoming: Iterable[tuple[str, str]],
             terms: list[OntologyTerm], *, badges: Iterable[ox.Triple] = (),
             cut: Iterable[tuple[str, int, int, str]] = ()) -> ResourcePage:
        """The page of ``iri`` from its description, the claims about it and the
        ``(subject, predicate)`` pairs that link to it.

        :param badges: the triples of more claims, not listed: the claims behind links the
            page shows whose claims are not among ``claim_triples`` (when those are cut).
        :param cut: the lists given in part, as ``(predicate, bound, total, path)``.
        """
        node = ox.NamedNode(iri)
        claims = self.claims(claim_triples)
        by_link = {(c.subject.iri, c.predicate.iri, c.object.iri): c
                   for c in [*self.claims(badges), *claims]}

        def claim_ref(s: str | None, p: str | None, o: str | None) -> ClaimRef | None:
            view = by_link.get((s, p, o))
            if view is None:
                return None
            return ClaimRef(view.iri, view.label, view.status.iri if view.status else None,
                            view.status.text if view.status else None)

        outgoing: Outgoing = defaultdict(list)
        for t in cbd:
            outgoing[t.subject].append(t)
        rows: dict[str, list[Value]] = defaultdict(list)
        types: list[Value] = []
        definitions: list[Value] = []
        for t in outgoing.get(node, []):
            p = t.predicate.value
            if p == LABEL_PROPERTIES[0]:
                continue
            value = self._value(t.object, outgoing, 0)
            if p == RDF_TYPE:
                types.append(value)
            elif p in DEFINITIONS and isinstance(t.object, ox.Literal):
                definitions.append(value)
            else:
                if isinstance(t.object, ox.NamedNode):
                    value.claim = claim_ref(iri, p, t.object.value)
                rows[p].append(value)
        links = [IncomingLink(self.iri_value(s), self.iri_value(p), claim_ref(s, p, iri))
                 for s, p in incoming]
        return ResourcePage(
            iri=iri,
            label=title,
            definitions=definitions,
            types=sorted(types, key=_value_key),
            properties=[
                PropertyRow(self.iri_value(p), sorted(values, key=_value_key))
                for p, values in sorted(rows.items(), key=lambda kv: self.label(kv[0]).lower())
            ],
            claims=sorted(claims, key=lambda c: (c.predicate.text, c.label)),
            incoming=sorted(links, key=lambda link: (link.predicate.text.lower(),
                                                     link.subject.text.lower())),
            terms=terms,
            cut=[CutList(self.iri_value(p), min(bound, total), total, path,
                         p in (CLAIM_SUBJECT, CLAIM_OBJECT))
                 for p, bound, total, path in cut],
        )

    def iri_value(self, iri: str) -> Value:
        return Value("iri", self.label(iri), iri=iri)

    def _value(self, term: object, outgoing: Outgoing, depth: int) -> Value:
        if isinstance(term, ox.NamedNode):
            return self.iri_value(term.value)
        if isinstance(term, ox.Literal):
            if term.language:
                note: str | None = f"@{term.language}"
            elif term.datatype.value != XSD_STRING:
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
                PropertyRow(self.iri_value(p), vals) for p, vals in sorted(nested.items())
            ])
        return Value("literal", str(term))

    def _list_items(self, head: ox.BlankNode, outgoing: Outgoing, depth: int
                    ) -> list[Value] | None:
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

    def claims(self, triples: Iterable[ox.Triple]) -> list[ClaimView]:
        """The claims of ``triples`` (every triple of each), as a page shows them."""
        by_claim: dict[str, list[ox.Triple]] = defaultdict(list)
        for t in triples:
            if isinstance(t.subject, ox.NamedNode):
                by_claim[t.subject.value].append(t)
        views = []
        for claim, ts in by_claim.items():
            props: dict[str, list[Any]] = defaultdict(list)
            for t in ts:
                props[t.predicate.value].append(t.object)

            def one(p: str, props: dict[str, list[Any]] = props) -> Value:
                values = props.get(p)
                if not values:
                    return Value("literal", "(not given)")
                return self._value(values[0], {}, MAX_NESTING - 1)

            status = props.get(STATUS)
            views.append(ClaimView(
                iri=claim,
                label=self.label(claim),
                subject=one(CLAIM_SUBJECT),
                predicate=one(CLAIM_PREDICATE),
                object=one(CLAIM_OBJECT),
                status=self.iri_value(status[0].value)
                if status and isinstance(status[0], ox.NamedNode) else None,
                locator=sorted(o.value for o in props.get(LOCATOR, [])
                               if isinstance(o, ox.Literal)),
                rationale=sorted(o.value for o in props.get(RATIONALE, [])
                                 if isinstance(o, ox.Literal)),
                citations=[
                    (role, self.iri_value(o.value))
                    for p, role in CITATION_ROLES.items()
                    for o in sorted(props.get(p, []), key=str)
                    if isinstance(o, ox.NamedNode)
                ],
            ))
        return views


def _value_key(v: Value) -> tuple[str, str]:
    return (v.text.lower(), v.iri or "")
