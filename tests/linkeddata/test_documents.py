"""The documents (extension twins): content types, RDF that parses back, what a document
holds (the concise bounded description, labels of what it links to, the claims about it),
ETag/304, HEAD, CORS and Link headers."""

from __future__ import annotations

import json

import pytest
import rdflib
from pyld import jsonld
from rdflib.compare import isomorphic

from tests.conftest import media_type, sparql_rows
from tests.linkeddata.conftest import EXTENSION_TYPES, W3ID, parse_rdf

RDF_EXTENSIONS = ["ttl", "jsonld", "rdf", "nt"]
DOCUMENTS = [
    "id/mechanism/role-modelling",
    "id/theory/social-learning",
    "id/claim/role-modelling--groundedIn--social-learning",
    "id/ref/Bandura1977",
    "id/ref/Gillard2015/author/1",
    "id/gap/change-model-figure",
    "onto/ChangeMechanism",
    "onto/CuratedInference",
    "onto",
    "graph/claims",
    "graph/stated",
]
RDFS_LABEL = rdflib.RDFS.label
SEPIO_SUBJECT = rdflib.URIRef("http://purl.obolibrary.org/obo/SEPIO_0000388")
SEPIO_OBJECT = rdflib.URIRef("http://purl.obolibrary.org/obo/SEPIO_0000390")
STATUS = rdflib.URIRef(W3ID + "onto/evidenceStatus")
LOCATOR = rdflib.URIRef(W3ID + "onto/locator")
RATIONALE = rdflib.URIRef(W3ID + "onto/rationale")


@pytest.mark.parametrize("ext", RDF_EXTENSIONS)
@pytest.mark.parametrize("path", DOCUMENTS)
def test_every_document_parses_back_as_rdf(client, context_doc, path, ext):
    resp = client.get(f"/{path}.{ext}")
    assert resp.status_code == 200
    assert media_type(resp) == EXTENSION_TYPES[ext]
    graph = parse_rdf(resp.data, EXTENSION_TYPES[ext], context=context_doc)
    assert len(graph) > 0
    # the document is about its IRI
    assert (rdflib.URIRef(W3ID + path), None, None) in graph


@pytest.mark.parametrize("path", DOCUMENTS)
def test_all_formats_carry_the_same_triples(client, context_doc, path):
    graphs = {ext: parse_rdf(client.get(f"/{path}.{ext}").data, EXTENSION_TYPES[ext],
                             context=context_doc) for ext in RDF_EXTENSIONS}
    for ext in ("jsonld", "rdf", "nt"):
        assert isomorphic(graphs["ttl"], graphs[ext]), ext


def _client_loader(client):
    def load(url, options=None):
        resp = client.get(url)
        assert resp.status_code == 200, url
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                "document": json.loads(resp.data)}
    return load


@pytest.mark.parametrize("path", ["id/mechanism/trusting-relationships", "onto", "graph/curated"])
def test_jsonld_is_compacted_with_the_published_context(client, path):
    doc = json.loads(client.get(f"/{path}.jsonld").data)
    assert doc["@context"] == "http://localhost/context.jsonld"
    text = json.dumps(doc)
    assert '"pcm:' in text or '"pcd:' in text  # compact IRIs, not only full ones
    # expanding with the context fetched from its URL gives the Turtle document's triples
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads",
                                 "documentLoader": _client_loader(client)})
    expanded = rdflib.Graph().parse(data=nquads, format="nt")
    turtle = rdflib.Graph().parse(data=client.get(f"/{path}.ttl").data, format="turtle")
    assert isomorphic(expanded, turtle)


