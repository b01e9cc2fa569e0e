"""Linked data: every IRI of the graph dereferences on the server that serves it.

URL map (each also under ``/peerchange/...``, the full path of the IRIs, design.md §1):

- ``/onto``, ``/onto/{Term}``, ``/id/{kind}/{slug...}``, ``/graph/{name}``: the things
  themselves. They answer ``303 See Other`` to their document, chosen by ``Accept``
  (Turtle without ``Accept`` or for ``*/*``, HTML for browsers) or ``?format=``;
- ``{same}.ttl|.jsonld|.rdf|.nt|.html``: the documents (extension twins), ``200`` with
  ``ETag`` (``304`` for ``If-None-Match``), ``Link`` to the canonical IRI and the
  alternates. An unknown extension is a 404 listing the extensions; an unknown IRI a 404
  page with close matches (HTML or text by ``Accept``), over a graph of more than
  ``SUGGEST_MAX_TRIPLES`` triples a search for its words instead (no read of every page);
- ``/releases/{version}/onto``: the version IRI of the ontology (303 like ``/onto``);
- ``/dataset`` and ``/.well-known/void`` (VoID + DCAT, negotiated), ``/dataset.{ext}``;
- ``/dumps/``, ``/dumps/{release|latest}/``, ``/dumps/{release|latest}/{file}``: the full
  dumps, served as files (ETag, Last-Modified, 304, Range);
- ``/context.jsonld``: the published JSON-LD context;
- ``/sitemap.xml`` (one file, or the index of ``/sitemap-{n}.xml`` above 50,000 pages)
  and ``/robots.txt``.

CORS headers come from the app (flask-cors).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, render_template, request

from peerchange import __version__
from peerchange.core.errors import NotFound, Suggestion
from peerchange.core.formats import Format
from peerchange.core.namespaces import BASE, EVIDENCE_STATUSES, GRAPH, ONTOLOGY, PREFIXES, VOID
from peerchange.services.assembly import Services
from peerchange.services.dumps import LATEST, DumpNotFound
from peerchange.services.embedded import dataset_jsonld, resource_jsonld
from peerchange.services.rdf_writer import CONTEXT_FILE, DOCUMENT_FORMATS
from peerchange.services.resources import MAX_SUGGEST_CHARS, path_for_iri
from peerchange.services.sitemap import sitemap_limits
from peerchange.services.terms import published_context
from peerchange.web.caching import etag_for
from peerchange.web.dump_files import send_dump
from peerchange.web.negotiation import negotiate
from peerchange.web.state import services

bp = Blueprint("linked_data", __name__)
FULL_PATH_NAME = "linked_data_full"
FULL_PATH_PREFIX = "/peerchange"

HTML = Format("html", "text/html", ("application/xhtml+xml",), "html")
# Turtle first: what a client without Accept (or with */*) gets
OFFERED: tuple[Format, ...] = (*DOCUMENT_FORMATS, HTML)
EXTENSIONS: dict[str, Format] = {f.extension: f for f in OFFERED}
EXTENSION_LIST = ", ".join("." + e for e in EXTENSIONS)
FORMAT_NAMES = {"turtle": "Turtle", "jsonld": "JSON-LD", "rdfxml": "RDF/XML",
                "ntriples": "N-Triples", "html": "HTML"}
# the CSS class of an evidence status: the name of the graph of its shortcut edges
STATUS_CLASSES = {status: graph[len(GRAPH):] for status, graph in EVIDENCE_STATUSES.items()}


def register(app: Flask) -> None:
    """Create the services and register the routes at ``/`` and under ``/peerchange``."""
    app.register_blueprint(bp)
    app.register_blueprint(bp, url_prefix=FULL_PATH_PREFIX, name=FULL_PATH_NAME)


def _ld() -> Services:
    return services()


def _base() -> str:
    """The site root on the host the request came in on (``http://host/`` or
    ``http://host/peerchange/`` for the full-path twin), ending in ``/``."""
    root = request.root_url
    if request.blueprint == FULL_PATH_NAME:
        root += FULL_PATH_PREFIX.lstrip("/") + "/"
    return root


def href(iri: str) -> str:
    """Where a page links to for ``iri``: our IRIs on this host, others as they are."""
    path = path_for_iri(iri)
    return _base() + path if path is not None else iri



@bp.app_template_global("ld_href")
def _template_href(iri: str) -> str:
    return href(iri)


@bp.app_template_global("ld_format_name")
def _template_format_name(fmt: Format) -> str:
    return FORMAT_NAMES.get(fmt.name, fmt.name)


@bp.app_template_global("ld_status_class")
def _template_status_class(iri: str | None) -> str:
    return STATUS_CLASSES.get(iri or "", "other")


@bp.context_processor
def _site() -> dict[str, object]:
    """What every linked-data page (and its error pages) shows in its header and footer."""
    return {"base": _base(), "software_version": __version__,
            "data_version": services().graph.version}


def _render(template: str, **context: object) -> str:
    return render_template(template, **context)


# ---------------------------------------------------------------------------
# Resources: 303 from the thing, 200 for its documents, 404 with suggestions
# ---------------------------------------------------------------------------


@bp.get("/onto")
def ontology() -> Response:
    return _dereference("onto")


@bp.get("/onto.<ext>")
def ontology_document(ext: str) -> Response:
    return _dereference(f"onto.{ext}")


@bp.get("/onto/<path:rest>")
def term(rest: str) -> Response:
    return _dereference("onto/" + rest)


@bp.get("/id/<path:rest>")
def instance(rest: str) -> Response:
    return _dereference("id/" + rest)


@bp.get("/graph/<path:rest>")
def named_graph(rest: str) -> Response:
    return _dereference("graph/" + rest)


@bp.get("/onto/")
def ontology_slash() -> Response:
    resp = Response(status=301)
    resp.headers["Location"] = _base() + "onto"
    return resp


@bp.get("/<any(id, graph):root>/")
def namespace_root(root: str) -> Response:
    """``/id/`` and ``/graph/`` name no resource: a 404 that lists what is under them."""
    resources = _ld().resources
    if not resources.suggests_from_every_page:  # a large graph: no read of every page
        raise _not_found(BASE + root + "/", note=(
            f"{BASE}{root}/ names no resource; instances are {BASE}id/{{kind}}/{{slug}}, "
            f"named graphs {BASE}graph/{{name}}; the dataset page lists the graphs."),
            suggestions=[])
    under = [iri for iri in resources.pages() if iri.startswith(f"{BASE}{root}/")]
    kinds = sorted({(path_for_iri(iri) or "").split("/")[1] for iri in under})
    if root == "id":
        suggestions = [(f"{_base()}id/{kind}", f"{kind} (what is under /id/{kind})")
                       for kind in kinds]
        note = (f"{BASE}id/ names no resource; instances are {BASE}id/{{kind}}/{{slug}}. "
                f"The kinds: {', '.join(kinds)}.")
    else:
        suggestions = [(href(iri), resources.label(iri)) for iri in under]
        note = f"{BASE}graph/ names no resource; the named graphs are listed below."
    raise _not_found(BASE + root + "/", note=note, suggestions=suggestions)


@bp.get("/releases/<version>/onto")
@bp.get("/releases/<version>/onto.<ext>")
def ontology_release(version: str, ext: str | None = None) -> Response:
    """The ontology's version IRI: the current release is the ontology itself."""
    current = services().graph.ontology_version
    if version != current:
        raise _not_found(
            f"{BASE}releases/{version}/onto",
            note=f"This server serves release {current} of the ontology only; its version IRI "
                 f"is {BASE}releases/{current}/onto. Earlier releases are in the project's "
                 "history.",
        )
    if ext is None:
        return _see_other(ONTOLOGY, "onto")
    return _dereference(f"onto.{ext}")


def _dereference(rel: str) -> Response:
    """Answer for the path ``rel`` (relative to the site root, no leading slash)."""
    resources = _ld().resources
    iri = BASE + rel
    if resources.exists(iri):
        return _see_other(iri, rel)
    stem, dot, ext = rel.rpartition(".")
    if dot and "/" not in ext and resources.exists(BASE + stem):
        fmt = EXTENSIONS.get(ext)
        if fmt is None:
            raise _not_found(
                BASE + rel,
                note=f"{BASE + stem} has no .{ext} document. Its documents are "
                     f"{EXTENSION_LIST} (or ask for {BASE + stem} with an Accept header).",
                suggestions=[(href(BASE + stem) + "." + e, f"{resources.label(BASE + stem)} "
                              f"({f.media_type})") for e, f in EXTENSIONS.items()],
            )
        return _document(BASE + stem, stem, fmt)
    if rel.endswith("/") and resources.exists(BASE + rel.rstrip("/")):
        resp = Response(status=301)
        resp.headers["Location"] = _base() + rel.rstrip("/")
        return resp
    raise _not_found(iri)


def _links(iri: str, rel: str, current: Format | None) -> str:
    base = _base()
    parts = [f'<{iri}>; rel="canonical"']
    parts += [
        f'<{base}{rel}.{f.extension}>; rel="alternate"; type="{f.media_type}"'
        for f in OFFERED if f is not current
    ]
    return ", ".join(parts)


def _see_other(iri: str, rel: str) -> Response:
    fmt = negotiate(OFFERED, accept=request.headers.get("Accept"),
                    format_param=request.args.getlist("format"), what=f"<{iri}>")
    target = f"{_base()}{rel}.{fmt.extension}"
    resp = Response(f"303 See Other: {target}\n", status=303,
                    content_type="text/plain; charset=utf-8")
    resp.headers["Location"] = target
    resp.headers["Vary"] = "Accept"
    resp.headers["Link"] = _links(iri, rel, None)
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


def _document(iri: str, rel: str, fmt: Format) -> Response:
    etag = etag_for(services().graph.version, _base(), rel, fmt.name)
    headers = {"Link": _links(iri, rel, fmt), "Cache-Control": "public, no-cache"}
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304, headers=headers)
        resp.set_etag(etag)
        return resp
    if fmt is HTML:
        body: bytes | str = _html_page(iri, rel)
        content_type = "text/html; charset=utf-8"
    else:
        body = _rdf_document(iri, fmt)
        content_type = fmt.content_type
    resp = Response(body, content_type=content_type, headers=headers)
    resp.set_etag(etag)
    return resp.make_conditional(request)


