"""The reviewer's trace on the web: ``/trace``, ``/cited`` and ``/references``.

- ``GET /trace`` — the mechanisms to trace (HTML, JSON); ``?iri=IRI`` answers the trace of
  that mechanism, ``?q=TEXT`` finds one by label (fuzzy) and redirects (303) to its trace;
- ``GET /trace/{slug}`` — the trace of a mechanism (``slug`` is the last segment of its
  IRI) in HTML, JSON or Turtle, by ``Accept``, ``?format=`` or an extension twin
  (``/trace/{slug}.html``, ``.json``, ``.ttl``);
- ``GET /trace/{slug}/bibliography.bib|.ris|.csl.json`` — the works the trace cites;
- ``GET /cited/{Key}`` — the reverse trace of a work (HTML, JSON; ``.html``/``.json``/
  ``.ttl`` twins): every claim it is cited in, in which role, and the mechanisms they lead
  back to; in pages of 200 claims (``?page=N``) when it walks more (issue 10: a work
  every study cites), each page linked to the first, previous, next and last by an HTTP
  ``Link`` header (``rel="first|prev|next|last"``, RFC 8288), HTML links, and Hydra's
  ``view`` (a ``hydra:PartialCollectionView``) with ``totalItems`` in JSON and Turtle;
- ``GET /references`` — the paper's reference list (HTML, JSON) and
  ``/references.bib|.ris|.csl.json`` — all of it as a bibliography.

Unknown slugs and keys answer 404 with the closest matches. Every page shows the evidence
status of each link beside it, as text, with a legend of the three statuses.

A view resolves the slug or key (from the service's cached lists), negotiates the format and
redirects a non-canonical name before anything is built; its ETag is known then (data
version, resolved IRI, format; a reverse trace's page), so a client that holds it gets 304
without a query (a reverse trace: after the one that counts its claims, once per data
version and work). JSON,
Turtle and the bibliographies come from :mod:`peerchange.services.trace.documents`, the
renderers the command line uses too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for

from peerchange import __version__
from peerchange.core.errors import NotFound
from peerchange.core.formats import RDF_FORMATS, Format
from peerchange.services import bibliography
from peerchange.services.trace import ROLE_NOTES, TraceService, kind_of, local_path
from peerchange.services.trace.documents import (
    page_view,
    reference_list_document,
    reverse_trace_document,
    trace_document,
)
from peerchange.services.trace.json import dumps
from peerchange.services.trace.pages import Page
from peerchange.web.caching import etag_for
from peerchange.web.errors import errors_as
from peerchange.web.negotiation import negotiate
from peerchange.web.paging import (
    link_values,
    page_links,
    page_number,
    page_url,
    request_params,
)
from peerchange.web.state import services

bp = Blueprint("trace", __name__)

HTML = Format("html", "text/html", ("htm", "application/xhtml+xml"), "html")
JSON = Format("json", "application/json", ("js",), "json")
TURTLE = next(f for f in RDF_FORMATS if f.name == "turtle")
PAGE_FORMATS: tuple[Format, ...] = (HTML, JSON, TURTLE)
LIST_FORMATS: tuple[Format, ...] = (HTML, JSON)
BIBLIOGRAPHY_FILES = {
    f"bibliography.{f.extension}": f for f in bibliography.BIBLIOGRAPHY_FORMATS.values()
}


def service() -> TraceService:
    """The trace service of the app's knowledge graph."""
    return services().trace


@bp.context_processor
def _helpers() -> dict[str, Any]:
    def href(iri: str) -> str:
        """Where this server serves an IRI of our namespaces (else the IRI itself)."""
        kind = kind_of(iri)
        if kind == "mechanism":
            return url_for("trace.trace", slug=iri.rsplit("/", 1)[-1])
        if kind == "ref":
            return url_for("trace.cited", key=iri.rsplit("/", 1)[-1])
        path = local_path(iri)
        return (request.script_root + path) if path else iri

    return {
        "href": href,
        "role_notes": ROLE_NOTES,
        "bibliography_formats": bibliography.BIBLIOGRAPHY_FORMATS.values(),
    }


