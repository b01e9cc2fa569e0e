"""SHACL Core on the engine: each constraint component a shape uses runs as one SPARQL
query over ALL the shape's focus nodes (pyoxigraph), never once per node.

The queries are the validators of ``queries/internal/validation/core-components.ttl``
(SPARQL-based constraint components, SHACL §6), pre-bound by substitution: parameters
written as RDF terms, ``$PATH`` as a property path, and the shape's focus nodes as a
group at ``$FOCUS`` (its targets inside the query). The logical and shape-based
components (``sh:node``, ``sh:not``, ``sh:or``, ``sh:xone``, ``sh:qualifiedValueShape``)
check the nested shape once for the whole SET of value nodes (the nested shape's focus
group is the enclosing shape's value nodes) and combine the answers in Python.

Conformance of a node to a nested shape is pySHACL's, as the whole-graph reference runs
it (warnings and infos allowed): a shape of severity Warning or Info always conforms;
otherwise a node conforms when the shape and its ``sh:property`` shapes give it no
result of severity Violation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache

import pyoxigraph as ox
from rdflib import Graph, Namespace
from rdflib.namespace import SH

from peerchange.core.resources import resource_dir
from peerchange.services.validation.core_model import SIMPLE, ShapeDef
from peerchange.services.validation.report import VIOLATION
from peerchange.services.validation.written import CHECKS

PCV = Namespace("https://w3id.org/peerchange/validation/")
TEMPLATES = ("internal", "validation", "core-components.ttl")
MAX_DEPTH = 8  # nested shapes deeper than this are taken to conform (recursive shapes)
_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_VARIABLES = ("this",)


@dataclass(frozen=True)
class Templates:
    """The validators (parameter name -> sh:select) and the pcv:template snippets."""

    validators: dict[str, str]
    snippets: dict[str, str]
    prefixes: dict[str, str]


@cache
def templates() -> Templates:
    """Read the component templates (once per process)."""
    g = Graph()
    g.parse(resource_dir("queries").joinpath(*TEMPLATES), format="turtle")
    validators: dict[str, str] = {}
    for component in g.subjects(SH.propertyValidator, None):
        select = g.value(g.value(component, SH.propertyValidator), SH.select)
        for parameter in g.objects(component, SH.parameter):
            if g.value(parameter, SH.optional) is None:
                local = str(g.value(parameter, SH.path))[len(str(SH)):]
                validators[local] = str(select)
    snippets = {str(s)[len(str(PCV)):]: str(o) for s, o in g.subject_objects(PCV.template)}
    prefixes = {
        str(g.value(d, SH.prefix)): str(g.value(d, SH.namespace))
        for d in g.objects(PCV.prefixes, SH.declare)
    }
    return Templates(validators, snippets, prefixes)


def fill(template: str, values: dict[str, str]) -> str:
    """Pre-bind by substitution: each ``$name`` becomes ``values[name]`` (terms already
    written as N-Triples, a path, a group), ``$this`` the variable ``?this``."""

    def one(match: re.Match[str]) -> str:
        name = match[1]
        if name in values:
            return values[name]
        if name in _VARIABLES:
            return "?" + name
        raise KeyError(f"template parameter ${name} has no value")

    return _VAR.sub(one, template)


FOCUS_SETS = ox.NamedNode(str(PCV) + "focus-sets")
MEMBER = ox.NamedNode(str(PCV) + "member")


@dataclass(frozen=True)
class Focus:
    """A set of focus nodes, kept in the scratch graph of the validation store (so a
    query reads it as a group pattern binding ``$this``) and in Python."""

    iri: ox.NamedNode
    nodes: tuple[ox.Term, ...]

    def text(self) -> str:
        return fill(templates().snippets["members"], {"set": str(self.iri)})


def targets_text(targets: list[tuple[str, ox.Term]]) -> str:
    """The group pattern of a shape's targets (one UNION branch per target)."""
    t = templates().snippets
    parts = [fill(t[kind], {kind: str(term)}) for kind, term in targets]
    return fill(t["focus"], {"TARGETS": t["union"].join(parts)})


@dataclass(frozen=True)
class Raw:
    """One validation result before it becomes a :class:`Finding`."""

    focus: ox.Term
    value: ox.Term | None
    shape: ShapeDef
    component: str
    detail: bool = False  # a nested shape's result under an sh:node result (sh:detail)


