"""The JSON-LD embedded in the HTML pages, for harvesters that read a page's metadata.

- On ``/`` and ``/dataset``: the dataset as a schema.org ``Dataset`` (what dataset search
  engines read): ``schema-dataset.rq`` and ``schema-distribution.rq`` (one run per dump
  file) under ``queries/internal/description/``, framed into one tree with the dataset at
  its root and compacted with ``{"@vocab": "https://schema.org/"}`` inline, so the block
  needs nothing fetched.
- On a resource page: the resource's own JSON-LD document (what ``{page}.jsonld`` serves),
  with the published context inlined instead of referenced: bounded as that document is
  (:mod:`peerchange.services.incoming`), its Hydra collections saying which lists it
  gives in part and where the whole lists are.

The web layer writes either into a ``<script type="application/ld+json">`` data block with
``<``, ``>`` and ``&`` escaped (Jinja's ``tojson``), so no value can close the element.
"""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox

from peerchange.core.formats import RDF_FORMATS, find_format
from peerchange.core.namespaces import DATASET, SCHEMA
from peerchange.services.dataset_description import DatasetDescriptionService
from peerchange.services.memo import per_data_version
from peerchange.services.resources import ResourceService
from peerchange.services.sparql import SparqlService

QUERIES = "internal/description/"
# IRI-valued properties as plain strings (the queries give plain literals, and pyld native
# booleans): the shape harvesters expect (schema.org's own examples)
SCHEMA_CONTEXT: dict[str, Any] = {
    "@vocab": SCHEMA,
    **{p: {"@type": "@id"} for p in ("url", "contentUrl", "sameAs", "license",
                                     "mainEntityOfPage")},
}
JSONLD = find_format("jsonld", RDF_FORMATS)


@per_data_version()
def _dataset(sparql: SparqlService, base_url: str,
             dumps: tuple[tuple[str, str, str], ...]) -> str:
    triples = sparql.construct(QUERIES + "schema-dataset", {
        "url": ox.NamedNode(base_url + "dataset"),
    })
    for url, title, media in dumps:
        triples += sparql.construct(QUERIES + "schema-distribution", {
            "contentUrl": ox.NamedNode(url),
            "name": ox.Literal(title),
            "encodingFormat": ox.Literal(media),
        })
    from pyld import jsonld  # pyld (and requests) imported when a document needs it

    # from N-Quads with pyld: rdf:type becomes @type
    expanded = jsonld.from_rdf(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(),
                               {"format": "application/n-quads", "useNativeTypes": True})
    framed = jsonld.frame(expanded, {"@context": SCHEMA_CONTEXT, "@id": DATASET},
                          {"omitGraph": True, "embed": "@once"})
    return json.dumps(framed, ensure_ascii=False)


def dataset_jsonld(description: DatasetDescriptionService, base_url: str) -> dict[str, Any]:
    """The schema.org ``Dataset`` of the dataset served under ``base_url`` (ends in ``/``)."""
    dumps = tuple((url, d.title, "application/gzip" if d.compressed else d.media_type)
                  for d, url in description.dump_urls(base_url))
    return json.loads(_dataset(description.sparql, base_url, dumps))


def resource_jsonld(resources: ResourceService, iri: str, base: str) -> dict[str, Any]:
    """The JSON-LD document of the resource ``iri``, its context inlined (the whole lists
    it gives in part on the site at ``base``, ending in ``/``)."""
    assert JSONLD is not None
    return json.loads(resources.document(iri, JSONLD, None, base))


__all__ = ["SCHEMA_CONTEXT", "dataset_jsonld", "resource_jsonld"]
