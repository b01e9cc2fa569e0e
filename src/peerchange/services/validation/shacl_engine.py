"""Phase 1 on the engine (the default): SHACL Core and SHACL-SPARQL as queries over the
store, once per shape over all its focus nodes.

- SHACL Core: :mod:`.core_engine` runs each shape's constraint components as SPARQL
  queries (the templates of ``queries/internal/validation/core-components.ttl``);
- SHACL-SPARQL: :mod:`.shacl_sparql` runs each ``sh:sparql`` constraint once;
- a shape using something the engine does not compile is validated by pySHACL (one run
  over the union graph with only those shapes targeting), and the progress line and the
  phase note name it.

The findings are made as :func:`.shacl._finding` makes them from pySHACL's report (the
source shape and component, pySHACL's default message where the shape has no
``sh:message``), so they equal one whole-graph pySHACL run's (:func:`.shacl.run_shacl`,
``--whole-graph``): ``tests/validation_scale/test_engine.py`` compares them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from peerchange.core.sources import Source
from peerchange.services.validation.core_engine import Engine, Raw
from peerchange.services.validation.core_model import TARGETS, ShapeDef, ShapesModel
from peerchange.services.validation.report import FAILED, VIOLATION, Finding, Phase
from peerchange.services.validation.shacl import load_shapes, run_shacl
from peerchange.services.validation.shacl_sparql import (
    run_sparql_constraints,
    sparql_constraints,
    without_node_sparql,
)
from peerchange.services.validation.written import load_as_written, to_rdflib, value_text

Progress = Callable[[str], None]


def run_shacl_engine(
    store: ox.Store,
    sources: list[Source],
    *,
    progress: Progress = lambda _: None,
    shapes: Graph | None = None,
) -> Phase:
    """Validate the union of the store's graphs (the ``sources`` loaded) against the
    shapes, on the engine; shapes it cannot compile by pySHACL over ``sources``."""
    phase = Phase("shacl", "SHACL shapes")
    start = time.perf_counter()
    cpu = time.process_time()
    shapes = shapes if shapes is not None else load_shapes()
    model = ShapesModel(shapes)
    top = model.top_level()
    fallback = [s for s in top if s.reasons()]
    data = load_as_written(sources)
    loaded = time.perf_counter()
    progress(f"  {len(data):,} triples read as written in {loaded - start:.1f} s "
             f"(CPU {time.process_time() - cpu:.1f} s)")
    cpu = time.process_time()
    engine = Engine(data)
    messages = DefaultMessages(shapes)
    findings: list[Finding] = []
    for shape in top:
        if shape not in fallback:
            findings.extend(to_finding(r, messages) for r in engine.validate(shape))
    core_done = time.perf_counter()
    progress(f"  SHACL Core: {len(top) - len(fallback)} shapes in {engine.queries} queries "
             f"on the engine in {core_done - loaded:.1f} s (CPU {time.process_time() - cpu:.1f} s)")
    cpu = time.process_time()
    triples = len(data)
    del data, engine.store

    constraints = sparql_constraints(shapes)
    findings.extend(run_sparql_constraints(store, constraints, union=True))
    sparql_done = time.perf_counter()
    progress(f"  SHACL-SPARQL: {len(constraints)} constraints in "
             f"{sparql_done - core_done:.1f} s (CPU {time.process_time() - cpu:.1f} s)")

    if fallback:
        names = ", ".join(f"{s.name} ({'; '.join(sorted(set(s.reasons())))})" for s in fallback)
        progress(f"  pySHACL for {len(fallback)} shapes the engine does not compile: {names}")
        only = fallback_shapes(shapes, fallback)
        findings.extend(run_shacl(sources, shapes=only).findings)
        progress(f"  pySHACL: {time.perf_counter() - sparql_done:.1f} s")

    phase.findings = findings
    phase.seconds = time.perf_counter() - start
    declared = len(set(shapes.subjects(RDF.type, SH.NodeShape))) + len(
        set(shapes.subjects(RDF.type, SH.PropertyShape))
    )
    phase.note = (
        f"{triples:,} triples checked against {declared} declared shapes on the engine "
        f"(SHACL Core and SHACL-SPARQL as queries, {engine.queries} Core queries)"
        + (f"; {len(fallback)} shapes by pySHACL" if fallback else "")
    )
    if phase.count(VIOLATION):
        phase.status = FAILED
    return phase


def fallback_shapes(shapes: Graph, fallback: list[ShapeDef]) -> Graph:
    """The shapes graph with targets left only on the ``fallback`` shapes, and without
    the ``sh:sparql`` constraints the engine runs."""
    keep = {s.node for s in fallback}
    targets = {SH[t] for t in TARGETS}
    only = Graph()
    for prefix, namespace in shapes.namespaces():
        only.bind(prefix, namespace)
    for s, p, o in without_node_sparql(shapes):
        if p in targets and s not in keep:
            continue
        only.add((s, p, o))
    return only


def to_finding(raw: Raw, messages: DefaultMessages) -> Finding:
    """A result as :func:`.shacl._finding` reads it from pySHACL's report."""
    shape = raw.shape
    rule = f"{shape.node} ({raw.component})" if isinstance(shape.node, URIRef) \
        else raw.component
    message = shape.messages[0] if shape.messages else messages.text(raw)
    return Finding(
        phase="shacl",
        severity=shape.severity,
        focus=raw.focus.value if isinstance(raw.focus, ox.NamedNode) else f"_:{raw.focus.value}",
        rule=rule,
        message=message,
        path=shape.path_iri,
        value=None if raw.value is None else value_text(raw.value),
    )


class DefaultMessages:
    """pySHACL's own default message for a result of a shape with no ``sh:message``
    (its constraint component's ``make_generic_messages``)."""

    _ALIASES = {"QualifiedMinCountConstraintComponent": "QualifiedValueShapeConstraintComponent"}

    def __init__(self, shapes: Graph) -> None:
        self.shapes = shapes
        self._graph: Any = None
        self._data = Graph()

    def text(self, raw: Raw) -> str:
        from pyshacl.constraints import ALL_CONSTRAINT_COMPONENTS
        from pyshacl.shapes_graph import ShapesGraph

        if self._graph is None:
            self._graph = ShapesGraph(self.shapes)
            _ = self._graph.shapes  # pySHACL reads the shapes on first use
        name = self._ALIASES.get(raw.component, raw.component)
        cls = next(c for c in ALL_CONSTRAINT_COMPONENTS if c.constraint_name() == name)
        component = cls(self._graph.lookup_shape_from_node(raw.shape.node))
        value = None if raw.value is None else to_rdflib(raw.value)
        found = component.make_generic_messages(self._data, to_rdflib(raw.focus), value)
        return str(found[0]) if found else "constraint not met"
