"""The documents of a trace, one renderer per format, used by both faces: the web
(``/trace/{slug}.json|.ttl``, ``/trace/{slug}/bibliography.bib|.ris|.csl.json``,
``/cited/{Key}.json|.ttl``, ``/references.json|.bib|.ris|.csl.json``) and the command line
(``peerchange trace --format json|turtle|bibtex|ris|csl-json``, with ``--cited`` and
``--references``). Only the faces' own forms stay with them: the web's HTML pages and the
command line's text tree.

(Not re-exported by the package: :mod:`peerchange.services.bibliography`, used here, reads
the :class:`~peerchange.services.trace.model.Work` of the package.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from peerchange.core.namespaces import RDF_TYPE
from peerchange.core.results import write_graph
from peerchange.services import bibliography
from peerchange.services.trace.json import (
    dumps,
    reference_list_dict,
    reverse_trace_dict,
    trace_dict,
)
from peerchange.services.trace.model import Work
from peerchange.services.trace.pages import Page
from peerchange.services.trace.rdf import TURTLE
from peerchange.services.trace.service import TraceService
from peerchange.services.trace.traces import ReverseTrace, Trace

#: The formats of a trace document besides the faces' own (HTML, the text tree).
DOCUMENT_FORMATS = ("json", "turtle", *bibliography.BIBLIOGRAPHY_FORMATS)

Format = str | bibliography.BibliographyFormat


def trace_document(service: TraceService, trace: Trace, fmt: Format, *,
                   links: Mapping[str, Any] | None = None) -> str:
    """A trace as JSON (with the web's ``links``, when given), Turtle, or the bibliography
    of the works it cites (BibTeX, RIS, CSL-JSON: a name, extension or format)."""
    if fmt == "json":
        return dumps(trace_dict(trace, links))
    if fmt == "turtle":
        return service.trace_turtle(trace).decode()
    return bibliography.render(trace.bibliography, fmt)


def reverse_trace_document(service: TraceService, reverse: ReverseTrace, fmt: Format, *,
                           links: Mapping[str, Any] | None = None,
                           page: Page | None = None,
                           view: PageView | None = None) -> str:
    """A reverse trace as JSON (with ``links``, when given), Turtle, or the work's own
    bibliographic entry; of a reverse trace in several pages, ``page``, with its ``view``
    (:func:`page_view`: where the page stands, in Hydra's terms) in JSON and Turtle."""
    if fmt == "json":
        document = reverse_trace_dict(reverse, links)
        if view is not None:
            document = {**document, **view.json()}
        return dumps(document)
    if fmt == "turtle":
        text = service.reverse_trace_turtle(reverse, page).decode()
        return text + view.turtle() if view is not None else text
    return bibliography.render([reverse.work], fmt)


HYDRA = "http://www.w3.org/ns/hydra/core#"
#: Hydra's names of the relations between pages (RFC 8288's ``prev`` is its ``previous``),
#: in the order the RDF gives them.
HYDRA_RELATIONS = {"first": "first", "prev": "previous", "next": "next", "last": "last"}
# the order of the JSON view's members (as written since the pages came, round 4)
_JSON_ORDER = ("first", "last", "previous", "next")


@dataclass(frozen=True)
class PageView:
    """Where a page of a reverse trace stands, as RDF (Hydra Core): the reverse trace
    ``hydra:view`` the page and its ``hydra:totalItems`` (the claims it walks); the page a
    ``hydra:PartialCollectionView`` with ``hydra:first``, ``previous``, ``next`` and
    ``last``. Built once (:func:`page_view`), written as Turtle (absolute IRIs) or as the
    JSON document's ``totalItems`` and ``view`` (Hydra's names as keys, root-relative URLs,
    and the page's number, the count of pages and their size)."""

    page: Page
    base: str
    triples: tuple[ox.Triple, ...]

    def turtle(self) -> str:
        """The statements, appended to the page's Turtle document."""
        return "\n" + write_graph(TURTLE, list(self.triples)).decode()

    def json(self) -> dict[str, Any]:
        """The members the JSON document gets (after its own)."""
        total = next(int(t.object.value) for t in self.triples
                     if t.predicate.value == HYDRA + "totalItems")
        here = next(t.object for t in self.triples if t.predicate.value == HYDRA + "view")
        said = {t.predicate.value[len(HYDRA):]: self._relative(t.object.value)
                for t in self.triples if t.subject == here and t.predicate.value != RDF_TYPE}
        return {"totalItems": total,
                "view": {"@type": HYDRA + "PartialCollectionView",
                         "@id": self._relative(here.value),
                         **{name: said[name] for name in _JSON_ORDER if name in said},
                         "page": self.page.number, "pages": self.page.count,
                         "itemsPerPage": self.page.size}}

    def _relative(self, iri: str) -> str:
        return iri[len(self.base):] if iri.startswith(self.base) else iri


def page_view(page: Page, collection: str, links: Mapping[str, str], *,
              base: str) -> PageView:
    """The :class:`PageView` of ``page`` of the reverse trace at ``collection``.

    :param links: the URLs of this page (``self``) and the pages around it by RFC 8288
        relation (``first``, ``prev``, ``next``, ``last``), root-relative, as
        ``collection``.
    :param base: the site's root (scheme and host), which makes them IRIs.
    """
    def iri(url: str) -> ox.NamedNode:
        return ox.NamedNode(base + url)

    whole, here = iri(collection), iri(links["self"])
    triples = [ox.Triple(whole, ox.NamedNode(HYDRA + "view"), here),
               ox.Triple(whole, ox.NamedNode(HYDRA + "totalItems"), ox.Literal(page.total)),
               ox.Triple(here, ox.NamedNode(RDF_TYPE),
                         ox.NamedNode(HYDRA + "PartialCollectionView"))]
    triples += [ox.Triple(here, ox.NamedNode(HYDRA + name), iri(links[rel]))
                for rel, name in HYDRA_RELATIONS.items() if rel in links]
    return PageView(page, base, tuple(triples))


def reference_list_document(works: Sequence[Work], fmt: Format, *,
                            cited: Mapping[str, str] | None = None) -> str:
    """The reference list as JSON (each work with its reverse-trace URL from ``cited``,
    when given) or as a bibliography.

    :raise UnknownBibliographyFormat: for any other format (Turtle included).
    """
    if fmt == "json":
        return dumps(reference_list_dict(works, cited))
    return bibliography.render(works, fmt)
