"""SHACL portability (issue 13): the shapes are SHACL Core except ``sparql-constraints.ttl``.

A consumer whose engine lacks SHACL-SPARQL (rdf-validate-shacl, or pySHACL with advanced
features off, as here) loads every other file: nothing in them needs SHACL-SPARQL, the
shipped graph conforms, and the Core shapes still catch what Core can express of the claim
pattern. ``peerchange validate`` loads both (``tests/cli/test_validate.py``).

Also pinned: pySHACL skips ``sh:minInclusive`` for an ill-typed value
(``"0"^^xsd:positiveInteger``); our verdict holds because ``sh:datatype`` reports it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib.namespace import SH

from peerchange.core.resources import resource_files
from peerchange.services.validation.shacl import load_shapes

ROOT = Path(__file__).resolve().parents[2]
INVALID = ROOT / "tests" / "fixtures" / "invalid"
SPARQL_FILE = "sparql-constraints.ttl"
PCM = rdflib.Namespace("https://w3id.org/peerchange/onto/")
PCSH = rdflib.Namespace("https://w3id.org/peerchange/shapes/")
ID = "https://w3id.org/peerchange/id/"
SHACL_SPARQL = {SH.sparql, SH.declare, SH.prefixes, SH.select, SH.ask, SH.SPARQLConstraint,
                SH.SPARQLTarget, SH.SPARQLRule, SH.target}

# the defects of the issue: caught by Core (focus node), or by SHACL-SPARQL only
CORE_CATCHES = {
    "claim-without-shortcut.ttl": ID + "claim/fixture-no-shortcut",
    "shortcut-without-claim.ttl": ID + "mechanism/engagement",
    "grounding-without-founding-text.ttl":
        ID + "claim/fixture-engagement--groundedIn--social-comparison",
    "claim-wrong-kind.ttl": ID + "claim/fixture-wrong-kind",
}
SPARQL_ONLY = {
    "duplicate-claim.ttl": ID + "claim/fixture-duplicate",
    "sameas-not-matching-doi.ttl": ID + "ref/FixtureSameAs2020",
}


def core_files() -> list[Path]:
    return [p for p in resource_files("shapes") if p.name != SPARQL_FILE]


def _graph(*extra: Path) -> rdflib.Graph:
    g = rdflib.Graph()
    for path in [*resource_files("ontology"), *resource_files("data"), *extra]:
        g.parse(path, format="turtle")
    return g


def _violations(data: rdflib.Graph, shapes: rdflib.Graph, *, advanced: bool) -> set[str]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none",
                                        advanced=advanced)
    return {str(report.value(r, SH.focusNode))
            for r in report.subjects(rdflib.RDF.type, SH.ValidationResult)
            if report.value(r, SH.resultSeverity) == SH.Violation}


def test_the_sparql_file_is_shipped_and_loaded_by_default():
    names = [p.name for p in resource_files("shapes")]
    assert SPARQL_FILE in names and len(names) > 1
    assert set(load_shapes().subjects(SH.sparql, None))  # peerchange validate runs both


@pytest.mark.parametrize("path", core_files(), ids=lambda p: p.name)
def test_core_files_use_no_shacl_sparql(path):
    g = rdflib.Graph().parse(path, format="turtle")
    used = {p for _, p, _ in g} | {o for o in g.objects(None, rdflib.RDF.type)}
    assert not used & SHACL_SPARQL, f"{path.name} needs SHACL-SPARQL: {used & SHACL_SPARQL}"


def test_the_sparql_file_stands_alone():
    g = rdflib.Graph().parse(resource_files("shapes", SPARQL_FILE)[0], format="turtle")
    for constraint in g.subjects(rdflib.RDF.type, SH.SPARQLConstraint):
        assert (None, SH.sparql, constraint) in g  # attached to a shape of this file
        assert g.value(constraint, SH.prefixes) in set(g.subjects(SH.declare, None))


def test_core_claim_kinds_follow_the_ontology():
    """pcsh:ClaimAbout-{p} states, per property, what pcm:reifiedAs states in the ontology."""
    shapes = load_shapes(core_files())
    ontology = rdflib.Graph()
    for path in resource_files("ontology"):
        ontology.parse(path, format="turtle")
    reified = {str(p).rsplit("/", 1)[1]: c for p, c in ontology.subject_objects(PCM.reifiedAs)}
    stated = {}
    for shape in shapes.subjects(rdflib.RDF.type, SH.NodeShape):
        name = str(shape).rsplit("/", 1)[1]
        if name.startswith("ClaimAbout-"):
            classes = set(shapes.transitive_objects(shape, None)) & set(reified.values())
            stated[name.removeprefix("ClaimAbout-")] = classes
    assert stated == {p: {c} for p, c in reified.items()}
    edges = {str(s).rsplit("-", 1)[1] for s in shapes.subjects(rdflib.RDF.type, SH.NodeShape)
             if str(s).startswith(str(PCSH) + "ShortcutEdge-")}
    assert edges == set(reified)


@pytest.mark.slow
def test_shipped_graph_conforms_to_the_core_shapes():
    assert _violations(_graph(), load_shapes(core_files()), advanced=False) == set()


# fixtures that can share one run (two of them add the same triple, so they cannot)
RUNS = [
    ["claim-without-shortcut.ttl", "grounding-without-founding-text.ttl",
     "duplicate-claim.ttl", "sameas-not-matching-doi.ttl"],
    ["shortcut-without-claim.ttl"],
    ["claim-wrong-kind.ttl"],
]


@pytest.mark.slow
@pytest.mark.parametrize("names", RUNS, ids=lambda names: "+".join(n[:-4] for n in names))
def test_core_shapes_catch_what_core_can_express(names):
    """A Core-only run over the shipped graph plus defects' fixtures: the defects Core can
    express are reported at their focus node; the SPARQL-only ones are not (they need
    sparql-constraints.ttl, which peerchange validate loads)."""
    found = _violations(_graph(*(INVALID / n for n in names)), load_shapes(core_files()),
                        advanced=False)
    for name in names:
        if name in CORE_CATCHES:
            assert CORE_CATCHES[name] in found, name
        else:
            assert SPARQL_ONLY[name] not in found, name


MIN_INCLUSIVE_SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/> .
ex:Datatype a sh:NodeShape ; sh:targetNode ex:a ;
    sh:property [ sh:path ex:position ; sh:datatype xsd:positiveInteger ] .
ex:Minimum a sh:NodeShape ; sh:targetNode ex:a ;
    sh:property [ sh:path ex:position ; sh:minInclusive 1 ] .
"""


def test_pyshacl_skips_min_inclusive_for_an_ill_typed_value():
    """``"0"^^xsd:positiveInteger`` is ill-typed. SHACL says a comparison that cannot be
    made is a violation of sh:minInclusive; pySHACL skips it silently. Our shapes pair
    every such bound with sh:datatype (pcsh:Authorship-authorPosition), which reports it.
    If this test fails, pySHACL changed: update docs/clients.md."""
    shapes = rdflib.Graph().parse(data=MIN_INCLUSIVE_SHAPES, format="turtle")
    data = rdflib.Graph().parse(data='@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n'
                                     '<https://example.org/a> <https://example.org/position> '
                                     '"0"^^xsd:positiveInteger .', format="turtle")
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    components = {report.value(r, SH.sourceConstraintComponent)
                  for r in report.subjects(rdflib.RDF.type, SH.ValidationResult)}
    assert components == {SH.DatatypeConstraintComponent}


def test_our_bounded_values_carry_a_datatype():
    shapes = load_shapes()
    for shape in set(shapes.subjects(SH.minInclusive, None)) | set(
            shapes.subjects(SH.minExclusive, None)):
        assert shapes.value(shape, SH.datatype) is not None, shape
