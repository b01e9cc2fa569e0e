"""The dataset described in VoID and DCAT (``/.well-known/void``, ``/dataset``) and what each
named graph holds (``/graph/{name}``).

The description starts from ``data/provenance.ttl`` (the dataset, its licence, creators and
each named graph's description saying whether it comes from the paper, a companion paper
or curation) and adds what only the running service knows: the SPARQL endpoint, the dumps
of this release, the vocabularies used, the counts (triples and entities per class, per
property and per named graph, measured on the loaded store), the version and the prefixes.
Counts come from ``queries/internal/linked-data/void-*.rq``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import pyoxigraph as ox

from peerchange.core.describe import unique_triples, with_labels
from peerchange.core.formats import Format
from peerchange.core.knowledge_graph import KnowledgeGraph
from peerchange.core.namespaces import GRAPH, ID, ONTOLOGY, PCM, PREFIXES
from peerchange.core.queryfiles import get_query
from peerchange.services.rdf_writer import build_context, write_document

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
SD = "http://www.w3.org/ns/sparql-service-description#"
SH = "http://www.w3.org/ns/shacl#"
OWL = "http://www.w3.org/2002/07/owl#"
FOAF = "http://xmlns.com/foaf/0.1/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PROV = "http://www.w3.org/ns/prov#"
VANN = "http://purl.org/vocab/vann/"
XSD = "http://www.w3.org/2001/XMLSchema#"
IANA = "https://www.iana.org/assignments/media-types/"

DATASET = ID + "dataset/peerchange"
URI_SPACE = ID
PROVENANCE_GRAPH = GRAPH + "provenance"
SHORTCUT_GRAPH = PCM + "shortcutGraph"
# SPARQL queries answered under the union of all graphs; the ontology's vocabulary IRI.
KNOWN_VOCABULARIES = {PCM: ONTOLOGY}


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


def _int(row: dict, key: str) -> int:
    term = row.get(key)
    return int(term.value) if term is not None else 0


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _count(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=_n(XSD + "integer"))


def graph_name(iri: str) -> str | None:
    """``https://w3id.org/peerchange/graph/claims`` → ``claims`` (``None`` for other IRIs)."""
    return iri[len(GRAPH):] if iri.startswith(GRAPH) and len(iri) > len(GRAPH) else None


def vocabulary_of(term: str) -> str:
    """The vocabulary (namespace) IRI a term belongs to: a published namespace, else the IRI
    up to its last ``#`` or ``/``."""
    best = ""
    for ns in PREFIXES.values():
        if term.startswith(ns) and len(ns) > len(best):
            best = ns
    if not best:
        cut = max(term.rfind("#"), term.rfind("/"))
        best = term[: cut + 1] if cut > 0 else term
    return KNOWN_VOCABULARIES.get(best, best)


