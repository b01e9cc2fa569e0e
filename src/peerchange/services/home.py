"""What the home page says about the graph: the change model, the paper it comes from, the
counts, and how many of the model's links are curated inferences.

Everything is read from the data (``queries/internal/site/`` and
``queries/reports/claims-by-status.rq``), once per data version: nothing about the paper is
written in the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peerchange.core.namespaces import EVIDENCE_STATUSES, PCM
from peerchange.services.memo import per_data_version
from peerchange.services.sparql import SparqlService

QUERIES = "internal/site/"
CURATED = PCM + "CuratedInference"
#: the kinds of claim the home page's warning is about
THEORY_LINKS = PCM + "TheoreticalGroundingClaim"
OUTCOME_LINKS = PCM + "MechanismOutcomeClaim"
CLAIMS_BY_STATUS = "reports/claims-by-status"
COUNTS = ("triples", "mechanisms", "theories", "outcomes", "works", "references", "claims")


@dataclass(frozen=True)
class Paper:
    """The paper that develops a change model (its bibliographic record)."""

    iri: str
    key: str | None = None
    title: str | None = None
    year: str | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    citation: str | None = None
    authors: tuple[str, ...] = ()

    @property
    def doi_url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None


@dataclass(frozen=True)
class ChangeModel:
    iri: str
    label: str | None = None
    definition: str | None = None
    paper: Paper | None = None


@dataclass(frozen=True)
class StatusCount:
    """The claims of one evidence status."""

    status: str
    label: str
    claims: int


@dataclass(frozen=True)
class LinkCount:
    """How many claims of one kind there are, and how many are curated inferences."""

    kind: str
    claims: int = 0
    curated: int = 0

    @property
    def all_curated(self) -> bool:
        return self.claims > 0 and self.claims == self.curated


@dataclass(frozen=True)
class HomeSummary:
    models: tuple[ChangeModel, ...]
    counts: dict[str, int]
    statuses: tuple[StatusCount, ...]
    theory_links: LinkCount
    outcome_links: LinkCount
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> ChangeModel | None:
        """The change model (the first in IRI order, if the data holds several: only that
        one is read)."""
        return self.models[0] if self.models else None


def _text(row: dict[str, Any], name: str) -> str | None:
    return row[name].value if name in row else None


def _models(sparql: SparqlService) -> tuple[ChangeModel, ...]:
    """The change model the home page shows (the first in IRI order) and its paper: the
    paper query starts from that one model, however many studies the graph holds."""
    first = [r for r in sparql.select(QUERIES + "first-model") if "model" in r]
    if not first:
        return ()
    rows = sparql.select(QUERIES + "home-paper", {"model": first[0]["model"]})
    by_model: dict[str, dict[str, Any]] = {}
    for row in rows:
        model = by_model.setdefault(row["model"].value, {"row": row, "authors": []})
        author = _text(row, "author")
        if author and author not in model["authors"]:
            model["authors"].append(author)
    models = []
    for iri, found in by_model.items():
        row = found["row"]
        paper = None
        if "paper" in row:
            paper = Paper(row["paper"].value, *(_text(row, n) for n in (
                "key", "title", "year", "journal", "volume", "issue", "pages", "doi",
                "citation")), authors=tuple(found["authors"]))
        models.append(ChangeModel(iri, _text(row, "modelLabel"),
                                  _text(row, "modelDefinition"), paper))
    return tuple(models)


@per_data_version(shared=True)
def _summary(sparql: SparqlService) -> HomeSummary:
    row = sparql.select(QUERIES + "home-counts")[0]
    counts = {name: int(row[name].value) if name in row else 0 for name in COUNTS}
    by_status = [StatusCount(r["status"].value, r["statusLabel"].value, int(r["claims"].value))
                 for r in sparql.select(CLAIMS_BY_STATUS)]
    links = {THEORY_LINKS: [0, 0], OUTCOME_LINKS: [0, 0]}
    for r in sparql.select(QUERIES + "claim-kinds"):
        status, n = r["status"].value, int(r["claims"].value)
        kind = r["kind"].value
        if kind in links:
            links[kind][0] += n
            links[kind][1] += n if status == CURATED else 0
    order = list(EVIDENCE_STATUSES)
    statuses = sorted(by_status, key=lambda s: (
        order.index(s.status) if s.status in order else len(order), s.label))
    return HomeSummary(
        models=_models(sparql), counts=counts, statuses=tuple(statuses),
        theory_links=LinkCount(THEORY_LINKS, *links[THEORY_LINKS]),
        outcome_links=LinkCount(OUTCOME_LINKS, *links[OUTCOME_LINKS]),
    )


class HomeService:
    """The home page's summary of one loaded graph (computed once per data version)."""

    def __init__(self, sparql: SparqlService) -> None:
        self.sparql = sparql

    def summary(self) -> HomeSummary:
        return _summary(self.sparql)


__all__ = ["ChangeModel", "HomeService", "HomeSummary", "LinkCount", "Paper", "StatusCount"]
