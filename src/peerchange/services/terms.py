"""The graph's own words for its terms: the labels of IRIs and the published JSON-LD context.

Both are read through the SPARQL service and shared by every service over the same data
(:mod:`peerchange.services.memo`): the labels one IRI at a time, as pages and documents ask
for them (``queries/internal/linked-data/labels-of.rq``), the context once per data version
(``context-terms.rq``): the resource documents and pages, the dataset
description, the dumps and ``/context.jsonld`` all use the one context built here.

The context maps the published prefixes and gives each of the ontology's own properties a
short term named by its local name (``groundedIn``, ``locator`` ...); object properties
coerce their values to IRIs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import pyoxigraph as ox

from peerchange.core.describe import add_labels, unique_triples
from peerchange.core.namespaces import LABEL_PROPERTIES, PCM, PREFIXES
from peerchange.services.memo import per_data_version
from peerchange.services.sparql import SparqlService

LABELS_OF = "internal/linked-data/labels-of"
# the IRIs whose labels a server remembers (a few hundred bytes each)
LOOKUP_SIZE = 20_000


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


class LabelLookup:
    """The labels of the IRIs asked for, read one IRI at a time and remembered (at most
    ``size`` IRIs, the oldest forgotten first): what a page or document shows costs one
    index lookup per new IRI however large the graph, and memory stays flat.

    The same answers as :class:`Labels` over the whole graph (the same ranking, the same
    triples), from ``queries/internal/linked-data/labels-of.rq``.
    """

    def __init__(self, sparql: SparqlService, size: int = LOOKUP_SIZE) -> None:
        self.sparql = sparql
        self.size = size
        self._seen: OrderedDict[ox.NamedNode, tuple[list[ox.Triple], str | None]] = (
            OrderedDict())
        self._lock = threading.Lock()

    def _entry(self, iri: ox.NamedNode) -> tuple[list[ox.Triple], str | None]:
        with self._lock:
            entry = self._seen.get(iri)
            if entry is not None:
                self._seen.move_to_end(iri)
                return entry
        triples = unique_triples(
            ox.Triple(iri, row["labelProperty"], row["label"])
            for row in self.sparql.select(LABELS_OF, {"resource": iri})
            if "labelProperty" in row and "label" in row)
        entry = (triples, Labels(triples).text.get(iri.value))
        with self._lock:
            self._seen[iri] = entry
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
        return entry

    def get(self, iri: str, default: str | None = None) -> str | None:
        """One label of ``iri`` (English or no language, ``rdfs:label`` preferred)."""
        if not iri or iri.startswith("_:"):
            return default
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return default
        text = self._entry(node)[1]
        return default if text is None else text

    def of(self, iris: Iterable[ox.NamedNode]) -> list[ox.Triple]:
        """The label triples of ``iris``."""
        return [t for iri in iris for t in self._entry(iri)[0]]

    def add_to(self, triples: Sequence[ox.Triple]) -> list[ox.Triple]:
        """``triples`` plus the labels of the IRIs they link to (see :func:`add_labels`)."""
        return add_labels(triples, self.of)


@per_data_version(shared=True)
def labels(sparql: SparqlService) -> LabelLookup:
    """The labels of the graph behind ``sparql``, looked up per IRI (one lookup per data
    version and IRI, shared by the services over the same data)."""
    return LabelLookup(sparql)


@per_data_version(shared=True)
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
