"""The two documents of the reviewer's trace: a :class:`Trace` starts at a change mechanism
and nests the links its claims make (theories and their families, constructs, outcomes and
what they lead to, ...); a :class:`ReverseTrace` starts at a work and lists the claims that
cite it. Plain dataclasses, no queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from peerchange.core.namespaces import PCM
from peerchange.services.trace.model import (
    STATUS_ORDER,
    Citation,
    Claim,
    Gap,
    Node,
    Ref,
    Status,
    Work,
)


@dataclass
class FamilyLink:
    claim: Claim
    family: Node
    model_claims: list[Claim] = field(default_factory=list)


@dataclass
class TheoryLink:
    claim: Claim
    theory: Node
    families: list[FamilyLink] = field(default_factory=list)


@dataclass
class ConstructLink:
    claim: Claim
    construct: Node
    theories: list[Node] = field(default_factory=list)


@dataclass
class MeasureLink:
    claim: Claim
    measure: Node


@dataclass
class OutcomeLink:
    claim: Claim
    outcome: Node
    downstream: list[OutcomeLink] = field(default_factory=list)
    measures: list[MeasureLink] = field(default_factory=list)

    @property
    def outcome_kind(self) -> str:
        if PCM + "ProcessOutcome" in self.outcome.types:
            return "process"
        if PCM + "DownstreamOutcome" in self.outcome.types:
            return "downstream"
        return ""


@dataclass
class ComponentLink:
    claim: Claim
    component: Node


@dataclass
class ContextLink:
    """A claim that places the mechanism (model, role, study)."""

    claim: Claim
    other: Ref
    direction: str  # "in": other → mechanism; "out": mechanism → other


@dataclass
class MechanismLink:
    claim: Claim
    mechanism: Ref
    direction: str  # "out": this mechanism → other; "in": other → this mechanism


@dataclass
class CitedWork:
    """A work cited in a trace, with every (role, claim) it is cited in."""

    work: Work
    roles: list[Citation] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)

    @property
    def role_names(self) -> list[str]:
        return sorted({c.role for c in self.roles})


@dataclass
class Trace:
    """Everything that supports one change mechanism."""

    mechanism: Node
    statuses: list[Status]
    context: list[ContextLink] = field(default_factory=list)
    model_context: list[Claim] = field(default_factory=list)
    components: list[ComponentLink] = field(default_factory=list)
    theories: list[TheoryLink] = field(default_factory=list)
    constructs: list[ConstructLink] = field(default_factory=list)
    outcomes: list[OutcomeLink] = field(default_factory=list)
    mechanism_links: list[MechanismLink] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    works: list[CitedWork] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.mechanism.ref.slug

    @property
    def bibliography(self) -> list[Work]:
        """The works the trace cites (its bibliography), by key."""
        return [w.work for w in self.works]

    def claims(self) -> Iterator[Claim]:
        """Every claim the trace shows, each once, in the order shown."""
        seen: set[str] = set()
        for claim in self._all_claims():
            if claim.iri not in seen:
                seen.add(claim.iri)
                yield claim

    def _all_claims(self) -> Iterator[Claim]:
        for c in self.context:
            yield c.claim
        yield from self.model_context
        for comp in self.components:
            yield comp.claim
        for t in self.theories:
            yield t.claim
            for f in t.families:
                yield f.claim
                yield from f.model_claims
        for k in self.constructs:
            yield k.claim
        yield from _outcome_claims(self.outcomes)
        for m in self.mechanism_links:
            yield m.claim

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_ORDER, 0)
        for claim in self.claims():
            counts[claim.status.key] = counts.get(claim.status.key, 0) + 1
        return counts

    def gaps_in(self, scope: str) -> list[Gap]:
        return [g for g in self.gaps if g.scope == scope]

    def work(self, key: str) -> CitedWork | None:
        return next((w for w in self.works if w.work.key == key), None)


def _outcome_claims(links: Iterable[OutcomeLink]) -> Iterator[Claim]:
    for o in links:
        yield o.claim
        for m in o.measures:
            yield m.claim
        yield from _outcome_claims(o.downstream)


@dataclass
class CitingClaim:
    """A claim that cites a work, in one or more roles."""

    claim: Claim
    roles: list[Citation] = field(default_factory=list)


@dataclass
class MechanismReach:
    """A mechanism a work leads back to, and the claims that connect them."""

    mechanism: Ref
    claims: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)  # how: "cited by a claim", "founding text of ..."


@dataclass
class ReverseTrace:
    """Every claim a work is cited in, in which role, and what those claims link."""

    work: Work
    statuses: list[Status]
    in_reference_list: bool
    founding_text_of: list[Ref] = field(default_factory=list)
    claims: list[CitingClaim] = field(default_factory=list)
    mechanisms: list[MechanismReach] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