def _context_ref() -> str:
    return _base() + CONTEXT_FILE


def _rdf_document(iri: str, fmt: Format) -> bytes:
    ld = _ld()
    if iri.startswith(GRAPH) and iri in ld.resources.named_graphs:
        return ld.description.graph_document(iri, _base(), fmt, _context_ref())
    return ld.resources.document(iri, fmt, _context_ref(), request.root_url)


def _alternates(rel: str) -> list[tuple[str, Format]]:
    return [(f"{_base()}{rel}.{f.extension}", f) for f in DOCUMENT_FORMATS]


def _html_page(iri: str, rel: str) -> str:
    ld = _ld()
    if iri.startswith(GRAPH) and iri in ld.resources.named_graphs:
        summary = ld.description.graph_summary(iri)
        return _render("ld/graph.html", graph=summary, resources=ld.resources,
                       dump_url=ld.description.graph_dump_url(iri, _base()),
                       alternates=_alternates(rel), iri=iri)
    page = ld.resources.page(iri)
    return _render("ld/resource.html", page=page, alternates=_alternates(rel), iri=iri,
                   is_ontology=iri == ONTOLOGY,
                   embedded_jsonld=resource_jsonld(ld.resources, iri, request.root_url))


def _not_found(iri: str, *, note: str | None = None,
               suggestions: list[tuple[str, str]] | None = None) -> NotFound:
    """The 404 for an unknown IRI, with close matches as suggestions (``(href, label)``)."""
    if suggestions is None:
        suggestions = [(href(s.iri), s.label) for s in _ld().resources.suggest(iri)]
        if not _ld().resources.suggests_from_every_page:
            suggestions = _search_for(iri)
    message = note or f"The knowledge graph describes no resource with the IRI {iri}."
    return NotFound(
        message,
        kind="resource",
        detail=(f"All resources: {_base()}sitemap.xml; the dataset: {_base()}dataset; "
                f"SPARQL: {request.root_url}sparql"),
        suggestions=[Suggestion(url, label, url) for url, label in suggestions],
        extra={"iri": iri},
    )


