"""Phase 1 at scale: SHACL Core per graph (pySHACL, in parallel, cached), SHACL-SPARQL
once over the whole graph (the engine).

The whole graph is split into units (:mod:`.units`: one per named graph of the extra
sources, one for the shipped ontology and data); each unit's focus nodes are validated
with the Core shapes over the unit's closure, small units together in batches of about
``BATCH`` triples, in ``jobs`` processes. With a ``cache_dir`` each unit's findings are
kept under a digest of its data and the shapes: an unchanged graph is not validated again.
The ``sh:sparql`` constraints run as queries over all the data (:mod:`.shacl_sparql`).
The findings are the ones one whole-graph pySHACL run (:func:`.shacl.run_shacl`) gives.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, SH

from peerchange.core.resources import resource_files
from peerchange.core.sources import Source
from peerchange.core.store import _parse_options
from peerchange.services.validation.report import FAILED, VIOLATION, Finding, Phase
from peerchange.services.validation.shacl import _finding, load_shapes, prepared_sparql_constraints
from peerchange.services.validation.shacl_sparql import (
    run_sparql_constraints,
    sparql_constraints,
    without_node_sparql,
)
from peerchange.services.validation.units import Unit, build_index, units_of

BATCH = 20_000
CACHE_VERSION = "1"
Progress = Callable[[str], None]

_CORE: Any = None  # the Core shapes (a pySHACL ShapesGraph), set before the pool forks


class _Labels(dict):  # type: ignore[type-arg]
    """rdflib's N-Triples bnode context that keeps the labels as written."""

    def get(self, key: str, default: object = None) -> BNode:  # type: ignore[override]
        return BNode(key)


def _rdflib_node(term: str) -> URIRef | BNode:
    return BNode(term[2:]) if term.startswith("_:") else URIRef(term[1:-1])


def _plain(term: str) -> str:
    return term if term.startswith("_:") else term[1:-1]


@contextmanager
def restricted_targets(allowed: set[Any]) -> Iterator[None]:
    """Within this block pySHACL's shapes target only the ``allowed`` nodes (the nodes
    they reach through sh:node and paths are still checked in full), and pySHACL skips
    the text description of each result (a third of its time, inside sh:or, sh:xone and
    sh:not too; the report graph, which the findings are read from, is unchanged)."""
    from pyshacl.constraints.constraint_component import ConstraintComponent
    from pyshacl.shape import Shape

    original = Shape.focus_nodes
    describe = ConstraintComponent.make_v_result_description

    def focus_nodes(self: Any, data_graph: Any, debug: bool = False) -> Any:
        return {n for n in original(self, data_graph, debug) if n in allowed}

    def no_description(self: Any, *args: Any, **kwargs: Any) -> str:
        return ""

    Shape.focus_nodes = focus_nodes  # type: ignore[method-assign]
    ConstraintComponent.make_v_result_description = no_description  # type: ignore[method-assign]
    try:
        yield
    finally:
        Shape.focus_nodes = original  # type: ignore[method-assign]
        ConstraintComponent.make_v_result_description = describe  # type: ignore[method-assign]


def _validate_batch(batch: tuple[str, list[str]]) -> list[dict[str, Any]]:
    """Validate one batch (its data as N-Triples, its home nodes) with the Core shapes."""
    from pyshacl import Validator
    from pyshacl.graph_abstraction import DataGraph

    data, home = batch
    graph = Graph()
    graph.parse(data=data, format="nt", bnode_context=_Labels())
    options = {"inference": "none", "advanced": True, "allow_warnings": True,
               "allow_infos": True, "inplace": True}
    validator = Validator(DataGraph.from_rdflib(graph), shacl_graph=_CORE.graph, options=options)
    validator.shacl_graph = _CORE  # the shapes parsed once, before the fork
    with restricted_targets({_rdflib_node(n) for n in home}), prepared_sparql_constraints():
        _conforms, results, _text = validator.run()
    wanted = {_plain(n) for n in home}
    found = (_finding(results, r) for r in results.subjects(RDF.type, SH.ValidationResult))
    return [asdict(f) for f in found if f.focus in wanted]


def _batches(units: list[Unit]) -> Iterator[list[Unit]]:
    batch: list[Unit] = []
    size = 0
    for unit in units:
        if batch and size + len(unit.lines) > BATCH:
            yield batch
            batch, size = [], 0
        batch.append(unit)
        size += len(unit.lines)
    if batch:
        yield batch


def _batch_input(batch: list[Unit]) -> tuple[str, list[str]]:
    lines: dict[str, None] = {}
    home: list[str] = []
    for unit in batch:
        lines.update(dict.fromkeys(unit.lines))
        home.extend(unit.home)
    return "".join(lines), home


_BNODE = re.compile(r"_:([A-Za-z0-9_][A-Za-z0-9_.\-]*)")


def _labels(unit: Unit) -> dict[str, str]:
    """Blank node label -> a stable one (by first appearance in the unit's lines, which
    are in the order of the files): the parser names Turtle's ``[]`` anew each time."""
    stable: dict[str, str] = {}
    for line in unit.lines:
        if "_:" in line:
            for label in _BNODE.findall(line):
                stable.setdefault(label, f"c{len(stable)}")
    return stable


