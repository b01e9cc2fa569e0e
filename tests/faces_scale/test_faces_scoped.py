"""The trace queries start from what they are about. Oxigraph plans a query before its
parameters are bound (pyoxigraph ``substitutions`` are invisible to the planner), so a
query whose first small-looking pattern is not about the parameter is planned as if it
were about every resource: the trace of one mechanism read every claim's neighbourhood in
the store (2 s and 700 MB at 10^6 triples; bench/results/faces.md). Each parameterised
trace query therefore opens its outer group, and the DISTINCT selection it joins, with a
pattern of the parameter; and its answer over the shipped study plus 30 others is the
answer without them (tests/faces_scale/test_faces.py)."""

from __future__ import annotations

import re

import pytest

from peerchange.core.queryfiles import get_query

STARTS = {
    "internal/trace/trace": "?mechanism a pcm:ChangeMechanism .",
    "internal/trace/trace-rdf": "?mechanism a pcm:ChangeMechanism .",
    "internal/trace/cited": "?work pcm:referenceKey ?workKey .",
}


def _patterns(text: str) -> list[str]:
    """The lines of the query that are not comments, stripped."""
    return [ln.strip() for ln in text.splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]


@pytest.mark.parametrize(("name", "start"), sorted(STARTS.items()))
def test_a_trace_query_starts_from_its_parameter(name, start):
    lines = _patterns(get_query(name).text)
    where = [i for i, ln in enumerate(lines) if re.fullmatch(r"WHERE \{", ln)]
    assert len(where) >= 2, name
    # the outer group, then the DISTINCT selection that gives the resources shown
    assert lines[where[0] + 1] == start, (name, lines[where[0] + 1])
    assert lines[where[1] - 1].startswith("SELECT DISTINCT"), name
    if name != "internal/trace/cited":
        assert lines[where[1] + 1] == start, (name, lines[where[1] + 1])


@pytest.mark.slow
@pytest.mark.parametrize("key", ["Bandura1977", "Gillard2015", "Bowlby1973"])
def test_a_reverse_trace_over_other_studies_keeps_the_shipped_one(client, scaled, key):
    """A reverse trace is store-wide by definition (every claim that cites the work); what
    it says about the shipped study's claims is what it says without the other studies."""
    mine, shipped = scaled.get(f"/cited/{key}.json"), client.get(f"/cited/{key}.json")
    assert mine.status_code == shipped.status_code == 200
    ours = {c["claim"]["iri"]: c for c in shipped.get_json()["claims"]}
    theirs = {c["claim"]["iri"]: c for c in mine.get_json()["claims"]}
    assert ours and set(ours) <= set(theirs)
    assert all(theirs[iri] == claim for iri, claim in ours.items())
