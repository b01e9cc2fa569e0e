"""What links to a resource, in full and in pages: ``/links/{path}``.

A resource's page and documents show the first of the claims about it and of the links to
it by each property (:mod:`peerchange.services.incoming`); here are all of them:

- ``GET /links/{path}`` (``path`` as in ``/id/theory/mentoring``: ``id/theory/mentoring``)
  — the properties by which resources link to it, each with its total and its list;
- ``GET /links/{path}?property=P[&page=N]`` — the resources linking to it by ``P`` (the
  claims about it, for ``obo:SEPIO_0000388`` and ``obo:SEPIO_0000390``), in IRI order,
  :data:`~peerchange.services.incoming.PAGE_SIZE` a page, each with the claim behind the
  link and its evidence status; HTML or RDF (Turtle, JSON-LD, RDF/XML, N-Triples) by
  ``Accept`` or ``?format=``. The pages link to each other by an HTTP ``Link`` header
  (RFC 8288), HTML links, and in RDF Hydra's ``PartialCollectionView`` of the
  ``hydra:Collection`` (``hydra:totalItems``, ``hydra:manages`` the property and the
  resource), as the reverse trace's pages do.

An unknown resource, a property nothing links by, or a page past the last answer 404.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, render_template, request

from peerchange.core.errors import NotFound
from peerchange.core.formats import Format
from peerchange.core.namespaces import BASE
from peerchange.services.paging import page_view
from peerchange.services.rdf_writer import CONTEXT_FILE, write_document
from peerchange.services.resources import listing_path
from peerchange.services.terms import published_context
from peerchange.web.caching import etag_for
from peerchange.web.linked_data import HTML, OFFERED
from peerchange.web.negotiation import negotiate
from peerchange.web.paging import link_values, page_links, page_number, page_url, request_params
from peerchange.web.state import services

bp = Blueprint("incoming", __name__)


@bp.get("/links/<path:rest>")
def links(rest: str) -> Response:
    """What links to the resource at ``/{rest}``: its properties, or one page of one."""
    ld = services()
    iri = BASE + rest
    if not ld.resources.exists(iri):
        raise NotFound(f"The knowledge graph describes no resource with the IRI {iri}, so "
                       "nothing links to it.", extra={"iri": iri})
    predicate = request.args.get("property")
    number = page_number()
    fmt = negotiate(OFFERED, accept=request.headers.get("Accept"),
                    format_param=request.args.getlist("format"),
                    what=f"what links to <{iri}>")
    incoming = ld.resources.incoming.of(iri)
    if predicate is not None and predicate not in incoming.totals:
        raise NotFound(
            f"Nothing links to {iri} by <{predicate}>. "
            + (f"It is linked to by: {', '.join(f'<{p}>' for p in sorted(incoming.totals))}."
               if incoming.totals else "Nothing links to it."),
            kind="property", extra={"iri": iri})
    root = request.root_url

    def listing(p: str) -> str:
        return root + listing_path(iri, p)

    etag = etag_for(ld.graph.version, root, "links", rest, predicate or "", number, fmt.name)
    headers = {"Cache-Control": "public, no-cache", "Vary": "Accept"}
    if predicate is None:
        def overview() -> str | bytes:
            if fmt is HTML:
                return render_template(
                    "ld/links.html", iri=iri, label=ld.resources.label(iri), listing=listing,
                    totals=sorted(incoming.totals.items()), label_of=ld.resources.label,
                    page=None)
            return write_document(
                ld.resources.incoming.collections(incoming, listing, sorted(incoming.totals)),
                fmt, context=published_context(ld.sparql), context_ref=root + CONTEXT_FILE,
                focus=iri)
        return _answer(overview, fmt, etag, headers)

    def one_page() -> str | bytes:
        page = ld.resources.links_page(iri, predicate, number)
        path = request.path
        pages = page_links(page.window.number, page.window.count,
                           lambda n: page_url(path, n, request_params(only={"property", "format"})))
        if page.window.paged:
            headers["Link"] = ", ".join(link_values(pages))
        if fmt is HTML:
            return render_template("ld/links.html", iri=iri, label=page.label, page=page,
                                   pages=pages if page.window.paged else {},
                                   total=page.window.total)
        view = page_view(page.window, listing(predicate), {
            rel: request.host_url.rstrip("/") + url for rel, url in pages.items()},
            base="") if page.window.paged else None
        triples = page.triples + ld.resources.incoming.collections(
            incoming, listing, [predicate])
        return write_document(triples + list(view.triples if view else ()), fmt,
                              context=published_context(ld.sparql),
                              context_ref=root + CONTEXT_FILE)
    return _answer(one_page, fmt, etag, headers)


def _answer(body: Callable[[], str | bytes], fmt: Format, etag: str,
            headers: dict[str, str]) -> Response:
    """The answer with its ETag: ``304`` without building the body for a matching
    ``If-None-Match`` (as the resource pages and the sitemap do), else ``body()`` (which
    may add headers, e.g. the pages' ``Link``)."""
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304, headers=headers)
    else:
        built = body()
        content_type = "text/html; charset=utf-8" if fmt is HTML else fmt.content_type
        resp = Response(built, content_type=content_type, headers=headers)
    resp.set_etag(etag)
    return resp


__all__ = ["bp"]
