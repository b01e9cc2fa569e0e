"""Phase 2: OWL reasoning with owlready2 and HermiT.

The ontology plus the shipped data must be consistent and no class may be unsatisfiable.
Extra sources (other studies, synthetic data: up to 10^7 triples) are never given to the
reasoner: HermiT is meant for the ontology and the curated data, and SHACL and the check
queries cover the extra graphs. HermiT runs in Java; without a Java runtime this phase
cannot run (exit code 2) unless the caller skips it explicitly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from peerchange.core.errors import ValidationUnavailable
from peerchange.core.namespaces import OWL
from peerchange.core.sources import Source
from peerchange.core.store import source_ntriples
from peerchange.services.validation.report import FAILED, SKIPPED, VIOLATION, Finding, Phase

OWL_NOTHING = OWL + "Nothing"


def java_executable() -> str | None:
    """Return the Java runtime HermiT will use, or ``None`` if there is none."""
    configured = os.environ.get("PEERCHANGE_JAVA") or os.environ.get("JAVA_HOME")
    if configured:
        candidate = configured
        if os.path.isdir(candidate):
            candidate = os.path.join(candidate, "bin", "java")
        if shutil.which(candidate):
            return shutil.which(candidate)
    return shutil.which("java")


def skipped_phase(reason: str) -> Phase:
    """Return the OWL phase marked as skipped, with the reason."""
    return Phase("owl", "OWL reasoning (HermiT)", status=SKIPPED, note=reason)


def reasoned_sources(sources: list[Source]) -> list[Source]:
    """Return the sources the reasoner sees: the shipped ontology and data only."""
    return [s for s in sources if s.shipped]


def run_owl(sources: list[Source]) -> Phase:
    """Check consistency and class satisfiability of the shipped sources among ``sources``
    (the ontology and the shipped data; the others are left out, and the note says so).

    :raise ValidationUnavailable: if Java is missing or HermiT fails for another reason.
    """
    import owlready2

    java = java_executable()
    if java is None:
        raise ValidationUnavailable(
            "the OWL check needs a Java runtime for HermiT, and none was found",
            detail="Install one (e.g. `apt-get install default-jre-headless`), set "
            "PEERCHANGE_JAVA to the java executable, or pass --no-reasoner to skip this phase.",
        )
    owlready2.JAVA_EXE = java
    phase = Phase("owl", "OWL reasoning (HermiT)")
    start = time.perf_counter()
    left_out = len(sources) - len(reasoned_sources(sources))
    sources = reasoned_sources(sources)
    with tempfile.TemporaryDirectory(prefix="peerchange-owl-") as tmp:
        path = os.path.join(tmp, "union.nt")
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(source_ntriples(sources))
        world = owlready2.World()
        try:
            world.get_ontology("file://" + path).load(format="ntriples")
            # xsd:gYear (fabio:hasPublicationYear) is outside the OWL 2 datatype map:
            # HermiT would stop on it instead of treating it as an opaque value.
            owlready2.sync_reasoner_hermit(
                world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True
            )
        except owlready2.OwlReadyInconsistentOntologyError:
            phase.findings.append(
                Finding(
                    phase="owl",
                    severity=VIOLATION,
                    focus="",
                    rule="consistency",
                    message="The ontology plus data is inconsistent: some individual "
                    "breaks an axiom (most often it is typed with two disjoint classes). "
                    "The check 'disjoint-types' below names the individual.",
                )
            )
        except owlready2.OwlReadyJavaError as exc:
            raise ValidationUnavailable(
                "HermiT could not run", detail=str(exc).strip()[-2000:]
            ) from None
        else:
            for cls in world.inconsistent_classes():
                iri = getattr(cls, "iri", str(cls))
                if iri == OWL_NOTHING:
                    continue
                phase.findings.append(
                    Finding(
                        phase="owl",
                        severity=VIOLATION,
                        focus=iri,
                        rule="unsatisfiable-class",
                        message="This class is unsatisfiable: its axioms (superclasses, "
                        "disjointness, restrictions) can have no instance. Review its "
                        "rdfs:subClassOf and disjointness axioms.",
                    )
                )
        finally:
            world.close()
    phase.seconds = time.perf_counter() - start
    phase.note = "consistency and unsatisfiable classes, ontology + shipped data only" + (
        f" ({left_out} extra source(s) not given to the reasoner)" if left_out else ""
    )
    if phase.count(VIOLATION):
        phase.status = FAILED
    return phase
