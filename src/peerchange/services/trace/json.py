"""The JSON forms of a trace, a reverse trace and the reference list (``/trace/{slug}.json``,
``/cited/{Key}.json``, ``/references.json`` and ``peerchange trace --format json``).

The faces add only links: the web passes the URLs of the alternates (``links``), which the
command line, having no server, leaves out.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from peerchange.services.trace.model import Claim, Node, Work
from peerchange.services.trace.traces import CitedWork, OutcomeLink, ReverseTrace, Trace


def dumps(doc: Any) -> str:
    """A JSON document as both faces write it (UTF-8 text, one-space indent, final newline)."""
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def trace_dict(trace: Trace, links: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The trace as JSON-ready data; ``links`` (the web's alternates) last, when given."""
    doc: dict[str, Any] = {
        "mechanism": node_dict(trace.mechanism),
        "legend": [dataclasses.asdict(s) for s in trace.statuses],
        "status_counts": trace.status_counts(),
        "context": [
            {"direction": c.direction, "other": dataclasses.asdict(c.other),
             "claim": claim_dict(c.claim)} for c in trace.context
        ],
        "model_context": [claim_dict(c) for c in trace.model_context],
        "components": [
            {"component": node_dict(c.component), "claim": claim_dict(c.claim)}
            for c in trace.components
        ],
        "theories": [
            {
                "theory": node_dict(t.theory),
                "claim": claim_dict(t.claim),
                "families": [
                    {"family": node_dict(f.family), "claim": claim_dict(f.claim),
                     "model_claims": [claim_dict(m) for m in f.model_claims]}
                    for f in t.families
                ],
            }
            for t in trace.theories
        ],
        "constructs": [
            {"construct": node_dict(k.construct), "claim": claim_dict(k.claim),
             "theories": [node_dict(t) for t in k.theories]}
            for k in trace.constructs
        ],
        "outcomes": [_outcome_dict(o) for o in trace.outcomes],
        "mechanism_links": [
            {"direction": m.direction, "mechanism": dataclasses.asdict(m.mechanism),
             "claim": claim_dict(m.claim)} for m in trace.mechanism_links
        ],
        "gaps": [dataclasses.asdict(g) for g in trace.gaps],
        "works": [_cited_work_dict(w) for w in trace.works],
    }
    if links is not None:
        doc["links"] = dict(links)
    return doc


def reverse_trace_dict(reverse: ReverseTrace, links: Mapping[str, Any] | None = None
                       ) -> dict[str, Any]:
    """The reverse trace as JSON-ready data; ``links`` last, when given."""
    doc: dict[str, Any] = {
        "work": work_dict(reverse.work),
        "legend": [dataclasses.asdict(s) for s in reverse.statuses],
        "in_reference_list": reverse.in_reference_list,
        "founding_text_of": [dataclasses.asdict(r) for r in reverse.founding_text_of],
        "claims": [
            {"claim": claim_dict(c.claim),
             "cited_as": [dataclasses.asdict(r) for r in c.roles]}
            for c in reverse.claims
        ],
        "mechanisms": [
            {**dataclasses.asdict(m.mechanism), "slug": m.mechanism.slug,
             "claims": m.claims, "via": m.via}
            for m in reverse.mechanisms
        ],
        "gaps": [dataclasses.asdict(g) for g in reverse.gaps],
    }
    if links is not None:
        doc["links"] = dict(links)
    return doc


def reference_list_dict(works: Sequence[Work], cited: Mapping[str, str] | None = None
                        ) -> dict[str, Any]:
    """The reference list as JSON-ready data; ``cited`` gives each work's reverse-trace URL
    by key (the web's), added to its entry."""
    return {"count": len(works),
            "works": [{**work_dict(w), **({"cited": cited[w.key]} if cited else {})}
                      for w in works]}


def work_dict(work: Work) -> dict[str, Any]:
    """A work as JSON-ready data (empty fields left out)."""
    out = {k: v for k, v in dataclasses.asdict(work).items() if v not in ("", [], None)}
    if work.doi:
        out["doi_url"] = work.doi_url
    return out


def node_dict(node: Node) -> dict[str, Any]:
    """A resource of the trace (empty fields left out)."""
    out = dataclasses.asdict(node.ref)
    out["slug"] = node.ref.slug
    for name in ("definition", "scope_note", "editorial_note", "example", "description"):
        value = getattr(node, name)
        if value:
            out[name] = value
    if node.types:
        out["types"] = node.types
    if node.inclusion_status is not None:
        out["inclusion_status"] = dataclasses.asdict(node.inclusion_status)
    if node.founding_texts:
        out["founding_texts"] = node.founding_texts
    if node.construct_of:
        out["construct_of"] = [dataclasses.asdict(r) for r in node.construct_of]
    if node.constructs:
        out["constructs"] = [dataclasses.asdict(r) for r in node.constructs]
    return out


def claim_dict(claim: Claim) -> dict[str, Any]:
    """A claim with its evidence, citations and gaps, and whether it is a curated one."""
    out = dataclasses.asdict(claim)
    out["curated"] = claim.curated
    return out


def _outcome_dict(link: OutcomeLink) -> dict[str, Any]:
    return {
        "outcome": node_dict(link.outcome),
        "outcome_kind": link.outcome_kind,
        "claim": claim_dict(link.claim),
        "measures": [
            {"measure": node_dict(m.measure), "claim": claim_dict(m.claim)}
            for m in link.measures
        ],
        "downstream": [_outcome_dict(d) for d in link.downstream],
    }


def _cited_work_dict(cited: CitedWork) -> dict[str, Any]:
    out = work_dict(cited.work)
    out["cited_as"] = [dataclasses.asdict(c) for c in cited.roles]
    return out
