"""The site: the home page (``/``), the search (``/search``) and what every page shares.

- ``GET /`` — for browsers, the home page: what the graph is and the paper it comes from
  (both read from the data), the evidence-status warning, live counts, the change-model
  diagram and the ways in. RDF clients (``Accept`` naming Turtle, JSON-LD, RDF/XML or
  N-Triples above HTML, or ``?format=ttl``...) get the dataset description (VoID and DCAT),
  the very document ``/dataset`` serves; ``Vary: Accept``.
- ``GET /search?q=TEXT`` — finds a mechanism, component, theory, theory family, construct,
  outcome or work by name (:mod:`peerchange.services.search`): one clear match is a
  ``303 See Other`` to its page (unless its IRI is no web link, e.g. ``javascript:``: then
  it is listed, without a link and with ``"href": null``); several are listed (HTML, or
  JSON for ``Accept: application/json``); none is a 404 with the closest names as
  suggestions.

For every template (registered on the app): the navigation (``site_nav``, ``nav_current``),
the Jinja test ``web_link`` (only ``http``/``https`` URLs, root-relative paths and
fragments are linked: data can hold ``javascript:`` IRIs, which are shown as text) and
``resource_href(kind, iri, key)``, where a resource of the search is served: a mechanism's
trace, a work's reverse trace, anything else its IRI's local path.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from peerchange import __version__
from peerchange.core.errors import NotFound, Suggestion
from peerchange.core.formats import Format
from peerchange.services.embedded import dataset_jsonld
from peerchange.services.rdf_writer import DOCUMENT_FORMATS
from peerchange.services.resources import path_for_iri
from peerchange.services.search import KIND_NAMES, Entry, SearchResult
from peerchange.web import linked_data
from peerchange.web.errors import errors_as
from peerchange.web.negotiation import negotiate
from peerchange.web.state import services

bp = Blueprint("site", __name__)

HTML = Format("html", "text/html", ("htm", "application/xhtml+xml"), "html")
JSON = Format("json", "application/json", ("js",), "json")
# HTML first: a client without Accept (or with */*) gets the page
HOME_FORMATS: tuple[Format, ...] = (HTML, *DOCUMENT_FORMATS)
SEARCH_FORMATS: tuple[Format, ...] = (HTML, JSON)

# the navigation of every page: (key, path under the site root, text)
NAV = (
    ("home", "/", "Home"),
    ("query", "/sparql", "Query"),
    ("model", "/#change-model", "Change model"),
    ("traces", "/trace", "Traces"),
    ("references", "/references", "References"),
    ("dataset", "/dataset", "Dataset"),
    ("dumps", "/dumps/", "Dumps"),
    ("api", "/api", "API"),
)
# which navigation entry a path belongs to (the first prefix that matches)
SECTIONS = (("/sparql", "query"), ("/trace", "traces"), ("/cited", "traces"),
            ("/references", "references"), ("/dataset", "dataset"), ("/dumps", "dumps"),
            ("/api", "api"))
WEB_LINK = re.compile(r"^(https?://[^\s]|/(?![/\\])|#)", re.IGNORECASE)


# ---------------------------------------------------------------------------
# what every template gets
# ---------------------------------------------------------------------------


@bp.app_template_test("web_link")
def is_web_link(value: object) -> bool:
    """Whether ``value`` may be an ``href``: an ``http``/``https`` URL, a root-relative
    path (not ``//host``, which names another host) or a fragment. Anything else
    (``javascript:``, ``data:``, ``urn:``...) is shown as text."""
    return isinstance(value, str) and bool(WEB_LINK.match(value))


@bp.app_template_global("resource_href")
def resource_href(kind: str, iri: str, key: str | None = None) -> str:
    """Where the site serves a resource: a mechanism's trace, a work's reverse trace,
    else the local path of its IRI (which answers browsers with its page); a foreign IRI
    is returned as it is (check it with the ``web_link`` test)."""
    if kind == "mechanism":
        return url_for("trace.trace", slug=iri.rstrip("/").rsplit("/", 1)[-1])
    if kind == "work" and key:
        return url_for("trace.cited", key=key)
    path = path_for_iri(iri)
    return f"{request.script_root}/{path}" if path is not None else iri


@bp.app_context_processor
def _site() -> dict[str, Any]:
    root = request.script_root
    path = request.path
    current = "home" if path == "/" else next(
        (key for prefix, key in SECTIONS if path.startswith(prefix)), "")
    return {
        "site_nav": [(key, root + href, text) for key, href, text in NAV],
        "nav_current": current,
        "site_root": root + "/",
        "software_version": __version__,
        "data_version": services().graph.version,
    }


# ---------------------------------------------------------------------------
# the home page
# ---------------------------------------------------------------------------


@bp.get("/")
def home() -> Response:
    fmt = negotiate(HOME_FORMATS, accept=request.headers.get("Accept"),
                    format_param=request.args.getlist("format"), what="the home page")
    if fmt is not HTML:
        # an RDF client: the dataset description, as /dataset serves it
        resp = linked_data.dataset_document(fmt.extension)
        resp.headers["Content-Location"] = f"{request.root_url}dataset.{fmt.extension}"
    else:
        st = services()
        figure = st.diagram.figure() if hasattr(st, "diagram") else None
        resp = Response(render_template("home.html", summary=st.home.summary(), figure=figure,
                                        embedded_jsonld=dataset_jsonld(st.description,
                                                                       request.root_url)),
                        content_type="text/html; charset=utf-8")
    resp.headers["Vary"] = "Accept"
    return resp


# ---------------------------------------------------------------------------
# the search
# ---------------------------------------------------------------------------


def _href(entry: Entry) -> str | None:
    """Where a search result links to; ``None`` for an IRI that must not be a link
    (``javascript:``, ``data:``...: a search never redirects or links to one)."""
    href = resource_href(entry.kind, entry.iri, entry.key)
    return href if is_web_link(href) else None


def _item(entry: Entry, name: str | None = None) -> dict[str, Any]:
    item = {"iri": entry.iri, "label": entry.label, "kind": entry.kind,
            "kind_label": KIND_NAMES.get(entry.kind, entry.kind), "href": _href(entry)}
    if entry.key:
        item["key"] = entry.key
    if name and name != entry.label:
        item["matched"] = name
    return item


@bp.get("/search")
def search() -> Response:
    fmt = negotiate(SEARCH_FORMATS, accept=request.headers.get("Accept"),
                    format_param=request.args.getlist("format"), what="the search")
    if fmt is JSON:
        errors_as("json")
    text = request.args.get("q", "")
    result = services().search.search(text)
    unique = result.unique
    if result.text and unique is None and not result.hits:
        raise _nothing_found(result)
    items = [_item(h.entry, h.name) for h in result.hits]
    if fmt is JSON:
        body = json.dumps({"query": result.text, "results": items}, ensure_ascii=False)
        resp = Response(body + "\n", content_type="application/json")
    else:
        resp = Response(render_template("search.html", result=result, items=items,
                                        search_text=result.text),
                        content_type="text/html; charset=utf-8")
    target = _href(unique) if unique is not None else None
    if target is not None:
        resp.status_code = 303
        resp.headers["Location"] = target
    resp.headers["Vary"] = "Accept"
    return resp


def _nothing_found(result: SearchResult) -> NotFound:
    suggestions = [Suggestion(h.entry.iri, h.entry.label, _href(h.entry))
                   for h in result.suggestions]
    message = f"Nothing in the graph is named {result.text!r}."
    if suggestions:
        message += " The closest names are below."
    return NotFound(
        message, kind="search", suggestions=suggestions,
        detail=("The search finds change mechanisms, their components, theories, theory "
                "families, theoretical constructs, outcomes and works (by label, title or "
                "reference key)."),
        extra={"query": result.text, "results": []},
    )


__all__ = ["bp", "is_web_link", "resource_href"]
