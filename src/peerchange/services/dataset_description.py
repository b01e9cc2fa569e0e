"""The dataset described in VoID and DCAT (``/.well-known/void``, ``/dataset``) and what each
named graph holds (``/graph/{name}``).

Every triple comes from a shipped CONSTRUCT query (``queries/internal/description/``) run
through the SPARQL service, with the server's URLs and the versions bound as RDF terms:

- ``dataset.rq``: what holds on any host: the provenance graph (``data/provenance.ttl``: the
  dataset, its licence, creators, and each named graph's description saying whether it
  comes from the paper, a companion paper or curation), the versions and modification date,
  the root and example resources, the formats, the shortcut graph of each evidence status;
- ``statistics.rq``: the counts measured on the data (triples and entities of the dataset,
  per class, per property and per named graph) and the vocabularies used; each named
  graph's ``void:triples`` is the knowledge graph's count (``graph_counts``: the embedded
  store's, or the publication record over a remote store), ``graph-triples.rq`` once per
  graph;
- ``access.rq``: the URLs of the server answering (this description, the SPARQL
  endpoint), and ``graph-access.rq`` each named graph's endpoint and dump, once per graph
  of the knowledge graph;
- ``distribution.rq`` once per dump file of :data:`DUMPS` (its node a blank node bound
  from here), and ``prefix-declaration.rq``
  once per published prefix (see :mod:`peerchange.services.service_description`);
- ``graph.rq``: what a named graph's own document adds (its provenance, its dataset, the
  evidence status whose shortcut edges it holds).

Decision on facts that are not in the data: lists that Python already owns stay in
Python and reach the queries as bound terms, one run per item (a query cannot take a list
as a binding): the dump files (:data:`DUMPS`, which :mod:`peerchange.services.dumps`
writes) and the published prefixes (``core.namespaces.PREFIXES``). Constants that only the
description states (the formats as ``void:feature``, the root and example resources, the
titles of the description and the endpoint) are written in the query files. There is no
Turtle template: every triple of the description can be read in a query file.

The parts that hold on any host (``dataset.rq``, ``statistics.rq``) run once per service;
documents are cached per site and format. The HTML pages read their counts back from the
statistics triples, so a page shows what the RDF says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import pyoxigraph as ox

from peerchange.core.describe import unique_triples
from peerchange.core.formats import Format
from peerchange.core.knowledge_graph import KnowledgeGraph
from peerchange.core.namespaces import (
    DATASET,
    DCTERMS,
    GRAPH,
    MEDIA_TYPES,
    PCM,
    PROV,
    RDF_TYPE,
    RDFS,
    SD,
    VOID,
)
from peerchange.services.rdf_writer import write_document
from peerchange.services.service_description import integer, prefix_declarations
from peerchange.services.sparql import SparqlService
from peerchange.services.terms import labels, published_context

QUERIES = "internal/description/"


@dataclass(frozen=True)
class DumpInfo:
    """One dump file of a release, as the description lists it."""

    name: str
    title: str
    media_type: str
    compressed: bool = False


# The full dumps of a release (file names under /dumps/{release}/), see services.dumps.
DUMPS: tuple[DumpInfo, ...] = (
    DumpInfo("peerchange.ttl", "Turtle dump (all graphs merged)", "text/turtle"),
    DumpInfo("peerchange.nt.gz", "N-Triples dump, gzip (all graphs merged)",
             "application/n-triples", compressed=True),
    DumpInfo("peerchange.nq.gz", "N-Quads dump, gzip (named graphs kept)",
             "application/n-quads", compressed=True),
    DumpInfo("peerchange.jsonld", "JSON-LD dump, compacted with the published context "
             "(all graphs merged)", "application/ld+json"),
)


# How a compressed dump is served (web/dump_files.py), stated on its distribution.
COMPRESSED_DUMP = (
    "The gzip file, served as application/gzip by default (for mirrors). A client whose "
    "Accept prefers {media} gets the RDF itself from the same URL: with Content-Encoding: "
    "gzip when its Accept-Encoding allows gzip, else uncompressed."
)


#: Above this many quads the statistics are the load's counts, not ``statistics.rq`` (whose
#: whole-graph aggregates take seconds at 10^6 quads and pass the query time limit at 10^7).
STATISTICS_LIMIT = 200_000


def counted_statistics(graph: KnowledgeGraph) -> list[ox.Triple]:
    """The statistics of a large graph from the counts its load recorded (per named graph,
    kept in the store folder's marker): the dataset's ``void:triples`` (the quads of the
    store: a triple held by two graphs counts twice) and each named graph as a
    ``void:subset`` with its ``void:triples``. Entities, distinct subjects and objects,
    classes, properties, partitions and vocabularies are not stated (they would need a scan
    of the whole store)."""
    dataset = ox.NamedNode(DATASET)
    out = [ox.Triple(dataset, ox.NamedNode(VOID + "triples"), integer(graph.triples))]
    for iri, n in sorted(graph.graph_counts.items()):
        node = ox.NamedNode(iri)
        out += [
            ox.Triple(dataset, ox.NamedNode(VOID + "subset"), node),
            ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(VOID + "Dataset")),
            ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(SD + "NamedGraph")),
            ox.Triple(node, ox.NamedNode(SD + "name"), node),
            ox.Triple(node, ox.NamedNode(VOID + "triples"), integer(n)),
        ]
    return out


class _Triples:
    """Triples indexed by subject, to read a description back."""

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self._by_subject: dict[Any, list[ox.Triple]] = defaultdict(list)
        for t in triples:
            self._by_subject[t.subject].append(t)

    def objects(self, subject: Any, predicate: str) -> list[Any]:
        return [t.object for t in self._by_subject.get(subject, ())
                if t.predicate.value == predicate]

    def number(self, subject: Any, predicate: str) -> int:
        values = self.objects(subject, predicate)
        return int(values[0].value) if values else 0

    def text(self, subject: Any, predicate: str) -> str:
        values = self.objects(subject, predicate)
        return values[0].value if values else ""

    def about(self, node: Any) -> list[ox.Triple]:
        """The triples of ``node``, following the blank nodes it links to."""
        out: list[ox.Triple] = []
        todo, seen = [node], set()
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                for t in self._by_subject.get(current, ()):
                    out.append(t)
                    if isinstance(t.object, ox.BlankNode):
                        todo.append(t.object)
        return out


@dataclass
class Counts:
    """VoID counts of a dataset or a graph."""

    triples: int = 0
    entities: int = 0
    distinct_subjects: int = 0
    distinct_objects: int = 0
    properties: int = 0
    classes: int = 0
    class_entities: dict[str, int] = field(default_factory=dict)
    property_triples: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, statistics: _Triples, node: ox.NamedNode) -> Counts:
        """The counts the statistics triples give ``node`` (the dataset or a graph)."""
        return cls(
            triples=statistics.number(node, VOID + "triples"),
            entities=statistics.number(node, VOID + "entities"),
            distinct_subjects=statistics.number(node, VOID + "distinctSubjects"),
            distinct_objects=statistics.number(node, VOID + "distinctObjects"),
            properties=statistics.number(node, VOID + "properties"),
            classes=statistics.number(node, VOID + "classes"),
            class_entities={
                statistics.objects(part, VOID + "class")[0].value:
                    statistics.number(part, VOID + "entities")
                for part in statistics.objects(node, VOID + "classPartition")
            },
            property_triples={
                statistics.objects(part, VOID + "property")[0].value:
                    statistics.number(part, VOID + "triples")
                for part in statistics.objects(node, VOID + "propertyPartition")
            },
        )


@dataclass
class GraphSummary:
    """What a named graph holds, for its page."""

    iri: str
    name: str
    label: str
    title: str
    description: str
    derived_from: list[str]
    counts: Counts
    status: str | None = None


def graph_name(iri: str) -> str | None:
    """``https://w3id.org/peerchange/graph/claims`` → ``claims`` (``None`` for other IRIs)."""
    return iri[len(GRAPH):] if iri.startswith(GRAPH) and len(iri) > len(GRAPH) else None


def release_of(graph: KnowledgeGraph) -> str:
    """The release the dumps of ``graph`` belong to: the ontology's ``owl:versionInfo``."""
    return graph.ontology_version or f"unversioned-{graph.version}"


class DatasetDescriptionService:
    """Builds the VoID/DCAT description of one loaded :class:`KnowledgeGraph`.

    :param sparql: the SPARQL service to query through (one over ``graph`` with the
        default limits if not given).
    """

    def __init__(self, sparql: SparqlService) -> None:
        self.sparql = sparql
        self.graph = sparql.graph
        self.document = lru_cache(maxsize=64)(self._document)
        self.graph_document = lru_cache(maxsize=128)(self._graph_document)
        self._access = lru_cache(maxsize=64)(self._access_triples)
        # one entry per named graph: the dataset page lists them all
        self._graph = lru_cache(maxsize=None)(self._graph_triples)

    def _document(self, base_url: str, fmt: Format, context_ref: str | None) -> bytes:
        """The description (see :meth:`triples`) serialized in ``fmt`` (cached)."""
        return write_document(self.triples(base_url), fmt,
                              context=published_context(self.sparql),
                              context_ref=context_ref, focus=DATASET)

    def _graph_document(self, graph: str, base_url: str, fmt: Format,
                        context_ref: str | None) -> bytes:
        """The description of a named graph (see :meth:`graph_triples`) in ``fmt``."""
        return write_document(self.graph_triples(graph, base_url), fmt,
                              context=published_context(self.sparql),
                              context_ref=context_ref, focus=graph)

    @property
    def release(self) -> str:
        return release_of(self.graph)

    # -- what holds on any host ------------------------------------------------

    @cached_property
    def _dataset(self) -> list[ox.Triple]:
        return self.sparql.construct(QUERIES + "dataset",
                                     {"dataVersion": ox.Literal(self.graph.version)})

    @cached_property
    def _statistics(self) -> list[ox.Triple]:
        """The measured counts: ``statistics.rq`` and each graph's ``void:triples`` from
        the graph's own counts up to :data:`STATISTICS_LIMIT` quads; above it, the counts
        of the load (:func:`counted_statistics`), which cost nothing."""
        if self.graph.triples > STATISTICS_LIMIT and self.graph.graph_counts:
            return counted_statistics(self.graph)
        triples = self.sparql.construct(QUERIES + "statistics")
        for iri, n in sorted(self.graph.graph_counts.items()):
            triples += self.sparql.construct(QUERIES + "graph-triples", {
                "graph": ox.NamedNode(iri), "triples": integer(n)})
        return triples

    @cached_property
    def _measured(self) -> _Triples:
        return _Triples(self._statistics)

    @cached_property
    def modified(self) -> str | None:
        """The dataset's ``dcterms:modified`` date (the ontology's: the last curated change)."""
        return _Triples(self._dataset).text(ox.NamedNode(DATASET), DCTERMS + "modified") or None

    @cached_property
    def counts(self) -> Counts:
        """Counts of the whole dataset: the union of all graphs, each triple once."""
        return Counts.read(self._measured, ox.NamedNode(DATASET))

    @cached_property
    def graph_counts(self) -> dict[str, Counts]:
        """Counts of each named graph (its own triples), with its class partitions."""
        graphs = {g.value for t in self._statistics if t.predicate.value == SD + "name"
                  for g in (t.object,) if isinstance(g, ox.NamedNode)}
        return {g: Counts.read(self._measured, ox.NamedNode(g)) for g in sorted(graphs)}

    @cached_property
    def vocabularies(self) -> list[str]:
        """The vocabularies whose properties or classes the data uses."""
        return sorted({v.value for v in self._measured.objects(ox.NamedNode(DATASET),
                                                               VOID + "vocabulary")})

    # -- the description -------------------------------------------------------

    def dump_folder(self, base_url: str) -> str:
        """The URL of this release's dumps under ``base_url``."""
        return f"{base_url}dumps/{self.release}/"

    def dump_urls(self, base_url: str) -> list[tuple[DumpInfo, str]]:
        """The download URL of each dump of this release under ``base_url``."""
        return [(d, self.dump_folder(base_url) + d.name) for d in DUMPS]

    def graph_dump_url(self, graph_iri: str, base_url: str) -> str | None:
        """The URL of a named graph's Turtle dump (``None`` for a graph outside ``pcg:``)."""
        dumps = _Triples(self._access(base_url)).objects(ox.NamedNode(graph_iri),
                                                          VOID + "dataDump")
        return dumps[0].value if dumps else None

    def _access_triples(self, base_url: str) -> list[ox.Triple]:
        endpoint = ox.NamedNode(base_url + "sparql")
        triples = self.sparql.construct(QUERIES + "access", {
            "document": ox.NamedNode(base_url + "dataset"), "endpoint": endpoint})
        for iri in sorted(self.graph.graph_counts):
            triples += self.sparql.construct(QUERIES + "graph-access", {
                "graph": ox.NamedNode(iri), "endpoint": endpoint,
                "dumps": ox.NamedNode(self.dump_folder(base_url))})
        return triples

    def _distributions(self, base_url: str) -> list[ox.Triple]:
        out: list[ox.Triple] = []
        for dump, url in self.dump_urls(base_url):
            bindings: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] = {
                "distribution": ox.BlankNode(),
                "downloadURL": ox.NamedNode(url),
                "accessURL": ox.NamedNode(self.dump_folder(base_url)),
                "title": ox.Literal(dump.title, language="en"),
                "mediaType": ox.NamedNode(MEDIA_TYPES + dump.media_type),
            }
            if dump.compressed:
                bindings["compressFormat"] = ox.NamedNode(MEDIA_TYPES + "application/gzip")
                bindings["description"] = ox.Literal(COMPRESSED_DUMP.format(
                    media=dump.media_type), language="en")
            out += self.sparql.construct(QUERIES + "distribution", bindings)
        return out

    def triples(self, base_url: str) -> list[ox.Triple]:
        """The VoID and DCAT description of the dataset, with the labels of what it links to.

        :param base_url: the site root the description, endpoint and dumps are served under
            (ends in ``/``): the request's host for the server, the public base for an export.
        """
        t = (self._dataset + self._statistics + self._access(base_url)
             + self._distributions(base_url)
             + prefix_declarations(self.sparql, ox.NamedNode(DATASET)))
        return labels(self.sparql).add_to(unique_triples(t))

    # -- one named graph -------------------------------------------------------

    def _graph_triples(self, graph: str) -> list[ox.Triple]:
        return self.sparql.construct(QUERIES + "graph", {"graph": ox.NamedNode(graph)})

    def graph_triples(self, graph: str, base_url: str) -> list[ox.Triple]:
        """What ``/graph/{name}`` answers: the graph's provenance description, its counts,
        the classes in it and a link to its dump."""
        node = ox.NamedNode(graph)
        t = self._measured.about(node) + [
            x for x in self._access(base_url) if x.subject == node] + self._graph(graph)
        return labels(self.sparql).add_to(unique_triples(t))

    def graph_summary(self, graph: str) -> GraphSummary:
        """What the HTML page of a named graph shows."""
        node = ox.NamedNode(graph)
        described = _Triples(self._graph(graph))
        status = [t.subject.value for t in self._graph(graph)
                  if t.predicate.value == PCM + "shortcutGraph"]
        return GraphSummary(
            iri=graph,
            name=graph_name(graph) or graph,
            label=described.text(node, RDFS + "label") or graph_name(graph) or graph,
            title=described.text(node, DCTERMS + "title"),
            description=described.text(node, DCTERMS + "description"),
            derived_from=sorted(o.value for o in described.objects(node, PROV + "wasDerivedFrom")
                                if isinstance(o, ox.NamedNode)),
            counts=self.graph_counts.get(graph, Counts()),
            status=status[0] if status else None,
        )
