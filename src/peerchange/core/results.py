"""Serialize query answers in the SPARQL 1.1 result formats and the RDF formats.

SELECT and ASK answers are written here (JSON, XML, CSV, TSV) rather than by the engine,
so that a row limit can cut an answer short and the body can say so where the format has
room for it. Graphs are written by pyoxigraph.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from peerchange.core.formats import Format
from peerchange.core.namespaces import PCM, RDF, XSD, XSD_STRING

RDF_LANG_STRING = RDF + "langString"
TRUNCATION_LINK = PCM + "truncatedResults"

Row = Sequence[object | None]


def _json_term(term: object) -> dict[str, object]:
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
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    raise TypeError(f"not an RDF term: {term!r}")


def _xml_term(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        attrs = ""
        if term.language:
            attrs = f" xml:lang={quoteattr(term.language)}"
        elif term.datatype.value not in (XSD_STRING, RDF_LANG_STRING):
            attrs = f" datatype={quoteattr(term.datatype.value)}"
        return f"<literal{attrs}>{escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject>"
            f"<predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>"
        )
    raise TypeError(f"not an RDF term: {term!r}")


def _csv_term(term: object | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


# numbers and booleans in the form Turtle writes without quotes (SPARQL TSV allows it)
_BARE = {
    XSD + "integer": re.compile(r"[+-]?[0-9]+"),
    XSD + "decimal": re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    XSD + "double": re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+"),
    XSD + "boolean": re.compile(r"true|false"),
}


def _tsv_term(term: object | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        bare = _BARE.get(term.datatype.value)
        if bare is not None and bare.fullmatch(term.value):
            return term.value
    return str(term).replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_select(
    fmt: Format, variables: Sequence[str], rows: Iterable[Row], *, truncated: bool = False
) -> bytes:
    """Serialize SELECT solutions in ``fmt`` (``json``, ``xml``, ``csv`` or ``tsv``)."""
    if fmt.name == "json":
        head: dict[str, object] = {"vars": list(variables)}
        if truncated:
            head["link"] = [TRUNCATION_LINK]
        bindings = [
            {v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None}
            for row in rows
        ]
        doc: dict[str, object] = {"head": head, "results": {"bindings": bindings}}
        if truncated:
            doc["peerchange"] = {"truncated": True, "rows": len(bindings)}
        return json.dumps(doc, ensure_ascii=False).encode()
    if fmt.name == "xml":
        out = io.StringIO()
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write('<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>')
        for v in variables:
            out.write(f"<variable name={quoteattr(v)}/>")
        if truncated:
            out.write(f"<link href={quoteattr(TRUNCATION_LINK)}/>")
        out.write("</head>\n<results>\n")
        for row in rows:
            out.write("<result>")
            for v, t in zip(variables, row, strict=True):
                if t is not None:
                    out.write(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>")
            out.write("</result>\n")
        out.write("</results>\n")
        if truncated:
            out.write("<!-- truncated: the answer has more rows than the server's limit -->\n")
        out.write("</sparql>\n")
        return out.getvalue().encode()
    if fmt.name == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow([_csv_term(t) for t in row])
        return out.getvalue().encode()
    if fmt.name == "tsv":
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines += ["\t".join(_tsv_term(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    raise ValueError(f"{fmt.name} is not a result format")


def write_boolean(fmt: Format, value: bool) -> bytes:
    """Serialize an ASK answer in ``fmt``."""
    text = "true" if value else "false"
    if fmt.name == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt.name == "xml":
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{text}</boolean></sparql>\n"
        ).encode()
    if fmt.name in {"csv", "tsv"}:
        return f"_askResult\r\n{text}\r\n".encode() if fmt.name == "csv" else (
            f"?_askResult\n{text}\n".encode()
        )
    raise ValueError(f"{fmt.name} is not a result format")


def write_graph(
    fmt: Format,
    triples: Sequence[ox.Triple | ox.Quad],
    *,
    prefixes: dict[str, str] | None = None,
    truncated: bool = False,
) -> bytes:
    """Serialize triples (or quads, for quad formats) in the RDF format ``fmt``.

    :param truncated: the answer was cut at the row limit: Turtle, N-Triples, N-Quads, TriG
        and RDF/XML end with a comment saying so.
    """
    if fmt.rdf is None:
        raise ValueError(f"{fmt.name} is not an RDF format")
    items: Sequence[ox.Triple | ox.Quad] = triples
    if fmt.quads:
        items = [
            t if isinstance(t, ox.Quad) else ox.Quad(t.subject, t.predicate, t.object)
            for t in triples
        ]
    else:
        items = [ox.Triple(t.subject, t.predicate, t.object) if isinstance(t, ox.Quad) else t
                 for t in triples]
    kwargs: dict[str, object] = {"format": fmt.rdf}
    if prefixes and fmt.rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML):
        kwargs["prefixes"] = prefixes
    body = ox.serialize(items, **kwargs)  # type: ignore[arg-type]
    if truncated and fmt.rdf in (
        ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG
    ):
        body += b"# truncated: the answer has more triples than the server's limit\n"
    elif truncated and fmt.rdf == ox.RdfFormat.RDF_XML:
        body = body.rstrip() + (
            b"\n<!-- truncated: the answer has more triples than the server's limit -->\n"
        )
    # JSON-LD has no room for a comment: the response header alone says it was cut
    return body
