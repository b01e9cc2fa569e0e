"""The rewritten check queries (``queries/checks``) still find what they are for.

``duplicate-definition`` joins the two sides on the case-folded text instead of pairing
every two definitions; these runs show it still reports both resources of a pair.
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


@pytest.mark.slow
def test_duplicate_definition_is_found_both_ways(cli, tmp_path):
    extra = tmp_path / "dup-definition.ttl"
    extra.write_text(EXTRA, encoding="utf-8")
    proc = cli("validate", "--no-reasoner", "--format", "json", "-q", str(extra))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    checks = {p["name"]: p for p in json.loads(proc.stdout)["phases"]}["checks"]
    pairs = {(f["focus"], f["message"].rsplit("(", 1)[-1].rstrip(")"))
             for f in checks["findings"] if f["rule"] == "duplicate-definition"}
    worker = "https://w3id.org/peerchange/id/role/peer-worker"
    statutory = "https://w3id.org/peerchange/id/role/statutory-peer-worker"
    assert pairs == {(worker, statutory), (statutory, worker)}, checks["findings"]
