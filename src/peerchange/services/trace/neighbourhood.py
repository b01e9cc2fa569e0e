"""The rows of one trace query read as triples, claims and nodes.

``trace.rq`` (bound to a mechanism) and ``cited.rq`` (bound to a work) return one row per
triple of the resources a trace may show; so does ``trace-rdf.rq`` for the works and gaps
of a mechanism's trace. The labels of the rows' properties and values come from a second
query bound to those IRIs (``labels-of.rq``, see :func:`row_iris`). A
:class:`Neighbourhood` indexes rows and labels: the builders read claims and nodes from
it, and the trace's RDF is taken from its triples.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyoxigraph as ox

from peerchange.core.namespaces import (
    CITO,
    CLAIM_OBJECT,
    CLAIM_PREDICATE,
    CLAIM_SUBJECT,
    DCTERMS,
    LABEL_PROPERTIES,
    OBO,
    PCM,
    PROV,
    RDF_TYPE,
    RDFS,
    SKOS,
)
from peerchange.services.trace.model import (
    ROLE_NAMES,
    SEPIO_SUPPORTING_REFERENCE,
    Claim,
    EvidenceLine,
    Node,
    Ref,
    Status,
    Work,
    slug_of,
)
from peerchange.services.trace.rows import Row, citation

# the CiTO roles a claim cites a work in, in the order a claim lists its citations
CITATION_ROLES = tuple(iri for iri in ROLE_NAMES if iri.startswith(CITO))

HAS_EVIDENCE = OBO + "SEPIO_0000007"
RDFS_LABEL = RDFS + "label"
# what describes a node of a trace, by property
NODE_FIELDS = {
    SKOS + "definition": "definition",
    SKOS + "scopeNote": "scope_note",
    SKOS + "editorialNote": "editorial_note",
    SKOS + "example": "example",
    DCTERMS + "description": "description",
}
_ROLE_ORDER = {name: i for i, name in enumerate(ROLE_NAMES.values())}
# the labels of some IRIs: IRI → its (label property, label) pairs
LabelRows = Mapping[str, Iterable[tuple[str, Any]]]


def row_iris(rows: Iterable[Row]) -> list[ox.NamedNode]:
    """The IRIs whose labels a :class:`Neighbourhood` of ``rows`` gives: every property
    and every IRI value, in the order of the rows."""
    found: dict[ox.NamedNode, None] = {}
    for r in rows:
        found.setdefault(r["property"])
        if isinstance(r["value"], ox.NamedNode):
            found.setdefault(r["value"])
    return list(found)


class Neighbourhood:
    """The rows of ``trace.rq``, ``cited.rq`` or ``trace-rdf.rq``, read as triples, claims
    and nodes.

    :param rows: one row per triple (``node``, ``property``, ``value``).
    :param statuses: the evidence statuses (a claim's status is one of them).
    :param works: the works the rows name (at least), by key (a cited work is named by
        its key).
    :param labels: the labels of the rows' properties and IRI values (:func:`row_iris`).
    """

    def __init__(self, rows: Iterable[Row], statuses: Iterable[Status] = (),
                 works: Mapping[str, Work] | None = None,
                 labels: LabelRows | None = None) -> None:
        self._statuses = {s.iri: s for s in statuses}
        self._keys = {w.iri: w.key for w in (works or {}).values()}
        self._subjects: dict[str, Any] = {}  # IRI → its term
        # subject → (property, value) → None: the triples, in the order of the rows
        self._triples: dict[str, dict[tuple[Any, Any], None]] = {}
        self._values: dict[str, dict[str, list[Any]]] = {}  # subject → property → values
        # IRI → (label property, label) → None: its labels, from its own triples or the
        # label columns
        self._labels: dict[str, dict[tuple[str, Any], None]] = {}
        for r in rows:
            node, prop, value = r["node"], r["property"], r["value"]
            subject = node.value
            if subject not in self._triples:
                self._subjects[subject] = node
                self._triples[subject] = {}
                self._values[subject] = {}
            pair = (prop, value)
            if pair not in self._triples[subject]:
                self._triples[subject][pair] = None
                self._values[subject].setdefault(prop.value, []).append(value)
                if prop.value in LABEL_PROPERTIES:
                    self._add_label(subject, prop.value, value)
        for iri, pairs in (labels or {}).items():
            for label_property, label in pairs:
                self._add_label(iri, label_property, label)
        self._claims: dict[str, Claim] | None = None
        self._about: dict[str, list[Claim]] = {}
        self._nodes: dict[str, Node] = {}

    def subset(self, iris: Iterable[str], follow: Iterable[str] = ()) -> Neighbourhood:
        """The triples of ``iris`` and of what they link to by the ``follow`` properties,
        with every label: what a trace keeps for its RDF."""
        part = Neighbourhood(())
        part._labels = self._labels
        follow = frozenset(follow)
        queue = list(iris)
        while queue:
            iri = queue.pop()
            if iri in part._triples or iri not in self._triples:
                continue
            part._subjects[iri] = self._subjects[iri]
            part._triples[iri] = self._triples[iri]
            part._values[iri] = self._values[iri]
            queue += [v.value for p in follow for v in self._values[iri].get(p, [])
                      if isinstance(v, ox.NamedNode)]
        return part

    def _add_label(self, iri: str, prop: str, label: Any) -> None:
        self._labels.setdefault(iri, {}).setdefault((prop, label), None)

    # -- triples ----------------------------------------------------------

    def describes(self, iri: str) -> bool:
        """Whether the rows describe ``iri`` (give its triples)."""
        return iri in self._triples

    def triples_of(self, iri: str) -> list[ox.Triple]:
        """The triples that describe ``iri`` (bare shortcut edges left out)."""
        node = self._subjects.get(iri)
        return [ox.Triple(node, p, v) for p, v in self._triples.get(iri, {})]

    def labels_of(self, iri: str) -> list[ox.Triple]:
        """The label triples of ``iri`` (``rdfs:label`` first, then ``skos:prefLabel``)."""
        labels = self._labels.get(iri, {})
        return [ox.Triple(ox.NamedNode(iri), ox.NamedNode(prop), label)
                for p in LABEL_PROPERTIES for prop, label in labels if prop == p]

    def values(self, iri: str, prop: str) -> list[Any]:
        """The values of ``prop`` on ``iri``, as RDF terms."""
        return self._values.get(iri, {}).get(prop, [])

    def first(self, iri: str, prop: str) -> str:
        """The first value of ``prop`` on ``iri`` as text (``""`` when none)."""
        found = self.values(iri, prop)
        return found[0].value if found else ""

    def label(self, iri: str) -> str | None:
        """The ``rdfs:label`` of ``iri``, if the rows give one."""
        return next((label.value for prop, label in self._labels.get(iri, {})
                     if prop == RDFS_LABEL), None)

    def subjects(self, prop: str, value: str) -> list[str]:
        """The resources in the rows whose ``prop`` is ``value``."""
        return [s for s, values in self._values.items()
                if any(v.value == value for v in values.get(prop, []))]

    def references(self, evidence: str) -> list[str]:
        """The works an evidence line names as supporting references (IRIs)."""
        return [v.value for v in self.values(evidence, SEPIO_SUPPORTING_REFERENCE)]

    def key(self, iri: str) -> str | None:
        """The reference key of a work."""
        return self._keys.get(iri)

    # -- claims -----------------------------------------------------------

    def claims(self) -> dict[str, Claim]:
        """Every claim in the rows (with its status, citations and evidence), by IRI, in
        IRI order."""
        if self._claims is None:
            built = (self._claim(iri) for iri in sorted(self._triples))
            self._claims = {c.iri: c for c in built if c is not None}
            for c in self._claims.values():
                for end in dict.fromkeys((c.subject.iri, c.object.iri)):
                    self._about.setdefault(end, []).append(c)
        return self._claims

    def claim(self, iri: str) -> Claim | None:
        """The claim ``iri``, or ``None`` if the rows do not give it as a claim."""
        return self.claims().get(iri)

    def claims_about(self, iri: str) -> list[Claim]:
        """The claims whose subject or object is ``iri``, in IRI order."""
        self.claims()
        return list(self._about.get(iri, []))

    def _claim(self, iri: str) -> Claim | None:
        if PCM + "Claim" not in {t.value for t in self.values(iri, RDF_TYPE)}:
            return None
        ends = [self.first(iri, p) for p in (CLAIM_SUBJECT, CLAIM_PREDICATE, CLAIM_OBJECT,
                                              PCM + "evidenceStatus")]
        if not all(ends):
            return None
        subject, predicate, obj, status_iri = ends
        status = self._statuses.get(status_iri)
        if status is None:  # a status outside the scheme: as the graph names it
            key = self.first(status_iri, SKOS + "notation")
            label = self.first(status_iri, SKOS + "prefLabel")
            if not (key and label):
                return None
            status = Status(status_iri, key, label)
        claim = Claim(
            iri=iri,
            label=self.first(iri, RDFS_LABEL) or slug_of(iri),
            subject=Ref.of(subject, self.label(subject)),
            predicate=Ref.of(predicate, self.label(predicate)),
            object=Ref.of(obj, self.label(obj)),
            status=status,
            locator=self.first(iri, PCM + "locator"),
            rationale=self.first(iri, PCM + "rationale"),
            derived_from=self.first(iri, PROV + "wasDerivedFrom"),
            generated_at=self.first(iri, PROV + "generatedAtTime"),
        )
        for role in CITATION_ROLES:
            for work in dict.fromkeys(v.value for v in self.values(iri, role)):
                claim.citations.append(citation(role, self.key(work) or work, work))
        claim.citations.sort(key=lambda c: (_ROLE_ORDER.get(c.role, 9), c.work.lower()))
        for evidence in sorted({v.value for v in self.values(iri, HAS_EVIDENCE)}):
            refs = sorted({v.value for v in self.values(evidence, SEPIO_SUPPORTING_REFERENCE)},
                          key=lambda r: (self.key(r) is not None, self.key(r) or ""))
            claim.evidence.append(EvidenceLine(
                evidence,
                description=self.first(evidence, DCTERMS + "description"),
                locator=self.first(evidence, PCM + "locator"),
                references=list(dict.fromkeys(self.key(r) or r for r in refs)),
            ))
        return claim

    # -- nodes ------------------------------------------------------------

    def node(self, iri: str) -> Node:
        """What the rows say to describe ``iri``: label, definition, notes, types, the
        status of including it (candidate outcomes and measures), a theory's founding texts
        and constructs, and the theories a construct belongs to."""
        node = self._nodes.get(iri)
        if node is None:
            node = self._nodes[iri] = self._node(iri)
        return node

    def _node(self, iri: str) -> Node:
        status = None
        for value in self.values(iri, PCM + "evidenceStatus"):
            status = self._statuses.get(value.value, status)
        founding = [self.key(v.value) or v.value
                    for v in self.values(iri, PCM + "hasFoundingText")]
        constructs = [Ref.of(v.value, self.label(v.value))
                      for v in self.values(iri, PCM + "hasConstruct")]
        return Node(
            Ref.of(iri, self.first(iri, RDFS_LABEL) or None),
            types=sorted(v.value for v in self.values(iri, RDF_TYPE)),
            inclusion_status=status,
            founding_texts=sorted(founding),
            construct_of=[Ref.of(t, self.label(t))
                          for t in self.subjects(PCM + "hasConstruct", iri)],
            constructs=sorted(constructs, key=lambda r: r.label),
            **{name: self.first(iri, prop) for prop, name in NODE_FIELDS.items()},
        )
