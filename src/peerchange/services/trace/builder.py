"""Building a trace (from a mechanism) and a reverse trace (from a work).

The builders walk a :class:`~peerchange.services.trace.neighbourhood.Neighbourhood`, the rows one
query fetched, and the tables the service keeps per data version; they run no query.

A trace follows the claims about the mechanism: where it sits in the change model (and the
study that develops the model), its components, the theories it is grounded in (with their
families and the model claims that draw on those), the constructs it engages (with the
theories they belong to), the outcomes it leads to and the downstream outcomes those lead
to (with measures), and the links to other mechanisms. The works the claims cite and the
gaps that concern what the trace shows come with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from peerchange.core.namespaces import PCM
from peerchange.services.trace.model import (
    SEPIO_SUPPORTING_REFERENCE,
    Claim,
    Gap,
    Node,
    Ref,
    Status,
    Work,
)
from peerchange.services.trace.neighbourhood import Neighbourhood
from peerchange.services.trace.rows import citation
from peerchange.services.trace.traces import (
    CitedWork,
    CitingClaim,
    ComponentLink,
    ConstructLink,
    ContextLink,
    FamilyLink,
    MeasureLink,
    MechanismLink,
    MechanismReach,
    OutcomeLink,
    ReverseTrace,
    TheoryLink,
    Trace,
)

# the shortcut properties a trace follows from a mechanism (the claims' predicates)
P = {name: PCM + name for name in (
    "hasMechanism", "activatesMechanism", "componentOf", "enablesMechanism", "groundedIn",
    "engagesConstruct", "leadsToOutcome", "contributesTo", "measuredBy", "inTheoryFamily",
    "drawsOnTheoryFamily", "developsModel", "followsFramework",
)}
#: How many ``contributesTo`` steps a trace follows below the outcomes a mechanism leads to.
MAX_OUTCOME_DEPTH = 4
GAP_SCOPES = ("mechanism", "linked", "model")


def build_trace(mechanism: str, hood: Neighbourhood, statuses: list[Status],
                works: Mapping[str, Work], all_gaps: Sequence[Gap]) -> Trace:
    """The trace of ``mechanism`` (an IRI) from the rows of ``trace.rq`` for it."""
    trace = Trace(mechanism=hood.node(mechanism), statuses=statuses)
    model_iris: list[str] = []
    for claim in hood.claims_about(mechanism):
        p = claim.predicate.iri
        incoming = claim.object.iri == mechanism
        other = claim.other_end(mechanism)
        if p == P["componentOf"] and incoming:
            trace.components.append(ComponentLink(claim, hood.node(other.iri)))
        elif p == P["groundedIn"] and not incoming:
            trace.theories.append(_theory_link(hood, claim))
        elif p == P["engagesConstruct"] and not incoming:
            construct = hood.node(other.iri)
            theories = [hood.node(t.iri) for t in construct.construct_of]
            trace.constructs.append(ConstructLink(claim, construct, theories))
        elif p == P["leadsToOutcome"] and not incoming:
            trace.outcomes.append(_outcome_link(hood, claim, depth=0))
        elif p == P["enablesMechanism"]:
            trace.mechanism_links.append(
                MechanismLink(claim, other, "in" if incoming else "out"))
        else:
            trace.context.append(ContextLink(claim, other, "in" if incoming else "out"))
            if p == P["hasMechanism"]:
                model_iris.append(other.iri)
    # the model's own place: the study that develops it (what else is said of the model is
    # in the gaps), kept to the claims whose object is the model
    for model in model_iris:
        trace.model_context.extend(
            c for c in hood.claims_about(model)
            if c.object.iri == model and c.predicate.iri == P["developsModel"]
        )
    trace.components.sort(key=lambda c: c.component.label)
    trace.theories.sort(key=lambda t: (t.claim.rank, t.theory.label))
    trace.constructs.sort(key=lambda k: (k.claim.rank, k.construct.label))
    trace.outcomes.sort(key=lambda o: (o.outcome_kind != "process", o.outcome.label))
    trace.context.sort(key=lambda c: (c.claim.rank, c.claim.predicate.label))
    trace.works = _cited_works(trace.claims(), works)
    trace.gaps = _trace_gaps(trace, model_iris, all_gaps)
    gap_by_claim: dict[str, list[str]] = {}
    for gap in trace.gaps:
        for ref in gap.concerns:
            if ref.kind == "claim":
                gap_by_claim.setdefault(ref.iri, []).append(gap.iri)
    for claim in trace.claims():
        claim.gaps = gap_by_claim.get(claim.iri, [])
    return trace


def _theory_link(hood: Neighbourhood, claim: Claim) -> TheoryLink:
    theory = hood.node(claim.object.iri)
    families = []
    for fc in hood.claims_about(theory.iri):
        if fc.predicate.iri == P["inTheoryFamily"] and fc.subject.iri == theory.iri:
            family = hood.node(fc.object.iri)
            model_claims = [
                c for c in hood.claims_about(family.iri)
                if c.predicate.iri == P["drawsOnTheoryFamily"] and c.object.iri == family.iri
            ]
            families.append(FamilyLink(fc, family, model_claims))
    return TheoryLink(claim, theory, families)


def _outcome_link(hood: Neighbourhood, claim: Claim, depth: int) -> OutcomeLink:
    outcome = hood.node(claim.object.iri)
    link = OutcomeLink(claim, outcome)
    for c in hood.claims_about(outcome.iri):
        if c.subject.iri != outcome.iri:
            continue
        if c.predicate.iri == P["measuredBy"]:
            link.measures.append(MeasureLink(c, hood.node(c.object.iri)))
        elif c.predicate.iri == P["contributesTo"] and depth < MAX_OUTCOME_DEPTH:
            link.downstream.append(_outcome_link(hood, c, depth + 1))
    link.downstream.sort(key=lambda d: d.outcome.label)
    return link


def _cited_works(claims: Iterable[Claim], works: Mapping[str, Work]) -> list[CitedWork]:
    # (every grounding claim cites its theory's founding text as authority, so the founding
    # texts of the theories shown are among these works)
    cited: dict[str, CitedWork] = {}
    for claim in claims:
        for c in claim.citations:
            work = works.get(c.work)
            if work is None:
                continue
            entry = cited.setdefault(work.key, CitedWork(work))
            entry.roles.append(dataclasses.replace(c, claim=claim.iri))
            if claim.iri not in entry.claims:
                entry.claims.append(claim.iri)
    return sorted(cited.values(), key=lambda c: c.work.key.lower())


def _trace_gaps(trace: Trace, model_iris: list[str], all_gaps: Sequence[Gap]) -> list[Gap]:
    """The gaps about the mechanism, about the model (or study) it belongs to, and about
    the other resources, claims and works the trace shows."""
    mechanism = trace.mechanism.iri
    study_iris = [c.subject.iri for c in trace.model_context]
    shown: dict[str, str] = {}
    for claim in trace.claims():
        shown[claim.iri] = claim.label
        shown.setdefault(claim.subject.iri, claim.subject.label)
        shown.setdefault(claim.object.iri, claim.object.label)
    for cw in trace.works:
        shown.setdefault(cw.work.iri, cw.work.label)
    out = []
    for gap in all_gaps:
        about = {r.iri for r in gap.concerns}
        if mechanism in about:
            scope = "mechanism"
        elif about & (set(model_iris) | set(study_iris)):
            scope = "model"
        elif about & (set(shown) - {mechanism}):
            scope = "linked"
        else:
            continue
        concerns = [r for r in gap.concerns if r.iri in shown or r.iri == mechanism]
        out.append(dataclasses.replace(gap, concerns=concerns or list(gap.concerns),
                                       scope=scope))
    out.sort(key=lambda g: (GAP_SCOPES.index(g.scope), g.label))
    return out


# ---------------------------------------------------------------------------
# the reverse trace
# ---------------------------------------------------------------------------


def build_reverse_trace(work: Work, hood: Neighbourhood, statuses: list[Status],
                        mechanisms: Sequence[Node], all_gaps: Sequence[Gap],
                        reference_keys: Iterable[str]) -> ReverseTrace:
    """The reverse trace of ``work`` from the rows of ``cited.rq`` for it: every claim that
    cites it and in which role, the theories it is the founding text of, and the mechanisms
    those lead back to."""
    citing: list[CitingClaim] = []
    for claim in hood.claims().values():
        roles = sorted({c.role_iri for c in claim.citations if c.work_iri == work.iri})
        in_lines = any(work.iri in hood.references(e.iri) for e in claim.evidence)
        if in_lines:
            roles = roles or [SEPIO_SUPPORTING_REFERENCE]
        if roles:
            citing.append(CitingClaim(claim, [
                dataclasses.replace(citation(r, work.key, work.iri), claim=claim.iri)
                for r in roles
            ]))
    citing.sort(key=lambda c: (c.claim.rank, c.claim.label))
    founded = sorted((Ref.of(t, hood.label(t))
                      for t in hood.subjects(PCM + "hasFoundingText", work.iri)),
                     key=lambda r: r.label)
    return ReverseTrace(
        work=work,
        statuses=statuses,
        in_reference_list=work.key in set(reference_keys),
        founding_text_of=founded,
        claims=citing,
        mechanisms=_mechanisms_reached(hood, citing, founded, mechanisms),
        gaps=[dataclasses.replace(g, scope="work") for g in all_gaps
              if work.iri in {r.iri for r in g.concerns}],
    )


def _mechanisms_reached(hood: Neighbourhood, citing: list[CitingClaim], founded: list[Ref],
                        mechanisms: Sequence[Node]) -> list[MechanismReach]:
    """The mechanisms at an end of a citing claim, or of a claim about a theory the work
    founds (or one of its constructs)."""
    by_iri = {m.iri: m for m in mechanisms}
    reach: dict[str, MechanismReach] = {}

    def add(mechanism: str, claim: Claim, via: str) -> None:
        entry = reach.setdefault(mechanism, MechanismReach(by_iri[mechanism].ref))
        if claim.iri not in entry.claims:
            entry.claims.append(claim.iri)
        if via not in entry.via:
            entry.via.append(via)

    for c in citing:
        for end in (c.claim.subject.iri, c.claim.object.iri):
            if end in by_iri:
                roles = ", ".join(r.role_label for r in c.roles)
                add(end, c.claim, f"a claim about the mechanism cites the work ({roles})")
    for theory in founded:
        for target in [theory, *hood.node(theory.iri).constructs]:
            for claim in hood.claims_about(target.iri):
                for end in (claim.subject.iri, claim.object.iri):
                    if end in by_iri:
                        add(end, claim, f"the work is the founding text of {theory.label}, "
                                        f"which the mechanism is linked to")
    return sorted(reach.values(), key=lambda r: r.mechanism.label)