class Engine:
    """Validates shapes over a store's union graph (or its default graph)."""

    def __init__(self, store: ox.Store, *, union: bool = False) -> None:
        self.store = store
        self.union = union
        self.queries = 0
        self._results: dict[tuple[int, str], dict[ox.Term, list[Raw]]] = {}
        self._sets = 0

    def rows(self, text: str) -> Iterator[dict[str, ox.Term]]:
        self.queries += 1
        solutions = self.store.query(text, prefixes=templates().prefixes,
                                     use_default_graph_as_union=self.union)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        for solution in solutions:
            yield {n: solution[n] for n in names if solution[n] is not None}

    def validate(self, shape: ShapeDef) -> list[Raw]:
        """The results of a top-level shape over its targets."""
        if not shape.targets:
            return []
        text = fill(templates().snippets["focusNodes"], {"FOCUS": targets_text(shape.targets)})
        focus = self.focus_set(r["this"] for r in self.rows(text))
        try:
            return self.evaluate(shape, focus, 0) if focus.nodes else []
        finally:
            self.store.remove_graph(FOCUS_SETS)
            self._results.clear()

    def focus_set(self, nodes: Iterable[ox.Term]) -> Focus:
        """Keep a set of nodes in the scratch graph and return it as a focus."""
        members = tuple(dict.fromkeys(nodes))
        self._sets += 1
        iri = ox.NamedNode(f"{PCV}focus-set/{self._sets}")
        self.store.extend(ox.Quad(iri, MEMBER, n, FOCUS_SETS) for n in members)
        return Focus(iri, members)

    def evaluate(self, shape: ShapeDef, focus: Focus, depth: int) -> list[Raw]:
        """The results of ``shape`` and its property shapes for the nodes of ``focus``."""
        t = templates()
        path = shape.path or t.snippets["self"]
        found: list[Raw] = []
        group = focus.text()
        for local, values in shape.params:
            if shape.path is None and local in ("minCount", "maxCount", "uniqueLang"):
                continue  # not node-shape parameters
            text = fill(t.validators[local], {**values, "FOCUS": group, "PATH": path})
            check = CHECKS.get(local)
            for row in self.rows(text):
                if check is not None and check(row["value"], values[local]):
                    continue
                found.append(Raw(row["this"], row.get("value"), shape, SIMPLE[local]))
        for prop in shape.properties:
            found.extend(self.evaluate(prop, focus, depth))
        if shape.node_shapes or shape.not_shapes or shape.or_lists or shape.xone_lists \
                or shape.qualified:
            found.extend(self._logical(shape, focus, depth))
        return found

    def _logical(self, shape: ShapeDef, focus: Focus, depth: int) -> list[Raw]:
        if shape.path is None:
            pairs = [(n, n) for n in focus.nodes]
            values = focus
        else:
            text = fill(templates().snippets["values"],
                        {"FOCUS": focus.text(), "PATH": shape.path})
            pairs = [(r["this"], r["value"]) for r in self.rows(text)]
            values = self.focus_set(v for _f, v in pairs)
        found: list[Raw] = []

        def report(component: str, failing: set[ox.Term], *, when_in: bool = True) -> None:
            found.extend(Raw(f, v, shape, component) for f, v in pairs
                         if (v in failing) == when_in)

        if not pairs and not shape.qualified:
            return found
        for nested in shape.node_shapes:
            # pySHACL: a value fails sh:node when the nested shape gives it any result (a
            # warning too), and the nested results come along as sh:detail results
            by_focus = self.results(nested, values, depth)
            for f, v in pairs:
                nested_results = by_focus.get(v, [])
                if any(not r.detail for r in nested_results):
                    found.append(Raw(f, v, shape, "NodeConstraintComponent"))
                    found.extend(replace(r, detail=True) for r in nested_results)
        for nested in shape.not_shapes:
            report("NotConstraintComponent", self.nonconforming(nested, values, depth),
                   when_in=False)
        for group in shape.or_lists:
            bad = [self.nonconforming(m, values, depth) for m in group]
            report("OrConstraintComponent", {v for _f, v in pairs if all(v in b for b in bad)})
        for group in shape.xone_lists:
            bad = [self.nonconforming(m, values, depth) for m in group]
            report("XoneConstraintComponent",
                   {v for _f, v in pairs if sum(v not in b for b in bad) != 1})
        for nested, minimum in shape.qualified:
            bad = self.nonconforming(nested, values, depth)
            counts: dict[ox.Term, set[ox.Term]] = defaultdict(set)
            for f, v in pairs:
                if v not in bad:
                    counts[f].add(v)
            found.extend(Raw(f, None, shape, "QualifiedMinCountConstraintComponent")
                         for f in focus.nodes if len(counts.get(f, ())) < minimum)
        return found

    def results(self, shape: ShapeDef, focus: Focus, depth: int) -> dict[ox.Term, list[Raw]]:
        """The results of a nested ``shape`` for the nodes of ``focus``, by node."""
        if depth >= MAX_DEPTH or not focus.nodes:
            return {}
        key = (id(shape), focus.iri.value)
        known = self._results.get(key)
        if known is None:
            known = defaultdict(list)
            for r in self.evaluate(shape, focus, depth + 1):
                known[r.focus].append(r)
            self._results[key] = known
        return known

    def nonconforming(self, shape: ShapeDef, focus: Focus, depth: int) -> set[ox.Term]:
        """The nodes of ``focus`` that do not conform to ``shape`` (pySHACL's rule)."""
        if shape.severity != VIOLATION:
            return set()
        if only_class(shape) and depth < MAX_DEPTH:
            text = fill(templates().snippets["instances"],
                        {"FOCUS": focus.text(), **shape.params[0][1]})
            return set(focus.nodes) - {r["this"] for r in self.rows(text)}
        return {
            node for node, found in self.results(shape, focus, depth).items()
            if any(not r.detail and r.shape.severity == VIOLATION for r in found)
        }


def only_class(shape: ShapeDef) -> bool:
    """A node shape whose one constraint is one ``sh:class`` (``[ sh:class C ]``)."""
    return (shape.path is None and len(shape.params) == 1 and shape.params[0][0] == "class"
            and not (shape.properties or shape.node_shapes or shape.not_shapes
                     or shape.or_lists or shape.xone_lists or shape.qualified))
