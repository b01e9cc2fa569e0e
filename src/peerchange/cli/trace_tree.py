"""The text tree of ``peerchange trace``: a trace, a reverse trace or the reference list
drawn with box-drawing characters and wrapped to the terminal's width (the command line's
own format; every other format comes from :mod:`peerchange.services.trace.documents`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from peerchange.services.trace import (
    Claim,
    Gap,
    OutcomeLink,
    ReverseTrace,
    Status,
    Trace,
    Work,
)

# box-drawing pieces of the tree
TEE, LAST, PIPE, BLANK = "├── ", "└── ", "│   ", "    "


class Tree:
    """A node of the printed tree: a line of text, lines of detail under it, children."""

    def __init__(self, text: str, details: list[str] | None = None) -> None:
        self.text = text
        self.details = details or []
        self.children: list[Tree] = []

    def add(self, text: str, details: list[str] | None = None) -> Tree:
        child = Tree(text, details)
        self.children.append(child)
        return child

    def lines(self, width: int) -> Iterator[str]:
        yield self.text
        yield from self._body("", width)

    def _body(self, prefix: str, width: int) -> Iterator[str]:
        detail_prefix = prefix + (PIPE if self.children else BLANK)
        for detail in self.details:
            yield from _wrap(detail, detail_prefix, width)
        for i, child in enumerate(self.children):
            last = i == len(self.children) - 1
            yield prefix + (LAST if last else TEE) + child.text
            yield from child._body(prefix + (BLANK if last else PIPE), width)


def _wrap(text: str, prefix: str, width: int) -> Iterator[str]:
    room = max(width - len(prefix), 40)
    lines = textwrap.wrap(text, room, subsequent_indent="  ") or [""]
    for line in lines:
        yield (prefix + line).rstrip()


def _status_tag(claim: Claim) -> str:
    return f"[{claim.status.label}]"


def _claim_tree(parent: Tree, claim: Claim, focus: str, extra: str = "") -> Tree:
    """Add a link line ``→ predicate: other  [status]`` with the claim's evidence under it."""
    outgoing = claim.subject.iri == focus
    other = claim.object if outgoing else claim.subject
    arrow = "→" if outgoing else "←"
    text = f"{arrow} {claim.predicate.label}: {other.label}{extra}  {_status_tag(claim)}"
    details = []
    if claim.locator:
        details.append(f"where: {claim.locator}")
    if claim.rationale:
        details.append(f"rationale ({claim.status.label}): {claim.rationale}")
    elif claim.curated:
        details.append(f"rationale ({claim.status.label}): none recorded")
    for citation in claim.citations:
        details.append(f"{citation.role_label}: {citation.work}")
    for gap in claim.gaps:
        details.append(f"not established: {gap.rsplit('/', 1)[-1]}")
    return parent.add(text, details)


def _outcome_tree(parent: Tree, link: OutcomeLink, focus: str) -> None:
    kind = f" ({link.outcome_kind} outcome)" if link.outcome_kind else ""
    node = _claim_tree(parent, link.claim, focus, kind)
    if link.outcome.inclusion_status is not None:
        node.details.append(
            f"including this outcome at all: [{link.outcome.inclusion_status.label}]")
    for m in link.measures:
        _claim_tree(node, m.claim, link.outcome.iri)
    for d in link.downstream:
        _outcome_tree(node, d, link.outcome.iri)


def _gap_tree(parent: Tree, gap: Gap) -> None:
    parent.add(gap.label, [gap.description,
                           "concerns: " + "; ".join(r.label for r in gap.concerns)])


def _work_tree(parent: Tree, work: Work, cited_as: list[str]) -> None:
    details = [work.citation or work.label]
    if work.doi and work.doi_url not in details[0]:
        details.append(f"DOI: {work.doi_url}")
    details += cited_as
    if work.printed:
        details.append(f"as printed: {work.printed}")
    if work.correction_note:
        details.append(f"correction note: {work.correction_note}")
    parent.add(work.key, details)


def _legend(statuses: list[Status], width: int, arrows: bool = True) -> list[str]:
    lines = ["Evidence status, shown beside every link"
             + (" (→ links from, ← links to the item above):" if arrows else ":")]
    for s in statuses:
        lines += list(_wrap(f"[{s.label}] {s.definition}", "  ", width))
    lines.append("")
    return lines


