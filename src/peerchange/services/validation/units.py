"""Split the data into validation *units*: one per named graph of the extra sources, one
for the shipped ontology and data, each with the triples its focus nodes' shapes can read.

SHACL results are per focus node, so the whole graph's results are the union of each focus
node's results over the whole graph. Every node (a subject, else an object) has one *home*
unit: the first graph that states something about it. A unit is validated with its home
nodes as the only targets, over its *closure*: every triple (from any graph) whose subject
is a node within ``DEPTH`` hops of a home node, the triples pointing at such a node with a
predicate the shapes read backwards (``sh:inversePath``, ``sh:targetObjectsOf``) with the
types of their subjects, and the class hierarchy (``rdfs:subClassOf``, for
``sh:targetClass`` and ``sh:class``). The shapes reach at most ``DEPTH`` hops from a focus
node (``sh:node`` on a value, then its values' types), and a value reached backwards is
only counted and its class checked, so each focus node sees what it would see in the
whole graph.

One bound keeps a unit small: a node outside the unit's home that many triples point at
(a shared theory, an ontology class: ``HUB`` or more) brings its own triples but not the
ones pointing at it, which belong to the many units that state them. Tests compare the
per-unit results with one whole-graph run on data with violations spread across graphs.

Literals are kept as written (the lines of :func:`peerchange.core.store.source_ntriples`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from peerchange.core.sources import Source
from peerchange.core.store import _parse_errors, _parse_options

DEPTH = 3
HUB = 64
SHIPPED = "shipped ontology and data"
RDFS_SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


@dataclass
class Unit:
    """One unit of validation: its ``home`` nodes (N-Triples terms) are its focus nodes,
    ``lines`` (N-Triples) the data they are validated over."""

    name: str
    home: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)
    own: int = 0  # triples stated in this unit's own graph(s)


@dataclass
class Index:
    """The union of the sources, one line per distinct triple, indexed for the closures."""

    lines: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    objects: list[str | None] = field(default_factory=list)  # None for literals
    by_subject: dict[str, list[int]] = field(default_factory=dict)
    by_object: dict[str, list[int]] = field(default_factory=dict)  # backwards predicates
    types: dict[str, list[int]] = field(default_factory=dict)  # rdf:type lines by subject
    subclass: list[int] = field(default_factory=list)
    unit_names: list[str] = field(default_factory=list)
    unit_sizes: list[int] = field(default_factory=list)
    home: dict[str, int] = field(default_factory=dict)  # node -> unit number


def _quads(sources: Iterable[Source]) -> Iterator[tuple[str, ox.Quad | ox.Triple]]:
    for source in sources:
        fallback = SHIPPED if source.shipped else (source.graph or source.label)
        with source.open() as stream, _parse_errors(source):
            for quad in ox.parse(stream, **_parse_options(source)):  # type: ignore[arg-type]
                graph = getattr(quad, "graph_name", None)
                if source.shipped or not isinstance(graph, ox.NamedNode):
                    yield fallback, quad
                else:
                    yield graph.value, quad


def build_index(sources: Iterable[Source], backwards: set[str]) -> Index:
    """Read the sources once and index the distinct triples.

    :param backwards: the predicates (N-Triples IRIs) whose triples a node's closure must
        also hold when the node is their object.
    :raise SourceError: if a file cannot be read or parsed.
    """
    index = Index()
    seen: dict[str, int] = {}
    units: dict[str, int] = {}
    terms: dict[str, str] = {}
    object_home: dict[str, int] = {}
    for unit_name, quad in _quads(sources):
        s = str(quad.subject)
        p = str(quad.predicate)
        o = str(quad.object)
        line = f"{s} {p} {o} .\n"
        if line in seen:
            continue
        unit = units.get(unit_name)
        if unit is None:
            unit = units[unit_name] = len(index.unit_names)
            index.unit_names.append(unit_name)
            index.unit_sizes.append(0)
        index.unit_sizes[unit] += 1
        i = seen[line] = len(index.lines)
        s = terms.setdefault(s, s)
        obj = None if isinstance(quad.object, ox.Literal) else terms.setdefault(o, o)
        index.lines.append(line)
        index.subjects.append(s)
        index.objects.append(obj)
        index.by_subject.setdefault(s, []).append(i)
        index.home.setdefault(s, unit)
        if obj is not None:
            object_home.setdefault(obj, unit)
            if p in backwards:
                index.by_object.setdefault(obj, []).append(i)
        if p == RDF_TYPE:
            index.types.setdefault(s, []).append(i)
        if p == RDFS_SUBCLASS:
            index.subclass.append(i)
    for node, unit in object_home.items():
        index.home.setdefault(node, unit)
    return index


def units_of(index: Index) -> list[Unit]:
    """Return the units with their home nodes and closures, the largest first."""
    units = [Unit(name) for name in index.unit_names]
    for unit, size in zip(units, index.unit_sizes, strict=True):
        unit.own = size
    for node, number in index.home.items():
        units[number].home.add(node)
    for unit in units:
        unit.lines = [index.lines[i] for i in sorted(closure(index, unit.home))]
    return sorted((u for u in units if u.home), key=lambda u: -len(u.lines))


def closure(index: Index, home: set[str]) -> set[int]:
    """Return the line numbers of the data the ``home`` nodes are validated over."""
    data: set[int] = set(index.subclass)
    reached = set(home)
    frontier = set(home)
    for _depth in range(DEPTH):
        found: set[str] = set()
        for node in frontier:
            for i in index.by_subject.get(node, ()):
                if i not in data:
                    data.add(i)
                    obj = index.objects[i]
                    if obj is not None and obj not in reached:
                        found.add(obj)
            pointing = index.by_object.get(node, ())
            if node not in home and len(pointing) >= HUB:
                continue
            for i in pointing:
                data.add(i)
                data.update(index.types.get(index.subjects[i], ()))
        reached |= found
        frontier = found
    return data
