"""The JSON-LD embedded in the HTML pages (issue 13), read as a harvester reads it: the
``<script type="application/ld+json">`` block extracted from the page and parsed by rdflib
and by pyld.

- ``/`` and ``/dataset``: a schema.org ``Dataset`` with what dataset search engines need;
- a resource page: the resource's own description, the same triples as its ``.jsonld``;
- a label holding ``</script>`` cannot close the block (``<`` is escaped), and the
  Content-Security-Policy is unchanged: a data block is not script (the browser tests
  check that Chromium reports no violation).
"""

from __future__ import annotations

import json
import warnings

import pytest
import rdflib
from pyld import jsonld
from rdflib.compare import isomorphic

from tests.site.conftest import BROWSER, CSP, HOSTILE_THEORY, W3ID, soup

SDO = rdflib.Namespace("https://schema.org/")
DATASET = rdflib.URIRef(W3ID + "id/dataset/peerchange")


def _blocks(resp) -> list[str]:
    assert resp.status_code == 200
    return [s.string for s in soup(resp).find_all("script", type="application/ld+json")]


def _embedded(client, path: str) -> dict:
    resp = client.get(path, headers={"Accept": BROWSER})
    blocks = _blocks(resp)
    assert len(blocks) == 1, path
    assert resp.headers["Content-Security-Policy"] == CSP
    return json.loads(blocks[0])


def _rdflib(doc: dict) -> rdflib.Graph:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        return rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")


@pytest.mark.parametrize("path", ["/", "/dataset"])
def test_landing_pages_carry_a_schema_org_dataset(client, path):
    doc = _embedded(client, path)
    assert doc["@type"] == "Dataset"
    g = _rdflib(doc)
    assert (DATASET, rdflib.RDF.type, SDO.Dataset) in g
    for prop in (SDO.name, SDO.description, SDO.license, SDO.creator, SDO.url, SDO.version,
                 SDO.isBasedOn, SDO.keywords):
        assert g.value(DATASET, prop) is not None, prop
    assert g.value(DATASET, SDO.license) == rdflib.URIRef(
        "https://creativecommons.org/licenses/by/4.0/")
    assert g.value(g.value(DATASET, SDO.creator), SDO.name)
    paper = g.value(DATASET, SDO.isBasedOn)
    assert g.value(paper, SDO.sameAs) == rdflib.URIRef(
        "https://doi.org/10.1017/S2045796014000407")
    downloads = list(g.objects(DATASET, SDO.distribution))
    manifest = client.get("/dumps/latest/", headers={"Accept": "application/json"}).get_json()
    top = {f["name"] for f in manifest["files"] if "/" not in f["name"]}
    assert {str(g.value(d, SDO.contentUrl)).rsplit("/", 1)[1] for d in downloads} == top
    assert all(g.value(d, SDO.encodingFormat) for d in downloads)


@pytest.mark.parametrize("path", ["/", "/dataset"])
def test_pyld_reads_the_dataset(client, path):
    doc = _embedded(client, path)
    expanded = jsonld.expand(doc)
    node = next(n for n in expanded if n.get("@id") == str(DATASET))
    assert node["@type"] == [str(SDO.Dataset)]
    assert node[str(SDO.name)][0]["@value"].startswith("peerchange")
    assert jsonld.to_rdf(doc, {"format": "application/n-quads"})


@pytest.mark.parametrize("path", ["/id/mechanism/role-modelling.html",
                                  "/id/theory/attachment.html", "/onto.html"])
def test_resource_pages_carry_their_description(client, path):
    doc = _embedded(client, path)
    assert isinstance(doc["@context"], dict)  # inlined: nothing to fetch
    embedded = _rdflib(doc)
    document = rdflib.Graph().parse(
        data=client.get(path.replace(".html", ".ttl")).get_data(as_text=True), format="turtle")
    assert len(embedded) == len(document) > 0
    assert isomorphic(embedded, document)
    assert jsonld.to_rdf(doc, {"format": "application/n-quads"}).count("\n") >= len(document)


def test_markup_in_a_label_cannot_close_the_block(hostile_client):
    resp = hostile_client.get(HOSTILE_THEORY.removeprefix(W3ID[:-1]) + ".html",
                              headers={"Accept": BROWSER})
    html = resp.get_data(as_text=True)
    start = html.index('<script type="application/ld+json">')
    block = html[start:html.index("</script>", start)]
    assert "<script>" not in block[1:] and "\\u003cscript\\u003e" in block
    doc = json.loads(_blocks(resp)[0])
    labels = {str(o) for o in _rdflib(doc).objects(rdflib.URIRef(HOSTILE_THEORY),
                                                   rdflib.RDFS.label)}
    assert labels == {"<script>alert(2)</script> hostile theory"}


def test_pages_without_a_description_have_no_block(client):
    for path in ("/sparql", "/trace", "/references"):
        assert _blocks(client.get(path, headers={"Accept": BROWSER})) == []
