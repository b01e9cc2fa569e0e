"""The DOT text of a diagram: nodes and edges written for Graphviz's ``dot`` layout.

Every string that comes from the data goes through :func:`quote` (labels) or
:func:`attribute` (tooltips, links): inside a DOT quoted string a double quote is escaped,
line breaks become spaces, ``&`` is written ``&amp;`` because Graphviz reads character
references (so a label ``&lt;`` stays the four characters it is), and a backslash is
doubled in a label (a tooltip shows the look-alike U+29F5: Graphviz expands ``\\N`` there
whatever the escaping). Graphviz then
escapes ``<``, ``>``, ``&`` and quotes in its SVG output; node names are generated
(``n0``, ``n1`` ...), never taken from the data.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from peerchange.services.diagram_model import DiagramEdge, DiagramNode

# how each kind of node is drawn
NODE_STYLES = {
    "role": 'shape=box, style="rounded,filled", fillcolor="#fde9c9", penwidth=1.5',
    "mechanism": 'shape=box, style="rounded,filled,bold", fillcolor="#d6e6f5"',
    "component": 'shape=box, style="rounded,filled", fillcolor="#eef4fa", fontsize=10',
    "theory": 'shape=note, style=filled, fillcolor="#e9f3e1"',
    "family": 'shape=folder, style=filled, fillcolor="#cfe5c0"',
    "outcome": 'shape=ellipse, style=filled, fillcolor="#f5e1ef"',
}
# how each evidence status is drawn (the legend repeats it in words)
EDGE_STYLES = {
    "stated": 'style=solid, color="#1f1f1f", penwidth=1.6',
    "companion": 'style=dashed, color="#1d5fa8", penwidth=1.4',
    "curated": 'style=dotted, color="#8a5a00", penwidth=1.4',
    "unclaimed": 'style=dotted, color="#8c8c8c"',
}
STYLE_WORDS = {
    "stated": "solid line", "companion": "dashed line", "curated": "dotted line",
    "unclaimed": "grey dotted line",
}
# links drawn against the rank order (theory and family to the left of the mechanism,
# component before it), with the arrow still pointing from subject to object
BACKWARD = frozenset({"groundedIn", "inTheoryFamily"})
WRAP = 26


def quote(text: str) -> str:
    """``text`` as a DOT quoted string whose label shows exactly ``text``."""
    text = " ".join(text.split())
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    return f'"{text}"'


def attribute(text: str) -> str:
    """``text`` as a DOT quoted string for a tooltip or a link. Graphviz expands ``\\N``,
    ``\\G``, ``\\l`` ... there whatever the escaping (a doubled backslash, ``&#92;``),
    so a backslash is shown as the look-alike U+29F5 (a link is an IRI or a path: it has
    none)."""
    text = " ".join(text.split()).replace("&", "&amp;").replace("\\", "\u29f5")
    return '"' + text.replace('"', '\\"') + '"'


def label(text: str, width: int = WRAP) -> str:
    """``text`` wrapped at ``width`` columns as a DOT quoted label (``\\n`` line breaks)."""
    lines = textwrap.wrap(" ".join(text.split()), width) or [""]
    return "\\n".join(quote(line)[1:-1] for line in lines).join('""')


def to_dot(title: str, nodes: Iterable[DiagramNode], edges: Iterable[DiagramEdge], *,
           cluster: str | None = None, clustered: frozenset[str] = frozenset(),
           caption: str = "", rankdir: str = "LR") -> str:
    """The DOT text of a diagram. Nodes whose IRI is in ``clustered`` are drawn inside a
    box labelled ``cluster`` (the change model around its mechanisms)."""
    nodes = list(nodes)
    names = {n.iri: f"n{i}" for i, n in enumerate(nodes)}
    out = [
        f"digraph {quote(title)} {{",
        f'  graph [rankdir={rankdir}, fontname="Arial", fontsize=12, nodesep=0.25, '
        f'ranksep=0.6, newrank=true'
        + (f", label={label(caption, 160)}, labelloc=b, labeljust=l" if caption else "")
        + "];",
        '  node [fontname="Arial", fontsize=11, margin="0.12,0.06"];',
        '  edge [fontname="Arial", fontsize=9, arrowsize=0.7];',
    ]
    inside = [n for n in nodes if n.iri in clustered]
    if cluster is not None and inside:
        out.append("  subgraph cluster_model {")
        out.append(f'    label={label(cluster, 60)}; labelloc=t; style="rounded,dashed"; '
                   'color="#6b7f99"; fontsize=11; class="model";')
        out.extend("  " + _node(names[n.iri], n) for n in inside)
        out.append("  }")
    out.extend(_node(names[n.iri], n) for n in nodes if n not in inside)
    # columns: the outcomes by stage, and the role beside the mechanisms' components
    for group in (("downstream",), ("role", "component")):
        same = [names[n.iri] for n in nodes if n.stage in group or n.kind in group]
        if len(same) > 1:
            out.append(f"  {{rank=same; {'; '.join(same)}}}")
    for i, e in enumerate(edges):
        if e.subject not in names or e.object not in names:
            continue
        back = e.predicate_name in BACKWARD
        tail, head = (e.object, e.subject) if back else (e.subject, e.object)
        attrs = [
            f"id={quote(f'e{i}')}",
            f'class="{e.status}"',
            EDGE_STYLES.get(e.status, EDGE_STYLES["unclaimed"]),
            f"tooltip={attribute(e.sentence)}",
        ]
        if back:
            attrs.append("dir=back")
        out.append(f"  {names[tail]} -> {names[head]} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _node(name: str, node: DiagramNode) -> str:
    attrs = [
        f"id={quote(name)}",
        f'class="{node.kind}{" " + node.stage if node.stage else ""}"',
        f"label={label(node.display)}",
        f"tooltip={attribute(node.display)}",
        NODE_STYLES.get(node.kind, "shape=box"),
    ]
    if node.href:
        attrs.append(f"URL={attribute(node.href)}")
    return f"  {name} [{', '.join(attrs)}];"
