"""Validation: SHACL shapes, OWL reasoning and quality check queries, in one report.

``validate()`` is what ``peerchange validate`` and the web app both call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pyoxigraph as ox

from peerchange.core.sources import Source, shipped_sources
from peerchange.core.store import build_store
from peerchange.services.summary import summarize
from peerchange.services.validation.checks import run_checks
from peerchange.services.validation.owl import run_owl, skipped_phase
from peerchange.services.validation.report import Phase, Report
from peerchange.services.validation.shacl import run_shacl

__all__ = ["Report", "validate", "validate_store"]


def validate(
    extra: Iterable[Source] = (),
    *,
    reasoner: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> Report:
    """Load the shipped ontology and data plus ``extra`` sources and validate them.

    :raise SourceError: if a file cannot be read or parsed (nothing is validated).
    :raise ValidationUnavailable: if a phase cannot run (e.g. no Java for HermiT).
    """
    sources = shipped_sources() + list(extra)
    progress(f"Loading {len(sources)} files")
    store, _stats = build_store(sources, progress=lambda line: progress("  " + line))
    return validate_store(store, sources, reasoner=reasoner, progress=progress)


def validate_store(
    store: ox.Store,
    sources: list[Source],
    *,
    reasoner: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> Report:
    """Run the three phases: SHACL and OWL over the ``sources`` as written, the check
    queries over ``store`` (the graph as it is served, named graphs included)."""
    report = Report()
    steps: list[tuple[str, Callable[[], Phase]]] = [
        ("SHACL shapes (pySHACL)", lambda: run_shacl(sources)),
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
        phase = step()
        report.phases.append(phase)
        progress(
            f"[{i}/{len(steps)}] {title}: {phase.status}"
            + (f" in {phase.seconds:.1f} s" if phase.seconds else "")
        )
    report.summary = summarize(store)
    return report