def _search_for(iri: str) -> list[tuple[str, str]]:
    """The search for the words of ``iri``'s last segment (a 404's suggestion over a
    graph too large to match against every page: costs nothing until followed)."""
    last = iri.rstrip("/").rsplit("/", 1)[-1][:MAX_SUGGEST_CHARS]
    for ext in (".html", ".ttl", ".jsonld", ".rdf", ".nt"):
        last = last.removesuffix(ext)
    words = " ".join(last.replace("-", " ").replace("_", " ").split())
    if not words:
        return []
    return [(f"{_base()}search?{urlencode({'q': words})}", f"Search for \u201c{words}\u201d")]


# ---------------------------------------------------------------------------
# The dataset description
# ---------------------------------------------------------------------------


@bp.get("/.well-known/void")
@bp.get("/dataset")
def dataset() -> Response:
    fmt = negotiate(OFFERED, accept=request.headers.get("Accept"),
                    format_param=request.args.getlist("format"),
                    what="the dataset description")
    resp = _dataset_document(fmt)
    resp.headers["Vary"] = "Accept"
    resp.headers["Content-Location"] = f"{_base()}dataset.{fmt.extension}"
    return resp


@bp.get("/dataset.<ext>")
def dataset_document(ext: str) -> Response:
    fmt = EXTENSIONS.get(ext)
    if fmt is None:
        raise _not_found(
            f"{_base()}dataset.{ext}",
            note=f"The dataset description has no .{ext} document; its documents are "
                 f"{EXTENSION_LIST}.",
            suggestions=[(f"{_base()}dataset.{e}", f.media_type) for e, f in EXTENSIONS.items()],
        )
    return _dataset_document(fmt)