# ---------------------------------------------------------------------------
# negotiation and responses
# ---------------------------------------------------------------------------


def _split_extension(name: str, formats: tuple[Format, ...]) -> tuple[str, Format | None]:
    """``role-modelling.ttl`` → (``role-modelling``, Turtle); no known extension → (name, None)."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem:
        for fmt in formats:
            if ext.lower() in (fmt.extension, fmt.name, *fmt.aliases):
                return stem, fmt
    return name, None


def _choose(formats: tuple[Format, ...], forced: Format | None, what: str) -> Format:
    if forced is not None:
        return forced
    return negotiate(formats, accept=request.headers.get("Accept"),
                     format_param=request.args.getlist("format"), what=what)


def _respond(body: Callable[[], str | bytes], fmt: Format | bibliography.BibliographyFormat,
             *, selects: tuple[object, ...], alternates: list[tuple[str, str]] = (),
             download: str | None = None, pages: dict[str, str] | None = None) -> Response:
    """Answer ``body()`` in ``fmt``, or 304 without building it.

    The ETag is known before the body: the data version, the code's version and the
    request's site root and path, then ``selects`` (what the view resolved: the resource's
    IRI, the format). A client that holds it gets 304 and no query runs.
    """
    resp = Response(content_type=fmt.content_type)
    resp.headers["Vary"] = "Accept"
    links = [f'<{href}>; rel="alternate"; type="{media}"' for href, media in alternates]
    links += link_values(pages or {})
    if links:
        resp.headers["Link"] = ", ".join(links)
    if download:
        resp.headers["Content-Disposition"] = f'attachment; filename="{download}"'
    resp.headers["Cache-Control"] = "public, max-age=300"
    etag = etag_for(service().version, __version__, request.script_root, request.path,
                    *selects)
    resp.set_etag(etag)
    if not request.if_none_match.contains_weak(etag):
        resp.set_data(body())
    return resp.make_conditional(request)


def _with_format(path: str) -> str:
    """``path`` with the request's ``format`` parameter, the one parameter a page reads.

    A canonical redirect keeps it, copied by name as a value; no other request parameter
    is carried over, and none reaches ``url_for`` (``?slug=``, ``?_external=`` or
    ``?_scheme=`` would clash with its arguments or rewrite the Location's host and
    scheme). The Location stays a root-relative path.
    """
    formats = request_params(only={"format"})
    return f"{path}?{urlencode(formats)}" if formats else path


def _errors_in(forced: Format | None) -> None:
    """A page asked for as ``.json`` (or ``.html``) gets its errors in that format too."""
    if forced is JSON:
        errors_as("json")
    elif forced is HTML:
        errors_as("html")


# ---------------------------------------------------------------------------
# /trace
# ---------------------------------------------------------------------------


@bp.get("/trace")
def index() -> Response:
    """The mechanisms to trace; ``?iri=`` traces one, ``?q=`` finds one by label."""
    iri = request.args.get("iri")
    if iri is not None:
        return _trace_page(iri, forced=None, canonical_redirect=False)
    query = request.args.get("q")
    if query is not None:
        mechanism = service().find_mechanism(query)
        return redirect(url_for("trace.trace", slug=mechanism.ref.slug), code=303)
    fmt = _choose(LIST_FORMATS, None, "the list of mechanisms")
    svc = service()
    alternates = [(url_for("trace.index", format=f.name), f.media_type) for f in LIST_FORMATS]

    def body() -> str:
        mechanisms = svc.mechanisms()
        if fmt is JSON:
            return dumps({
                "mechanisms": [
                    {"iri": m.iri, "slug": m.ref.slug, "label": m.label,
                     "definition": m.definition,
                     "trace": url_for("trace.trace", slug=m.ref.slug)}
                    for m in mechanisms
                ],
                "legend": [{"iri": s.iri, "key": s.key, "label": s.label,
                            "definition": s.definition} for s in svc.statuses()],
                "references": url_for("trace.references"),
            })
        return render_template("trace/index.html", mechanisms=mechanisms,
                               statuses=svc.statuses())

    return _respond(body, fmt, selects=("index", fmt.name), alternates=alternates)


@bp.get("/trace/<slug>")
def trace(slug: str) -> Response:
    """The trace of a mechanism, in HTML, JSON or Turtle."""
    stem, forced = _split_extension(slug, PAGE_FORMATS)
    return _trace_page(stem, forced=forced, canonical_redirect=True)


def _trace_page(text: str, *, forced: Format | None, canonical_redirect: bool) -> Response:
    # resolve, negotiate and redirect from the cached mechanism list; build only on a miss
    svc = service()
    _errors_in(forced)
    mechanism = svc.find_mechanism(text)
    fmt = _choose(PAGE_FORMATS, forced, "a trace")
    slug = mechanism.ref.slug
    if canonical_redirect and text != slug:
        suffix = f".{forced.extension}" if forced else ""
        return redirect(_with_format(url_for("trace.trace", slug=slug + suffix)), code=301)
    alternates = [(url_for("trace.trace", slug=f"{slug}.{f.extension}"), f.media_type)
                  for f in PAGE_FORMATS]
    alternates += [(url_for("trace.trace_bibliography", slug=slug, filename=name), f.media_type)
                   for name, f in BIBLIOGRAPHY_FILES.items()]

    def body() -> str:
        result = svc.trace(mechanism.iri)
        if fmt is JSON:
            links = {f.name: href for (href, _), f in zip(alternates, PAGE_FORMATS,
                                                          strict=False)}
            links.update({
                f.name: url_for("trace.trace_bibliography", slug=slug, filename=name)
                for name, f in BIBLIOGRAPHY_FILES.items()
            })
            return trace_document(svc, result, "json", links=links)
        if fmt is TURTLE:
            return trace_document(svc, result, "turtle")
        return render_template("trace/mechanism.html", trace=result,
                               works={w.work.key: w for w in result.works},
                               counts=result.status_counts())

    return _respond(body, fmt, selects=("trace", mechanism.iri, fmt.name),
                    alternates=alternates)


@bp.get("/trace/<slug>/<filename>")
def trace_bibliography(slug: str, filename: str) -> Response:
    """The works a trace cites as BibTeX, RIS or CSL-JSON."""
    fmt = BIBLIOGRAPHY_FILES.get(filename)
    if fmt is None:
        names = ", ".join(BIBLIOGRAPHY_FILES)
        raise NotFound(f"Nothing is served at {request.path}. A trace's bibliography "
                       f"is at /trace/{slug}/ followed by one of: {names}.", kind="file")
    svc = service()
    mechanism = svc.find_mechanism(slug)
    if mechanism.ref.slug != slug:
        return redirect(url_for("trace.trace_bibliography", slug=mechanism.ref.slug,
                                filename=filename), code=301)
    return _respond(lambda: trace_document(svc, svc.trace(mechanism.iri), fmt), fmt,
                    selects=("bibliography", mechanism.iri, fmt.name),
                    download=f"peerchange-trace-{mechanism.ref.slug}.{fmt.extension}")


# ---------------------------------------------------------------------------
# /cited
# ---------------------------------------------------------------------------


@bp.get("/cited/<key>")
def cited(key: str) -> Response:
    """The reverse trace of a work: every claim it is cited in, and in which role; in pages
    of :data:`~peerchange.services.trace.pages.PAGE_SIZE` claims (``?page=N``) when it
    has more."""
    stem, forced = _split_extension(key, PAGE_FORMATS)
    svc = service()
    _errors_in(forced)
    work = svc.find_work(stem)
    fmt = _choose(PAGE_FORMATS, forced, "a reverse trace")
    number = page_number()
    if work.key != stem:
        suffix = f".{forced.extension}" if forced else ""
        target = url_for("trace.cited", key=work.key + suffix)
        if "page" in request.args:  # the page too (a number, checked above)
            target = page_url(target, number, request_params(only={"format"}))
        else:
            target = _with_format(target)
        return redirect(target, code=301)
    k = work.key
    alternates = [(url_for("trace.cited", key=f"{k}.{f.extension}"), f.media_type)
                  for f in PAGE_FORMATS]
    page = svc.cited_page_of(work.key, number)
    pages = _page_links(k + (f".{forced.extension}" if forced else ""), page)

    def body() -> str:
        result, _ = svc.cited_page(work.key, number)
        view = page_view(page, url_for("trace.cited", key=k), pages,
                         base=request.host_url.rstrip("/")) if pages else None
        if fmt is JSON:
            links = {"mechanisms": {m.mechanism.slug: url_for("trace.trace",
                                                              slug=m.mechanism.slug)
                                    for m in result.mechanisms}}
            return reverse_trace_document(svc, result, "json", links=links, page=page,
                                          view=view)
        if fmt is TURTLE:
            return reverse_trace_document(svc, result, "turtle", page=page, view=view)
        return render_template("trace/cited.html", reverse=result, statuses=result.statuses,
                               page=page, pages=pages)

    selects = ("cited", work.iri, fmt.name) + ((page.number,) if page.paged else ())
    return _respond(body, fmt, selects=selects, alternates=alternates, pages=pages)


def _page_links(name: str, page: Page) -> dict[str, str]:
    """The root-relative URLs of this page (``self``) and of the first, previous, next and
    last pages (:func:`~peerchange.web.paging.page_links`), the ``format`` parameter kept;
    none when everything is on one page."""
    if not page.paged:
        return {}
    path, formats = url_for("trace.cited", key=name), request_params(only={"format"})
    return page_links(page.number, page.count,
                      lambda number: page_url(path, number, formats))


# ---------------------------------------------------------------------------
# /references
# ---------------------------------------------------------------------------


@bp.get("/references")
def references() -> Response:
    """The paper's reference list (HTML, JSON), with the printed text and corrections."""
    return _references_page(None)