class DatasetDescriptionService:
    """Builds the VoID/DCAT description of one loaded :class:`KnowledgeGraph`."""

    def __init__(self, graph: KnowledgeGraph) -> None:
        self.graph = graph
        self.document = lru_cache(maxsize=64)(self._document)
        self.graph_document = lru_cache(maxsize=128)(self._graph_document)

    @cached_property
    def context(self) -> dict[str, Any]:
        """The published JSON-LD context document."""
        return build_context(self.store)

    def _document(self, base_url: str, fmt: Format, context_ref: str | None) -> bytes:
        """The description (see :meth:`triples`) serialized in ``fmt`` (cached)."""
        return write_document(self.triples(base_url, base_url + "dataset"), fmt,
                              context=self.context, context_ref=context_ref, focus=DATASET)

    def _graph_document(self, graph: str, base_url: str, fmt: Format,
                        context_ref: str | None) -> bytes:
        """The description of a named graph (see :meth:`graph_triples`) in ``fmt``."""
        return write_document(self.graph_triples(graph, base_url), fmt, context=self.context,
                              context_ref=context_ref, focus=graph)

    @property
    def store(self) -> ox.Store:
        return self.graph.store

    @property
    def release(self) -> str:
        """The release the dumps belong to: the ontology's ``owl:versionInfo``."""
        return self.graph.ontology_version or f"unversioned-{self.graph.version}"

    @cached_property
    def modified(self) -> str | None:
        """The ontology's ``dcterms:modified`` date (the data's last curated change)."""
        for quad in self.store.quads_for_pattern(_n(ONTOLOGY), _n(DCTERMS + "modified"), None):
            return quad.object.value
        return None

    # -- counts --------------------------------------------------------------

    @cached_property
    def counts(self) -> Counts:
        """Counts of the whole dataset: the union of all graphs, each triple once."""
        row = get_query("internal/linked-data/void-totals").select(self.store)[0]
        return Counts(
            triples=_int(row, "triples"),
            entities=_int(row, "entities"),
            distinct_subjects=_int(row, "distinctSubjects"),
            distinct_objects=_int(row, "distinctObjects"),
            properties=_int(row, "properties"),
            classes=_int(row, "classes"),
            class_entities={
                r["class"].value: _int(r, "entities")
                for r in get_query("internal/linked-data/void-classes").select(self.store)
                if isinstance(r["class"], ox.NamedNode)
            },
            property_triples={p: n for p, (n, _, _) in self.property_partitions.items()},
        )

    @cached_property
    def property_partitions(self) -> dict[str, tuple[int, int, int]]:
        """Per property: (triples, distinct subjects, distinct objects)."""
        return {
            r["property"].value: (_int(r, "triples"), _int(r, "distinctSubjects"),
                                  _int(r, "distinctObjects"))
            for r in get_query("internal/linked-data/void-properties").select(self.store)
        }

    @cached_property
    def graph_counts(self) -> dict[str, Counts]:
        """Counts of each named graph (its own triples), with its class partitions."""
        out: dict[str, Counts] = {}
        for r in get_query("internal/linked-data/void-graphs").select(self.store, union=False):
            out[r["graph"].value] = Counts(
                triples=_int(r, "triples"),
                entities=_int(r, "entities"),
                distinct_subjects=_int(r, "distinctSubjects"),
                distinct_objects=_int(r, "distinctObjects"),
                properties=_int(r, "properties"),
                classes=_int(r, "classes"),
            )
        for r in get_query("internal/linked-data/void-graph-classes").select(
                self.store, union=False):
            counts = out.get(r["graph"].value)
            if counts is not None and isinstance(r["class"], ox.NamedNode):
                counts.class_entities[r["class"].value] = _int(r, "entities")
        return out

    @cached_property
    def vocabularies(self) -> list[str]:
        """The vocabularies whose properties or classes the data uses."""
        terms = get_query("internal/linked-data/vocabulary-terms").select(self.store)
        return sorted({vocabulary_of(r["term"].value) for r in terms})

    # -- the description -------------------------------------------------------

    def dump_urls(self, base_url: str) -> list[tuple[DumpInfo, str]]:
        """The download URL of each dump of this release under ``base_url``."""
        return [(d, f"{base_url}dumps/{self.release}/{d.name}") for d in DUMPS]

    def graph_dump_url(self, graph_iri: str, base_url: str) -> str | None:
        name = graph_name(graph_iri)
        return f"{base_url}dumps/{self.release}/graphs/{name}.ttl" if name else None

    def provenance(self) -> list[ox.Triple]:
        """The triples of the provenance graph (the dataset and graph descriptions)."""
        return [ox.Triple(q.subject, q.predicate, q.object)
                for q in self.store.quads_for_pattern(None, None, None, _n(PROVENANCE_GRAPH))]

    def triples(self, base_url: str, document_url: str | None = None) -> list[ox.Triple]:
        """The VoID and DCAT description of the dataset.

        :param base_url: the site root the endpoint and dumps are served under (ends in
            ``/``): the request's host for the server, the public base for an export.
        :param document_url: the URL of this description (a ``void:DatasetDescription``).
        """
        t: list[ox.Triple] = list(self.provenance())
        ds = _n(DATASET)

        def add(s: ox.NamedNode | ox.BlankNode, p: str, o: object) -> None:
            t.append(ox.Triple(s, _n(p), o))  # type: ignore[arg-type]

        if document_url:
            doc = _n(document_url)
            add(doc, str(RDF_TYPE.value), _n(VOID + "DatasetDescription"))
            add(doc, FOAF + "primaryTopic", ds)
            add(doc, DCTERMS + "title",
                ox.Literal("VoID and DCAT description of the peerchange knowledge graph",
                           language="en"))
        kg = self.graph
        counts = self.counts
        endpoint = _n(base_url + "sparql")
        add(ds, VOID + "sparqlEndpoint", endpoint)
        add(ds, VOID + "rootResource", _n(ID + "model/peer-worker-change-model"))
        for example in ("mechanism/trusting-relationships", "theory/social-learning",
                        "claim/role-modelling--groundedIn--social-learning"):
            if any(self.store.quads_for_pattern(_n(ID + example), None, None)):
                add(ds, VOID + "exampleResource", _n(ID + example))
        add(ds, VOID + "triples", _count(counts.triples))
        add(ds, VOID + "entities", _count(counts.entities))
        add(ds, VOID + "distinctSubjects", _count(counts.distinct_subjects))
        add(ds, VOID + "distinctObjects", _count(counts.distinct_objects))
        add(ds, VOID + "properties", _count(counts.properties))
        add(ds, VOID + "classes", _count(counts.classes))
        add(ds, VOID + "feature", _n("http://www.w3.org/ns/formats/Turtle"))
        add(ds, VOID + "feature", _n("http://www.w3.org/ns/formats/N-Triples"))
        add(ds, VOID + "feature", _n("http://www.w3.org/ns/formats/N-Quads"))
        add(ds, VOID + "feature", _n("http://www.w3.org/ns/formats/JSON-LD"))
        add(ds, VOID + "feature", _n("http://www.w3.org/ns/formats/RDF_XML"))
        for vocabulary in self.vocabularies:
            add(ds, VOID + "vocabulary", _n(vocabulary))
        if kg.ontology_version:
            add(ds, DCAT + "version", ox.Literal(kg.ontology_version))
            add(ds, OWL + "versionInfo", ox.Literal(kg.ontology_version))
        add(ds, DCTERMS + "hasVersion", ox.Literal(kg.version))
        add(ds, DCAT + "landingPage", _n(base_url + "dataset"))
        add(ds, DCTERMS + "conformsTo", _n(ONTOLOGY))
        for quad in self.store.quads_for_pattern(_n(ONTOLOGY), _n(DCTERMS + "modified"), None):
            add(ds, DCTERMS + "modified", quad.object)

        # the SPARQL endpoint as a DCAT data service
        add(endpoint, str(RDF_TYPE.value), _n(DCAT + "DataService"))
        add(endpoint, str(RDF_TYPE.value), _n(SD + "Service"))
        add(endpoint, DCAT + "endpointURL", endpoint)
        add(endpoint, DCAT + "endpointDescription", endpoint)
        add(endpoint, DCAT + "servesDataset", ds)
        add(endpoint, DCTERMS + "title",
            ox.Literal("peerchange SPARQL 1.1 endpoint (read-only)", language="en"))
        add(ds, DCAT + "service", endpoint)

        # the dumps of this release
        licence = list(self.store.quads_for_pattern(ds, _n(DCTERMS + "license"), None))
        for i, (dump, url) in enumerate(self.dump_urls(base_url)):
            dist = ox.BlankNode(f"dump{i}")
            add(ds, VOID + "dataDump", _n(url))
            add(ds, DCAT + "distribution", dist)
            add(dist, str(RDF_TYPE.value), _n(DCAT + "Distribution"))
            add(dist, DCTERMS + "title", ox.Literal(dump.title, language="en"))
            add(dist, DCAT + "downloadURL", _n(url))
            add(dist, DCAT + "accessURL", _n(f"{base_url}dumps/{self.release}/"))
            add(dist, DCAT + "mediaType", _n(IANA + dump.media_type))
            if dump.compressed:
                add(dist, DCAT + "compressFormat", _n(IANA + "application/gzip"))
            if kg.ontology_version:
                add(dist, DCAT + "version", ox.Literal(kg.ontology_version))
            for quad in licence:
                add(dist, DCTERMS + "license", quad.object)

        # prefixes (SHACL declarations, as in the service description)
        for i, (prefix, ns) in enumerate(sorted(PREFIXES.items())):
            decl = ox.BlankNode(f"prefix{i:03d}")
            add(ds, SH + "declare", decl)
            add(decl, SH + "prefix", ox.Literal(prefix))
            add(decl, SH + "namespace", ox.Literal(ns, datatype=_n(XSD + "anyURI")))
        add(_n(ONTOLOGY), VANN + "preferredNamespacePrefix", ox.Literal("pcm"))
        add(_n(ONTOLOGY), VANN + "preferredNamespaceUri", ox.Literal(PCM))

        # class and property partitions of the whole dataset
        for i, (cls, n) in enumerate(sorted(counts.class_entities.items())):
            part = ox.BlankNode(f"class{i:03d}")
            add(ds, VOID + "classPartition", part)
            add(part, VOID + "class", _n(cls))
            add(part, VOID + "entities", _count(n))
        for i, (prop, (n, subjects, objects)) in enumerate(
                sorted(self.property_partitions.items())):
            part = ox.BlankNode(f"property{i:03d}")
            add(ds, VOID + "propertyPartition", part)
            add(part, VOID + "property", _n(prop))
            add(part, VOID + "triples", _count(n))
            add(part, VOID + "distinctSubjects", _count(subjects))
            add(part, VOID + "distinctObjects", _count(objects))

        # each named graph: counts, classes, its dump; which evidence status it holds
        for graph in self.graph_counts:
            t.extend(self._graph_counts_triples(graph, base_url, link_from_dataset=True))
        for quad in self.store.quads_for_pattern(None, _n(SHORTCUT_GRAPH), None):
            t.append(ox.Triple(quad.subject, quad.predicate, quad.object))
        return with_labels(self.store, unique_triples(t))

    def _graph_counts_triples(self, graph: str, base_url: str, *,
                              link_from_dataset: bool) -> list[ox.Triple]:
        counts = self.graph_counts.get(graph, Counts())
        g = _n(graph)
        key = graph_name(graph) or str(abs(hash(graph)))
        t: list[ox.Triple] = []

        def add(s: ox.NamedNode | ox.BlankNode, p: str, o: object) -> None:
            t.append(ox.Triple(s, _n(p), o))  # type: ignore[arg-type]

        if link_from_dataset:
            add(_n(DATASET), VOID + "subset", g)
        add(g, str(RDF_TYPE.value), _n(VOID + "Dataset"))
        add(g, str(RDF_TYPE.value), _n(SD + "NamedGraph"))
        add(g, SD + "name", g)
        add(g, VOID + "triples", _count(counts.triples))
        add(g, VOID + "entities", _count(counts.entities))
        add(g, VOID + "distinctSubjects", _count(counts.distinct_subjects))
        add(g, VOID + "distinctObjects", _count(counts.distinct_objects))
        add(g, VOID + "properties", _count(counts.properties))
        add(g, VOID + "classes", _count(counts.classes))
        add(g, VOID + "sparqlEndpoint", _n(base_url + "sparql"))
        dump = self.graph_dump_url(graph, base_url)
        if dump:
            add(g, VOID + "dataDump", _n(dump))
        for i, (cls, n) in enumerate(sorted(counts.class_entities.items())):
            part = ox.BlankNode(f"g{_safe(key)}class{i:03d}")
            add(g, VOID + "classPartition", part)
            add(part, VOID + "class", _n(cls))
            add(part, VOID + "entities", _count(n))
        return t

    def graph_triples(self, graph: str, base_url: str) -> list[ox.Triple]:
        """What ``/graph/{name}`` answers: the graph's provenance description, its counts,
        the classes in it and a link to its dump."""
        g = _n(graph)
        t = [ox.Triple(q.subject, q.predicate, q.object)
             for q in self.store.quads_for_pattern(g, None, None, _n(PROVENANCE_GRAPH))]
        t.extend(self._graph_counts_triples(graph, base_url, link_from_dataset=False))
        t.append(ox.Triple(g, _n(DCTERMS + "isPartOf"), _n(DATASET)))
        for quad in self.store.quads_for_pattern(None, _n(SHORTCUT_GRAPH), g):
            t.append(ox.Triple(quad.subject, quad.predicate, quad.object))
        return with_labels(self.store, unique_triples(t))

    def graph_summary(self, graph: str) -> GraphSummary:
        """What the HTML page of a named graph shows."""
        g = _n(graph)

        def literal(p: str) -> str:
            for quad in self.store.quads_for_pattern(g, _n(p), None, _n(PROVENANCE_GRAPH)):
                return quad.object.value
            return ""

        derived = sorted(q.object.value for q in self.store.quads_for_pattern(
            g, _n(PROV + "wasDerivedFrom"), None) if isinstance(q.object, ox.NamedNode))
        status = next((q.subject.value for q in self.store.quads_for_pattern(
            None, _n(SHORTCUT_GRAPH), g)), None)
        return GraphSummary(
            iri=graph,
            name=graph_name(graph) or graph,
            label=literal(RDFS + "label") or graph_name(graph) or graph,
            title=literal(DCTERMS + "title"),
            description=literal(DCTERMS + "description"),
            derived_from=derived,
            counts=self.graph_counts.get(graph, Counts()),
            status=status,
        )


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)

