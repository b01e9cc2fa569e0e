"""Result and RDF formats: media types, short names (the ``format`` parameter), extensions.

One table serves the SPARQL endpoint, the linked-data pages, the dumps and the command
line, so every face names and negotiates formats the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    """A serialization format.

    :param name: the canonical short name (``json``, ``turtle`` ...).
    :param media_type: the preferred media type.
    :param aliases: other short names and media types that select it.
    :param extension: the file extension (without the dot).
    :param rdf: the pyoxigraph RDF format, for graph formats.
    :param quads: whether the format can carry named graphs.
    """

    name: str
    media_type: str
    aliases: tuple[str, ...] = ()
    extension: str = ""
    rdf: ox.RdfFormat | None = None
    quads: bool = False

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value (text types say UTF-8)."""
        textual = self.media_type.startswith("text/") or self.media_type in {
            "application/n-triples",
            "application/n-quads",
            "application/trig",
        }
        return f"{self.media_type}; charset=utf-8" if textual else self.media_type

    def __reduce__(self) -> tuple:
        # pickled by value except the engine's format object, which is found again by name
        # (a job crosses the pipe to the query executor this way)
        return (_rebuild, (self.name, self.media_type, self.aliases, self.extension,
                           self.rdf.media_type if self.rdf is not None else None, self.quads))


def _rebuild(name: str, media_type: str, aliases: tuple[str, ...], extension: str,
             rdf: str | None, quads: bool) -> Format:
    return Format(name, media_type, aliases, extension,
                  ox.RdfFormat.from_media_type(rdf) if rdf else None, quads)


RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", ("srj", "application/json"), "srj"),
    Format("xml", "application/sparql-results+xml", ("srx", "application/xml", "text/xml"), "srx"),
    Format("csv", "text/csv", (), "csv"),
    Format("tsv", "text/tab-separated-values", (), "tsv"),
)

RDF_FORMATS: tuple[Format, ...] = (
    # Turtle is also valid N3: clients asking for N3 (SPARQLWrapper's N3) get Turtle.
    Format("turtle", "text/turtle", ("ttl", "application/x-turtle", "n3", "text/n3"), "ttl",
           ox.RdfFormat.TURTLE),
    Format(
        "ntriples", "application/n-triples", ("nt", "text/plain"), "nt", ox.RdfFormat.N_TRIPLES
    ),
    Format(
        "rdfxml", "application/rdf+xml",
        ("rdf", "rdf+xml", "xml", "application/xml", "text/xml"), "rdf", ox.RdfFormat.RDF_XML,
    ),
    Format("jsonld", "application/ld+json", ("json-ld", "json", "application/json"), "jsonld",
           ox.RdfFormat.JSON_LD),
    Format("nquads", "application/n-quads", ("nq",), "nq", ox.RdfFormat.N_QUADS, quads=True),
    Format("trig", "application/trig", (), "trig", ox.RdfFormat.TRIG, quads=True),
)


def find_format(value: str, formats: tuple[Format, ...]) -> Format | None:
    """Return the format whose name, alias or media type is ``value`` (case-insensitive)."""
    key = value.strip().lower().split(";", 1)[0].strip()
    for fmt in formats:
        if key == fmt.name or key == fmt.media_type or key in fmt.aliases:
            return fmt
    return None


def media_types(formats: tuple[Format, ...]) -> list[str]:
    """Return the media types offered for negotiation, preferred first.

    Each format's own media type comes first; then aliases that are media types and not
    claimed by an earlier format.
    """
    seen: list[str] = [f.media_type for f in formats]
    for fmt in formats:
        for alias in fmt.aliases:
            if "/" in alias and alias not in seen:
                seen.append(alias)
    return seen