@bp.get("/references.<ext>")
def references_file(ext: str) -> Response:
    """``/references.html|.json`` pages, ``/references.bib|.ris|.csl.json`` downloads."""
    try:
        fmt = bibliography.bibliography_format(ext)
    except bibliography.UnknownBibliographyFormat:
        page = next((f for f in LIST_FORMATS if ext.lower() in (f.extension, f.name)), None)
        if page is None:
            raise NotFound(
                f"Nothing is served at {request.path}. The reference list is at /references "
                "(.html, .json) and as a bibliography at /references.bib, /references.ris and "
                "/references.csl.json.", kind="file") from None
        return _references_page(page)
    svc = service()
    return _respond(lambda: reference_list_document(svc.reference_list(), fmt), fmt,
                    selects=("references", fmt.name),
                    download=f"peerchange-references.{fmt.extension}")


def _references_page(forced: Format | None) -> Response:
    fmt = _choose(LIST_FORMATS, forced, "the reference list")
    svc = service()
    alternates = [(url_for("trace.references_file", ext=f.extension), f.media_type)
                  for f in LIST_FORMATS]
    alternates += [(url_for("trace.references_file", ext=f.extension), f.media_type)
                   for f in bibliography.BIBLIOGRAPHY_FORMATS.values()]

    def body() -> str:
        works = svc.reference_list()
        if fmt is JSON:
            return reference_list_document(
                works, "json", cited={w.key: url_for("trace.cited", key=w.key) for w in works})
        return render_template("trace/references.html", works=works)

    return _respond(body, fmt, selects=("references", fmt.name), alternates=alternates)
