"""The reviewer's trace on the web: ``/trace``, ``/cited`` and ``/references``.

- ``GET /trace`` — the mechanisms to trace (HTML, JSON); ``?iri=IRI`` answers the trace of
  that mechanism, ``?q=TEXT`` finds one by label (fuzzy) and redirects (303) to its trace;
- ``GET /trace/{slug}`` — the trace of a mechanism (``slug`` is the last segment of its
  IRI) in HTML, JSON or Turtle, by ``Accept``, ``?format=`` or an extension twin
  (``/trace/{slug}.html``, ``.json``, ``.ttl``);
- ``GET /trace/{slug}/bibliography.bib|.ris|.csl.json`` — the works the trace cites;
- ``GET /cited/{Key}`` — the reverse trace of a work (HTML, JSON; ``.html``/``.json``/
  ``.ttl`` twins): every claim it is cited in, in which role, and the mechanisms they lead
  back to;
- ``GET /references`` — the paper's reference list (HTML, JSON) and
  ``/references.bib|.ris|.csl.json`` — all of it as a bibliography.

Unknown slugs and keys answer 404 with the closest matches. Every page shows the evidence
status of each link beside it, as text, with a legend of the three statuses.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from peerchange.core.errors import NotFound
from peerchange.core.formats import RDF_FORMATS, Format
from peerchange.services import bibliography
from peerchange.services.trace import (
    ROLE_NOTES,
    TraceService,
    kind_of,
    local_path,
    work_dict,
)
from peerchange.web.errors import errors_as
from peerchange.web.negotiation import negotiate
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


def _respond(body: str | bytes, fmt: Format | bibliography.BibliographyFormat, *,
             alternates: list[tuple[str, str]] = (), status: int = 200,
             download: str | None = None) -> Response:
    resp = Response(body, status=status, content_type=fmt.content_type)
    resp.headers["Vary"] = "Accept"
    links = [f'<{href}>; rel="alternate"; type="{media}"' for href, media in alternates]
    if links:
        resp.headers["Link"] = ", ".join(links)
    if download:
        resp.headers["Content-Disposition"] = f'attachment; filename="{download}"'
    resp.headers["Cache-Control"] = "public, max-age=300"
    if status == 200:
        resp.add_etag()
        resp.make_conditional(request)
    return resp


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
    mechanisms = svc.mechanisms()
    alternates = [(url_for("trace.index", format=f.name), f.media_type) for f in LIST_FORMATS]
    if fmt is JSON:
        doc = {
            "mechanisms": [
                {"iri": m.iri, "slug": m.ref.slug, "label": m.label,
                 "definition": m.definition, "trace": url_for("trace.trace", slug=m.ref.slug)}
                for m in mechanisms
            ],
            "legend": [{"iri": s.iri, "key": s.key, "label": s.label,
                        "definition": s.definition} for s in svc.statuses()],
            "references": url_for("trace.references"),
        }
        return _respond(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", JSON,
                        alternates=alternates)
    body = render_template("trace/index.html", mechanisms=mechanisms, statuses=svc.statuses())
    return _respond(body, HTML, alternates=alternates)


@bp.get("/trace/<slug>")
def trace(slug: str) -> Response:
    """The trace of a mechanism, in HTML, JSON or Turtle."""
    stem, forced = _split_extension(slug, PAGE_FORMATS)
    return _trace_page(stem, forced=forced, canonical_redirect=True)


def _trace_page(text: str, *, forced: Format | None, canonical_redirect: bool) -> Response:
    svc = service()
    _errors_in(forced)
    result = svc.trace(text)
    fmt = _choose(PAGE_FORMATS, forced, "a trace")
    slug = result.slug
    if canonical_redirect and text != slug:
        suffix = f".{forced.extension}" if forced else ""
        target = url_for("trace.trace", slug=slug + suffix, **request.args)
        return redirect(target, code=301)
    alternates = [(url_for("trace.trace", slug=f"{slug}.{f.extension}"), f.media_type)
                  for f in PAGE_FORMATS]
    alternates += [(url_for("trace.trace_bibliography", slug=slug, filename=name), f.media_type)
                   for name, f in BIBLIOGRAPHY_FILES.items()]
    if fmt is JSON:
        doc = result.to_dict()
        doc["links"] = {f.name: href for (href, _), f in zip(alternates, PAGE_FORMATS,
                                                                 strict=False)}
        doc["links"].update({
            f.name: url_for("trace.trace_bibliography", slug=slug, filename=name)
            for name, f in BIBLIOGRAPHY_FILES.items()
        })
        return _respond(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", JSON,
                        alternates=alternates)
    if fmt is TURTLE:
        body = svc.turtle(svc.trace_triples(result),
                          title=f"Trace of the change mechanism '{result.mechanism.label}'")
        return _respond(body, TURTLE, alternates=alternates)
    body = render_template("trace/mechanism.html", trace=result,
                           works={w.work.key: w for w in result.works},
                           counts=result.status_counts())
    return _respond(body, HTML, alternates=alternates)


@bp.get("/trace/<slug>/<filename>")
def trace_bibliography(slug: str, filename: str) -> Response:
    """The works a trace cites as BibTeX, RIS or CSL-JSON."""
    fmt = BIBLIOGRAPHY_FILES.get(filename)
    if fmt is None:
        names = ", ".join(BIBLIOGRAPHY_FILES)
        raise NotFound(f"Nothing is served at {request.path}. A trace's bibliography "
                       f"is at /trace/{slug}/ followed by one of: {names}.", kind="file")
    result = service().trace(slug)
    if result.slug != slug:
        return redirect(url_for("trace.trace_bibliography", slug=result.slug,
                                filename=filename), code=301)
    works = [w.work for w in result.works]
    return _respond(bibliography.render(works, fmt), fmt,
                    download=f"peerchange-trace-{result.slug}.{fmt.extension}")


# ---------------------------------------------------------------------------
# /cited
# ---------------------------------------------------------------------------


@bp.get("/cited/<key>")
def cited(key: str) -> Response:
    """The reverse trace of a work: every claim it is cited in, and in which role."""
    stem, forced = _split_extension(key, PAGE_FORMATS)
    svc = service()
    _errors_in(forced)
    result = svc.cited(stem)
    fmt = _choose(PAGE_FORMATS, forced, "a reverse trace")
    if result.work.key != stem:
        suffix = f".{forced.extension}" if forced else ""
        return redirect(url_for("trace.cited", key=result.work.key + suffix, **request.args),
                        code=301)
    k = result.work.key
    alternates = [(url_for("trace.cited", key=f"{k}.{f.extension}"), f.media_type)
                  for f in PAGE_FORMATS]
    if fmt is JSON:
        doc = result.to_dict()
        doc["links"] = {"mechanisms": {m.mechanism.slug: url_for("trace.trace",
                                                                 slug=m.mechanism.slug)
                                       for m in result.mechanisms}}
        return _respond(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", JSON,
                        alternates=alternates)
    if fmt is TURTLE:
        body = svc.turtle(svc.reverse_trace_triples(result),
                          title=f"Reverse trace of the work {k}: the claims that cite it")
        return _respond(body, TURTLE, alternates=alternates)
    body = render_template("trace/cited.html", reverse=result, statuses=result.statuses)
    return _respond(body, HTML, alternates=alternates)


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
    works = service().reference_list()
    return _respond(bibliography.render(works, fmt), fmt,
                    download=f"peerchange-references.{fmt.extension}")


def _references_page(forced: Format | None) -> Response:
    fmt = _choose(LIST_FORMATS, forced, "the reference list")
    works = service().reference_list()
    alternates = [(url_for("trace.references_file", ext=f.extension), f.media_type)
                  for f in LIST_FORMATS]
    alternates += [(url_for("trace.references_file", ext=f.extension), f.media_type)
                   for f in bibliography.BIBLIOGRAPHY_FORMATS.values()]
    if fmt is JSON:
        doc = {"count": len(works),
               "works": [{**work_dict(w), "cited": url_for("trace.cited", key=w.key)}
                         for w in works]}
        return _respond(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", JSON,
                        alternates=alternates)
    body = render_template("trace/references.html", works=works)
    return _respond(body, HTML, alternates=alternates)
