"""external.ttl declares only what is used (issue 12).

The check query ``unused-external-term`` (run by ``peerchange validate``) accepts a declared
external term that the stored graph does not use when a ``skos:editorialNote`` says "Used
outside the stored graph, by queries/...". The query cannot read query files, so this test
reads each note back: every file it names exists and mentions the term.
"""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from tests.conftest import ROOT

EXTERNAL = Graph().parse(ROOT / "ontology" / "external.ttl")
MARKER = "Used outside the stored graph, by "
NOTED = sorted(
    (term, str(note))
    for term, note in EXTERNAL.subject_objects(SKOS.editorialNote)
    if str(note).startswith(MARKER)
)


def _names(term: URIRef) -> set[str]:
    """The ways a query file may write ``term``: the full IRI or a prefixed name."""
    names = {f"<{term}>"}
    for prefix, namespace in EXTERNAL.namespaces():
        if prefix and str(term).startswith(str(namespace)):
            names.add(f"{prefix}:{str(term)[len(str(namespace)):]}")
    return names


def test_every_declared_term_is_counted():
    # 128 declarations before issue 12; 29 that nothing used were dropped
    declared = {s for s in EXTERNAL.subjects(RDF.type, None) if isinstance(s, URIRef)}
    assert len(declared) == 99


def test_there_are_query_only_terms():
    assert len(NOTED) == 20


@pytest.mark.parametrize("term, note", NOTED, ids=[str(t) for t, _ in NOTED])
def test_query_only_term_is_used_by_the_files_its_note_names(term, note):
    files = re.findall(r"queries/[\w./-]+\.rq", note)
    assert files, note
    for name in files:
        path = ROOT / name
        assert path.is_file(), f"{term}: {name} does not exist"
        text = path.read_text(encoding="utf-8")
        assert any(re.search(re.escape(n) + r"(?![\w-])", text) for n in _names(term)), (
            f"{term}: {name} does not use it"
        )
