"""The change-model diagram on the web.

- ``/diagram.svg?model=IRI`` the diagram as an SVG image (default: the paper's model; an
  unknown model is 404). Without a layout engine it is a plain SVG holding the message and
  the text equivalent.
- ``/diagram.dot`` the DOT text it is laid out from; ``/diagram.txt`` the text equivalent.
- ``diagram/_figure.html`` the figure the home page includes (given ``figure``): the inline
  SVG and, always, the same nodes and links as HTML lists (``#diagram-text``).
- the Jinja global ``neighbourhood_diagram(iri)``: the small diagram of a mechanism's or a
  theory's links, with its text list, for their pages ("" when it is in no diagram).

Every answer carries an ETag (data version, code version, path, model, engine) and is 304
for a client that holds it, before anything is drawn. The figures come from
:class:`peerchange.services.diagram.DiagramService`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup

from peerchange import __version__
from peerchange.services.diagram_engine import find_engine, text_svg
from peerchange.services.diagram_model import text_lines
from peerchange.web.caching import etag_for
from peerchange.web.state import services

bp = Blueprint("diagram", __name__)

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _model() -> str | None:
    return request.args.get("model") or None


def _respond(body: Callable[[], str], content_type: str) -> Response:
    """Answer ``body()``, or 304 without drawing when the client holds the ETag."""
    model = _model()
    services().diagram.resolve(model)  # NotFound (404) for an unknown model, first
    engine = find_engine()
    etag = etag_for(services().graph.version, __version__, request.script_root,
                    request.path, model, engine)
    resp = Response(content_type=content_type)
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.set_etag(etag)
    if not request.if_none_match.contains_weak(etag):
        resp.set_data(body())
    return resp.make_conditional(request)


@bp.get("/diagram.svg")
def diagram_svg() -> Response:
    def body() -> str:
        figure = services().diagram.figure(_model())
        if figure.svg is None:
            return XML_DECLARATION + text_svg(figure.model_label, figure.message or "",
                                              text_lines(figure))
        return XML_DECLARATION + figure.svg

    return _respond(body, "image/svg+xml; charset=utf-8")


@bp.get("/diagram.dot")
def diagram_dot() -> Response:
    return _respond(lambda: services().diagram.figure(_model()).dot,
                    "text/vnd.graphviz; charset=utf-8")


@bp.get("/diagram.txt")
def diagram_txt() -> Response:
    def body() -> str:
        figure = services().diagram.figure(_model())
        lines = ([figure.message, ""] if figure.message else []) + text_lines(figure)
        return "\n".join(lines) + "\n"

    return _respond(body, "text/plain; charset=utf-8")


@bp.app_template_global("neighbourhood_diagram")
def neighbourhood_diagram(iri: str) -> Markup | str:
    """The small diagram of ``iri``'s links with its text list, or ""."""
    figure = services().diagram.neighbourhood(str(iri))
    if figure is None:
        return ""
    return Markup(render_template("diagram/_neighbourhood.html", figure=figure, centre=iri))
