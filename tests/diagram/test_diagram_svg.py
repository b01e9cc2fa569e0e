"""The change-model diagram's SVG, laid out by the real engine: nodes, labels, edge
classes against the claims, links, and escaping."""

from __future__ import annotations

import pytest

from tests.diagram.conftest import (
    EXTRA_MECHANISM,
    GRAPH,
    ID,
    NASTY_LABEL,
    SVG,
    THEORISTS,
    XLINK,
)


def mechanisms_of_model(store, model: str) -> set[str]:
    import pyoxigraph as ox

    return {q.object.value for q in store.quads_for_pattern(
        ox.NamedNode(model), ox.NamedNode("https://w3id.org/peerchange/onto/hasMechanism"),
        None)}


def test_the_svg_is_one_svg_element_without_scripts(figure, parsed):
    assert figure.svg.startswith("<svg")
    root = parsed["root"]
    assert root.tag == SVG + "svg"
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert "<!--" not in figure.svg and "<?xml" not in figure.svg
    assert root.get("viewBox") and root.get("width") is None
    assert figure.engine in ("graphviz-pure", "dot")


def test_every_mechanism_of_the_model_is_a_node(figure, parsed, shipped_store):
    expected = mechanisms_of_model(shipped_store, figure.model)
    assert len(expected) == 3
    drawn = {n["href"] for n in parsed["nodes"].values() if "mechanism" in n["classes"]}
    assert drawn == {"/trace/" + iri.rsplit("/", 1)[-1] for iri in expected}


def test_the_extra_mechanism_is_drawn(extra_figure, extra_parsed, extra_app):
    store = extra_app.services.graph.store
    expected = mechanisms_of_model(store, extra_figure.model)
    assert EXTRA_MECHANISM in expected and len(expected) == 4
    drawn = {n["href"] for n in extra_parsed["nodes"].values()
             if "mechanism" in n["classes"]}
    assert "/trace/extra-test-mechanism" in drawn and len(drawn) == 4


def test_every_theory_shows_its_theorist(parsed):
    theories = {n["label"]: n for n in parsed["nodes"].values() if "theory" in n["classes"]}
    for theory, founding in THEORISTS.items():
        assert f"{theory} — {founding}" in theories, sorted(theories)
        # and the text drawn in the box says it (the label may wrap over several lines)
        assert founding.split()[0] in " ".join(theories[f"{theory} — {founding}"]["texts"])
    assert len(theories) == 8


def test_node_kinds_and_links(parsed):
    by_kind: dict[str, list[dict]] = {}
    for node in parsed["nodes"].values():
        kind = node["classes"][1]
        by_kind.setdefault(kind, []).append(node)
    assert set(by_kind) == {"role", "mechanism", "component", "theory", "family", "outcome"}
    assert [n["href"] for n in by_kind["role"]] == ["/id/role/peer-worker"]
    assert all(n["href"].startswith("/trace/") for n in by_kind["mechanism"])
    for kind in ("component", "theory", "family", "outcome"):
        assert all(n["href"].startswith(f"/id/{ {'family': 'theory-family'}.get(kind, kind)}/")
                   for n in by_kind[kind]), kind
    stages = {c for n in by_kind["outcome"] for c in n["classes"][2:]}
    assert stages == {"process", "downstream"}


def _edge_truth(figure, parsed, truth):
    label_of = {n.iri: n.display for n in figure.nodes}
    checked = 0
    for i, edge in enumerate(figure.edges):
        drawn = parsed["edges"][f"e{i}"]
        assert drawn["classes"] == ["edge", edge.status]
        ends = {parsed["nodes"][name]["label"] for name in drawn["ends"]}
        assert ends == {label_of[edge.subject], label_of[edge.object]}
        claimed = truth.get((edge.subject, edge.predicate, edge.object))
        if claimed is None:
            assert edge.status == "unclaimed"
        else:
            assert {edge.status} == claimed
        checked += 1
    return checked


