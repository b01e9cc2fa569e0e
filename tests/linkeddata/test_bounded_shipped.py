"""The shipped data's pages are not cut: the bounds on what a resource page and document
show of what links to it (services/incoming.py, issue 10) are above the most the shipped
data has, so its most-linked resources' pages list every claim about them and every link
to them, say nothing of a partial list, and their documents name no Hydra collection.
(A guard of the bounds: it fails when one is lowered under the shipped data's most, e.g.
``MAX_LINKS`` under the 201 authorships typed ``pcm:Authorship``.)"""

from __future__ import annotations

import re

import pytest

from tests.conftest import sparql_rows

CLAIM_ENDS = ("http://purl.obolibrary.org/obo/SEPIO_0000388",
              "http://purl.obolibrary.org/obo/SEPIO_0000390")
BASE = "https://w3id.org/peerchange/"


def _most_linked(client, limit: int) -> list[str]:
    rows = sparql_rows(client, f"""
        SELECT ?o (COUNT(DISTINCT ?s) AS ?n) WHERE {{
          ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?o), "{BASE}"))
        }} GROUP BY ?o ORDER BY DESC(?n) ?o LIMIT {limit}""")
    return [r["o"] for r in rows]


def _most_per_property(client) -> str:
    rows = sparql_rows(client, f"""
        SELECT ?o (COUNT(DISTINCT ?s) AS ?n) WHERE {{
          ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?o), "{BASE}"))
        }} GROUP BY ?o ?p ORDER BY DESC(?n) ?o LIMIT 1""")
    return rows[0]["o"]


@pytest.fixture(scope="module")
def busiest(client) -> list[str]:
    """The resources with the most links to them, and the one with the most by one
    property (the pcm:Authorship class), that have pages."""
    iris = dict.fromkeys([*_most_linked(client, 6), _most_per_property(client)])
    return [i for i in iris if client.get(i[len(BASE) - 1:] + ".html").status_code == 200]


def test_the_busiest_pages_list_every_link_and_claim(client, busiest):
    assert BASE + "onto/Authorship" in busiest and len(busiest) >= 5
    for iri in busiest:
        body = client.get(iri[len(BASE) - 1:] + ".html").get_data(as_text=True)
        body = body.split("</script>")[-1]  # the page, not its embedded JSON-LD
        assert "Shown: the first" not in body and "/links/" not in body, iri
        links = {(r["s"], r["p"]) for r in sparql_rows(
            client, f"SELECT DISTINCT ?s ?p WHERE {{ ?s ?p <{iri}> FILTER(isIRI(?s)) }}")}
        others = [x for x in links if x[1] not in CLAIM_ENDS]
        claims = {s for s, p in links if p in CLAIM_ENDS}
        if others:
            table = body.split('id="links-here"')[1]
            assert table.count("<tr><td>") == len(others), iri
        assert len(re.findall(r'<div class="claim">', body)) == len(claims), iri
        turtle = client.get(iri[len(BASE) - 1:] + ".ttl").get_data(as_text=True)
        assert "hydra" not in turtle, iri
