"""The SPARQL service: the one way every part of peerchange runs a query.

Two steps, the same for every caller (``/sparql``, the canned API, the trace, the linked
data pages, ``peerchange query``):

1. :meth:`SparqlService.prepare` (a client's text) or :meth:`SparqlService.prepare_file`
   (a shipped ``.rq`` file with parameters bound as RDF terms) applies the rules that come
   before evaluation and scans the text once, returning a :class:`PreparedQuery`;
2. :meth:`SparqlService.execute` evaluates it under the time limit and returns an
   :class:`~peerchange.core.execution.Answer`: serialized bytes when a format is given,
   RDF terms (rows, triples, a boolean) when not. :meth:`select`, :meth:`ask` and
   :meth:`construct` are the short forms for shipped queries.

Rules for a client's query: a size limit, a nesting limit (checked by the lexical scan
before the engine's parser, which recurses once per level), no updates, no ``SERVICE``
outside the allow-list, the row and byte limits. The dataset: the protocol's
``default-graph-uri`` / ``named-graph-uri`` (absolute IRIs, else 400) override the query's
``FROM`` / ``FROM NAMED``, which override the default (the union of all graphs). A graph
that is named but not in the store is empty; nothing is ever fetched. Shipped queries are
ours: no size, row or byte limit; the time and memory limits still apply.

Over a remote SPARQL store (``graph.remote``, ``serve --endpoint``) the same prepared
query is sent to the store (:mod:`peerchange.core.remote_execution`): the rules above
are applied here first (a refused ``SERVICE`` never reaches the store), the union
default graph is formed by naming every published data graph (``default-graph-uri`` and
``named-graph-uri``), a client's dataset is passed through and ``FROM`` is left to the
store.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from peerchange.core.errors import (
    BadRequest,
    QueryFileError,
    QueryRefused,
    QuerySyntaxError,
    QueryTooLarge,
    StoreFailed,
)
from peerchange.core.execution import Answer, QueryJob, check_graph_iris, run_with_timeout
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, Format
from peerchange.core.knowledge_graph import KnowledgeGraph
from peerchange.core.namespaces import PREFIXES
from peerchange.core.queryfiles import QueryFile, get_query
from peerchange.core.querytext import QueryInfo, inspect_query, without_from

Term = ox.NamedNode | ox.BlankNode | ox.Literal

#: Seconds and megabytes of work read once per data version and shared by every reader
#: (the search index, the list of pages, a canned query's store-wide answer): whole-store
#: reads, not a client's query (406,628 rows for the index at 10^7 triples pass the 1,024
#: MB of a client's query; the store-wide claims 85-90 s of CPU its 30 s)
SHARED_WORK_TIMEOUT = 600.0
SHARED_WORK_MEMORY_MB = 3072

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


@dataclass(frozen=True)
class PreparedQuery:
    """A query that passed the rules, scanned once: ready for :meth:`SparqlService.execute`.

    :param form: ``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``.
    :param info: what the scan found (``FROM`` clauses, ``SERVICE`` targets ...).
    :param bindings: values bound to variables as RDF terms, by variable name.
    :param max_rows: the row limit (``0`` for none: shipped queries).
    :param max_bytes: the limit on the answer's bytes (``0`` for none: shipped queries).
    :param name: the ``.rq`` file's name for a shipped query, else ``None``.
    """

    text: str
    form: str
    info: QueryInfo
    dataset: Dataset = field(default_factory=Dataset)
    base_iri: str | None = None
    bindings: Mapping[str, Term] = field(default_factory=dict)
    max_rows: int = 0
    max_bytes: int = 0
    name: str | None = None

    @property
    def formats(self) -> tuple[Format, ...]:
        """The output formats this query's form can be written in (the default first)."""
        return RESULT_FORMATS if self.form in ("SELECT", "ASK") else RDF_FORMATS


