"""Python clients a researcher already has, against a real ``peerchange serve`` (issue 13):
rdflib's SPARQLStore (a remote graph behind rdflib's own query API), pandas reading CSV
answers straight from a URL, and rdflib dereferencing a resource IRI on the server.
(SPARQLWrapper in every form and format: ``tests/http/test_sparqlwrapper.py``; openapi-core:
``tests/api/test_openapi_contract.py``; the dumps by URL:
``tests/linkeddata/test_dump_clients.py``; the notebook: ``test_notebook.py``.)"""

from __future__ import annotations

import warnings
from urllib.parse import urlencode

import pandas as pd
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore

pytestmark = pytest.mark.slow

PCM = rdflib.Namespace("https://w3id.org/peerchange/onto/")
MECHANISMS = """
PREFIX pcm: <https://w3id.org/peerchange/onto/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?mechanism ?label WHERE { ?mechanism a pcm:ChangeMechanism ; rdfs:label ?label }
ORDER BY ?mechanism
"""
THEORY_LINKS = """
PREFIX pcm: <https://w3id.org/peerchange/onto/>
CONSTRUCT { ?m pcm:groundedIn ?t } WHERE { ?m pcm:groundedIn ?t }
"""


@pytest.fixture(scope="module")
def server(start_live_server):
    return start_live_server()


@pytest.fixture(scope="module")
def remote(server) -> rdflib.Graph:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        # the default returnFormat, xml: rdflib then accepts RDF/XML for CONSTRUCT too (with
        # returnFormat="json" it accepts only SPARQL JSON results, so a CONSTRUCT gets 406)
        return rdflib.Graph(store=SPARQLStore(server.sparql))


def test_sparqlstore_select(remote):
    rows = list(remote.query(MECHANISMS))
    assert len(rows) == 3
    assert all(isinstance(r.mechanism, rdflib.URIRef) and r.label.language == "en"
               for r in rows)


def test_sparqlstore_ask_and_construct(remote):
    assert remote.query("ASK { ?s a <https://w3id.org/peerchange/onto/ChangeMechanism> }"
                        ).askAnswer is True
    links = remote.query(THEORY_LINKS).graph
    assert len(links) > 0
    assert set(links.predicates()) == {PCM.groundedIn}


def test_sparqlstore_triples_pattern(remote):
    mechanisms = set(remote.subjects(rdflib.RDF.type, PCM.ChangeMechanism))
    assert len(mechanisms) == 3


def test_pandas_reads_sparql_csv_from_a_url(server):
    df = pd.read_csv(f"{server.sparql}?{urlencode({'query': MECHANISMS, 'format': 'csv'})}")
    assert list(df.columns) == ["mechanism", "label"] and len(df) == 3


def test_pandas_reads_a_canned_query_from_a_url(server):
    df = pd.read_csv(f"{server.base}/api/mechanisms.csv")
    assert {"mechanism", "mechanismLabel", "modelStatusLabel"} <= set(df.columns)
    assert df.mechanism.nunique() == 3
    tsv = pd.read_csv(f"{server.base}/api/mechanisms.tsv", sep="\t")
    assert len(tsv) == len(df)


def test_rdflib_dereferences_a_resource(server):
    iri = f"{server.base}/id/mechanism/role-modelling"
    g = rdflib.Graph().parse(iri)  # 303 to the document, negotiated by rdflib's Accept
    assert len(g) > 0
    assert (None, rdflib.RDF.type, PCM.ChangeMechanism) in g
