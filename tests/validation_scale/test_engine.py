"""SHACL on the engine gives the findings of one whole-graph pySHACL run.

The differential test: on the shipped data, on ``peerchange synth`` output, and on synth
output with a violation of every constraint component the shapes use injected (one
mutation per component, spread across the study graphs and one extra graph), the
engine's findings equal ``--whole-graph`` pySHACL's as multisets of (focus, path, value,
rule (shape and component), severity, message). A shape using a component the engine
does not compile goes to pySHACL, and the phase says so.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph

from peerchange.core.sources import extra_source, shipped_sources
from peerchange.core.store import build_store
from peerchange.services.synth import generate
from peerchange.services.validation.shacl import run_shacl
from peerchange.services.validation.shacl_engine import run_shacl_engine

PCM = "https://w3id.org/peerchange/onto/"
OBO = "http://purl.obolibrary.org/obo/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
EXTRA = "<https://w3id.org/peerchange/graph/synth/mutations>"

# every component the shipped shapes report on (sh:not only ever sits inside sh:or, and
# shows as the sh:or result); the paths: inverse, alternative, sequence, one-or-more
COMPONENTS = {
    "ClassConstraintComponent", "DatatypeConstraintComponent",
    "NodeKindConstraintComponent", "MinCountConstraintComponent",
    "MaxCountConstraintComponent", "HasValueConstraintComponent", "InConstraintComponent",
    "PatternConstraintComponent", "LanguageInConstraintComponent",
    "UniqueLangConstraintComponent", "MinLengthConstraintComponent",
    "MinInclusiveConstraintComponent", "NodeConstraintComponent", "OrConstraintComponent",
    "XoneConstraintComponent", "QualifiedMinCountConstraintComponent",
}


def _study(n: int) -> str:
    return f"<https://w3id.org/peerchange/graph/synth/study-{n}>"


def _parts(line: str) -> tuple[str, str, str, str]:
    s, p, rest = line.split(" ", 2)
    o, g = rest.rstrip(" .\n").rsplit(" ", 1)
    return s, p, o, g


class Mutations:
    """Lines of a synth N-Quads file to drop, replace and add."""

    def __init__(self, path: Path) -> None:
        self.lines = path.read_text("utf-8").splitlines(keepends=True)
        self.drop: set[int] = set()
        self.added: list[str] = []

    def find(self, predicate: str, graph: str | None = None, obj: str | None = None) -> int:
        return next(
            i for i, line in enumerate(self.lines)
            if i not in self.drop and _parts(line)[1] == predicate
            and (graph is None or _parts(line)[3] == graph)
            and (obj is None or _parts(line)[2] == obj)
        )

    def subject(self, predicate: str, graph: str | None = None, obj: str | None = None) -> str:
        return _parts(self.lines[self.find(predicate, graph, obj)])[0]

    def add(self, s: str, p: str, o: str, graph: str) -> None:
        self.added.append(f"{s} {p} {o} {graph} .\n")

    def replace(self, predicate: str, graph: str, new_object: str) -> None:
        i = self.find(predicate, graph)
        s, p, _o, g = _parts(self.lines[i])
        self.drop.add(i)
        self.add(s, p, new_object, g)

    def write(self, out: Path) -> Path:
        out.write_text("".join(line for i, line in enumerate(self.lines)
                               if i not in self.drop) + "".join(self.added), "utf-8")
        return out


def inject_every_component(path: Path) -> Path:
    """Write a copy of a synth file with one violation per constraint component."""
    m = Mutations(path)
    s1, s2, s3 = _study(1), _study(2), _study(3)
    activates = f"<{PCM}activatesMechanism>"
    work = m.subject(f"<{PCM}referenceKey>", s1)
    # sh:class: a role that activates a work, not a mechanism
    m.add(m.subject(activates), activates, work, s1)
    # sh:datatype, sh:minInclusive: author positions as a string and as zero
    m.replace(f"<{PCM}authorPosition>", s2, '"first"')
    m.replace(f"<{PCM}authorPosition>", s3, '"0"^^<http://www.w3.org/2001/XMLSchema#integer>')
    # sh:nodeKind: a claim whose object is a literal
    claim3 = m.subject(f"<{OBO}SEPIO_0000388>", s3)
    m.add(claim3, f"<{OBO}SEPIO_0000390>", '"a literal object"', s3)
    # sh:minCount: a missing label; sh:maxCount: a second name of an authorship
    m.drop.add(m.find(LABEL, s1))
    name = "<https://schema.org/name>"
    m.add(m.subject(name, s2), name, '"Another Name"', s2)
    # sh:hasValue: a journal article not typed schema:ScholarlyArticle
    m.drop.add(m.find(RDF_TYPE, s3, "<https://schema.org/ScholarlyArticle>"))
    # sh:in: an evidence status outside the scheme
    m.replace(f"<{PCM}evidenceStatus>", s1, f"<{PCM}MadeUpStatus>")
    # sh:pattern: a case code with stray whitespace
    m.replace(f"<{PCM}caseCode>", s2, '"  two codes "')
    # sh:languageIn: a French definition; sh:uniqueLang: a second English rationale
    definition = "<http://www.w3.org/2004/02/skos/core#definition>"
    m.add(m.subject(definition, s3), definition, '"Une définition"@fr', s3)
    rationale = f"<{PCM}rationale>"
    m.add(m.subject(rationale, s1), rationale, '"A second rationale."@en', s1)
    # sh:minLength: an empty locator; sh:or: a stated claim without a locator
    m.replace(f"<{PCM}locator>", s2, '""')
    stated = m.subject(f"<{PCM}evidenceStatus>", s3, f"<{PCM}StatedInSource>")
    m.drop.update(i for i, line in enumerate(m.lines)
                  if line.startswith(f"{stated} <{PCM}locator> "))
    # sh:node: evidence that is not a described work
    m.add(m.subject(f"<{OBO}SEPIO_0000388>", s1), "<http://purl.org/spar/cito/citesAsEvidence>",
          "<https://w3id.org/peerchange/id/ref/NoSuchWork>", s1)
    # sh:xone: a claim typed as a study too (two disjoint kinds)
    m.add(m.subject(f"<{OBO}SEPIO_0000388>", s2), RDF_TYPE, f"<{PCM}Study>", s2)
    # sh:qualifiedValueShape: a claim without its subject (its shortcut edge has no claim)
    m.drop.add(m.find(f"<{OBO}SEPIO_0000388>", s2))
    # a sequence path (sh:or of ClaimAbout-*): a shortcut edge removed
    m.drop.add(m.find(activates))
    # an inverse path: a case of no study
    m.drop.add(m.find(f"<{PCM}hasCase>", s3))
    # an alternative of inverse paths: an outcome nothing leads to (an extra graph)
    orphan = "<https://w3id.org/peerchange/id/outcome/orphan>"
    m.add(orphan, RDF_TYPE, f"<{PCM}Outcome>", EXTRA)
    m.add(orphan, LABEL, '"orphan outcome"@en', EXTRA)
    # a one-or-more path (sh:node ClaimSubclass): a shortcut reified as a non-claim
    m.add(activates, f"<{PCM}reifiedAs>", f"<{PCM}Study>", EXTRA)
    return m.write(path.with_name("every-component-" + path.name))


def _key(finding) -> tuple:
    focus = "_:" if finding.focus.startswith("_:") else finding.focus
    value = re.sub(r"_:\S+", "_:", finding.value or "")
    message = re.sub(r"_:\S+|\bN[0-9a-f]{32}\b", "_:", finding.message)
    return (focus, finding.path, finding.rule, finding.severity, value, message)


def _compare(*extra: Path) -> Counter:
    sources = shipped_sources() + [extra_source(p) for p in extra]
    store, _stats = build_store(sources)
    whole = Counter(map(_key, run_shacl(sources).findings))
    engine = Counter(map(_key, run_shacl_engine(store, sources).findings))
    assert engine == whole
    return whole


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "synth.nq"
    generate(path, 3, seed=11)
    return path


@pytest.mark.slow
def test_shipped_data_engine_equals_whole_graph() -> None:
    assert _compare() == Counter()


@pytest.mark.slow
def test_synth_data_engine_equals_whole_graph(synth: Path) -> None:
    assert _compare(synth) == Counter()


@pytest.mark.slow
def test_every_component_violated_engine_equals_whole_graph(synth: Path) -> None:
    found = _compare(inject_every_component(synth))
    components = {rule.rsplit("(", 1)[-1].rstrip(")") for (_f, _p, rule, *_r) in found}
    assert components >= COMPONENTS, COMPONENTS - components
    assert len({focus for (focus, *_rest) in found}) >= 15


SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
ex:Engine a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "needs a name" ] .
ex:Fallback a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:a ; sh:equals ex:b ; sh:message "a equals b" ] .
"""
DATA = """
@prefix ex: <https://example.org/> .
ex:one a ex:Thing ; ex:a 1 ; ex:b 2 .
ex:two a ex:Thing ; ex:name "two" ; ex:a 3 ; ex:b 3 .
"""


