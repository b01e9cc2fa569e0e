"""The RDF of a trace and its Turtle document (the ``.ttl`` form on the web and
``peerchange trace --format turtle``).

The triples are the claims a trace shows (with their evidence lines), the resources, works
and gaps it shows, and the labels of what they link to. They come from the rows the trace
was built from and, for the works and gaps the trace of a mechanism shows, from the rows
of ``trace-rdf.rq`` (fetched only for RDF). Bare shortcut edges are
left out: every link appears as its claim, with its evidence status. The document title is
decided here, once, for both faces.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from peerchange.core.formats import RDF_FORMATS
from peerchange.core.namespaces import DCTERMS, LABEL_PROPERTIES, PCM, PREFIXES
from peerchange.core.results import write_graph
from peerchange.services.trace.neighbourhood import Neighbourhood
from peerchange.services.trace.traces import ReverseTrace, Trace

TURTLE = next(f for f in RDF_FORMATS if f.name == "turtle")
# the links from a described resource to others described with it (a work's authorships
# and journal)
FOLLOW = frozenset({PCM + "hasAuthorship", DCTERMS + "isPartOf"})

HEADER = (
    "# From peerchange (https://w3id.org/peerchange). Every link is given as a claim\n"
    "# (obo:SEPIO_0000388 subject, obo:SEPIO_0000389 predicate, obo:SEPIO_0000390\n"
    "# object) with its pcm:evidenceStatus: pcm:StatedInSource (with pcm:locator),\n"
    "# pcm:ReportedInCompanionPaper (with pcm:locator) or pcm:CuratedInference (with\n"
    "# pcm:rationale, the curators' reading, not a finding of the paper). Bare shortcut\n"
    "# edges are left out on purpose; pcm:EvidenceGap resources say what the material\n"
    "# could not establish.\n"
)


def trace_title(trace: Trace) -> str:
    """The title of a trace's Turtle document."""
    return f"Trace of the change mechanism '{trace.mechanism.label}'"


def reverse_trace_title(reverse: ReverseTrace) -> str:
    """The title of a reverse trace's Turtle document."""
    return f"Reverse trace of the work {reverse.work.key}: the claims that cite it"


def trace_resources(trace: Trace) -> list[str]:
    """The resources a trace's RDF describes, in the order they are described."""
    nodes: list[str] = [trace.mechanism.iri]
    for claim in trace.claims():
        nodes += [claim.iri, claim.subject.iri, claim.object.iri, claim.status.iri]
        nodes += [e.iri for e in claim.evidence]
    for k in trace.constructs:
        nodes += [t.iri for t in k.theories]
    nodes += [cw.work.iri for cw in trace.works]
    nodes += [g.iri for g in trace.gaps]
    return nodes


def reverse_trace_resources(reverse: ReverseTrace) -> list[str]:
    """The resources a reverse trace's RDF describes, in the order they are described."""
    nodes = [reverse.work.iri] + [r.iri for r in reverse.founding_text_of]
    for c in reverse.claims:
        nodes += [c.claim.iri, c.claim.subject.iri, c.claim.object.iri, c.claim.status.iri]
        nodes += [e.iri for e in c.claim.evidence]
    nodes += [g.iri for g in reverse.gaps]
    return nodes


def describe(sources: Sequence[Neighbourhood], resources: list[str]) -> list[ox.Triple]:
    """The triples of ``resources`` (and of the authorships and journals they link to),
    each once, then the labels of every property and value they use that is not described
    with a label already.

    :param sources: where a resource's triples are looked up, in order (the first that
        describes it gives them): the trace's own rows, then the rows of its works and
        gaps.
    """
    seen_nodes: set[str] = set()
    seen: set[ox.Triple] = set()
    out: list[ox.Triple] = []
    queue = list(resources)
    while queue:
        iri = queue.pop(0)
        if iri in seen_nodes or not iri.startswith(("http://", "https://")):
            continue
        seen_nodes.add(iri)
        source = next((s for s in sources if s.describes(iri)), None)
        for t in source.triples_of(iri) if source is not None else ():
            if t in seen:
                continue
            seen.add(t)
            out.append(t)
            if t.predicate.value in FOLLOW and isinstance(t.object, ox.NamedNode):
                queue.append(t.object.value)
    labelled = {t.subject.value for t in out if t.predicate.value in LABEL_PROPERTIES}
    linked = dict.fromkeys(
        term.value for t in out for term in (t.predicate, t.object)
        if isinstance(term, ox.NamedNode) and term.value not in labelled
    )
    for iri in linked:
        for source in sources:
            for t in source.labels_of(iri):
                if t not in seen:
                    seen.add(t)
                    out.append(t)
    return out


def turtle(triples: list[ox.Triple], title: str) -> bytes:
    """Serialize triples as Turtle with the published prefixes, under a header comment
    that names the document and says how to read its claims."""
    header = f"# {title}\n{HEADER}"
    return header.encode() + write_graph(TURTLE, triples, prefixes=PREFIXES)