class SparqlService:
    """Prepares and runs read-only queries against one :class:`KnowledgeGraph`.

    The limits are the settings of the same names (``core.config.Settings``):
    ``max_answer_bytes`` (``0`` for none), ``query_memory_mb`` (``0`` for none) and
    ``max_nesting`` besides the time, row and size limits.
    """

    def __init__(
        self,
        graph: KnowledgeGraph,
        *,
        timeout: float = 30.0,
        max_rows: int = 10_000,
        max_query_bytes: int = 64 * 1024,
        service_allowlist: list[str] | None = None,
        max_answer_bytes: int = 16 * 1024 * 1024,
        query_memory_mb: int = 1024,
        max_nesting: int = 128,
    ) -> None:
        self.graph = graph
        self.timeout = timeout
        self.max_rows = max_rows
        self.max_query_bytes = max_query_bytes
        self.service_allowlist = list(service_allowlist or [])
        self.max_answer_bytes = max_answer_bytes
        self.query_memory_mb = query_memory_mb
        self.max_nesting = max_nesting
        # queries evaluated by this service in this process (for tests, benchmarks and the
        # trace's query budget), shared with its copies (:meth:`for_shared_work`)
        self._executed = [0]

    @property
    def executed(self) -> int:
        """Queries evaluated by this service (and its copies with longer limits) in this
        process: for tests, benchmarks and the trace's query budget."""
        return self._executed[0]

    # -- step 1 ------------------------------------------------------------

    def prepare(self, text: str, dataset: Dataset | None = None, *,
                base_iri: str | None = None) -> PreparedQuery:
        """Apply the rules for a client's query and scan it once.

        :param dataset: the protocol's ``default-graph-uri`` / ``named-graph-uri``.
        :param base_iri: what relative IRIs in the query resolve against when it has no
            ``BASE`` (the web app passes the endpoint's URL).
        :raise QueryTooLarge: beyond ``max_query_bytes``.
        :raise BadRequest: nested deeper than ``max_nesting``; a dataset IRI that is not an
            absolute IRI.
        :raise QueryRefused: an empty text, an update sent as a query, a SERVICE not allowed.
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
        if self.max_nesting and info.depth > self.max_nesting:
            raise BadRequest(
                f"The query is nested {info.depth:,} levels deep (groups, brackets and "
                f"parentheses); the server accepts {self.max_nesting:,}. Flatten it, or ask "
                "the operator to raise PEERCHANGE_MAX_NESTING."
            )
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
        return PreparedQuery(text=text, form=info.form or "SELECT", info=info,
                             dataset=checked_dataset(dataset or Dataset()),
                             base_iri=base_iri, max_rows=self.max_rows,
                             max_bytes=self.max_answer_bytes)

    def prepare_file(self, query: str | QueryFile, bindings: Mapping[str, Term] | None = None,
                     *, max_rows: int = 0) -> PreparedQuery:
        """Prepare a shipped ``.rq`` file (by name, e.g. ``internal/trace/claims``).

        :param bindings: values for the query's variables, as RDF terms.
        :param max_rows: a row limit (the canned API passes the service's); none by default.
        :raise QueryFileError: no such file, or an update in it (a packaging bug).
        """
        file = get_query(query) if isinstance(query, str) else query
        info = _scan_file(file)
        return PreparedQuery(text=file.text, form=info.form or "SELECT", info=info,
                             bindings=dict(bindings or {}), max_rows=max_rows, name=file.name)

    # -- step 2 ------------------------------------------------------------

    def execute(self, prepared: PreparedQuery, fmt: Format | None = None, *,
                stream: bool = False) -> Answer:
        """Evaluate ``prepared`` under the time and memory limits.

        :param fmt: the output format (bytes in :attr:`Answer.body`); ``None`` for RDF
            terms (:attr:`Answer.rows`, :attr:`Answer.triples`, :attr:`Answer.boolean`).
        :param stream: the body in :attr:`Answer.chunks`, read as it is iterated (whether
            the answer was cut is known before); close it if you stop early.
        :raise BadRequest: a dataset IRI that is not an absolute IRI (400).
        :raise QuerySyntaxError: the engine rejects the query (400).
        :raise QueryTimeout: past the time limit (503).
        :raise QueryOutOfMemory: past the memory limit (503).
        :raise QueryFailed: the engine failed (500; the detail is logged).
        """
        dataset = checked_dataset(prepared.dataset)
        self._executed[0] += 1
        job = QueryJob(
            text=prepared.text,
            form=prepared.form,
            fmt=fmt,
            max_rows=prepared.max_rows,
            max_bytes=prepared.max_bytes,
            memory_mb=self.query_memory_mb,
            prefixes=PREFIXES,
            base_iri=prepared.base_iri,
            substitutions=dict(prepared.bindings),
        )
        if dataset:
            job.union = False
            job.default_graphs = list(dataset.default_graphs)
            job.named_graphs = list(dataset.named_graphs)
            job.label_graphs = list(dataset.default_graphs)
        elif prepared.info.has_dataset:
            job.union = False  # the engine then honours FROM / FROM NAMED
            job.label_graphs = list(prepared.info.from_graphs)
        remote = self.graph.remote
        if remote is None:
            assert self.graph.store is not None
            return run_with_timeout(self.graph.store, job, self.timeout, stream=stream)
        if dataset and prepared.info.has_dataset:
            # the protocol's dataset replaces FROM / FROM NAMED (SPARQL 1.1 Protocol
            # §2.1.4); Virtuoso would add them together, so the clauses are not sent
            job.text = without_from(job.text, prepared.info)
        if not dataset and not prepared.info.has_dataset:
            # the union default graph, by naming every published data graph (the store's
            # own default graph is its business); GRAPH ranges over the same graphs
            job.default_graphs = job.named_graphs = self.graph.data_graphs
        from peerchange.core.remote_execution import run_remote  # requests: --endpoint only

        try:
            return run_remote(remote, job, self.timeout, union=self.graph.data_graphs,
                              stream=stream)
        except QuerySyntaxError as exc:
            if prepared.name is None:
                raise  # the client's query: a 400 with the store's words
            # our own query, refused by the store (a feature it lacks): not the client's
            # fault, a bad gateway (502) with the store's words in the log only
            raise StoreFailed(remote.url, 400, f"queries/{prepared.name}.rq: {exc}") from None

    def for_shared_work(self) -> SparqlService:
        """This service with time and memory limits of at least :data:`SHARED_WORK_TIMEOUT`
        seconds and :data:`SHARED_WORK_MEMORY_MB` megabytes (no limit stays none): for
        work read once per data version and shared by every reader, not held to a
        client's limits."""
        longer = copy.copy(self)
        if self.timeout and self.timeout < SHARED_WORK_TIMEOUT:
            longer.timeout = SHARED_WORK_TIMEOUT
        if self.query_memory_mb and self.query_memory_mb < SHARED_WORK_MEMORY_MB:
            longer.query_memory_mb = SHARED_WORK_MEMORY_MB
        return longer

    def select(self, query: str | QueryFile, bindings: Mapping[str, Term] | None = None
               ) -> list[dict[str, Any]]:
        """Run a shipped SELECT query; return its rows as ``{variable: term}`` (unbound
        variables left out)."""
        prepared = self.prepare_file(query, bindings)
        if prepared.form != "SELECT":
            raise QueryFileError(f"queries/{prepared.name}.rq is not a SELECT query")
        answer = self.execute(prepared)
        return [
            {v: t for v, t in zip(answer.variables, row, strict=True) if t is not None}
            for row in answer.rows
        ]

    def ask(self, query: str | QueryFile, bindings: Mapping[str, Term] | None = None) -> bool:
        """Run a shipped ASK query; return its answer."""
        prepared = self.prepare_file(query, bindings)
        if prepared.form != "ASK":
            raise QueryFileError(f"queries/{prepared.name}.rq is not an ASK query")
        return bool(self.execute(prepared).boolean)

    def construct(self, query: str | QueryFile, bindings: Mapping[str, Term] | None = None
                  ) -> list[ox.Triple]:
        """Run a shipped CONSTRUCT or DESCRIBE query; return its triples."""
        prepared = self.prepare_file(query, bindings)
        if prepared.form not in ("CONSTRUCT", "DESCRIBE"):
            raise QueryFileError(f"queries/{prepared.name}.rq is not a CONSTRUCT query")
        return list(self.execute(prepared).triples)


def checked_dataset(dataset: Dataset) -> Dataset:
    """``dataset`` if every IRI in it is one the store accepts.

    :raise BadRequest: naming the parameter (``default-graph-uri`` or ``named-graph-uri``)
        and the value.
    """
    check_graph_iris(dataset.default_graphs, "default-graph-uri")
    check_graph_iris(dataset.named_graphs, "named-graph-uri")
    return dataset


_SCANS: dict[tuple[str, str], QueryInfo] = {}


def _scan_file(file: QueryFile) -> QueryInfo:
    """The scan of a shipped file, done once per process (the files do not change)."""
    key = (file.name, file.text)
    info = _SCANS.get(key)
    if info is None:
        info = inspect_query(file.text)
        if info.is_update:
            raise QueryFileError(f"queries/{file.name}.rq is an update, not a query")
        _SCANS[key] = info
    return info
