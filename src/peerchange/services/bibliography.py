"""Bibliography export: BibTeX, RIS and CSL-JSON for a trace's works or a reference list.

Maintained libraries do the formatting: bibtexparser (v2) writes BibTeX, with pylatexenc
(through bibtexparser's LaTeX-encoding middleware) escaping text for LaTeX; rispy writes
RIS; CSL-JSON is data shaped by the CSL-JSON schema, serialised by :mod:`json`.

What the mapping decides (see the README's "Reviewer's trace"):

- Keys are the reference keys (``pcm:referenceKey``, ``Bandura1977``): the BibTeX key,
  the RIS ``ID`` and the CSL ``id`` / ``citation-key``.
- The normalised fields of the graph are exported (for example ``Festinger1955`` keeps the
  printed year). The reference exactly as printed and the correction note travel with each
  entry: BibTeX ``annote``, RIS ``N1`` notes, CSL ``note`` (Zotero imports all three as
  notes), so a corrected field is never silently passed off as the printed one.
- Names are printed as "Surname Initials" (``Gibson SL``): the surname becomes the family
  name and the initials the given name (``S. L.``). A name that is not of that form
  (an organisation such as ``Medical Research Council``, or a garbled print kept as
  printed) is exported whole: braced in BibTeX, ``literal`` in CSL.
- A publisher printed as "Publisher, Place" is split at its first comma into publisher and
  place (BibTeX ``publisher``/``institution`` and ``address``, RIS ``PB``/``CY``, CSL
  ``publisher``/``publisher-place``).
- A DOI is exported only where the graph has a verified one, with its resolver URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import bibtexparser
import rispy
from bibtexparser.library import Library
from bibtexparser.middlewares import (
    AddEnclosingMiddleware,
    LatexEncodingMiddleware,
    MergeCoAuthors,
    MergeNameParts,
)
from bibtexparser.middlewares.names import NameParts
from bibtexparser.model import Entry, Field
from pylatexenc.latexencode import UnicodeToLatexEncoder

from peerchange.core.errors import PeerchangeError
from peerchange.services.trace import Work

PARTICLES = {"van", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "von",
             "ter", "ten", "dos", "das"}
_INITIALS = re.compile(r"[A-Z]{1,4}")


class UnknownBibliographyFormat(PeerchangeError):
    http_status = 406
    exit_code = 2
    title = "Not acceptable"


@dataclass(frozen=True)
class BibliographyFormat:
    """A bibliography format: short name, media type and file extension."""

    name: str
    media_type: str
    extension: str
    label: str

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


BIBLIOGRAPHY_FORMATS: dict[str, BibliographyFormat] = {
    "bibtex": BibliographyFormat("bibtex", "application/x-bibtex", "bib", "BibTeX"),
    "ris": BibliographyFormat("ris", "application/x-research-info-systems", "ris", "RIS"),
    "csl-json": BibliographyFormat(
        "csl-json", "application/vnd.citationstyles.csl+json", "csl.json", "CSL-JSON"),
}


def bibliography_format(name_or_extension: str) -> BibliographyFormat:
    """Return the format named ``bibtex``/``ris``/``csl-json`` or with that extension.

    :raise UnknownBibliographyFormat: for anything else.
    """
    key = name_or_extension.strip().lower().lstrip(".")
    for fmt in BIBLIOGRAPHY_FORMATS.values():
        if key in (fmt.name, fmt.extension, fmt.media_type):
            return fmt
    names = ", ".join(f"{f.name} (.{f.extension})" for f in BIBLIOGRAPHY_FORMATS.values())
    raise UnknownBibliographyFormat(
        f"{name_or_extension!r} is not a bibliography format; use one of {names}.")


def render(works: Sequence[Work], fmt: str | BibliographyFormat) -> str:
    """Return ``works`` as a bibliography in ``fmt`` (a name, extension or format)."""
    f = fmt if isinstance(fmt, BibliographyFormat) else bibliography_format(fmt)
    if f.name == "bibtex":
        return to_bibtex(works)
    if f.name == "ris":
        return to_ris(works)
    return json.dumps(to_csl_json(works), ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------------------
# names, publishers, pages, notes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """A printed name split into family and given names, or kept whole (``literal``)."""

    printed: str
    family: str = ""
    given: str = ""

    @property
    def literal(self) -> bool:
        return not self.family


def split_name(printed: str) -> Name:
    """Split a name printed as "Surname Initials" (``Van der Post LF``)."""
    tokens = printed.split()
    if (
        len(tokens) >= 2
        and _INITIALS.fullmatch(tokens[-1])
        and all(t.lower() in PARTICLES for t in tokens[:-2])
    ):
        given = " ".join(f"{c}." for c in tokens[-1])
        return Name(printed, family=" ".join(tokens[:-1]), given=given)
    return Name(printed)


def split_publisher(publisher: str) -> tuple[str, str]:
    """Split "Publisher, Place" at the first comma into (publisher, place)."""
    name, sep, place = publisher.partition(", ")
    return (name.strip(), place.strip()) if sep else (publisher.strip(), "")


def page_range(work: Work) -> tuple[str, str]:
    """Return (first page, last page) of a work (last is empty for a single page)."""
    if work.page_start:
        return work.page_start, work.page_end
    if "-" in work.pages:
        first, _, last = work.pages.partition("-")
        return first.strip(), last.strip()
    return work.pages.strip(), ""


def notes(work: Work) -> list[str]:
    """The notes that travel with an entry: the printed reference and its correction."""
    out = []
    if work.printed:
        out.append(f"As printed in the reference list: {work.printed}")
    if work.correction_note:
        out.append(f"Correction note: {work.correction_note}")
    if work.editorial_note and not work.printed:
        out.append(work.editorial_note)
    if not work.title:
        out.append("Title not recorded in the source material.")
    return out


# ---------------------------------------------------------------------------
# BibTeX (bibtexparser v2)
# ---------------------------------------------------------------------------

BIBTEX_TYPES = {"article": "article", "book": "book", "report": "techreport"}
_VERBATIM_FIELDS = {"doi", "url", "author", "pmid", "pmcid"}
_ENCODER = UnicodeToLatexEncoder(unknown_char_policy="keep")


class _TextLatexEncoding(LatexEncodingMiddleware):
    """bibtexparser's LaTeX encoding for text fields; identifiers (DOI, URL) stay verbatim
    and names are encoded part by part before they are merged."""

    def __init__(self) -> None:
        super().__init__(encoder=_ENCODER, allow_inplace_modification=True)

    def transform_entry(self, entry: Entry, library: Library) -> Any:
        order = [f.key for f in entry.fields]
        kept = [f for f in entry.fields if f.key in _VERBATIM_FIELDS]
        entry.fields = [f for f in entry.fields if f.key not in _VERBATIM_FIELDS]
        result = super().transform_entry(entry, library)
        entry.fields = sorted(entry.fields + kept, key=lambda f: order.index(f.key))
        return result


def _bibtex_name(name: Name) -> NameParts:
    if name.literal:
        return NameParts(last=["{" + _ENCODER.unicode_to_latex(name.printed) + "}"])
    family = _ENCODER.unicode_to_latex(name.family)
    if " " in family:
        family = "{" + family + "}"
    return NameParts(first=[_ENCODER.unicode_to_latex(name.given)], last=[family])


def bibtex_entry(work: Work) -> Entry:
    """Return the bibtexparser entry of a work."""
    fields: list[Field] = []

    def add(key: str, value: Any) -> None:
        if value:
            fields.append(Field(key, value))

    if work.authors:
        add("author", [_bibtex_name(split_name(a)) for a in work.authors])
    add("title", work.title)
    add("year", work.year)
    if work.type == "article":
        add("journal", work.journal)
        add("volume", work.volume)
        add("number", work.issue)
    else:
        publisher, place = split_publisher(work.publisher)
        add("institution" if work.type == "report" else "publisher", publisher)
        add("address", place)
    first, last = page_range(work)
    add("pages", f"{first}--{last}" if last else first)
    add("doi", work.doi)
    add("url", work.doi_url)
    add("pmid", work.pmid)
    add("pmcid", work.pmcid)
    add("annote", " ".join(notes(work)))
    return Entry(BIBTEX_TYPES[work.type], work.key, fields)


def to_bibtex(works: Iterable[Work]) -> str:
    """Return a BibTeX database of ``works`` (UTF-8 text, LaTeX-escaped)."""
    library = Library([bibtex_entry(w) for w in works])
    stack = [
        _TextLatexEncoding(),
        MergeNameParts(style="last", allow_inplace_modification=True),
        MergeCoAuthors(allow_inplace_modification=True),
        AddEnclosingMiddleware(allow_inplace_modification=True, default_enclosing="{",
                               reuse_previous_enclosing=False, enclose_integers=True),
    ]
    return bibtexparser.write_string(library, unparse_stack=stack)


# ---------------------------------------------------------------------------
# RIS (rispy)
# ---------------------------------------------------------------------------

RIS_TYPES = {"article": "JOUR", "book": "BOOK", "report": "RPRT"}


class _PlainRisWriter(rispy.RisWriter):
    """rispy's RIS writer without its numbered header line before each record (plain RIS,
    as reference managers write it)."""

    def set_header(self, count: int) -> str:
        return ""


def ris_record(work: Work) -> dict[str, Any]:
    """Return the rispy record of a work."""
    record: dict[str, Any] = {"type_of_reference": RIS_TYPES[work.type], "id": work.key}
    authors = [split_name(a) for a in work.authors]
    if authors:
        record["authors"] = [a.printed if a.literal else f"{a.family}, {a.given}"
                             for a in authors]
    if work.title:
        record["title"] = work.title
    if work.year:
        record["year"] = work.year
    if work.type == "article":
        if work.journal:
            record["secondary_title"] = work.journal
        if work.volume:
            record["volume"] = work.volume
        if work.issue:
            record["number"] = work.issue
    else:
        publisher, place = split_publisher(work.publisher)
        if publisher:
            record["publisher"] = publisher
        if place:
            record["place_published"] = place
    first, last = page_range(work)
    if first:
        record["start_page"] = first
    if last:
        record["end_page"] = last
    if work.doi:
        record["doi"] = work.doi
        record["urls"] = [work.doi_url]
    if work.pmid:
        record["accession_number"] = work.pmid
    note_list = notes(work)
    if note_list:
        record["notes"] = note_list
    return record


def to_ris(works: Iterable[Work]) -> str:
    """Return an RIS file of ``works``."""
    return rispy.dumps([ris_record(w) for w in works], implementation=_PlainRisWriter)


# ---------------------------------------------------------------------------
# CSL-JSON
# ---------------------------------------------------------------------------

CSL_TYPES = {"article": "article-journal", "book": "book", "report": "report"}


def csl_item(work: Work) -> dict[str, Any]:
    """Return the CSL-JSON item of a work (``id`` is its reference key)."""
    item: dict[str, Any] = {"id": work.key, "citation-key": work.key,
                            "type": CSL_TYPES[work.type]}
    if work.title:
        item["title"] = work.title
    authors = [split_name(a) for a in work.authors]
    if authors:
        item["author"] = [{"literal": a.printed} if a.literal
                          else {"family": a.family, "given": a.given} for a in authors]
    if work.year:
        item["issued"] = {"date-parts": [[int(work.year)]]}
    if work.type == "article":
        if work.journal:
            item["container-title"] = work.journal
        if work.volume:
            item["volume"] = work.volume
        if work.issue:
            item["issue"] = work.issue
    else:
        publisher, place = split_publisher(work.publisher)
        if publisher:
            item["publisher"] = publisher
        if place:
            item["publisher-place"] = place
    first, last = page_range(work)
    if first:
        item["page"] = f"{first}-{last}" if last else first
    if work.doi:
        item["DOI"] = work.doi
        item["URL"] = work.doi_url
    if work.pmid:
        item["PMID"] = work.pmid
    if work.pmcid:
        item["PMCID"] = work.pmcid
    note_list = notes(work)
    if note_list:
        item["note"] = "\n".join(note_list)
    return item


def to_csl_json(works: Iterable[Work]) -> list[dict[str, Any]]:
    """Return ``works`` as a CSL-JSON array."""
    return [csl_item(w) for w in works]