def render_trace(trace: Trace, width: int) -> str:
    """The trace as a tree of text lines."""
    m = trace.mechanism
    counts = trace.status_counts()
    head = [
        f"Trace of the change mechanism: {m.label}",
        f"  {m.iri}",
        f"  {sum(counts.values())} links: {counts['stated']} stated in the source, "
        f"{counts['companion']} reported in a companion paper, "
        f"{counts['curated']} curated inference",
        "",
    ]
    head += _legend(trace.statuses, width)
    root = Tree(m.label, [m.definition] if m.definition else [])

    place = root.add("Place in the model")
    for c in trace.context:
        _claim_tree(place, c.claim, m.iri)
    for c in trace.model_context:
        _claim_tree(place, c, c.object.iri)

    if trace.components:
        comps = root.add(f"Components ({len(trace.components)})")
        for comp in trace.components:
            _claim_tree(comps, comp.claim, m.iri)
    else:
        root.add("Components: none recorded (a gap in the material, not a finding; see Gaps)")

    theories = root.add(f"Theories ({len(trace.theories)})")
    for t in trace.theories:
        node = _claim_tree(theories, t.claim, m.iri)
        if t.theory.founding_texts:
            node.details.append("founding text: " + ", ".join(t.theory.founding_texts))
        for f in t.families:
            fam = _claim_tree(node, f.claim, t.theory.iri)
            for mc in f.model_claims:
                _claim_tree(fam, mc, f.family.iri)

    constructs = root.add(f"Theoretical constructs ({len(trace.constructs)})")
    for k in trace.constructs:
        node = _claim_tree(constructs, k.claim, m.iri)
        for th in k.theories:
            node.details.append(f"a construct of {th.label} (founding text: "
                                f"{', '.join(th.founding_texts) or 'none recorded'})")

    outcomes = root.add(f"Outcomes ({len(trace.outcomes)})")
    for o in trace.outcomes:
        _outcome_tree(outcomes, o, m.iri)

    links = root.add(f"Links to other mechanisms ({len(trace.mechanism_links)})")
    for ml in trace.mechanism_links:
        _claim_tree(links, ml.claim, m.iri)

    gaps = root.add(f"Gaps: what the material could not establish ({len(trace.gaps)})")
    titles = {"mechanism": "about this mechanism",
              "linked": "about resources and claims in this trace",
              "model": "about the whole study and change model (apply to every mechanism)"}
    for scope, title in titles.items():
        in_scope = trace.gaps_in(scope)
        if in_scope:
            group = gaps.add(f"{title} ({len(in_scope)})")
            for gap in in_scope:
                _gap_tree(group, gap)

    works = root.add(f"Works cited ({len(trace.works)})")
    for cw in trace.works:
        roles: dict[str, int] = {}
        for r in cw.roles:
            roles[r.role_label] = roles.get(r.role_label, 0) + 1
        cited_as = ["cited as: " + ", ".join(
            f"{label} ({n} claim{'s' if n > 1 else ''})" for label, n in roles.items())]
        _work_tree(works, cw.work, cited_as)

    return "\n".join(head + list(root.lines(width))) + "\n"


def render_reverse(reverse: ReverseTrace, width: int) -> str:
    """The reverse trace of a work as a tree of text lines."""
    w = reverse.work
    head = [f"Where {w.key} is cited", f"  {w.iri}", ""]
    head += _legend(reverse.statuses, width, arrows=False)
    root = Tree(w.key, [w.citation or w.label]
                + ([f"DOI: {w.doi_url}"] if w.doi and w.doi_url not in w.citation else [])
                + ([f"as printed: {w.printed}"] if w.printed else [])
                + ([f"correction note: {w.correction_note}"] if w.correction_note else [])
                + ["in the paper's reference list" if reverse.in_reference_list
                   else "not in the paper's reference list"])
    if reverse.founding_text_of:
        root.details.append("founding text of: "
                            + "; ".join(t.label for t in reverse.founding_text_of))
    mech = root.add(f"Mechanisms it leads back to ({len(reverse.mechanisms)})")
    for r in reverse.mechanisms:
        mech.add(f"{r.mechanism.label} (peerchange trace {r.mechanism.slug})",
                 r.via + ["through: " + ", ".join(c.rsplit("/", 1)[-1] for c in r.claims)])
    claims = root.add(f"Claims that cite it ({len(reverse.claims)})")
    for cc in reverse.claims:
        c = cc.claim
        text = (f"{c.subject.label} → {c.predicate.label} → {c.object.label}  "
                f"{_status_tag(c)}")
        details = ["cited as: " + ", ".join(r.role_label for r in cc.roles)]
        if c.locator:
            details.append(f"where: {c.locator}")
        if c.rationale:
            details.append(f"rationale ({c.status.label}): {c.rationale}")
        claims.add(text, details)
    if reverse.gaps:
        gaps = root.add(f"Gaps: what the material could not establish ({len(reverse.gaps)})")
        for gap in reverse.gaps:
            _gap_tree(gaps, gap)
    return "\n".join(head + list(root.lines(width))) + "\n"


def render_works(works: list[Work], width: int) -> str:
    root = Tree(f"The paper's reference list ({len(works)} works)")
    for w in works:
        _work_tree(root, w, [])
    return "\n".join(root.lines(width)) + "\n"
