"""The graph's own words for its terms: the labels of IRIs and the published JSON-LD context.

Both are read through the SPARQL service (``queries/internal/linked-data/labels.rq`` and
``context-terms.rq``) once per data version and shared by every service over the same data
(:mod:`peerchange.services.memo`): the resource documents and pages, the dataset
description, the dumps and ``/context.jsonld`` all use the one context built here.

The context maps the published prefixes and gives each of the ontology's own properties a
short term named by its local name (``groundedIn``, ``locator`` ...); object properties
coerce their values to IRIs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import pyoxigraph as ox

from peerchange.core.describe import add_labels
from peerchange.core.namespaces import LABEL_PROPERTIES, PCM, PREFIXES
from peerchange.services.memo import per_data_version
from peerchange.services.sparql import SparqlService


class Labels:
    """Every label triple of the graph (``rdfs:label``, ``skos:prefLabel``), by IRI."""

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self._by_iri: dict[ox.NamedNode, list[ox.Triple]] = defaultdict(list)
        ranked: dict[str, tuple[int, str]] = {}
        for t in dict.fromkeys(triples):
            self._by_iri[t.subject].append(t)  # type: ignore[index]
            if isinstance(t.object, ox.Literal):
                # English or no language first, then rdfs:label before skos:prefLabel
                rank = (0 if t.object.language in ("en", None) else 1) + (
                    0 if t.predicate.value == LABEL_PROPERTIES[0] else 2)
                best = (rank, t.object.value)
                if best < ranked.get(t.subject.value, (99, "")):
                    ranked[t.subject.value] = best
        self.text: dict[str, str] = {iri: text for iri, (_, text) in ranked.items()}
        """One label per IRI: English (or no language) and ``rdfs:label`` preferred."""

    def of(self, iris: Iterable[ox.NamedNode]) -> list[ox.Triple]:
        """The label triples of ``iris``."""
        return [t for iri in iris for t in self._by_iri.get(iri, ())]

    def add_to(self, triples: Sequence[ox.Triple]) -> list[ox.Triple]:
        """``triples`` plus the labels of the IRIs they link to (see :func:`add_labels`)."""
        return add_labels(triples, self.of)


@per_data_version()
def labels(sparql: SparqlService) -> Labels:
    """The labels of the graph behind ``sparql`` (read once per data version)."""
    return Labels(sparql.construct("internal/linked-data/labels"))


@per_data_version()
def published_context(sparql: SparqlService) -> dict[str, Any]:
    """The published JSON-LD context document (``{"@context": {...}}``) of the graph behind
    ``sparql``: the published prefixes, then one term per property of the ontology."""
    ctx: dict[str, Any] = dict(PREFIXES)
    for row in sparql.select("internal/linked-data/context-terms"):
        local = row["property"].value[len(PCM):]
        if not local or local in ctx or not local.replace("_", "").isalnum():
            continue
        is_object = "object" in row and row["object"].value == "true"
        ctx[local] = {"@id": "pcm:" + local, "@type": "@id"} if is_object else "pcm:" + local
    return {"@context": ctx}
