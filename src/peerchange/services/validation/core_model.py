"""The shapes graph read into what the engine validator runs: shapes, their targets,
paths (as SPARQL property paths) and constraint parameters (as RDF terms).

A shape that uses something :mod:`.core_engine` does not compile (a parameter it has no
template for, a SPARQL constraint on a property shape, a path form it cannot write) is
marked ``unsupported`` with the reason, and so is every shape that reaches it through
``sh:property``, ``sh:node``, ``sh:not``, ``sh:or``, ``sh:xone`` or
``sh:qualifiedValueShape``: such top-level shapes are left to pySHACL
(:mod:`.shacl_engine`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH

from peerchange.services.validation.report import INFO, VIOLATION, WARNING
from peerchange.services.validation.written import written

SEVERITY = {SH.Violation: VIOLATION, SH.Warning: WARNING, SH.Info: INFO}
TARGETS = ("targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode")
# component parameters with a template: the parameter's local name -> the component
SIMPLE = {
    "class": "ClassConstraintComponent",
    "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent",
    "minCount": "MinCountConstraintComponent",
    "maxCount": "MaxCountConstraintComponent",
    "hasValue": "HasValueConstraintComponent",
    "in": "InConstraintComponent",
    "pattern": "PatternConstraintComponent",
    "languageIn": "LanguageInConstraintComponent",
    "uniqueLang": "UniqueLangConstraintComponent",
    "minLength": "MinLengthConstraintComponent",
    "maxLength": "MaxLengthConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent",
    "maxInclusive": "MaxInclusiveConstraintComponent",
}
LOGICAL = ("node", "not", "or", "xone", "qualifiedValueShape")
# sh: predicates that are not constraints (or are read with another one)
IGNORED = {"path", "name", "description", "message", "severity", "property", "order",
           "group", "defaultValue", "flags", "qualifiedMinCount", "sparql", "deactivated",
           "prefixes", "declare", *TARGETS}


@dataclass(eq=False)
class ShapeDef:
    """One shape as the engine runs it."""

    node: URIRef | BNode
    severity: str = VIOLATION
    messages: tuple[str, ...] = ()
    path: str | None = None  # a SPARQL property path; None for a node shape
    path_iri: str | None = None  # the predicate, when the path is one
    targets: list[tuple[str, ox.Term]] = field(default_factory=list)
    params: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    properties: list[ShapeDef] = field(default_factory=list)
    node_shapes: list[ShapeDef] = field(default_factory=list)
    not_shapes: list[ShapeDef] = field(default_factory=list)
    or_lists: list[list[ShapeDef]] = field(default_factory=list)
    xone_lists: list[list[ShapeDef]] = field(default_factory=list)
    qualified: list[tuple[ShapeDef, int]] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    deactivated: bool = False

    @property
    def name(self) -> str:
        return str(self.node) if isinstance(self.node, URIRef) else "a blank node shape"

    def reasons(self, seen: set[int] | None = None) -> list[str]:
        """Why this shape, or a shape it reaches, cannot run on the engine."""
        seen = set() if seen is None else seen
        if id(self) in seen:
            return []
        seen.add(id(self))
        found = list(self.unsupported)
        nested = [*self.properties, *self.node_shapes, *self.not_shapes,
                  *(s for group in self.or_lists + self.xone_lists for s in group),
                  *(q for q, _n in self.qualified)]
        for other in nested:
            found.extend(other.reasons(seen))
        return found


def to_ox(term: object) -> ox.Term:
    """An rdflib term as a pyoxigraph term (written into a query as N-Triples)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise ValueError(f"not a constant term: {term!r}")


