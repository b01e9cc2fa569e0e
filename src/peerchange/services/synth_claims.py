"""Claims and the change model of one synthetic study (the claim pattern of modelling.md).

Every shortcut edge ``S P O`` of a synthetic study is written to the graph of its claim's
evidence status and mirrored by exactly one claim (``claim/synth-{i}-{n}``) with its evidence
line, CiTO citations by role and provenance: a stated claim cites the study's paper as
evidence, a companion claim its companion paper, a curated claim cites neither as evidence
(it ``cito:cites`` the paper and a reference-list work) and carries a rationale; theory,
construct and framework claims cite the founding text as authority.
"""

from __future__ import annotations

from peerchange.services.synth_model import (
    CLAIM_CLASS,
    CURATORS,
    DERIVED,
    GAINS,
    OBJECTS,
    PREDICATE_LABEL,
    SECTORS,
    VERBS,
    WHEN,
    Study,
)
from peerchange.services.synth_terms import (
    CITO,
    DCT,
    OBO,
    PROV,
    STATUS_GRAPH,
    en,
    iri,
    node,
    pcm,
    plain,
)

LOCATORS = ("Abstract, Results", "Results, first theme", "Discussion", "Table 2", "Figure 1")


def claim(study: Study, s: tuple[str, str], prop: str, o: tuple[str, str],
          *authorities: str) -> None:
    """Write the shortcut edge ``s prop o`` and its claim; ``s`` and ``o`` are (IRI, label);
    ``authorities`` are the founding texts the claim cites as authority."""
    status = study.status()
    study.add(s[0], pcm(prop), o[0], iri(STATUS_GRAPH[status]))
    n = len(study.lines)
    c = node(f"claim/synth-{study.i}-{n}")
    e = node(f"evidence/synth-{study.i}-{n}")
    label = f"{s[1]} — {PREDICATE_LABEL[prop]} — {o[1]}"
    study.describe(c, (pcm(CLAIM_CLASS[prop]), pcm("Claim")), label)
    study.add(c, iri(OBO + "SEPIO_0000388"), s[0])
    study.add(c, iri(OBO + "SEPIO_0000389"), pcm(prop))
    study.add(c, iri(OBO + "SEPIO_0000390"), o[0])
    study.add(c, pcm("evidenceStatus"), pcm(status))
    study.add(c, iri(OBO + "SEPIO_0000007"), e)
    study.add(c, iri(PROV + "wasAttributedTo"), CURATORS)
    study.add(c, iri(PROV + "generatedAtTime"), WHEN)
    study.describe(e, (pcm("EvidenceLine"),), f"evidence line for: {label}")
    source = study.companion if status == "ReportedInCompanionPaper" else study.paper
    study.add(e, iri(OBO + "SEPIO_0000124"), source)
    for authority in authorities:
        study.add(c, iri(CITO + "citesAsAuthority"), authority)
        study.add(e, iri(OBO + "SEPIO_0000124"), authority)
    if status == "CuratedInference":
        reference = study.rng.choice(study.references)
        study.add(c, pcm("rationale"), en(
            f"Synthetic rationale of {study.tag}: a made-up curated reading, not a finding."))
        study.add(c, iri(CITO + "cites"), study.paper)
        study.add(c, iri(CITO + "cites"), reference)
        study.add(c, DERIVED, study.paper)
        study.add(e, iri(DCT + "description"), en(
            f"Synthetic curators' reading for {study.tag}; generated test data."))
        return
    locator = plain(study.rng.choice(LOCATORS))
    study.add(c, pcm("locator"), locator)
    study.add(c, iri(CITO + "citesAsEvidence"), source)
    study.add(c, DERIVED, source)
    if status == "ReportedInCompanionPaper":
        study.add(c, iri(CITO + "cites"), study.paper)
    study.add(e, pcm("locator"), locator)
    study.add(e, iri(DCT + "description"), en(
        f"Synthetic passage of the {'companion ' if source == study.companion else ''}paper"
        f" of {study.tag}; generated test data, not a quotation."))


