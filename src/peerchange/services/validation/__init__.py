"""Validation: SHACL shapes, OWL reasoning and quality check queries, in one report.

``validate()`` is what ``peerchange validate`` and the web app both call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import pyoxigraph as ox

from peerchange.core.sources import Source, shipped_sources
from peerchange.core.store import build_store
from peerchange.services.summary import summarize
from peerchange.services.validation.checks import run_checks
from peerchange.services.validation.owl import run_owl, skipped_phase
from peerchange.services.validation.report import Phase, Report
from peerchange.services.validation.shacl import run_shacl
from peerchange.services.validation.shacl_engine import run_shacl_engine

__all__ = ["Report", "validate", "validate_store"]


def validate(
    extra: Iterable[Source] = (),
    *,
    reasoner: bool = True,
    progress: Callable[[str], None] = lambda _: None,
    whole_graph: bool = False,
) -> Report:
    """Load the shipped ontology and data plus ``extra`` sources and validate them.

    The options are :func:`validate_store`'s.

    :raise SourceError: if a file cannot be read or parsed (nothing is validated).
    :raise ValidationUnavailable: if a phase cannot run (e.g. no Java for HermiT).
    """
    sources = shipped_sources() + list(extra)
    progress(f"Loading {len(sources)} files")
    store, _stats = build_store(sources, progress=lambda line: progress("  " + line))
    return validate_store(store, sources, reasoner=reasoner, progress=progress,
                          whole_graph=whole_graph)


def validate_store(
    store: ox.Store,
    sources: list[Source],
    *,
    reasoner: bool = True,
    progress: Callable[[str], None] = lambda _: None,
    whole_graph: bool = False,
) -> Report:
    """Run the three phases: SHACL over the ``sources`` as written, OWL over the shipped
    ontology and data only (never the extra sources), the check queries over ``store``
    (the graph as it is served, named graphs included).

    :param whole_graph: SHACL as one pySHACL run over the union graph (the slow reference)
        instead of on the engine (SHACL Core and SHACL-SPARQL as queries, once per shape
        over all its focus nodes: :mod:`.shacl_engine`).
    """
    report = Report()

    def shacl() -> Phase:
        if whole_graph:
            return run_shacl(sources)
        return run_shacl_engine(store, sources, progress=progress)

    steps: list[tuple[str, Callable[[], Phase]]] = [
        ("SHACL shapes (pySHACL)" if whole_graph else "SHACL shapes (engine)", shacl),
        (
            "OWL reasoning (owlready2 + HermiT)",
            (lambda: run_owl(sources))
            if reasoner
            else (lambda: skipped_phase("skipped: --no-reasoner was given")),
        ),
        ("quality check queries", lambda: run_checks(store)),
    ]
    for i, (title, step) in enumerate(steps, 1):
        progress(f"[{i}/{len(steps)}] {title} ...")
        cpu = time.process_time()
        phase = step()
        cpu = time.process_time() - cpu
        report.phases.append(phase)
        progress(
            f"[{i}/{len(steps)}] {title}: {phase.status}"
            + (f" in {phase.seconds:.1f} s (CPU {cpu:.1f} s)" if phase.seconds else "")
        )
    report.summary = summarize(store)
    return report