def _dataset_document(fmt: Format) -> Response:
    ld = _ld()
    base = _base()
    etag = etag_for(services().graph.version, base, "dataset", fmt.name)
    links = [f'<{base}dataset.{f.extension}>; rel="alternate"; type="{f.media_type}"'
             for f in OFFERED if f is not fmt]
    links.append(f'<{VOID}>; rel="profile"')
    headers = {"Link": ", ".join(links), "Cache-Control": "public, no-cache"}
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304, headers=headers)
        resp.set_etag(etag)
        return resp
    if fmt is HTML:
        body: bytes | str = _render(
            "ld/dataset.html", d=ld.description, resources=ld.resources,
            dumps=ld.description.dump_urls(base), prefixes=PREFIXES,
            alternates=[(f"{base}dataset.{f.extension}", f) for f in DOCUMENT_FORMATS],
            embedded_jsonld=dataset_jsonld(ld.description, base),
        )
        content_type = "text/html; charset=utf-8"
    else:
        body = ld.description.document(base, fmt, _context_ref())
        content_type = fmt.content_type
    resp = Response(body, content_type=content_type, headers=headers)
    resp.set_etag(etag)
    return resp.make_conditional(request)


@bp.get("/" + CONTEXT_FILE)
def context() -> Response:
    """The published JSON-LD context."""
    body = json.dumps(published_context(_ld().sparql), indent=1, ensure_ascii=False) + "\n"
    resp = Response(body, content_type="application/ld+json")
    resp.set_etag(etag_for(services().graph.version, "context"))
    resp.headers["Cache-Control"] = "public, no-cache"
    return resp.make_conditional(request)


# ---------------------------------------------------------------------------
# Dumps
# ---------------------------------------------------------------------------


