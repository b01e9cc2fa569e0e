"""The SPARQL query service: the rules a public, read-only endpoint applies before and
around evaluation. The web app's ``/sparql`` and ``peerchange query`` both use it.

Before evaluation: a size limit, no updates, no ``SERVICE`` outside the allow-list. Then
the dataset: the protocol's ``default-graph-uri`` / ``named-graph-uri`` override the
query's ``FROM`` / ``FROM NAMED``, which override the default (the union of all graphs).
A graph that is named but not in the store is empty; nothing is ever fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peerchange.core.errors import PeerchangeError, QueryRefused
from peerchange.core.execution import Answer, QueryJob, run_with_timeout
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, Format
from peerchange.core.knowledge_graph import KnowledgeGraph
from peerchange.core.namespaces import PREFIXES
from peerchange.core.querytext import QueryInfo, inspect_query


class QueryTooLarge(PeerchangeError):
    """The query text is longer than the configured maximum."""

    http_status = 413
    exit_code = 2
    title = "Query too large"


class UpdateRefused(PeerchangeError):
    """An update sent to the read-only service."""

    http_status = 403
    exit_code = 2
    title = "Read-only endpoint"


READ_ONLY_MESSAGE = (
    "This SPARQL endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, ...) "
    "is not accepted."
)

DEFAULT_FORMATS: dict[str, Format] = {
    "SELECT": RESULT_FORMATS[0],
    "ASK": RESULT_FORMATS[0],
    "CONSTRUCT": RDF_FORMATS[0],
    "DESCRIBE": RDF_FORMATS[0],
}


@dataclass
class Dataset:
    """A protocol-level dataset (``default-graph-uri``, ``named-graph-uri``)."""

    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


class SparqlService:
    """Checks and runs read-only queries against one :class:`KnowledgeGraph`."""

    def __init__(
        self,
        graph: KnowledgeGraph,
        *,
        timeout: float = 30.0,
        max_rows: int = 10_000,
        max_query_bytes: int = 64 * 1024,
        service_allowlist: list[str] | None = None,
    ) -> None:
        self.graph = graph
        self.timeout = timeout
        self.max_rows = max_rows
        self.max_query_bytes = max_query_bytes
        self.service_allowlist = list(service_allowlist or [])

    def check(self, text: str) -> QueryInfo:
        """Apply the rules that come before evaluation and return what the text holds.

        :raise QueryTooLarge: beyond ``max_query_bytes``.
        :raise QueryRefused: for an update sent as a query, or a SERVICE not allowed.
        """
        size = len(text.encode("utf-8"))
        if size > self.max_query_bytes:
            raise QueryTooLarge(
                f"The query is {size:,} bytes; this endpoint accepts at most "
                f"{self.max_query_bytes:,} bytes."
            )
        if not text.strip():
            raise QueryRefused("The query is empty. Send a SPARQL query in the 'query' parameter.")
        info = inspect_query(text)
        if info.is_update:
            raise QueryRefused(
                f"This is a SPARQL Update ({info.update_keyword}), sent as a query; updates are "
                "not accepted: this endpoint is read-only."
            )
        for target in info.services:
            if target not in self.service_allowlist:
                allowed = ", ".join(self.service_allowlist) or "none"
                raise QueryRefused(
                    f"SERVICE {target} is not allowed: this endpoint does not call other "
                    f"endpoints except those on its allow-list ({allowed})."
                )
        return info

    def job(self, text: str, info: QueryInfo, formats: dict[str, Format],
            dataset: Dataset | None = None, base_iri: str | None = None) -> QueryJob:
        """Return the evaluation job for an already checked query."""
        job = QueryJob(
            text=text,
            formats={**DEFAULT_FORMATS, **formats},
            max_rows=self.max_rows,
            prefixes=PREFIXES,
            base_iri=base_iri,
        )
        if dataset:
            job.union = False
            job.default_graphs = list(dataset.default_graphs)
            job.named_graphs = list(dataset.named_graphs)
            job.label_graphs = list(dataset.default_graphs)
        elif info.has_dataset:
            job.union = False  # the engine then honours FROM / FROM NAMED
            job.label_graphs = list(info.from_graphs)
        return job

    def run(self, text: str, formats: dict[str, Format] | None = None,
            dataset: Dataset | None = None, base_iri: str | None = None) -> Answer:
        """Check and evaluate a query; return the serialized answer.

        :param base_iri: what relative IRIs in the query resolve against when it has no
            ``BASE`` (the web app passes the endpoint's URL).
        :raise PeerchangeError: any refusal, syntax error, timeout or failure.
        """
        info = self.check(text)
        job = self.job(text, info, formats or {}, dataset, base_iri)
        return run_with_timeout(self.graph.store, job, self.timeout)
