"""The templates of one synthetic study: its works, model, claims and provenance, as N-Quads.

:func:`study_lines` yields the lines of study ``i`` for a seed. Everything a study says sits in
its own named graph (``graph/synth/study-{i}``) except the shortcut edges, which the claim
pattern puts in the graph of their claim's evidence status (``graph/stated``, ``graph/companion``
or ``graph/curated``; the check ``shortcut-graph`` demands it). IRIs carry ``synth-{i}`` in
their slugs (works, whose keys must be ``Letters0000``, carry ``Synth{letters}``), and every
label says "synthetic", so nothing can be taken for the shipped data or for a finding.
"""

from __future__ import annotations

import random

from peerchange.core.namespaces import GRAPH
from peerchange.services.synth_terms import (
    BIBO,
    CITO,
    DCT,
    FABIO,
    PROV,
    RDF_TYPE,
    RDFS,
    SCHEMA,
    SKOS,
    STATUSES,
    TheoryPool,
    alpha,
    en,
    iri,
    node,
    pcm,
    plain,
    typed,
)

A = iri(RDF_TYPE)
LABEL = iri(RDFS + "label")
DEFINITION = iri(SKOS + "definition")
NOTE = iri(SKOS + "editorialNote")
DERIVED = iri(PROV + "wasDerivedFrom")
CURATORS = node("agent/peerchange-curators")
WHEN = typed("2026-12-01T00:00:00Z", "dateTime")
PREDICATE_LABEL = {
    "developsModel": "develops model", "hasMechanism": "has mechanism",
    "drawsOnTheoryFamily": "draws on theory family", "activatesMechanism": "activates mechanism",
    "componentOf": "component of", "enablesMechanism": "enables mechanism",
    "groundedIn": "grounded in", "engagesConstruct": "engages construct",
    "followsFramework": "follows framework", "leadsToOutcome": "leads to outcome",
    "contributesTo": "contributes to", "measuredBy": "measured by",
}
CLAIM_CLASS = {
    "developsModel": "ModelStructureClaim", "hasMechanism": "ModelStructureClaim",
    "drawsOnTheoryFamily": "ModelStructureClaim", "activatesMechanism": "RoleMechanismClaim",
    "componentOf": "ComponentClaim", "enablesMechanism": "MechanismLinkClaim",
    "groundedIn": "TheoreticalGroundingClaim", "engagesConstruct": "TheoreticalGroundingClaim",
    "followsFramework": "FrameworkClaim", "leadsToOutcome": "MechanismOutcomeClaim",
    "contributesTo": "OutcomeChainClaim", "measuredBy": "MeasurementClaim",
}
SECTORS = (("Statutory", "STA", "statutory"), ("Voluntary", "VOL", "voluntary"),
           ("Partnership", "PAR", "partnership"))
GROUPS = ("peer workers", "service users", "staff", "managers")
VERBS = ("connecting", "modelling", "navigating", "sharing", "advocating", "listening",
         "encouraging", "bridging", "validating", "coaching")
OBJECTS = ("lived experience", "hope", "everyday routines", "community resources",
           "service pathways", "self-management", "social networks", "recovery stories",
           "crisis plans", "peer groups")
GAINS = ("hope", "confidence", "social contact", "self-esteem", "engagement with services",
         "daily functioning", "trust", "self-management skills", "sense of belonging", "agency")
JOURNALS = ("peer support research", "community mental health practice",
            "recovery and inclusion studies")


