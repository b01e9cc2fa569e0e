"""Serialize query answers in the SPARQL 1.1 result formats and the RDF formats.

SELECT and ASK answers are written here (JSON, XML, CSV, TSV) rather than by the engine,
so that a row or byte limit can cut an answer short and the body can say so where the
format has room for it. Graphs are written by pyoxigraph.

A cut answer is marked in the body where the format allows: SPARQL JSON (a ``link`` in
the head and a top-level ``peerchange`` member), SPARQL XML (a ``link`` and a comment),
Turtle, TriG, N-Triples, N-Quads and RDF/XML (a closing comment) and JSON-LD (a
top-level ``peerchange`` member, declared ``null`` in the ``@context`` so JSON-LD
processors ignore it). CSV and TSV have no place for it: only the ``Peerchange-Truncated``
response header says so.

:class:`SelectWriter` writes SELECT answers a row at a time (the query process measures
each row's bytes as it collects them) and :func:`stream_graph` writes graphs to any
object with a ``write`` method, so an answer can be sent in pieces.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from peerchange.core.formats import Format
from peerchange.core.json_terms import RDF_LANG_STRING, json_term
from peerchange.core.namespaces import PCM, XSD, XSD_STRING

TRUNCATION_LINK = PCM + "truncatedResults"

Row = Sequence[object | None]


# json.dumps(..., ensure_ascii=False) without making an encoder per call (the same text)
_JSON = json.JSONEncoder(ensure_ascii=False).encode


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


class SelectWriter:
    """Writes a SELECT answer in a result format as a head, rows and a tail.

    ``head(truncated) + row(r1) + row(r2) ... + tail(truncated)`` is the whole answer;
    :meth:`row` returns each row's bytes, so a caller can count them before it decides
    where to cut.
    """

    def __init__(self, fmt: Format, variables: Sequence[str]) -> None:
        if fmt.name not in ("json", "xml", "csv", "tsv"):
            raise ValueError(f"{fmt.name} is not a result format")
        self.fmt = fmt
        self.variables = list(variables)
        self.rows = 0

    def head(self, truncated: bool = False) -> bytes:
        """What comes before the rows (says the answer was cut, where it can)."""
        name, variables = self.fmt.name, self.variables
        if name == "json":
            head: dict[str, object] = {"vars": variables}
            if truncated:
                head["link"] = [TRUNCATION_LINK]
            return f'{{"head": {_JSON(head)}, ' \
                   '"results": {"bindings": ['.encode()
        if name == "xml":
            out = ['<?xml version="1.0" encoding="UTF-8"?>\n'
                   '<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
            out += [f"<variable name={quoteattr(v)}/>" for v in variables]
            if truncated:
                out.append(f"<link href={quoteattr(TRUNCATION_LINK)}/>")
            out.append("</head>\n<results>\n")
            return "".join(out).encode()
        if name == "csv":
            return _csv_line(variables)
        return ("\t".join(f"?{v}" for v in variables) + "\n").encode()

    def row(self, row: Row) -> bytes:
        """One row's bytes (in JSON with the comma before every row but the first)."""
        name, variables = self.fmt.name, self.variables
        self.rows += 1
        if name == "json":
            binding = {v: json_term(t) for v, t in zip(variables, row, strict=True)
                       if t is not None}
            text = _JSON(binding)
            return (text if self.rows == 1 else ", " + text).encode()
        if name == "xml":
            parts = ["<result>"]
            parts += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                      for v, t in zip(variables, row, strict=True) if t is not None]
            parts.append("</result>\n")
            return "".join(parts).encode()
        if name == "csv":
            return _csv_line([_csv_term(t) for t in row])
        return ("\t".join(_tsv_term(t) for t in row) + "\n").encode()

    def tail(self, truncated: bool = False) -> bytes:
        """What comes after the rows (the JSON ``peerchange`` member, an XML comment)."""
        name = self.fmt.name
        if name == "json":
            mark = (', "peerchange": ' + json.dumps({"truncated": True, "rows": self.rows})
                    if truncated else "")
            return f"]}}{mark}}}".encode()
        if name == "xml":
            comment = ("<!-- truncated: the answer has more rows than the server's limit -->\n"
                       if truncated else "")
            return f"</results>\n{comment}</sparql>\n".encode()
        return b""