def test_edges_are_classed_by_the_status_of_their_claims(figure, parsed, claim_truth):
    assert _edge_truth(figure, parsed, claim_truth) == len(parsed["edges"]) == 60
    statuses = {e["classes"][1] for e in parsed["edges"].values()}
    assert statuses == {"stated", "companion", "curated"}


def test_statuses_match_the_shortcut_graphs(figure, shipped_store):
    """A stated edge's triple is in graph/stated, a curated one's in graph/curated ..."""
    import pyoxigraph as ox

    for edge in figure.edges:
        graphs = {q.graph_name.value for q in shipped_store.quads_for_pattern(
            ox.NamedNode(edge.subject), ox.NamedNode(edge.predicate), ox.NamedNode(edge.object))}
        assert GRAPH + edge.status in graphs, edge


def test_extra_links_keep_their_claims_or_none(extra_figure, extra_parsed, extra_app):
    from tests.diagram.conftest import claim_statuses

    truth = claim_statuses(extra_app.services.graph.store)
    _edge_truth(extra_figure, extra_parsed, truth)
    mine = {(e.predicate.rsplit("/", 1)[-1], e.status) for e in extra_figure.edges
            if e.subject == EXTRA_MECHANISM or e.object == EXTRA_MECHANISM}
    assert mine == {("activatesMechanism", "unclaimed"), ("groundedIn", "unclaimed"),
                    ("leadsToOutcome", "curated")}
    assert "unclaimed" in {e.key for e in extra_figure.legend}


def test_labels_are_escaped_in_the_svg(extra_figure, extra_parsed):
    svg = extra_figure.svg
    assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    node = next(n for n in extra_parsed["nodes"].values()
                if n["href"] == "/trace/extra-test-mechanism")
    assert node["label"] == NASTY_LABEL  # the text, exactly, once parsed
    assert NASTY_LABEL.split()[0] in " ".join(node["texts"])
    assert '"quotes" & ampersands' in " ".join(node["texts"])


def test_only_http_iris_are_links(extra_figure, extra_parsed):
    hrefs = [e.get(XLINK + "href") for e in extra_parsed["root"].iter()
             if e.get(XLINK + "href") is not None]
    assert hrefs and not [h for h in hrefs if not h.startswith(("/", "http://", "https://"))]
    theory = next(n for n in extra_parsed["nodes"].values()
                  if n["label"] == "a theory with a javascript: IRI")
    assert theory["href"] is None


@pytest.mark.parametrize("iri, kinds", [
    (ID + "mechanism/role-modelling", {"role", "mechanism", "theory", "outcome"}),
    (ID + "theory/attachment", {"mechanism", "theory", "family"}),
])
def test_neighbourhood(app, engine, iri, kinds):
    near = app.services.diagram.neighbourhood(iri)
    assert near is not None and near.svg is not None
    assert {n.kind for n in near.nodes} == kinds
    assert all(iri in (e.subject, e.object) for e in near.edges)
    parse = __import__("tests.diagram.conftest", fromlist=["parse_svg"]).parse_svg
    assert len(parse(near.svg)["edges"]) == len(near.edges)
    assert app.services.diagram.neighbourhood(ID + "ref/Bandura1977") is None


@pytest.mark.parametrize("text", [
    NASTY_LABEL, r"a \N \G \l back\slash", "&lt; is not <, &amp; is not &", "line\nbreak",
    "]]> <![CDATA[ x", "' single ' quotes",
])
def test_dot_labels_show_exactly_their_text(engine, text):
    import xml.etree.ElementTree as ET

    from peerchange.services.diagram_dot import attribute, quote

    svg = engine.render(f"digraph {{ a [label={quote(text)}, tooltip={attribute(text)}, "
                        f'URL="/x"] }}')
    root = ET.fromstring(svg)
    shown = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    expected = " ".join(text.split())
    assert shown == expected
    # a tooltip shows a backslash as the look-alike U+29F5 (Graphviz expands \N there)
    tooltip = expected.replace("\\", "\u29f5")
    assert [a.get(XLINK + "title") for a in root.iter(SVG + "a")] == [tooltip]