class ShapesModel:
    """The shapes of a shapes graph, each read once (shapes may refer to each other)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._shapes: dict[object, ShapeDef] = {}

    def top_level(self) -> list[ShapeDef]:
        """The shapes with targets, in a stable order."""
        nodes = {s for t in TARGETS for s in self.graph.subjects(SH[t], None)}
        classes = set(self.graph.subjects(RDF.type, RDFS.Class))
        shapes = [self.shape(n) for n in sorted(nodes | (classes & self._declared()))]
        return [s for s in shapes if not s.deactivated]

    def _declared(self) -> set[object]:
        return (set(self.graph.subjects(RDF.type, SH.NodeShape))
                | set(self.graph.subjects(RDF.type, SH.PropertyShape)))

    def shape(self, node: object) -> ShapeDef:
        known = self._shapes.get(node)
        if known is not None:
            return known
        assert isinstance(node, (URIRef, BNode))
        g = self.graph
        shape = self._shapes[node] = ShapeDef(node)
        shape.severity = SEVERITY.get(g.value(node, SH.severity), VIOLATION)
        shape.messages = tuple(sorted(str(m) for m in g.objects(node, SH.message)))
        shape.deactivated = str(g.value(node, SH.deactivated)).lower() == "true"
        path = g.value(node, SH.path)
        if path is not None:
            try:
                shape.path = self.path(path)
            except ValueError as exc:
                shape.unsupported.append(str(exc))
            shape.path_iri = str(path) if isinstance(path, URIRef) else None
            if (node, SH.sparql, None) in g:
                shape.unsupported.append("sh:sparql on a property shape")
        for kind in TARGETS:
            shape.targets.extend((kind, to_ox(t)) for t in sorted(g.objects(node, SH[kind])))
        if (node, RDF.type, RDFS.Class) in g:
            shape.targets.append(("targetClass", to_ox(node)))
        self._read_constraints(shape)
        return shape

    def _read_constraints(self, shape: ShapeDef) -> None:
        g, node = self.graph, shape.node
        for predicate in sorted(set(g.predicates(node, None))):
            if not str(predicate).startswith(str(SH)):
                continue
            local = str(predicate)[len(str(SH)):]
            if local in IGNORED or local in LOGICAL:
                continue
            if local not in SIMPLE:
                shape.unsupported.append(f"sh:{local}")
                continue
            for value in sorted(g.objects(node, predicate)):
                try:
                    shape.params.append((local, self._param(node, local, value)))
                except ValueError as exc:
                    shape.unsupported.append(f"sh:{local}: {exc}")
        shape.properties = [self.shape(p) for p in sorted(g.objects(node, SH.property))]
        shape.node_shapes = [self.shape(n) for n in sorted(g.objects(node, SH.node))]
        shape.not_shapes = [self.shape(n) for n in sorted(g.objects(node, getattr(SH, "not")))]
        for local, target in (("or", shape.or_lists), ("xone", shape.xone_lists)):
            for head in sorted(g.objects(node, SH[local])):
                target.append([self.shape(m) for m in Collection(g, head)])
        minimum = g.value(node, SH.qualifiedMinCount)
        for q in sorted(g.objects(node, SH.qualifiedValueShape)):
            if (node, SH.qualifiedMaxCount, None) in g or (
                node, SH.qualifiedValueShapesDisjoint, None) in g:
                shape.unsupported.append("sh:qualifiedMaxCount / sh:qualifiedValueShapesDisjoint")
            if minimum is not None:
                shape.qualified.append((self.shape(q), int(minimum)))

    def _param(self, node: object, local: str, value: object) -> dict[str, str]:
        """The template's parameters, each written as a term (or a list of terms)."""
        g = self.graph
        if local in ("in", "languageIn"):
            return {local: " ".join(str(written(to_ox(m))) for m in Collection(g, value))}
        if local == "pattern":
            flags = g.value(node, SH.flags)
            return {"pattern": str(to_ox(value)),
                    "flags": str(to_ox(Literal(str(flags) if flags is not None else "")))}
        if local == "uniqueLang":
            return {local: "true" if str(value).lower() == "true" else "false"}
        if local == "hasValue":  # compared with the data's terms, as written
            return {local: str(written(to_ox(value)))}
        return {local: str(to_ox(value))}

    def path(self, node: object) -> str:
        """A SHACL path as a SPARQL property path."""
        g = self.graph
        if isinstance(node, URIRef):
            return str(to_ox(node))
        if (node, RDF.first, None) in g:
            return "(" + "/".join(self.path(p) for p in Collection(g, node)) + ")"
        forms = {SH.inversePath: "^({})", SH.oneOrMorePath: "({})+",
                 SH.zeroOrMorePath: "({})*", SH.zeroOrOnePath: "({})?"}
        for predicate, form in forms.items():
            inner = g.value(node, predicate)
            if inner is not None:
                return form.format(self.path(inner))
        alternatives = g.value(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path(p) for p in Collection(g, alternatives)) + ")"
        raise ValueError(f"a path the engine cannot write: {node!r}")