def test_published_context(client):
    resp = client.get("/context.jsonld")
    assert resp.status_code == 200
    assert media_type(resp) == "application/ld+json"
    ctx = resp.get_json(force=True)["@context"]
    assert ctx["pcm"] == W3ID + "onto/"
    assert ctx["pcd"] == W3ID + "id/"
    assert ctx["groundedIn"] == {"@id": "pcm:groundedIn", "@type": "@id"}
    assert ctx["locator"] == "pcm:locator"
    assert resp.headers["Access-Control-Allow-Origin"] == "*" or \
        client.get("/context.jsonld", headers={"Origin": "https://x.org"}).headers[
            "Access-Control-Allow-Origin"] == "*"
    again = client.get("/context.jsonld", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


def test_description_is_cbd_plus_labels_plus_claims(client):
    iri = rdflib.URIRef(W3ID + "id/mechanism/role-modelling")
    g = rdflib.Graph().parse(data=client.get("/id/mechanism/role-modelling.ttl").data,
                             format="turtle")
    # every outgoing triple of the resource, as the store has it
    rows = sparql_rows(client, f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}")
    assert len(set(g.predicate_objects(iri))) == len({(r["p"], r["o"]) for r in rows})
    # a label for everything it links to that has one
    for obj in g.objects(iri, None):
        if isinstance(obj, rdflib.URIRef) and sparql_rows(
                client, f"SELECT ?l WHERE {{ <{obj}> <{RDFS_LABEL}> ?l }}"):
            assert g.value(obj, RDFS_LABEL) is not None, obj
    # every claim about it, with status and locator or rationale
    claims = sparql_rows(client, f"""SELECT DISTINCT ?c WHERE {{
        {{ ?c <{SEPIO_SUBJECT}> <{iri}> }} UNION {{ ?c <{SEPIO_OBJECT}> <{iri}> }} }}""")
    assert len(claims) >= 3
    for row in claims:
        claim = rdflib.URIRef(row["c"])
        assert g.value(claim, STATUS) is not None
        assert g.value(claim, LOCATOR) is not None or g.value(claim, RATIONALE) is not None
        status = g.value(claim, STATUS)
        assert g.value(status, rdflib.SKOS.prefLabel) is not None  # the status is labelled


def test_ontology_document_is_the_whole_ontology_graph(client):
    g = rdflib.Graph().parse(data=client.get("/onto.nt").data, format="nt")
    count = sparql_rows(client, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{W3ID}graph/ontology> "
                                "{ ?s ?p ?o } }")
    assert len(g) == int(count[0]["n"])
    assert (rdflib.URIRef(W3ID + "onto"), rdflib.OWL.versionInfo, None) in g


@pytest.mark.parametrize("ext", sorted(EXTENSION_TYPES))
@pytest.mark.parametrize("path", ["id/mechanism/engagement", "onto", "onto/Theory",
                                  "graph/curated"])
def test_etag_and_304_on_every_document(client, path, ext):
    first = client.get(f"/{path}.{ext}")
    etag = first.headers["ETag"]
    assert etag
    assert first.headers["Cache-Control"]
    again = client.get(f"/{path}.{ext}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    other = client.get(f"/{path}.{ext}", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_etags_differ_between_formats_and_resources(client):
    tags = {client.get(p).headers["ETag"] for p in (
        "/onto/Theory.ttl", "/onto/Theory.nt", "/onto/Theory.html", "/onto/Claim.ttl")}
    assert len(tags) == 4


@pytest.mark.parametrize("ext", sorted(EXTENSION_TYPES))
def test_head_on_documents(client, ext):
    get = client.get(f"/id/theory/attachment.{ext}")
    head = client.head(f"/id/theory/attachment.{ext}")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["ETag"] == get.headers["ETag"]
    assert int(head.headers["Content-Length"]) == len(get.data)


@pytest.mark.parametrize("ext", sorted(EXTENSION_TYPES))
def test_document_links_to_canonical_iri_and_other_formats(client, ext):
    resp = client.get(f"/id/theory/attachment.{ext}", headers={"Origin": "https://x.org"})
    link = resp.headers["Link"]
    assert f'<{W3ID}id/theory/attachment>; rel="canonical"' in link
    for other, media in EXTENSION_TYPES.items():
        entry = f'<http://localhost/id/theory/attachment.{other}>; rel="alternate"; type="{media}"'
        assert (entry in link) == (other != ext)
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_full_path_twin_documents(client):
    plain = client.get("/id/theory/attachment.ttl")
    full = client.get("/peerchange/id/theory/attachment.ttl")
    assert full.status_code == 200
    assert full.data == plain.data
    assert "<http://localhost/peerchange/id/theory/attachment.nt>" in full.headers["Link"]
    jsonld_doc = json.loads(client.get("/peerchange/id/theory/attachment.jsonld").data)
    assert jsonld_doc["@context"] == "http://localhost/peerchange/context.jsonld"
    assert client.get("/peerchange/context.jsonld").status_code == 200


def test_html_page_shows_claims_with_status_and_what_links_here(client):
    resp = client.get("/id/mechanism/role-modelling.html")
    html = resp.get_data(as_text=True)
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>role-modelling individual recovery" in html
    assert "curated inference" in html and "stated in the source" in html
    assert "Claims about it" in html and "What links here" in html
    assert "Rationale:" in html and "Where in the source:" in html
    # links to other resources go to this host, and the RDF alternates are announced
    assert 'href="http://localhost/id/theory/social-learning"' in html
    assert '<link rel="alternate" type="text/turtle" ' \
           'href="http://localhost/id/mechanism/role-modelling.ttl">' in html


def test_html_shows_status_beside_every_shortcut_link(client):
    html = client.get("/id/mechanism/role-modelling.html").get_data(as_text=True)
    rows = sparql_rows(client, f"""SELECT ?o WHERE {{
        GRAPH ?g {{ <{W3ID}id/mechanism/role-modelling> ?p ?o }}
        FILTER (?g IN (<{W3ID}graph/stated>, <{W3ID}graph/companion>, <{W3ID}graph/curated>))
    }}""")
    assert rows
    for row in rows:
        target = row["o"].replace(W3ID, "http://localhost/")
        # the link's list item carries a status badge pointing at its claim
        item = html.split(f'href="{target}"', 1)[1].split("</li>", 1)[0]
        assert 'class="status ' in item, target


def test_ontology_page_lists_every_term(client):
    html = client.get("/onto.html").get_data(as_text=True)
    terms = sparql_rows(client, """
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {
          VALUES ?type { owl:Class owl:ObjectProperty owl:DatatypeProperty
                         owl:AnnotationProperty skos:Concept skos:ConceptScheme }
          ?t a ?type FILTER STRSTARTS(STR(?t), "https://w3id.org/peerchange/onto/") }""")
    assert f"Terms ({terms[0]['n']})" in html


def test_graph_page_has_counts_classes_and_dump_link(client):
    html = client.get("/graph/claims.html").get_data(as_text=True)
    n = sparql_rows(client, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{W3ID}graph/claims> "
                            "{ ?s ?p ?o } }")[0]["n"]
    assert f"{int(n):,}" in html
    assert "Classes in this graph" in html
    assert 'href="http://localhost/dumps/' in html


def test_html_escapes_data(client):
    # literals are escaped by the template engine: no raw markup from the data
    html = client.get("/id/ref/Bandura1977.html").get_data(as_text=True)
    # the one script element is the embedded JSON-LD, a data block (never run)
    block = '<script type="application/ld+json">'
    assert html.count("<script") == html.count(block) == 1
    start = html.index(block)
    data = html[start + len(block):html.index("</script>", start)]
    assert "<" not in data
