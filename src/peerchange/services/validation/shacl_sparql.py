"""The SHACL-SPARQL constraints (``sh:sparql`` of node shapes), evaluated by the engine.

pySHACL runs a constraint's ``sh:select`` once per focus node with rdflib; on 10^6
triples that is most of the SHACL time. Here each constraint runs once over the whole
graph (pyoxigraph, the query text exactly as the shapes file has it, ``$this`` left
unbound so it ranges over all nodes), and a solution counts when its ``$this`` is a target
of the shape: the same solutions as pre-binding ``$this`` to each target in turn. Results
are made as pySHACL makes them (focus ``$this``, value the focus node, the message with
``{?var}`` filled in), so the findings are the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

from peerchange.services.validation.report import INFO, VIOLATION, WARNING, Finding

_SEVERITY = {SH.Violation: VIOLATION, SH.Warning: WARNING, SH.Info: INFO}
RDF_TYPE = ox.NamedNode(str(RDF.type))
SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))


@dataclass(frozen=True)
class SparqlConstraint:
    """One ``sh:sparql`` constraint of a node shape, with the shape's targets."""

    shape: str
    constraint: str
    select: str
    prefixes: dict[str, str]
    messages: tuple[str, ...]
    severity: str
    target_class: tuple[str, ...]
    subjects_of: tuple[str, ...]
    objects_of: tuple[str, ...]
    target_node: tuple[str, ...]


def sparql_constraints(shapes: Graph) -> list[SparqlConstraint]:
    """Return the ``sh:sparql`` constraints of the node shapes (not of property shapes,
    not deactivated), in a stable order."""
    found: list[SparqlConstraint] = []
    for shape, constraint in sorted(shapes.subject_objects(SH.sparql)):
        if (shape, SH.path, None) in shapes or _deactivated(shapes, shape, constraint):
            continue
        select = shapes.value(constraint, SH.select)
        if select is None:
            continue
        severity = _SEVERITY.get(shapes.value(shape, SH.severity), VIOLATION)
        found.append(
            SparqlConstraint(
                shape=str(shape),
                constraint=str(constraint),
                select=str(select),
                prefixes=_prefixes(shapes, constraint),
                messages=tuple(
                    str(m) for m in shapes.objects(constraint, SH.message) if isinstance(m, Literal)
                ),
                severity=severity,
                target_class=_iris(shapes, shape, SH.targetClass),
                subjects_of=_iris(shapes, shape, SH.targetSubjectsOf),
                objects_of=_iris(shapes, shape, SH.targetObjectsOf),
                target_node=_iris(shapes, shape, SH.targetNode),
            )
        )
    return found


def without_node_sparql(shapes: Graph) -> Graph:
    """Return a copy of ``shapes`` without the constraints :func:`sparql_constraints`
    returns (the SHACL Core part, and anything this module does not evaluate)."""
    handled = {(URIRef(c.shape), URIRef(c.constraint)) for c in sparql_constraints(shapes)}
    core = Graph()
    for prefix, namespace in shapes.namespaces():
        core.bind(prefix, namespace)
    for triple in shapes:
        s, p, o = triple
        if p == SH.sparql and (s, o) in handled:
            continue
        core.add(triple)
    return core


def run_sparql_constraints(
    store: ox.Store, constraints: Iterable[SparqlConstraint], *, union: bool = False
) -> list[Finding]:
    """Evaluate the constraints over the default graph of ``store`` (with ``union``: the
    union of all its graphs) and return the findings."""
    findings: list[Finding] = []
    subclasses = _subclass_closure(store)
    for c in constraints:
        targets = _targets(store, c, subclasses)
        if not targets:
            continue
        seen: set[tuple[tuple[str, str], ...]] = set()
        solutions = store.query(c.select, prefixes=c.prefixes, use_default_graph_as_union=union)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        for solution in solutions:
            this = solution["this"]
            if this is None or this not in targets:
                continue
            bound = {n: solution[n] for n in names if solution[n] is not None}
            key = tuple(sorted((n, str(t)) for n, t in bound.items()))
            if key in seen:  # pySHACL drops a repeated solution
                continue
            seen.add(key)
            findings.extend(_findings(c, this, bound))
    return findings


def _findings(c: SparqlConstraint, this: ox.Term, bound: dict[str, ox.Term]) -> list[Finding]:
    path = bound.pop("path", None)
    value = bound.pop("value", None) or this
    bound.pop("this", None)
    bound.pop("failure", None)
    fill = {**bound, "this": this, "value": value}
    if path is not None:
        fill["path"] = path
    messages = [_format(m, fill) for m in c.messages] or ["constraint not met"]
    return [
        Finding(
            phase="shacl",
            severity=c.severity,
            focus=_plain(this),
            rule=f"{c.constraint} (SPARQLConstraintComponent)",
            message=messages[0],
            path=path.value if isinstance(path, ox.NamedNode) else None,
            value=value.value if isinstance(value, ox.NamedNode) else _n3(value),
        )
    ]


def _format(message: str, fill: dict[str, ox.Term]) -> str:
    for var, term in fill.items():
        message = re.sub(f"{{[?$]{var}}}", _plain(term, bnode_prefix=False), message)
    return message


def _plain(term: ox.Term, *, bnode_prefix: bool = True) -> str:
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}" if bnode_prefix else term.value
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return term.value
    return str(term)


def _n3(term: ox.Term) -> str:
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def _targets(store: ox.Store, c: SparqlConstraint,
             subclasses: dict[str, set[str]]) -> set[ox.Term]:
    targets: set[ox.Term] = {ox.NamedNode(n) for n in c.target_node}
    classes = {sub for cls in c.target_class for sub in subclasses.get(cls, {cls})}
    for cls in classes:
        instances = store.quads_for_pattern(None, RDF_TYPE, ox.NamedNode(cls))
        targets.update(q.subject for q in instances)
    for p in c.subjects_of:
        targets.update(q.subject for q in store.quads_for_pattern(None, ox.NamedNode(p), None))
    for p in c.objects_of:
        targets.update(
            q.object for q in store.quads_for_pattern(None, ox.NamedNode(p), None)
            if not isinstance(q.object, ox.Literal)
        )
    return targets


def _subclass_closure(store: ox.Store) -> dict[str, set[str]]:
    """Each class -> itself and all its subclasses (rdfs:subClassOf*, in the data)."""
    children: dict[str, set[str]] = {}
    for q in store.quads_for_pattern(None, SUBCLASS, None):
        if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode):
            children.setdefault(q.object.value, set()).add(q.subject.value)
    closure: dict[str, set[str]] = {}
    for cls in children:
        seen = {cls}
        todo = [cls]
        while todo:
            for sub in children.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        closure[cls] = seen
    return closure


def _iris(shapes: Graph, shape: object, prop: URIRef) -> tuple[str, ...]:
    return tuple(sorted(str(o) for o in shapes.objects(shape, prop) if isinstance(o, URIRef)))


def _deactivated(shapes: Graph, *nodes: object) -> bool:
    return any(
        str(shapes.value(n, SH.deactivated)).lower() == "true" for n in nodes
    )


def _prefixes(shapes: Graph, constraint: object) -> dict[str, str]:
    prefixes: dict[str, str] = {}
    for holder in shapes.objects(constraint, SH.prefixes):
        for decl in shapes.objects(holder, SH.declare):
            prefix = shapes.value(decl, SH.prefix)
            namespace = shapes.value(decl, SH.namespace)
            if prefix is not None and namespace is not None:
                prefixes[str(prefix)] = str(namespace)
    return prefixes
