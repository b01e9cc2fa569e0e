"""What the home page says about the graph: the change model, the paper it comes from, the
counts, and how many of the model's links are curated inferences.

Everything is read from the data (``queries/internal/site/`` and
``queries/reports/claims-by-status.rq``), once per data version: nothing about the paper is
written in the code. The summary is shared work (about 12 s of CPU at 10^7 triples) kept
next to the dumps as ``home-{data version}-{layout}-{query digest}.json.gz``
(:mod:`peerchange.services.version_files`): the other workers and a restart over the same
data read that file instead of the store.
"""

from __future__ import annotations

from dataclasses import asdict, astuple, dataclass, field
from pathlib import Path
from typing import Any

from peerchange.core.namespaces import EVIDENCE_STATUSES, PCM
from peerchange.services import version_files
from peerchange.services.memo import per_data_version
from peerchange.services.sparql import SparqlService

QUERIES = "internal/site/"
CURATED = PCM + "CuratedInference"
#: the kinds of claim the home page's warning is about
THEORY_LINKS = PCM + "TheoreticalGroundingClaim"
OUTCOME_LINKS = PCM + "MechanismOutcomeClaim"
CLAIMS_BY_STATUS = "reports/claims-by-status"
#: The queries the summary is read with (the file name holds a digest of their text)
SUMMARY_QUERIES = (QUERIES + "home-counts", CLAIMS_BY_STATUS, QUERIES + "claim-kinds",
                   QUERIES + "first-model", QUERIES + "home-paper")
#: Bump when the summary made from the same rows changes (the file name holds it).
LAYOUT = "1"
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
def _summary(sparql: SparqlService, cache_dir: str | None) -> HomeSummary:
    """The summary of ``sparql``'s data version: from its file in ``cache_dir``, else
    read from the store (and written there); ``cache_dir`` ``None``: no file."""
    version = sparql.graph.version
    path = None if cache_dir is None else summary_path(sparql, cache_dir)
    return version_files.kept(
        path, lambda p: read_summary_file(p, version), lambda: _read_store(sparql),
        lambda f, summary: version_files.json_writer(_document(version, summary))(f))


def summary_path(sparql: SparqlService, cache_dir: str | Path) -> Path:
    """Where the summary of ``sparql``'s data version is kept in ``cache_dir``."""
    texts = [sparql.prepare_file(name).text for name in SUMMARY_QUERIES]
    return version_files.version_file(cache_dir, "home", sparql.graph.version, LAYOUT,
                                      texts, ".json.gz")


def read_summary_file(path: Path, version: str) -> HomeSummary | None:
    """The summary kept in ``path`` (for data version ``version``); ``None`` when it is
    missing, unreadable, cut short or another's."""
    return version_files.read_document(path, LAYOUT, version, _from_document)


def _from_document(doc: dict[str, Any]) -> HomeSummary:
    return HomeSummary(
        models=tuple(ChangeModel(m["iri"], m["label"], m["definition"],
                                 None if m["paper"] is None else Paper(
                                     **{**m["paper"], "authors": tuple(m["paper"]["authors"])}))
                     for m in doc["models"]),
        counts={str(k): int(v) for k, v in doc["counts"].items()},
        statuses=tuple(StatusCount(*s) for s in doc["statuses"]),
        theory_links=LinkCount(*doc["theory_links"]),
        outcome_links=LinkCount(*doc["outcome_links"]),
        extra=dict(doc["extra"]))


def _document(version: str, summary: HomeSummary) -> dict[str, Any]:
    """The summary as the JSON document of its file."""
    return {
        "layout": LAYOUT, "data_version": version,
        "models": [{"iri": m.iri, "label": m.label, "definition": m.definition,
                    "paper": None if m.paper is None else asdict(m.paper)}
                   for m in summary.models],
        "counts": summary.counts,
        "statuses": [[s.status, s.label, s.claims] for s in summary.statuses],
        "theory_links": astuple(summary.theory_links),
        "outcome_links": astuple(summary.outcome_links),
        "extra": summary.extra,
    }


def _read_store(sparql: SparqlService) -> HomeSummary:
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
    """The home page's summary of one loaded graph (computed once per data version).

    :param cache_dir: the folder the summary is kept in across workers and restarts (the
        dumps' folder); ``None``: in memory only.
    """

    def __init__(self, sparql: SparqlService, cache_dir: str | Path | None = None) -> None:
        self.sparql = sparql
        self.cache_dir = str(cache_dir) if cache_dir else None

    def summary(self) -> HomeSummary:
        return _summary(self.sparql, self.cache_dir)


__all__ = ["LAYOUT", "SUMMARY_QUERIES", "ChangeModel", "HomeService", "HomeSummary",
           "LinkCount", "Paper", "StatusCount", "read_summary_file", "summary_path"]
