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
from typing import Any

from peerchange.services import bibliography
from peerchange.services.paging import (  # noqa: F401 (the Hydra view, re-exported)
    HYDRA,
    PageView,
    page_view,
)
from peerchange.services.trace.json import (
    dumps,
    reference_list_dict,
    reverse_trace_dict,
    trace_dict,
)
from peerchange.services.trace.model import Work
from peerchange.services.trace.pages import Page
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


def reference_list_document(works: Sequence[Work], fmt: Format, *,
                            cited: Mapping[str, str] | None = None) -> str:
    """The reference list as JSON (each work with its reverse-trace URL from ``cited``,
    when given) or as a bibliography.

    :raise UnknownBibliographyFormat: for any other format (Turtle included).
    """
    if fmt == "json":
        return dumps(reference_list_dict(works, cited))
    return bibliography.render(works, fmt)
