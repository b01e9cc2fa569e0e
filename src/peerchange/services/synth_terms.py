"""N-Quads terms and the shared theory pool of the synthetic data generator.

Terms are written straight to N-Quads text (no RDF objects are kept), so a synthetic graph of
any size streams to disk line by line. The theory pool is the shipped one (``data/theories.ttl``
with the families of ``data/stated.ttl`` and ``data/curated.ttl``): synthetic mechanisms are
grounded in the real theories and cite their real founding texts as authority; the theories
themselves are not copied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from peerchange.core.namespaces import GRAPH, ID, PCM
from peerchange.core.resources import resource_dir

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OBO = "http://purl.obolibrary.org/obo/"
CITO = "http://purl.org/spar/cito/"
FABIO = "http://purl.org/spar/fabio/"
BIBO = "http://purl.org/ontology/bibo/"
PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"

STATUS_GRAPH = {
    "StatedInSource": GRAPH + "stated",
    "ReportedInCompanionPaper": GRAPH + "companion",
    "CuratedInference": GRAPH + "curated",
}
STATUSES = tuple(STATUS_GRAPH)

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def iri(value: str) -> str:
    """The N-Quads form of an absolute IRI."""
    return f"<{value}>"


def node(path: str) -> str:
    """The N-Quads form of an instance IRI ``pcd:{path}``."""
    return f"<{ID}{path}>"


def pcm(local: str) -> str:
    """The N-Quads form of an ontology term ``pcm:{local}``."""
    return f"<{PCM}{local}>"


def en(text: str) -> str:
    """An English literal (``@en``)."""
    return f'"{text.translate(_ESCAPES)}"@en'


def plain(text: str) -> str:
    """A plain ``xsd:string`` literal."""
    return f'"{text.translate(_ESCAPES)}"'


def typed(text: str, datatype: str) -> str:
    """A literal of the XSD datatype ``datatype`` (local name, e.g. ``gYear``)."""
    return f'"{text.translate(_ESCAPES)}"^^<{XSD}{datatype}>'


@dataclass
class Theory:
    """One theory of the shipped pool: its IRI, label, founding text, family and constructs
    (IRIs in their N-Quads form, ``<...>``)."""

    iri: str
    label: str
    founding_texts: tuple[str, ...]
    family: str | None = None
    constructs: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class TheoryPool:
    """The shipped theories, families and evaluation framework that synthetic studies draw on."""

    theories: list[Theory]
    family_labels: dict[str, str]
    framework: str
    framework_label: str
    framework_texts: tuple[str, ...]
    construct_texts: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        texts: dict[str, set[str]] = {}
        for theory in self.theories:
            for construct, _ in theory.constructs:
                texts.setdefault(construct, set()).update(theory.founding_texts)
        self.construct_texts = {c: tuple(sorted(t)) for c, t in texts.items()}


def load_pool() -> TheoryPool:
    """Read the shipped theory pool (a few hundred triples) in a fixed, sorted order."""
    data = resource_dir("data")
    labels: dict[str, str] = {}
    founding: dict[str, list[str]] = {}
    constructs: dict[str, list[str]] = {}
    types: dict[str, set[str]] = {}
    family_of: dict[str, str] = {}
    for name in ("theories.ttl", "stated.ttl", "curated.ttl", "companion.ttl"):
        for triple in ox.parse(path=str(data / name), format=ox.RdfFormat.TURTLE):
            s, p, o = triple.subject.value, triple.predicate.value, triple.object.value
            if p == RDFS + "label":
                labels[s] = o
            elif p == PCM + "hasFoundingText":
                founding.setdefault(s, []).append(o)
            elif p == PCM + "hasConstruct":
                constructs.setdefault(s, []).append(o)
            elif p == RDF_TYPE:
                types.setdefault(s, set()).add(o)
            elif p == PCM + "inTheoryFamily":
                family_of[s] = o
    theories = [
        Theory(iri(s), labels[s], tuple(iri(f) for f in sorted(founding[s])),
               iri(family_of[s]) if s in family_of else None,
               [(iri(c), labels[c]) for c in sorted(constructs.get(s, []))])
        for s in sorted(founding) if PCM + "Theory" in types.get(s, set())
    ]
    framework = next(s for s in sorted(founding)
                     if PCM + "EvaluationFramework" in types.get(s, set()))
    families = {iri(f): labels[f] for f in sorted(set(family_of.values()))}
    return TheoryPool(theories, families, iri(framework), labels[framework],
                      tuple(iri(f) for f in sorted(founding[framework])))


def alpha(number: int) -> str:
    """``number`` (from 0) in upper-case letters, bijective base 26: A, B, ..., Z, AA, AB."""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
