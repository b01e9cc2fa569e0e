"""The details a trace shows, read for what it shows only: labels, works, mechanisms.

The tables of :mod:`peerchange.services.trace.rows` hold every work and mechanism of the
store (read once per data version); at 10^7 triples of other studies reading them took
longer than the query limit. A trace needs the few its rows name, so these functions read
them with the IRIs bound (:func:`peerchange.services.trace.batched.select_values`, a
``VALUES`` block): ``details-of`` (labels, works with their authors, mechanisms: one
query for all the IRIs of a trace's rows), ``mechanisms-of`` (a mechanism named by IRI
or slug) and ``in-reference-list`` in ``queries/internal/trace/``. Each gives what the
store-wide tables give for the same resources.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from peerchange.core.namespaces import DCTERMS, ID, PCM, RDFS, SKOS
from peerchange.services.sparql import SparqlService
from peerchange.services.trace import rows
from peerchange.services.trace.batched import select_values
from peerchange.services.trace.model import Node, Ref, Work

# works-of.rq's fields → the columns of bibliography-works.rq that rows.works reads
_WORK_COLUMNS = {
    RDFS + "label": "label",
    DCTERMS + "title": "title",
    "http://purl.org/spar/fabio/hasPublicationYear": "year",
    DCTERMS + "isPartOf": "journalTitle",
    "http://purl.org/ontology/bibo/volume": "volume",
    "http://purl.org/ontology/bibo/issue": "issue",
    "http://purl.org/ontology/bibo/pages": "pages",
    "http://purl.org/ontology/bibo/pageStart": "pageStart",
    "http://purl.org/ontology/bibo/pageEnd": "pageEnd",
    "http://purl.org/ontology/bibo/doi": "doi",
    "http://purl.org/dc/elements/1.1/publisher": "publisher",
    DCTERMS + "bibliographicCitation": "citation",
    PCM + "printedReference": "printed",
    PCM + "correctionNote": "correctionNote",
    SKOS + "editorialNote": "editorialNote",
    "http://purl.org/spar/fabio/hasPubMedId": "pmid",
    "http://purl.org/spar/fabio/hasPubMedCentralId": "pmcid",
    DCTERMS + "available": "available",
}
_MECHANISM_COLUMNS = {RDFS + "label": "label", SKOS + "definition": "definition",
                      SKOS + "scopeNote": "scopeNote"}


@dataclass
class Details:
    """What ``details-of.rq`` gives of some IRIs."""

    labels: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    """IRI → its (label property, label) pairs."""
    works: dict[str, Work] = field(default_factory=dict)
    """The works among the IRIs, by key (as :func:`rows.works` makes them)."""
    mechanisms: list[Node] = field(default_factory=list)
    """The change mechanisms among the IRIs (as :func:`rows.mechanisms` makes them)."""


def details(sparql: SparqlService, iris: Iterable[ox.NamedNode]) -> Details:
    """The labels of ``iris``, the works and the mechanisms among them (one query per
    :data:`~peerchange.services.trace.batched.BATCH` IRIs)."""
    out = Details()
    records: dict[tuple[str, str, str], dict[str, Any]] = {}
    authors: list[dict[str, Any]] = []
    mechanism_fields: dict[str, dict[str, list[Any]]] = {}
    for r in select_values(sparql, "internal/trace/details-of", "resource", iris):
        iri = r["resource"].value
        if "labelProperty" in r:
            out.labels.setdefault(iri, []).append((r["labelProperty"].value, r["label"]))
        elif "field" in r:
            record = records.setdefault((r["key"].value, iri, r["type"].value),
                                        {"work": r["resource"], "key": r["key"],
                                         "type": r["type"]})
            column = _WORK_COLUMNS.get(r["field"].value)
            if column is not None:
                record.setdefault(column, r["value"])
        elif "position" in r:
            authors.append({"work": r["resource"], "position": r["position"],
                            "name": r["name"]})
        elif "mechanismField" in r:
            column = _MECHANISM_COLUMNS[r["mechanismField"].value]
            mechanism_fields.setdefault(iri, {}).setdefault(column, []).append(
                r["mechanismValue"])
    if records:
        out.works = rows.works([records[k] for k in sorted(records, key=lambda k: k[0])],
                               authors)
    out.mechanisms = _mechanisms(mechanism_fields)
    return out


def mechanisms(sparql: SparqlService, iris: Iterable[ox.NamedNode]) -> list[Node]:
    """The change mechanisms among ``iris``, as :func:`rows.mechanisms` makes them (label
    order; one per label)."""
    fields: dict[str, dict[str, list[Any]]] = {}
    for r in select_values(sparql, "internal/trace/mechanisms-of", "mechanism", iris):
        column = _MECHANISM_COLUMNS[r["field"].value]
        fields.setdefault(r["mechanism"].value, {}).setdefault(column, []).append(r["value"])
    return _mechanisms(fields)


def _mechanisms(fields: dict[str, dict[str, list[Any]]]) -> list[Node]:
    found = [
        {"mechanism": ox.NamedNode(iri), "label": label,
         **{c: v[0] for c, v in f.items() if c != "label" and v}}
        for iri, f in fields.items() for label in f.get("label", [])
    ]
    found.sort(key=lambda r: r["label"].value)
    return [Node(Ref(r["mechanism"].value, r["label"].value, "mechanism"),
                 definition=rows.text(r, "definition"), scope_note=rows.text(r, "scopeNote"))
            for r in found]


def work_by_key(sparql: SparqlService, key: str) -> Work | None:
    """The work whose reference key is exactly ``key`` (also given as its IRI, as
    :func:`lookup.find_work` takes it), if one work has it; else ``None``."""
    query = (key or "").strip()
    if query.startswith(ID + "ref/"):
        query = query[len(ID + "ref/"):]
    if not query:
        return None
    found = select_values(sparql, "internal/trace/works-by-key", "key", [ox.Literal(query)])
    iris = {r["work"] for r in found}
    if len(iris) != 1:
        return None
    return details(sparql, iris).works.get(query)


def in_reference_list(sparql: SparqlService, key: str) -> bool:
    """Whether a study paper's reference list cites a work with reference ``key``."""
    return bool(select_values(sparql, "internal/trace/in-reference-list", "key",
                              [ox.Literal(key)]))