class Study:
    """One synthetic study: collects its N-Quads lines into a list the writer drains."""

    def __init__(self, index: int, seed: int, pool: TheoryPool, quads: bool = True) -> None:
        self.i = index
        self.seed = seed
        self.pool = pool
        self.rng = random.Random(f"peerchange-synth:{seed}:{index}")
        self.graph = iri(f"{GRAPH}synth/study-{index}")
        self.tag = f"synthetic study {index}"
        self.lines: list[str] = []
        self.quads = quads
        self.year = str(2000 + self.rng.randrange(25))
        self.key = f"Synth{alpha(index)}"
        self.paper = node(f"ref/{self.key}Paper{self.year}")
        self.companion = node(f"ref/{self.key}Companion{self.year}")
        self.references: list[str] = []
        self.statuses = list(STATUSES)

    # -- output ------------------------------------------------------------------------

    def add(self, s: str, p: str, o: str, graph: str | None = None) -> None:
        """Add one quad (in the study's graph unless ``graph`` is given), or one triple when
        the output is N-Triples."""
        if self.quads:
            self.lines.append(f"{s} {p} {o} {graph or self.graph} .\n")
        else:
            self.lines.append(f"{s} {p} {o} .\n")

    def describe(self, s: str, types: tuple[str, ...], label: str) -> None:
        """Type a node and give it its one English label."""
        for t in types:
            self.add(s, A, t)
        self.add(s, LABEL, en(label))

    # -- works -------------------------------------------------------------------------

    def work(self, s: str, key: str, label: str, title: str, journal: tuple[str, str],
             authors: int) -> str:
        """A synthetic journal article with ordered authorships; returns the reference as the
        reference list would print it (what the check ``uncorrected-reference`` compares)."""
        self.describe(s, (iri(FABIO + "JournalArticle"), iri(SCHEMA + "ScholarlyArticle")), label)
        self.add(s, iri(DCT + "title"), en(title))
        self.add(s, pcm("referenceKey"), plain(key))
        self.add(s, iri(FABIO + "hasPublicationYear"), typed(key[-4:], "gYear"))
        self.add(s, iri(DCT + "isPartOf"), journal[0])
        volume, start = str(self.rng.randrange(1, 60)), self.rng.randrange(1, 900)
        pages = f"{start}-{start + self.rng.randrange(5, 20)}"
        self.add(s, iri(BIBO + "volume"), plain(volume))
        self.add(s, iri(BIBO + "pages"), plain(pages))
        self.add(s, iri(BIBO + "pageStart"), plain(pages.split("-")[0]))
        self.add(s, iri(BIBO + "pageEnd"), plain(pages.split("-")[1]))
        names = []
        for n in range(1, authors + 1):
            name = f"Synthauthor{alpha(self.rng.randrange(676))} {alpha(n - 1)}"
            names.append(name)
            authorship = s[:-1] + f"/author/{n}>"
            self.add(s, pcm("hasAuthorship"), authorship)
            self.describe(authorship, (pcm("Authorship"),), f"{label}, author {n}: {name}")
            self.add(authorship, pcm("authorPosition"), typed(str(n), "positiveInteger"))
            self.add(authorship, iri(SCHEMA + "name"), plain(name))
        citation = f"{', '.join(names)} ({key[-4:]}). {title}. {journal[1]} {volume}, {pages}."
        self.add(s, iri(DCT + "bibliographicCitation"), en(citation))
        printed = ", ".join(n.replace(" ", ", ") for n in names)
        return f"{printed} ({key[-4:]}). {title}. {journal[1]} {volume}, {pages}."

    def works(self) -> None:
        """The study's paper, its companion paper, its journal and its reference list."""
        name = f"Synthetic journal of {self.rng.choice(JOURNALS)}, {self.tag}"
        journal = (node(f"journal/synth-{self.i}-journal"), name)
        self.describe(journal[0], (iri(FABIO + "Journal"), iri(SCHEMA + "Periodical")), name)
        self.add(journal[0], iri(DCT + "title"), en(name))
        self.work(self.paper, f"{self.key}Paper{self.year}", f"Paper of {self.tag}",
                  f"A synthetic change model for peer worker interventions ({self.tag})",
                  journal, self.rng.randrange(2, 6))
        self.work(self.companion, f"{self.key}Companion{self.year}",
                  f"Companion paper of {self.tag}",
                  f"A synthetic companion report on peer worker roles ({self.tag})",
                  journal, self.rng.randrange(1, 4))
        self.add(self.companion, pcm("companionOf"), self.paper)
        for j in range(self.rng.randrange(8, 16)):
            year = str(1980 + self.rng.randrange(35))
            key = f"{self.key}Ref{alpha(j)}{year}"
            ref = node(f"ref/{key}")
            title = (f"Synthetic reference {j + 1} on {self.rng.choice(OBJECTS)} "
                     f"cited by {self.tag}")
            printed = self.work(ref, key, f"Reference {j + 1} of {self.tag}", title, journal,
                                self.rng.randrange(1, 5))
            self.add(ref, pcm("printedReference"), plain(printed))
            self.add(self.paper, iri(CITO + "cites"), ref)
            self.references.append(ref)

    # -- the study and its model ---------------------------------------------------------

    def study(self) -> str:
        """The study node, cases and participant groups; returns the study IRI."""
        s = node(f"study/synth-{self.i}")
        sectors = self.rng.sample(SECTORS, self.rng.randrange(1, 3))
        self.describe(s, (pcm("Study"),), f"Synthetic study {self.i}")
        self.add(s, iri(DCT + "description"), en(
            f"Synthetic study {self.i}: generated test data, not a real study and not a finding. "
            "A made-up qualitative comparative case study of peer worker initiatives."))
        self.add(s, pcm("studyDesign"), pcm("QualitativeComparativeCaseStudy"))
        self.add(s, pcm("analysisMethod"), pcm("GroundedTheory"))
        cases = self.rng.randrange(2, 8)
        self.add(s, pcm("numberOfCases"), typed(str(cases), "nonNegativeInteger"))
        self.add(s, pcm("numberOfParticipants"),
                 typed(str(self.rng.randrange(10, 120)), "nonNegativeInteger"))
        self.add(s, pcm("setting"), en(f"synthetic {' and '.join(x[2] for x in sectors)} "
                                      f"sector mental health services ({self.tag})"))
        for sector in sectors:
            self.add(s, pcm("sector"), pcm(f"{sector[0]}Sector"))
        for n in range(cases):
            sector = self.rng.choice(sectors)
            case = node(f"case/synth-{self.i}-{n + 1}")
            self.add(s, pcm("hasCase"), case)
            self.describe(case, (pcm("StudyCase"),), f"study case {n + 1} of {self.tag}")
            self.add(case, pcm("caseCode"), plain(f"{sector[1]}{n + 1}"))
            self.add(case, DERIVED, self.paper)
        for group in GROUPS:
            g = node(f"participant-group/synth-{self.i}-{group.replace(' ', '-')}")
            self.add(s, pcm("hasParticipantGroup"), g)
            self.describe(g, (pcm("ParticipantGroup"),), f"{group} interviewed in {self.tag}")
            self.add(g, iri(DCT + "description"), en(f"Synthetic {group} of {self.tag}."))
            self.add(g, DERIVED, self.paper)
        self.add(s, pcm("reportedIn"), self.paper)
        self.add(s, pcm("alsoReportedIn"), self.companion)
        self.add(s, DERIVED, self.paper)
        self.add(s, NOTE, en(
            f"Synthetic: generated by peerchange synth (seed {self.seed}, study {self.i}) as "
            "test and benchmark data. Nothing in this study's graph is a real finding."))
        self.add(self.graph, iri(DCT + "description"), en(
            f"Synthetic named graph of {self.tag}, generated by peerchange synth "
            f"(seed {self.seed}); test data, not a real study."))
        return s

    def entity(self, kind: str, slug: str, types: tuple[str, ...], label: str,
               definition: str) -> str:
        """A defined instance (mechanism, component, outcome, ...) of this study."""
        s = node(f"{kind}/synth-{self.i}-{slug}")
        self.describe(s, types, label)
        self.add(s, DEFINITION, en(definition))
        self.add(s, DERIVED, self.paper)
        return s

    def status(self) -> str:
        """The next evidence status: all three first, then drawn at random."""
        if self.statuses:
            return self.statuses.pop(0)
        return self.rng.choices(STATUSES, weights=(3, 1, 6))[0]
