"""Fixtures for the change-model diagram: the figure of the shipped graph and of the graph
with ``extra-mechanism.ttl``, their SVG parsed, and the truth about every claim read
straight from the store (no diagram code involved)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

ID = "https://w3id.org/peerchange/id/"
PCM = "https://w3id.org/peerchange/onto/"
OBO = "http://purl.obolibrary.org/obo/"
GRAPH = "https://w3id.org/peerchange/graph/"
MODEL = ID + "model/peer-worker-change-model"
EXTRA = Path(__file__).with_name("extra-mechanism.ttl")
EXTRA_MECHANISM = ID + "mechanism/extra-test-mechanism"
NASTY_LABEL = '<script>alert(1)</script> "quotes" & ampersands'
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
STATUS_KEYS = {
    PCM + "StatedInSource": "stated",
    PCM + "ReportedInCompanionPaper": "companion",
    PCM + "CuratedInference": "curated",
}
# the theories of the paper's model and the founding texts their labels must show
THEORISTS = {
    "social learning theory": "Bandura 1977",
    "self-efficacy theory": "Bandura 1997",
    "social comparison theory": "Festinger 1955",
    "working alliance theory": "Bordin 1979",
    "attachment theory": "Bowlby 1973",
    "mentoring theory": "Bozeman and Feeney 2007",
}

requires_engine = pytest.mark.usefixtures("engine")


@pytest.fixture(scope="session")
def engine():
    """The layout engine must be installed (tests/setup.sh installs graphviz-pure)."""
    from peerchange.services.diagram_engine import find_engine

    found = find_engine()
    if found is None:
        pytest.fail("no layout engine: pip install graphviz-pure (tests/setup.sh)")
    return found


@pytest.fixture(scope="session")
def extra_app(make_app):
    return make_app(extra_files=[str(EXTRA)])


@pytest.fixture(scope="session")
def figure(app, engine):
    with app.app_context():
        return app.services.diagram.figure()


@pytest.fixture(scope="session")
def extra_figure(extra_app, engine):
    return extra_app.services.diagram.figure()


def parse_svg(svg: str) -> dict[str, Any]:
    """The nodes and edges of a diagram's SVG: ``nodes`` by node name (``n0`` ...) with
    their classes, link and full label (the link's title), ``edges`` by id with classes
    and the names of their ends."""
    root = ET.fromstring(svg)
    nodes, edges = {}, {}
    for g in root.iter(SVG + "g"):
        classes = (g.get("class") or "").split()
        title = g.find(SVG + "title")
        if "node" in classes:
            a = g.find(f".//{SVG}a")
            nodes[title.text] = {
                "classes": classes, "href": a.get(XLINK + "href") if a is not None else None,
                "label": a.get(XLINK + "title") if a is not None else None,
                "texts": [t.text for t in g.iter(SVG + "text")],
            }
        elif "edge" in classes:
            tail, head = title.text.split("->")
            edges[g.get("id")] = {"classes": classes, "ends": (tail, head)}
    return {"root": root, "nodes": nodes, "edges": edges}


@pytest.fixture(scope="session")
def parsed(figure):
    return parse_svg(figure.svg)


@pytest.fixture(scope="session")
def extra_parsed(extra_figure):
    return parse_svg(extra_figure.svg)


def claim_statuses(store) -> dict[tuple[str, str, str], set[str]]:
    """Every claim's (subject, predicate, object) and status notations, read from the store."""
    import pyoxigraph as ox

    def one(subject, prop):
        return next(iter(store.quads_for_pattern(subject, ox.NamedNode(prop), None)),
                    None)

    out: dict[tuple[str, str, str], set[str]] = {}
    for quad in store.quads_for_pattern(None, ox.NamedNode(PCM + "evidenceStatus"), None):
        ends = [one(quad.subject, OBO + p) for p in ("SEPIO_0000388", "SEPIO_0000389",
                                                    "SEPIO_0000390")]
        if None in ends:
            continue  # not a claim
        key = tuple(e.object.value for e in ends)
        out.setdefault(key, set()).add(STATUS_KEYS[quad.object.value])
    return out


@pytest.fixture(scope="session")
def claim_truth(shipped_store):
    return claim_statuses(shipped_store)
