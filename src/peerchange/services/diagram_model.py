"""The data of a change-model diagram: its nodes, edges, legend and the drawn figure.

Built by :mod:`peerchange.services.diagram`, written as DOT by
:mod:`peerchange.services.diagram_dot`, rendered as the text equivalent by the web's
``diagram/_figure.html`` and as lines by :func:`text_lines`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peerchange.core.namespaces import BASE

STATUS_ORDER = ("stated", "companion", "curated", "unclaimed")
UNCLAIMED_LABEL = "no claim recorded"
# the kind of the node at each end of a link, by the link's property
ENDS = {
    "activatesMechanism": ("role", "mechanism"),
    "componentOf": ("component", "mechanism"),
    "enablesMechanism": ("mechanism", "mechanism"),
    "groundedIn": ("mechanism", "theory"),
    "inTheoryFamily": ("theory", "family"),
    "leadsToOutcome": ("mechanism", "outcome"),
    "contributesTo": ("outcome", "outcome"),
}
KIND_ORDER = ("role", "mechanism", "component", "family", "theory", "outcome")
KIND_NAMES = {
    "role": "Roles", "mechanism": "Change mechanisms", "component": "Mechanism components",
    "family": "Theory families", "theory": "Theories (founding text)",
    "outcome": "Outcomes",
}


@dataclass(frozen=True)
class DiagramNode:
    """A node: its IRI, label, kind, outcome stage, the text it shows and its page."""

    iri: str
    label: str
    kind: str
    stage: str = ""              # "process" or "downstream" for an outcome
    founding: tuple[str, ...] = ()  # "Bandura 1977" ... for a theory
    href: str | None = None

    @property
    def display(self) -> str:
        return f"{self.label} — {'; '.join(self.founding)}" if self.founding else self.label


@dataclass(frozen=True)
class DiagramEdge:
    """A link: subject, property, object, the status of its claim and the words for both."""

    subject: str
    predicate: str
    object: str
    status: str
    predicate_label: str
    sentence: str

    @property
    def predicate_name(self) -> str:
        return self.predicate.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class LegendEntry:
    """One evidence status: its key (the edge class), label, definition and line style."""

    key: str
    label: str
    definition: str
    style: str


@dataclass
class DiagramFigure:
    """A drawn diagram: the SVG (``None`` without an engine), the message, the data."""

    model: str
    model_label: str
    svg: str | None
    message: str | None
    nodes: list[DiagramNode]
    edges: list[DiagramEdge]
    legend: list[LegendEntry]
    dot: str
    engine: str | None = None
    title_id: str = "change-model-title"
    groups: list[tuple[str, list[DiagramNode]]] = field(default_factory=list)

    @property
    def model_href(self) -> str | None:
        return href_of(self.model, "model")

    def node(self, iri: str) -> DiagramNode | None:
        return next((n for n in self.nodes if n.iri == iri), None)


def href_of(iri: str, kind: str) -> str | None:
    """The page of a node: a mechanism's trace, our IRIs' local paths, other http(s) IRIs
    as they are; nothing for any other scheme (never a ``javascript:`` link)."""
    if kind == "mechanism":
        return "/trace/" + iri.rstrip("/").rsplit("/", 1)[-1]
    if iri.startswith(BASE):
        return "/" + iri[len(BASE):]
    if iri.startswith(("http://", "https://")):
        return iri
    return None


def text_lines(figure: DiagramFigure) -> list[str]:
    """The text equivalent as lines: the nodes by kind, then every link with its status."""
    lines = [f"Change model: {figure.model_label} <{figure.model}>", ""]
    for name, nodes in figure.groups:
        lines.append(f"{name}:")
        lines.extend(f"  {n.display} <{n.iri}>" for n in nodes)
    lines += ["", "Links:"]
    lines.extend(f"  {e.sentence}" for e in figure.edges)
    return lines