def _one_file(tmp_path: Path, data: str, shapes: str) -> tuple:
    """The sources, built store and shapes graph of one Turtle file and its shapes."""
    path = tmp_path / "data.ttl"
    path.write_text(data, "utf-8")
    sources = [extra_source(path)]
    store, _stats = build_store(sources)
    return sources, store, Graph().parse(data=shapes, format="turtle")


def test_a_shape_the_engine_does_not_compile_goes_to_pyshacl(tmp_path: Path) -> None:
    sources, store, shapes = _one_file(tmp_path, DATA, SHAPES)
    progress: list[str] = []
    phase = run_shacl_engine(store, sources, shapes=shapes, progress=progress.append)
    found = {(f.focus, f.message) for f in phase.findings}
    one = "https://example.org/one"
    assert found == {(one, "needs a name"), (one, "a equals b")}
    assert "1 shapes by pySHACL" in phase.note
    assert any("https://example.org/Fallback (sh:equals)" in line for line in progress)


DEFAULTS = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/> .
ex:Plain a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property ex:named , ex:typed , ex:kind , ex:linked ;
    sh:not [ sh:class ex:Other ] ;
    sh:or ( [ sh:class ex:Thing ] [ sh:class ex:Other ] ) .
ex:named sh:path ex:name ; sh:minCount 1 ; sh:maxCount 1 ; sh:pattern "^[a-z]+$" .
ex:typed sh:path ex:size ; sh:datatype xsd:integer ; sh:minInclusive 1 .
ex:kind sh:path ex:kind ; sh:in ( ex:A ex:B ) ; sh:nodeKind sh:IRI .
ex:linked sh:path ex:link ; sh:class ex:Thing ; sh:node ex:Named .
ex:Named a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .
"""
DEFAULT_DATA = """
@prefix ex: <https://example.org/> .
ex:one a ex:Thing , ex:Other ; ex:name "One" , "uno" ; ex:size "big" , 0 ;
    ex:kind ex:C , "A" ; ex:link ex:two , ex:three .
ex:two a ex:Thing ; ex:link ex:three .
ex:three ex:size 3 .
"""


def test_default_messages_are_pyshacls(tmp_path: Path) -> None:
    sources, store, shapes = _one_file(tmp_path, DEFAULT_DATA, DEFAULTS)
    whole = Counter(map(_key, run_shacl(sources, shapes=shapes).findings))
    engine = Counter(map(_key, run_shacl_engine(store, sources, shapes=shapes).findings))
    assert engine == whole
    assert len(whole) >= 12
