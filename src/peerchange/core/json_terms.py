"""One RDF term as a SPARQL 1.1 Query Results JSON (RDF-star) term object.

Shared by the full server's results writer (:mod:`peerchange.core.results`) and a restart's
early answerer (:mod:`peerchange.core.early_answer`), so both write the same JSON; kept
apart because the early answerer must not import the results writer's ``csv``, ``re`` and
``xml.sax`` at start-up.
"""

from __future__ import annotations

import pyoxigraph as ox

from peerchange.core.namespaces import RDF, XSD_STRING

RDF_LANG_STRING = RDF + "langString"


def json_term(term: object) -> dict[str, object]:
    """``term`` as a results-JSON object (a plain or ``rdf:langString`` literal without
    ``datatype``).

    :raise TypeError: ``term`` is not an RDF term.
    """
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value not in (XSD_STRING, RDF_LANG_STRING):
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": json_term(term.subject),
                "predicate": json_term(term.predicate),
                "object": json_term(term.object),
            },
        }
    raise TypeError(f"not an RDF term: {term!r}")
