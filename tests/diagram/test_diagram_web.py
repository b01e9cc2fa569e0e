"""The diagram on the web: /diagram.svg (headers, ETag, 304, ?model=), /diagram.dot and
.txt, the figure partial's text equivalent, neighbourhood_diagram(), and the fallback
when no layout engine is found."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from flask import render_template

from tests.diagram.conftest import EXTRA_MECHANISM, ID, MODEL, NASTY_LABEL, SVG, parse_svg

pytestmark = pytest.mark.usefixtures("engine")


class Links(HTMLParser):
    """The hrefs and texts of the <a> elements of an HTML fragment, and its tags."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text)))
            self._href = None


def text_section(html: str) -> str:
    start = html.index('<section id="diagram-text"')
    return html[start:html.index("</section>", start)]


def test_svg_headers_etag_and_304(client):
    resp = client.get("/diagram.svg")
    assert resp.status_code == 200
    assert resp.mimetype == "image/svg+xml"
    etag = resp.headers["ETag"]
    root = ET.fromstring(resp.data)
    assert root.tag == SVG + "svg"
    again = client.get("/diagram.svg", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    same = client.get(f"/diagram.svg?model={quote(MODEL, safe='')}")
    assert same.status_code == 200 and same.data == resp.data
    assert same.headers["ETag"] != etag  # the model is part of what selects the answer


def test_unknown_model_is_404(client):
    for path in ("/diagram.svg", "/diagram.dot", "/diagram.txt"):
        resp = client.get(path + "?model=" + quote(ID + "model/nothing", safe=""),
                          headers={"If-None-Match": "*"})
        assert resp.status_code == 404, path


def test_dot_and_text(client, figure):
    dot = client.get("/diagram.dot")
    assert dot.mimetype == "text/vnd.graphviz"
    assert dot.get_data(as_text=True) == figure.dot
    text = client.get("/diagram.txt").get_data(as_text=True)
    for node in figure.nodes:
        assert node.iri in text
    for edge in figure.edges:
        assert edge.sentence in text


def _render_figure(app, figure) -> str:
    with app.test_request_context("/"):
        return render_template("diagram/_figure.html", figure=figure)


def test_text_equivalent_lists_the_same_nodes_and_edges(app, figure, parsed):
    html = _render_figure(app, figure)
    assert html.count('<figure id="change-model"') == 1 and "aria-labelledby" in html
    assert "<svg" in html
    section = text_section(html)
    parser = Links()
    parser.feed(section)
    # every node of the SVG is a link in the text, to the same page
    svg_links = {(n["href"], n["label"]) for n in parsed["nodes"].values()}
    text_links = set(parser.links)
    assert svg_links <= text_links
    # every edge of the SVG is an item of the links list, with its status badge
    items = re.findall(r'<li class="edge (\w+)">(.*?)</li>', section, re.S)
    assert len(items) == len(parsed["edges"]) == len(figure.edges)
    for (status, body), edge in zip(items, figure.edges, strict=True):
        assert status == edge.status
        assert f'<span class="status {edge.status}">' in body
        assert edge.predicate_label in body
    for key in ("stated", "companion", "curated"):
        assert f'<span class="status {key}">' in html


def test_text_equivalent_escapes_and_links_only_http(extra_app, extra_figure):
    html = _render_figure(extra_app, extra_figure)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parser = Links()
    parser.feed(text_section(html))
    assert ("/trace/extra-test-mechanism", NASTY_LABEL) in parser.links
    assert not [h for h, _ in parser.links if h.startswith("javascript")]
    assert "a theory with a javascript: IRI" in html
    assert "script" not in parser.tags


def test_extra_mechanism_through_the_web(extra_app):
    client = extra_app.test_client()
    nodes = parse_svg(client.get("/diagram.svg").get_data(as_text=True))["nodes"]
    assert "/trace/extra-test-mechanism" in {n["href"] for n in nodes.values()}
    assert EXTRA_MECHANISM in client.get("/diagram.txt").get_data(as_text=True)


def test_neighbourhood_global(app):
    with app.test_request_context("/"):
        env = app.jinja_env
        html = str(env.globals["neighbourhood_diagram"](ID + "theory/social-learning"))
        assert "<svg" in html and "social learning theory — Bandura 1977" in html
        assert '<span class="status curated">' in html
        assert env.globals["neighbourhood_diagram"](ID + "ref/Bandura1977") == ""
        assert env.from_string(
            "{% if neighbourhood_diagram is defined %}yes{% endif %}").render() == "yes"


def test_fallback_without_an_engine(make_app, monkeypatch):
    from peerchange.services import diagram_engine

    monkeypatch.setattr(diagram_engine, "find_engine", lambda: None)
    import peerchange.web.diagram as web_diagram

    monkeypatch.setattr(web_diagram, "find_engine", lambda: None)
    app = make_app()
    figure = app.services.diagram.figure()
    assert figure.svg is None and "pip install graphviz-pure" in figure.message
    html = _render_figure(app, figure)
    assert "<svg" not in html and "pip install graphviz-pure" in html
    assert len(re.findall(r'<li class="edge ', text_section(html))) == len(figure.edges)
    client = app.test_client()
    resp = client.get("/diagram.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    body = resp.get_data(as_text=True)
    ET.fromstring(body)
    assert "pip install graphviz-pure" in body and "social learning theory" in body
    assert "pip install graphviz-pure" in client.get("/diagram.txt").get_data(as_text=True)


def test_engine_lookup_honours_the_environment(monkeypatch):
    from peerchange.services.diagram_engine import find_engine

    monkeypatch.setenv("PEERCHANGE_DOT", "none")
    assert find_engine() is None
    monkeypatch.setenv("PEERCHANGE_DOT", "no-such-program-here")
    assert find_engine() is None


def test_figures_are_cached_per_data_version(app, client):
    sparql = app.services.sparql
    first = client.get("/diagram.svg")
    before = sparql.executed
    assert app.services.diagram.figure() is app.services.diagram.figure()
    assert client.get("/diagram.svg").data == first.data
    assert client.get("/diagram.svg", headers={"If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    assert sparql.executed == before  # nothing evaluated again for the same data version


def test_download_links_in_the_figure(app, figure):
    from urllib.parse import unquote

    parser = Links()
    parser.feed(_render_figure(app, figure))
    hrefs = {unquote(h) for h, _ in parser.links}
    for path in ("/diagram.svg", "/diagram.dot", "/diagram.txt"):
        assert f"{path}?model={MODEL}" in hrefs
