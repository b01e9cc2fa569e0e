"""The data as written, in a store the engine validator can query.

The engine's store keeps many typed literals as values: ``"0"^^xsd:positiveInteger``
comes back as ``"0"^^xsd:integer``, ``"1.50"^^xsd:decimal`` as ``"1.5"``. SHACL checks
the literals as written (pySHACL reads the files), so the validation store holds every
literal of an XSD datatype other than ``xsd:string`` under a private datatype,
``AS_WRITTEN`` + the XSD local name, which the engine keeps verbatim: its lexical form
and its datatype are the file's. :func:`original` turns such a term back; the templates
that compare values (``sh:minInclusive``) restore the XSD datatype in the query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from peerchange.core.sources import Source
from peerchange.core.store import _parse_errors, _parse_options

XSD_NS = str(XSD)
AS_WRITTEN = "https://w3id.org/peerchange/validation/as-written#"
XSD_STRING = XSD_NS + "string"
BATCH = 100_000


def written(term: Any) -> Any:
    """A term as the validation store holds it (typed XSD literals under AS_WRITTEN)."""
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype.startswith(XSD_NS) and datatype != XSD_STRING:
            return ox.Literal(term.value,
                              datatype=ox.NamedNode(AS_WRITTEN + datatype[len(XSD_NS):]))
    return term


def original(term: Any) -> Any:
    """The term as written in the file (the inverse of :func:`written`)."""
    if isinstance(term, ox.Literal) and term.datatype.value.startswith(AS_WRITTEN):
        local = term.datatype.value[len(AS_WRITTEN):]
        return ox.Literal(term.value, datatype=ox.NamedNode(XSD_NS + local))
    return term


def _quads(sources: Iterable[Source]) -> Iterator[ox.Quad]:
    for source in sources:
        with source.open() as stream, _parse_errors(source):
            for quad in ox.parse(stream, **_parse_options(source)):  # type: ignore[arg-type]
                yield ox.Quad(quad.subject, quad.predicate, written(quad.object))


def load_as_written(sources: Iterable[Source]) -> ox.Store:
    """Read the sources into one in-memory store, every triple into its default graph.

    :raise SourceError: if a file cannot be read or parsed.
    """
    store = ox.Store()
    batch: list[ox.Quad] = []
    for quad in _quads(sources):
        batch.append(quad)
        if len(batch) >= BATCH:
            store.extend(batch)
            batch = []
    store.extend(batch)
    return store


def to_rdflib(term: Any) -> Any:
    """A store term as rdflib reads the file's term (a plain literal without datatype)."""
    term = original(term)
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    assert isinstance(term, ox.Literal)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == XSD_STRING:
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def value_text(term: Any) -> str:
    """``sh:value`` as the report reader writes it: an IRI plain, a literal as rdflib's
    N3, a blank node ``_:label``."""
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(to_rdflib(term).n3())


def datatype_ok(term: Any, rule: str) -> bool:
    """Whether a value has the datatype ``rule`` (an N-Triples IRI), as pySHACL decides
    it (the literal as rdflib reads it: its datatype, well-formed, of the matching Python
    type)."""
    if not isinstance(term, ox.Literal):
        return False
    value = to_rdflib(term)
    dt = URIRef(rule[1:-1])
    if value.datatype == dt:
        return getattr(value, "ill_typed", None) is not True and _actual(value, dt)
    if dt == RDFS.Literal:
        return True
    if dt == RDFS.Datatype and value.datatype:
        return True
    if value.datatype is None and value.language is None and dt == XSD.string:
        return _actual(value, dt)
    if dt == RDF.langString and value.language:
        return _actual(value, dt)
    return False


def _actual(value: Literal, rule: URIRef) -> bool:
    """pySHACL's check that rdflib made the Python type the datatype promises."""
    import datetime

    python = value.value
    kinds: dict[URIRef, Any] = {
        XSD.string: (str, bytes), RDF.langString: (str, bytes), XSD.integer: int,
        XSD.float: float, XSD.decimal: Decimal, XSD.boolean: bool,
        XSD.date: datetime.date, XSD.time: datetime.time, XSD.dateTime: datetime.datetime,
    }
    kind = kinds.get(rule)
    return True if kind is None else isinstance(python, kind)


def _bound(text: str) -> Literal:
    return to_rdflib(ox.parse(f"<urn:s> <urn:p> {text} .".encode(),
                              format=ox.RdfFormat.N_TRIPLES).__next__().object)


def in_range(term: Any, bound: str, *, minimum: bool) -> bool:
    """Whether a value passes ``sh:minInclusive`` (or ``sh:maxInclusive``) ``bound`` (an
    N-Triples literal), as pySHACL decides it."""
    from pyshacl.rdfutil.compare import compare_literal

    if not isinstance(term, ox.Literal):
        return False
    value, limit = to_rdflib(term), _bound(bound)
    if isinstance(limit.value, str) != isinstance(value.value, str):
        return False
    try:
        order = compare_literal(value, limit)
    except (TypeError, NotImplementedError):
        return False
    return order >= 0 if minimum else order <= 0


CHECKS: dict[str, Callable[[Any, str], bool]] = {
    "datatype": datatype_ok,
    "minInclusive": lambda term, bound: in_range(term, bound, minimum=True),
    "maxInclusive": lambda term, bound: in_range(term, bound, minimum=False),
}