def _csv_line(values: Sequence[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue().encode()


def write_select(
    fmt: Format, variables: Sequence[str], rows: Iterable[Row], *, truncated: bool = False
) -> bytes:
    """Serialize SELECT solutions in ``fmt`` (``json``, ``xml``, ``csv`` or ``tsv``).

    :param truncated: the answer was cut at a limit: JSON and XML say so in the body (CSV
        and TSV cannot; the response header does).
    """
    writer = SelectWriter(fmt, variables)
    body = [writer.row(row) for row in rows]
    return writer.head(truncated) + b"".join(body) + writer.tail(truncated)


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


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def write_graph(
    fmt: Format,
    triples: Sequence[ox.Triple | ox.Quad],
    *,
    prefixes: dict[str, str] | None = None,
    truncated: bool = False,
) -> bytes:
    """Serialize triples (or quads, for quad formats) in the RDF format ``fmt``.

    :param truncated: the answer was cut at a limit: Turtle, N-Triples, N-Quads, TriG and
        RDF/XML end with a comment saying so; JSON-LD gets a top-level ``peerchange``
        member (see the module's docstring).
    """
    out = io.BytesIO()
    stream_graph(fmt, triples, out, prefixes=prefixes, truncated=truncated)
    return out.getvalue()


_CUT_COMMENT = "truncated: the answer has more triples than the server's limit"


def stream_graph(
    fmt: Format,
    triples: Sequence[ox.Triple | ox.Quad],
    out: Writable,
    *,
    prefixes: dict[str, str] | None = None,
    truncated: bool = False,
) -> None:
    """Write what :func:`write_graph` returns to ``out`` (pyoxigraph writes it in pieces
    of about 8 KB)."""
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
    json_ld = fmt.rdf == ox.RdfFormat.JSON_LD
    if truncated and json_ld:
        # a member JSON-LD processors ignore (its term is mapped to null), so the graph
        # stays the default graph
        out.write(b'{"@context": {"peerchange": null}, "@graph": ')
    last = _LastByte(out)
    ox.serialize(items, output=last, **kwargs)  # type: ignore[arg-type, call-overload]
    if not truncated:
        return
    if json_ld:
        out.write(', "peerchange": {}}}'.format(
            json.dumps({"truncated": True, "triples": len(items)})).encode())
    elif fmt.rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS,
                     ox.RdfFormat.TRIG):
        out.write(f"# {_CUT_COMMENT}\n".encode())
    elif fmt.rdf == ox.RdfFormat.RDF_XML:
        newline = b"" if last.byte == b"\n" else b"\n"
        out.write(newline + f"<!-- {_CUT_COMMENT} -->\n".encode())


class _LastByte:
    """Passes writes on to ``out`` and remembers the last byte written."""

    def __init__(self, out: Writable) -> None:
        self.out = out
        self.byte = b""

    def write(self, data: bytes) -> int:
        if data:
            self.out.write(bytes(data))
            self.byte = bytes(data[-1:])
        return len(data)

    def flush(self) -> None:
        pass


def estimate_triple_bytes(fmt: Format, triple: ox.Triple | ox.Quad) -> int:
    """About how many bytes ``triple`` takes in ``fmt`` (its N-Triples form, more for
    JSON-LD and RDF/XML): what the byte limit counts while an answer is collected."""
    size = len(str(triple).encode()) + 3
    if fmt.rdf in (ox.RdfFormat.JSON_LD, ox.RdfFormat.RDF_XML):
        size = size * 3 // 2 + 48
    return size
