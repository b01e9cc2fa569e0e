"""IRIs of the project's namespaces and the external vocabularies it reuses: declared here
once, imported everywhere else.

Plain strings (not rdflib or pyoxigraph terms) so every layer can use them. ``PREFIXES``
are the published prefixes (queries, service description, ``/api``, docs);
``DOCUMENT_PREFIXES`` adds the few a written document may also use.
"""

from __future__ import annotations

BASE = "https://w3id.org/peerchange/"
ONTOLOGY = BASE + "onto"
PCM = BASE + "onto/"
ID = BASE + "id/"
GRAPH = BASE + "graph/"
SHAPES = BASE + "shapes/"
RELEASES = BASE + "releases/"
# The dataset (VoID, DCAT) this graph is, described in data/provenance.ttl.
DATASET = ID + "dataset/peerchange"

# External vocabularies
OBO = "http://purl.obolibrary.org/obo/"
BCIO = "http://humanbehaviourchange.org/ontology/"
CITO = "http://purl.org/spar/cito/"
FABIO = "http://purl.org/spar/fabio/"
BIBO = "http://purl.org/ontology/bibo/"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
DCE = "http://purl.org/dc/elements/1.1/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"
VANN = "http://purl.org/vocab/vann/"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SD = "http://www.w3.org/ns/sparql-service-description#"
SH = "http://www.w3.org/ns/shacl#"
OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
FOAF = "http://xmlns.com/foaf/0.1/"
# W3C's IRIs for formats (sd:resultFormat, void:feature) and IANA's for media types
FORMATS = "http://www.w3.org/ns/formats/"
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

# Terms named in several modules
RDF_TYPE = RDF + "type"
XSD_STRING = XSD + "string"
# the properties that label a resource, preferred first
LABEL_PROPERTIES = (RDFS + "label", SKOS + "prefLabel")
# SEPIO: the subject, predicate and object of a claim (the link it stands for)
CLAIM_SUBJECT = OBO + "SEPIO_0000388"
CLAIM_PREDICATE = OBO + "SEPIO_0000389"
CLAIM_OBJECT = OBO + "SEPIO_0000390"

# Prefixes published for queries, the service description and the docs.
PREFIXES: dict[str, str] = {
    "pcm": PCM,
    "pcd": ID,
    "pcg": GRAPH,
    "pcsh": SHAPES,
    "obo": OBO,
    "bcio": BCIO,
    "cito": CITO,
    "fabio": FABIO,
    "bibo": BIBO,
    "prov": PROV,
    "dcterms": DCTERMS,
    "dce": DCE,
    "skos": SKOS,
    "schema": SCHEMA,
    "vann": VANN,
    "void": VOID,
    "dcat": DCAT,
    "sd": SD,
    "sh": SH,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
}
# Prefixes a written document (Turtle, RDF/XML) may use: the published ones, and foaf for
# the dataset description's foaf:primaryTopic.
DOCUMENT_PREFIXES: dict[str, str] = {**PREFIXES, "foaf": FOAF}

EVIDENCE_STATUSES = {
    PCM + "StatedInSource": GRAPH + "stated",
    PCM + "ReportedInCompanionPaper": GRAPH + "companion",
    PCM + "CuratedInference": GRAPH + "curated",
}


def graph_iri(name: str) -> str:
    """Return the IRI of the named graph called ``name`` (``study`` → ``.../graph/study``)."""
    return GRAPH + name


def shorten(iri: str) -> str:
    """Return ``prefix:local`` for an IRI in a published namespace, else ``<iri>``."""
    best = ""
    best_prefix = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(best):
            best, best_prefix = ns, prefix
    local = iri[len(best) :]
    if best and local and all(c.isalnum() or c in "_-." for c in local) and not local.endswith("."):
        return f"{best_prefix}:{local}"
    return f"<{iri}>"


_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SCHEME_CHARS = _LETTERS | frozenset("0123456789+.-")
_NOT_IN_IRI = set(' <>"{}|\\^`')


def is_absolute_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI: a scheme (``[A-Za-z][A-Za-z0-9+.-]*:``),
    then no character IRIs forbid. (No :mod:`re`: the module is imported on the path of a
    restart's first answer.)"""
    colon = value.find(":")
    return colon > 0 and value[0] in _LETTERS and _SCHEME_CHARS.issuperset(value[1:colon]) \
        and not _NOT_IN_IRI.intersection(value)