def build(study: Study) -> None:
    """Write the whole synthetic study: works, study node, model, entities and claims."""
    rng, pool, tag = study.rng, study.pool, study.tag
    study.works()
    s = (study.study(), f"Synthetic study {study.i}")
    label = f"change model of {tag}"
    model = (study.entity("model", "change-model", (pcm("ChangeModel"),), label,
                          f"A change model of {tag}, made up as test data."), label)
    claim(study, s, "developsModel", model)
    fw = pool.framework
    claim(study, s, "followsFramework", (fw, pool.framework_label), *pool.framework_texts)
    roles = []
    for sector, _, word in rng.sample(SECTORS, rng.randrange(1, 4)):
        label = f"{word} sector peer worker role of {tag}"
        cls = "PartnershipPeerWorkerRole" if sector == "Partnership" else \
            f"{sector}SectorPeerWorkerRole"
        r = study.entity("role", word, (pcm(cls), pcm("PeerWorkerRole")), label,
                         f"A peer worker role in {word} sector services of {tag}, "
                         "made up as test data.")
        study.add(r, pcm("sector"), pcm(f"{sector}Sector"))
        roles.append((r, label))
    theories = rng.sample(pool.theories, min(len(pool.theories), rng.randrange(2, 5)))
    for family in sorted({t.family for t in theories if t.family}):
        claim(study, model, "drawsOnTheoryFamily", (family, pool.family_labels[family]))
    mechanisms = []
    for m in range(rng.randrange(3, 6)):
        label = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} (mechanism {m + 1} of {tag})"
        mech = (study.entity("mechanism", f"m{m + 1}", (pcm("ChangeMechanism"),), label,
                             f"A change mechanism made up as test data: {label}."), label)
        mechanisms.append(mech)
        claim(study, model, "hasMechanism", mech)
        for role in roles:
            claim(study, role, "activatesMechanism", mech)
        for k in range(rng.randrange(1, 4)):
            clabel = f"component {k + 1} of mechanism {m + 1} of {tag}"
            comp = study.entity("component", f"m{m + 1}-c{k + 1}", (pcm("MechanismComponent"),),
                                clabel, f"A mechanism component made up as test data: {clabel}.")
            claim(study, (comp, clabel), "componentOf", mech)
        theory = rng.choice(theories)
        claim(study, mech, "groundedIn", (theory.iri, theory.label), *theory.founding_texts)
        if theory.constructs:
            construct = rng.choice(theory.constructs)
            claim(study, mech, "engagesConstruct", construct,
                  *pool.construct_texts[construct[0]])
    for a, b in zip(mechanisms, mechanisms[1:], strict=False):
        if rng.random() < 0.5:
            claim(study, a, "enablesMechanism", b)
    downstream = []
    for d in range(rng.randrange(2, 4)):
        label = f"improved {rng.choice(GAINS)} (downstream outcome {d + 1} of {tag})"
        downstream.append((study.entity(
            "outcome", f"d{d + 1}", (pcm("DownstreamOutcome"), pcm("Outcome")), label,
            f"A downstream outcome made up as test data: {label}."), label))
        study.add(downstream[-1][0], pcm("evidenceStatus"), pcm("CuratedInference"))
    targets = 0
    for m, mech in enumerate(mechanisms):
        for k in range(rng.randrange(1, 4)):
            label = f"more {rng.choice(GAINS)} (process outcome {m + 1}.{k + 1} of {tag})"
            out = (study.entity("outcome", f"p{m + 1}-{k + 1}",
                                (pcm("ProcessOutcome"), pcm("Outcome")), label,
                                f"A process outcome made up as test data: {label}."), label)
            study.add(out[0], pcm("evidenceStatus"), pcm("CuratedInference"))
            claim(study, mech, "leadsToOutcome", out)
            target = downstream[targets] if targets < len(downstream) else rng.choice(downstream)
            targets += 1
            claim(study, out, "contributesTo", target)
    for d, out in enumerate(downstream):
        label = f"synthetic scale {d + 1} of {tag}"
        measure = study.entity("measure", f"scale-{d + 1}", (pcm("OutcomeMeasure"),), label,
                               f"An outcome measure made up as test data: {label}.")
        study.add(measure, pcm("evidenceStatus"), pcm("CuratedInference"))
        claim(study, out, "measuredBy", (measure, label))