def _digest(shapes_key: str, unit: Unit, stable: dict[str, str]) -> str:
    h = hashlib.sha256(f"{CACHE_VERSION}\n{shapes_key}\n".encode())

    def canonical(text: str) -> str:
        return _BNODE.sub(lambda m: "_:" + stable.get(m[1], m[1]), text) if "_:" in text else text

    for node in sorted(canonical(n) for n in unit.home):
        h.update(node.encode() + b"\n")
    for line in unit.lines:
        h.update(canonical(line).encode())
    return h.hexdigest()


def _relabel(findings: str, mapping: dict[str, str]) -> str:
    return _BNODE.sub(lambda m: "_:" + mapping.get(m[1], m[1]), findings)


def _shapes_key() -> str:
    """A digest of the shapes files and the pySHACL version (what a result depends on)."""
    from importlib.metadata import version

    h = hashlib.sha256(version("pyshacl").encode())
    for path in sorted(resource_files("shapes")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def run_shacl_per_graph(
    sources: list[Source],
    *,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Progress = lambda _: None,
) -> Phase:
    """Validate the union of the sources against the shapes, graph by graph."""
    global _CORE
    from pyshacl.shapes_graph import ShapesGraph

    phase = Phase("shacl", "SHACL shapes")
    start = time.perf_counter()
    shapes = load_shapes()
    constraints = sparql_constraints(shapes)
    core = without_node_sparql(shapes)
    shapes_key = _shapes_key()
    backwards = {f"<{p}>" for p in core.objects(None, SH.inversePath) if isinstance(p, URIRef)}
    backwards |= {f"<{p}>" for p in core.objects(None, SH.targetObjectsOf)}
    index = build_index(sources, backwards)
    units = units_of(index)
    total = len(index.lines)
    progress(f"  {total:,} triples in {len(units)} graphs (read in "
             f"{time.perf_counter() - start:.1f} s)")

    sparql_start = time.perf_counter()
    store = ox.Store()
    for source in sources:  # parsed without errors by build_index
        with source.open() as stream:
            store.load(stream, to_graph=ox.DefaultGraph(), **_parse_options(source))
    findings = run_sparql_constraints(store, constraints, union=True)
    del store
    progress(f"  SHACL-SPARQL: {len(constraints)} constraints over {total:,} triples in "
             f"{time.perf_counter() - sparql_start:.1f} s")

    todo: list[Unit] = []
    digests: dict[str, tuple[str, dict[str, str]]] = {}
    cached = 0
    for unit in units:
        if cache_dir is not None:
            stable = _labels(unit)
            digests[unit.name] = key, stable = _digest(shapes_key, unit, stable), stable
            hit = cache_dir / f"{key}.json"
            if hit.is_file():
                back = {v: k for k, v in stable.items()}
                text = _relabel(hit.read_text("utf-8"), back)
                findings.extend(Finding(**f) for f in json.loads(text))
                cached += 1
                continue
        todo.append(unit)
    if cached:
        progress(f"  SHACL Core: {cached} graphs unchanged (cache), {len(todo)} to validate")

    _CORE = ShapesGraph(core)
    batches = list(_batches(todo))
    core_start = time.perf_counter()
    done_units = done_triples = 0
    last = 0.0
    for batch, result in zip(batches, _run(batches, jobs), strict=True):
        by_unit: dict[str, list[dict[str, Any]]] = {u.name: [] for u in batch}
        owner = {_plain(n): u.name for u in batch for n in u.home}
        for f in result:
            by_unit[owner[f["focus"]]].append(f)
        for unit in batch:
            findings.extend(Finding(**f) for f in by_unit[unit.name])
            if cache_dir is not None:
                cache_dir.mkdir(parents=True, exist_ok=True)
                key, stable = digests[unit.name]
                target = cache_dir / f"{key}.json"
                tmp = target.with_suffix(".tmp")
                tmp.write_text(_relabel(json.dumps(by_unit[unit.name]), stable), "utf-8")
                tmp.replace(target)
        done_units += len(batch)
        done_triples += sum(u.own for u in batch)
        now = time.perf_counter()
        if now - last > 2 or done_units == len(todo):
            last = now
            rate = done_triples / max(now - core_start, 1e-9)
            progress(f"  SHACL Core: {done_units}/{len(todo)} graphs, {done_triples:,} "
                     f"triples, {rate:,.0f} triples/s")
    _CORE = None

    phase.findings = findings
    phase.seconds = time.perf_counter() - start
    n_shapes = len(set(shapes.subjects(RDF.type, SH.NodeShape))) + len(
        set(shapes.subjects(RDF.type, SH.PropertyShape))
    )
    phase.note = (
        f"{total:,} triples checked against {n_shapes} declared shapes: SHACL Core per "
        f"graph ({len(units)} graphs, {cached} unchanged and taken from the cache), "
        f"SHACL-SPARQL over the whole graph"
    )
    if phase.count(VIOLATION):
        phase.status = FAILED
    return phase


def _run(batches: list[list[Unit]], jobs: int) -> Iterator[list[dict[str, Any]]]:
    """Yield each batch's findings, in order, from ``jobs`` forked processes."""
    inputs = (_batch_input(b) for b in batches)
    if jobs <= 1 or len(batches) <= 1:
        yield from map(_validate_batch, inputs)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(min(jobs, len(batches))) as pool:
        yield from pool.imap(_validate_batch, inputs)