@bp.get("/dumps")
@bp.get("/dumps/")
@bp.get("/dumps/<release>/")
def dumps_index(release: str | None = None) -> Response:
    """The dumps of the release served here (HTML for browsers, else the JSON manifest)."""
    ld = _ld()
    current = ld.description.release
    if release is not None and release not in (current, LATEST):
        raise DumpNotFound(
            f"This server holds release {current} only (also published as '{LATEST}'); "
            f"there are no dumps of release {release!r} here. The index is at "
            f"{_base()}dumps/.")
    manifest = ld.dumps.manifest()
    base = _base()
    folder = f"{base}dumps/{release or current}/"
    fmt = negotiate((Format("json", "application/json"), HTML),
                    accept=request.headers.get("Accept"), what="the dump index")
    if fmt is HTML:
        resp = Response(_render("ld/dumps.html", manifest=manifest, folder=folder,
                                current=current, latest=f"{base}dumps/{LATEST}/"),
                        content_type="text/html; charset=utf-8")
    else:
        doc = {**manifest, "url": folder, "latest": f"{base}dumps/{LATEST}/",
               "files": [{**f, "url": folder + f["name"]} for f in manifest["files"]]}
        resp = Response(json.dumps(doc, indent=1) + "\n", content_type="application/json")
    resp.headers["Vary"] = "Accept"
    resp.set_etag(etag_for(services().graph.version, folder, fmt.name))
    resp.headers["Cache-Control"] = "public, no-cache"
    return resp.make_conditional(request)


@bp.get("/dumps/<release>/<path:name>")
def dump_file(release: str, name: str) -> Response:
    """One dump file: ETag (its SHA-256), Last-Modified, Content-Length, 304 and Range;
    a compressed dump is negotiated (:mod:`peerchange.web.dump_files`)."""
    try:
        info, path = _ld().dumps.file(release, name)
    except DumpNotFound as exc:
        exc.message += f" The index is at {_base()}dumps/."
        raise
    resp = send_dump(info, path, request)  # a .gz dump: the file, or its RDF for RDF clients
    resp.headers["Link"] = (f'<{_base()}dumps/{_ld().description.release}/{info.name}>; '
                            'rel="canonical"')
    return resp


# ---------------------------------------------------------------------------
# Crawlers
# ---------------------------------------------------------------------------


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Every page (ontology, terms, instances, graphs, the dataset): one ``<urlset>``, or
    the ``<sitemapindex>`` of its parts above the protocol's limits of a file
    (:mod:`peerchange.services.sitemap`)."""
    return _sitemap_file("sitemap", lambda base: _ld().sitemap.sitemap(base))


@bp.get("/sitemap-<part>.xml")
def sitemap_part(part: str) -> Response:
    """One part of the sitemap (``1`` ... ``n``); anything else is a 404."""
    number = _ld().sitemap.part_number(_base(), part)  # NotFound first, never a 304
    return _sitemap_file(f"sitemap-{number}",
                         lambda base: _ld().sitemap.part(base, number))


def _sitemap_file(name: str, body: Callable[[str], str]) -> Response:
    """A sitemap file with its ETag (the data version, the site root, the file and the
    limits of a file), ``304`` without building it for a matching ``If-None-Match``."""
    base = _base()
    etag = etag_for(services().graph.version, base, name, sitemap_limits())
    headers = {"Cache-Control": "public, no-cache"}
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304, headers=headers)
    else:
        resp = Response(body(base), content_type="application/xml; charset=utf-8",
                        headers=headers)
    resp.set_etag(etag)
    return resp


@bp.get("/robots.txt")
def robots() -> Response:
    base = _base()
    root = request.root_url
    body = (
        "# peerchange: crawl the resource pages and dumps; do not crawl SPARQL queries.\n"
        "User-agent: *\n"
        f"Disallow: {_path(root)}sparql?\n"
        "Allow: /\n"
        f"Sitemap: {base}sitemap.xml\n"
    )
    resp = Response(body, content_type="text/plain; charset=utf-8")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


def _path(url: str) -> str:
    """The path part of an absolute URL (``http://h/x/`` → ``/x/``)."""
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url


__all__ = ["bp", "register", "href"]
