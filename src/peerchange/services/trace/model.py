"""What a trace is made of: plain dataclasses, no queries.

The building blocks: every link is a :class:`Claim` with its :class:`Status`, locator or
rationale, evidence lines and the works it cites (:class:`Citation`, with the CiTO role);
the resources it links are :class:`Node` objects (named by a :class:`Ref`); a
:class:`Gap` says what the material could not establish. The two documents made of them,
:class:`~peerchange.services.trace.traces.Trace` and ``ReverseTrace``, are in
:mod:`peerchange.services.trace.traces`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peerchange.core.namespaces import BASE, CITO, ID, OBO, PCM

#: The evidence statuses in the order a reader meets them (strongest first).
STATUS_ORDER = ("stated", "companion", "curated")

#: A work named as a supporting reference of a claim's evidence line (SEPIO).
SEPIO_SUPPORTING_REFERENCE = OBO + "SEPIO_0000124"

#: What each citation role means in a trace (shown beside the cited work).
ROLE_NOTES = {
    CITO + "citesAsAuthority": "the founding text of the theory or framework the link rests on",
    CITO + "citesAsEvidence": "a work that is evidence for this very link",
    CITO + "cites": "another work the reading drew on; not evidence for the link",
    SEPIO_SUPPORTING_REFERENCE: "named as a supporting reference of the claim's evidence line",
}
#: The short name of each role (the order in which a claim lists its citations).
ROLE_NAMES = {
    CITO + "citesAsAuthority": "citesAsAuthority",
    CITO + "citesAsEvidence": "citesAsEvidence",
    CITO + "cites": "cites",
    SEPIO_SUPPORTING_REFERENCE: "evidenceLineReference",
}
ROLE_LABELS = {
    CITO + "citesAsAuthority": "cites as authority",
    CITO + "citesAsEvidence": "cites as evidence",
    CITO + "cites": "cites",
    SEPIO_SUPPORTING_REFERENCE: "supporting reference of the evidence line",
}


def slug_of(iri: str) -> str:
    """Return the last path segment of an IRI."""
    return iri.rstrip("/").rsplit("/", 1)[-1]


def kind_of(iri: str) -> str:
    """Return the kind of an instance IRI (``mechanism``, ``theory``, ``ref`` ...), or ``""``."""
    if iri.startswith(ID):
        return iri[len(ID):].split("/", 1)[0]
    if iri.startswith(PCM):
        return "term"
    return ""


def local_path(iri: str) -> str | None:
    """Return the path under which this server serves an IRI of our namespaces, if any."""
    return "/" + iri[len(BASE):] if iri.startswith(BASE) else None


def status_rank(key: str) -> int:
    """The place of a status notation in :data:`STATUS_ORDER` (unknown ones last)."""
    return STATUS_ORDER.index(key) if key in STATUS_ORDER else len(STATUS_ORDER)


@dataclass
class Ref:
    """A resource named by a trace: its IRI, label and kind."""

    iri: str
    label: str
    kind: str = ""

    @property
    def slug(self) -> str:
        return slug_of(self.iri)

    @classmethod
    def of(cls, iri: str, label: str | None) -> Ref:
        return cls(iri, label or slug_of(iri), kind_of(iri))


@dataclass
class Status:
    """An evidence status: ``key`` is its notation (``stated``, ``companion``, ``curated``)."""

    iri: str
    key: str
    label: str
    definition: str = ""


@dataclass
class Citation:
    """A work a claim cites, and the CiTO role it is cited in."""

    role: str  # citesAsAuthority, citesAsEvidence, cites
    role_label: str
    role_iri: str
    work: str  # the work's reference key (or IRI when it has none)
    work_iri: str
    note: str = ""
    claim: str = ""  # the citing claim, where the citation is listed apart from it


@dataclass
class EvidenceLine:
    """A line of evidence of a claim: what it is, where, and the works it rests on."""

    iri: str
    description: str = ""
    locator: str = ""
    references: list[str] = field(default_factory=list)


@dataclass
class Claim:
    """One link of the model as a claim (subject, predicate, object) with its evidence."""

    iri: str
    label: str
    subject: Ref
    predicate: Ref
    object: Ref
    status: Status
    locator: str = ""
    rationale: str = ""
    derived_from: str = ""
    generated_at: str = ""
    evidence: list[EvidenceLine] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    @property
    def curated(self) -> bool:
        return self.status.key == "curated"

    @property
    def rank(self) -> int:
        """The rank of the claim's status (stated first)."""
        return status_rank(self.status.key)

    def other_end(self, iri: str) -> Ref:
        """Return the end of the claim that is not ``iri``."""
        return self.object if self.subject.iri == iri else self.subject


@dataclass
class Node:
    """A resource of the trace with what the graph says to describe it."""

    ref: Ref
    definition: str = ""
    scope_note: str = ""
    editorial_note: str = ""
    example: str = ""
    description: str = ""
    types: list[str] = field(default_factory=list)
    inclusion_status: Status | None = None
    founding_texts: list[str] = field(default_factory=list)
    construct_of: list[Ref] = field(default_factory=list)
    constructs: list[Ref] = field(default_factory=list)

    @property
    def iri(self) -> str:
        return self.ref.iri

    @property
    def label(self) -> str:
        return self.ref.label


@dataclass
class Work:
    """A work with its bibliographic record, as printed and as normalised."""

    iri: str
    key: str
    type: str  # article, book, report
    label: str = ""
    title: str = ""
    year: str = ""
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    page_start: str = ""
    page_end: str = ""
    doi: str = ""
    publisher: str = ""
    citation: str = ""
    printed: str = ""
    correction_note: str = ""
    editorial_note: str = ""
    pmid: str = ""
    pmcid: str = ""
    available: str = ""
    authors: list[str] = field(default_factory=list)

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""


@dataclass
class Gap:
    """What the material could not establish, and the resources of the trace it concerns."""

    iri: str
    label: str
    description: str
    concerns: list[Ref] = field(default_factory=list)
    scope: str = ""  # mechanism, linked, model (in a trace); work (in a reverse trace)
