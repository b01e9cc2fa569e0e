"""IRIs of the project's namespaces and the external vocabularies it reuses.

Plain strings (not rdflib or pyoxigraph terms) so every layer can use them.
"""

from __future__ import annotations

import re

BASE = "https://w3id.org/peerchange/"
ONTOLOGY = BASE + "onto"
PCM = BASE + "onto/"
ID = BASE + "id/"
GRAPH = BASE + "graph/"
SHAPES = BASE + "shapes/"
RELEASES = BASE + "releases/"

# Prefixes published for queries, the service description and the docs.
PREFIXES: dict[str, str] = {
    "pcm": PCM,
    "pcd": ID,
    "pcg": GRAPH,
    "pcsh": SHAPES,
    "obo": "http://purl.obolibrary.org/obo/",
    "bcio": "http://humanbehaviourchange.org/ontology/",
    "cito": "http://purl.org/spar/cito/",
    "fabio": "http://purl.org/spar/fabio/",
    "bibo": "http://purl.org/ontology/bibo/",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "dce": "http://purl.org/dc/elements/1.1/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "schema": "https://schema.org/",
    "vann": "http://purl.org/vocab/vann/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "sh": "http://www.w3.org/ns/shacl#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

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


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_NOT_IN_IRI = set(' <>"{}|\\^`')


def is_absolute_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI: a scheme, then no character IRIs forbid."""
    return bool(_SCHEME.match(value)) and not _NOT_IN_IRI.intersection(value)
