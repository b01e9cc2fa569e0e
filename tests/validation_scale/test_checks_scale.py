"""The rewritten check queries (``queries/checks``) still find what they are for.

``duplicate-definition`` and ``duplicate-label`` find the shared case-folded texts first,
then join both sides on them, instead of pairing every two definitions or labels; these
runs show they still report both resources of each pair.
(``disjoint-types`` is covered by the ``theory-and-mechanism`` invalid fixture.)
"""

from __future__ import annotations

import json

import pytest

EXTRA = """\
@base <https://w3id.org/peerchange/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

<role/statutory-peer-worker> skos:definition "A PEER WORKER ROLE borne by a person with \
personal experience of mental health problems who is employed to use that experience \
explicitly to support others using mental health services."@en .
"""


def _pairs(cli, tmp_path, turtle: str, rule: str) -> tuple[set[tuple[str, str]], dict]:
    """Validate the shipped data plus ``turtle`` (it must fail) and return the (focus,
    other resource) pairs the check ``rule`` reports, and the checks phase."""
    extra = tmp_path / f"{rule}.ttl"
    extra.write_text(turtle, encoding="utf-8")
    proc = cli("validate", "--no-reasoner", "--format", "json", "-q", str(extra))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    checks = {p["name"]: p for p in json.loads(proc.stdout)["phases"]}["checks"]
    pairs = {(f["focus"], f["message"].rsplit("(", 1)[-1].rstrip(")"))
             for f in checks["findings"] if f["rule"] == rule}
    return pairs, checks


@pytest.mark.slow
def test_duplicate_definition_is_found_both_ways(cli, tmp_path):
    pairs, checks = _pairs(cli, tmp_path, EXTRA, "duplicate-definition")
    worker = "https://w3id.org/peerchange/id/role/peer-worker"
    statutory = "https://w3id.org/peerchange/id/role/statutory-peer-worker"
    assert pairs == {(worker, statutory), (statutory, worker)}, checks["findings"]


LABELS = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix pcm: <https://w3id.org/peerchange/onto/> .
<https://w3id.org/peerchange/id/mechanism/dup-a> a pcm:ChangeMechanism ;
    rdfs:label "Shared Label"@en .
<https://w3id.org/peerchange/id/mechanism/dup-b> a pcm:ChangeMechanism ;
    rdfs:label "SHARED LABEL"@en .
<https://w3id.org/peerchange/id/outcome/dup-c> a pcm:Outcome ; rdfs:label "shared label"@en .
<https://w3id.org/peerchange/onto/DupTerm> rdfs:label "change mechanism"@en .
"""


@pytest.mark.slow
def test_duplicate_label_pairs_within_a_type_and_among_terms(cli, tmp_path):
    """Case-folded labels shared by two resources of one type, or by two ontology terms,
    are reported both ways; the same label on a resource of another type is not."""
    pairs, checks = _pairs(cli, tmp_path, LABELS, "duplicate-label")
    a = "https://w3id.org/peerchange/id/mechanism/dup-a"
    b = "https://w3id.org/peerchange/id/mechanism/dup-b"
    term = "https://w3id.org/peerchange/onto/DupTerm"
    mechanism = "https://w3id.org/peerchange/onto/ChangeMechanism"
    assert pairs == {(a, b), (b, a), (term, mechanism), (mechanism, term)}, checks["findings"]
