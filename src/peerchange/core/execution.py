"""Run one SPARQL query under limits of time, memory, rows and bytes.

pyoxigraph cannot cancel a running query, so queries run in query processes: children
forked from the server process, sharing the store's memory copy-on-write, each evaluating
one query at a time (:mod:`peerchange.core.executor`, the parent's side, and
:mod:`peerchange.core.executor_child`). The parent waits for the answer until the deadline,
watching the child's memory, and kills it at either limit; the next query uses another.

Each server process has a *pool* of query processes per store: a gunicorn worker forks
one per thread when it starts (:func:`start_pool`); a query takes a free one, and forks
one when none is free (the command line, the tests, the Flask development server). A
query process dies with its server process and is stopped at its normal exit
(:func:`stop_all`, also run ``atexit``).

The query process also collects and serializes the answer: it stops at ``max_rows`` rows
or when the next row would take the answer past ``max_bytes`` (a single value bigger than
that gives the rows before it, or none), so it knows whether the answer was cut before it
writes the first byte; then it sends the body in pieces of about 64 KB, which the web
layer can stream (``run_with_timeout(..., stream=True)``).
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from peerchange.core import metrics
from peerchange.core.describe import with_labels
from peerchange.core.errors import (
    BadRequest,
    PeerchangeError,
    QueryFailed,
    QuerySyntaxError,
)
from peerchange.core.executor import Executor
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, Format
from peerchange.core.namespaces import PREFIXES
from peerchange.core.results import (
    SelectWriter,
    estimate_triple_bytes,
    stream_graph,
    write_boolean,
)

log = logging.getLogger(__name__)


@dataclass
class QueryJob:
    """Everything the child needs to evaluate and serialize one query.

    :param form: the query form (``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE``), found
        once by the caller's scan of the text.
    :param fmt: the output format; ``None`` for RDF terms instead of bytes (rows for
        SELECT, triples for CONSTRUCT/DESCRIBE, a boolean for ASK).
    :param default_graphs: IRIs forming the default graph; ``None`` for the store default.
    :param named_graphs: IRIs available to ``GRAPH``; ``None`` for all.
    :param union: use the union of all graphs as the default graph.
    :param label_graphs: for DESCRIBE, the graphs the labels of linked resources come from
        (the query's default graph); ``None`` for every graph.
    :param max_rows: cut SELECT answers (and graphs) longer than this; ``0`` for no limit.
    :param max_bytes: cut answers whose body would be longer than this (measured row by row
        for SELECT, estimated triple by triple for graphs); ``0`` for no limit.
    :param memory_mb: stop the query when it grows its query process by more than this
        many MiB; ``0`` for no limit.
    :param base_iri: what relative IRIs in the query resolve against.
    :param substitutions: values bound to variables as RDF terms (pyoxigraph
        ``substitutions``, SEP-0007), by variable name: how parameters reach a query
        without touching its text.
    """

    text: str
    form: str
    fmt: Format | None = None
    default_graphs: list[str] | None = None
    named_graphs: list[str] | None = None
    union: bool = True
    label_graphs: list[str] | None = None
    max_rows: int = 0
    max_bytes: int = 0
    memory_mb: int = 0
    base_iri: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    substitutions: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] = field(
        default_factory=dict
    )

    def __getstate__(self) -> dict[str, Any]:
        return _shared_out(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(_shared_in(state))


@dataclass
class Answer:
    """An answer: bytes in ``fmt``, or (when no format was asked for) RDF terms.

    :param truncated: the answer was cut at a limit (``limit`` says which: ``"rows"`` or
        ``"bytes"``).
    :param variables: SELECT's variables (terms mode).
    :param rows: SELECT's rows as tuples of terms, ``None`` where unbound (terms mode).
    :param triples: CONSTRUCT/DESCRIBE's triples (terms mode).
    :param boolean: ASK's answer (terms mode).
    :param chunks: with ``stream=True``, the body as an iterator of pieces (``body`` is
        then empty); close it if you stop early.
    :param write_body: (inside :func:`evaluate`) writes the body to a binary writer; the
        callers of :func:`run_with_timeout` get ``body`` or ``chunks`` instead.
    """

    body: bytes
    fmt: Format | None
    form: str
    truncated: bool = False
    count: int = 0
    seconds: float = 0.0
    variables: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    triples: list = field(default_factory=list)
    boolean: bool | None = None
    limit: str | None = None
    chunks: Iterator[bytes] | None = field(default=None, repr=False, compare=False)
    write_body: Callable[[Any], None] | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return _shared_out(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(_shared_in(state))

    def iter_body(self) -> Iterator[bytes]:
        """The body, in pieces (streamed) or whole."""
        return self.chunks if self.chunks is not None else iter([self.body])


# A job or an answer crosses the pipe to or from a query process, which was forked from
# this process and holds the same objects: the shipped prefixes and formats go by name.
_FORMATS: dict[str, Format] = {f.name: f for f in (*RESULT_FORMATS, *RDF_FORMATS)}
_SHARED_PREFIXES = "peerchange.prefixes"


def _shared_out(state: dict[str, Any]) -> dict[str, Any]:
    fmt, prefixes = state.get("fmt"), state.get("prefixes")
    if (fmt is None or _FORMATS.get(fmt.name) is not fmt) and prefixes is not PREFIXES:
        return state
    state = state.copy()
    if fmt is not None and _FORMATS.get(fmt.name) is fmt:
        state["fmt"] = fmt.name
    if prefixes is PREFIXES:
        state["prefixes"] = _SHARED_PREFIXES
    return state


def _shared_in(state: dict[str, Any]) -> dict[str, Any]:
    if isinstance(state.get("fmt"), str):
        state["fmt"] = _FORMATS[state["fmt"]]
    if state.get("prefixes") == _SHARED_PREFIXES:
        state["prefixes"] = PREFIXES
    return state


def check_graph_iris(values: Iterable[str], parameter: str) -> list[str]:
    """Return ``values`` if each is an IRI the store accepts as a graph name.

    :raise BadRequest: naming ``parameter`` and the first value that is not.
    """
    out = []
    for value in values:
        try:
            ox.NamedNode(value)
        except (ValueError, TypeError) as exc:
            raise BadRequest(
                f"{parameter}={value!r} is not an absolute IRI ({exc}); give the graph's "
                "full IRI, such as https://w3id.org/peerchange/graph/ontology."
            ) from None
        out.append(value)
    return out


def evaluate(store: ox.Store, job: QueryJob) -> Answer:
    """Evaluate ``job`` in this process (no time or memory limit; the row and byte limits
    apply). With a format, the answer's ``write_body`` writes the body.

    :raise QuerySyntaxError: if the engine rejects the query text.
    :raise QueryFailed: if the engine fails (the engine's words go to ``log_detail``).
    """
    start = time.perf_counter()
    kwargs: dict[str, object] = {"use_default_graph_as_union": job.union}
    if job.default_graphs is not None:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
    if job.named_graphs is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    if job.base_iri:
        kwargs["base_iri"] = job.base_iri
    if job.substitutions:
        kwargs["substitutions"] = {ox.Variable(k): v for k, v in job.substitutions.items()}
    try:
        result = store.query(job.text, **kwargs)  # type: ignore[arg-type]
    except SyntaxError as exc:
        raise QuerySyntaxError(f"The query does not parse: {exc}") from None
    except OSError as exc:
        raise QueryFailed(log_detail=f"store failure: {exc}") from None
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        return shape_select(variables, (tuple(s[v] for v in variables) for s in result),
                            job, start)
    if isinstance(result, ox.QueryBoolean):
        return shape_boolean(bool(result), job, start)
    return shape_graph(iter(result), job, start,
                       lambda triples: with_labels(store, triples, job.label_graphs))


def shape_select(variables: list[str], solutions: Iterable[tuple], job: QueryJob,
                 start: float) -> Answer:
    """The :class:`Answer` to a SELECT: its rows (terms mode) or a writer of its body in
    ``job.fmt``, cut at the job's row and byte limits. Both backends use it (the remote
    one with the rows it parsed from the store's answer)."""
    fmt = job.fmt
    if fmt is None:
        rows, limit = _take(solutions, job.max_rows, job.max_bytes, _row_size)
        return Answer(b"", None, "SELECT", limit is not None, len(rows),
                      time.perf_counter() - start, variables=variables, rows=rows,
                      limit=limit)
    writer = SelectWriter(fmt, variables)
    parts, limit = _take_select(solutions, writer, job.max_rows, job.max_bytes)
    cut = limit is not None

    def write_select(out: Any) -> None:
        out.write(writer.head(cut))
        for part in parts:
            out.write(part)
        out.write(writer.tail(cut))

    return Answer(b"", fmt, "SELECT", cut, len(parts), time.perf_counter() - start,
                  limit=limit, write_body=write_select)


def shape_boolean(value: bool, job: QueryJob, start: float) -> Answer:
    """The :class:`Answer` to an ASK."""
    fmt = job.fmt
    if fmt is None:
        return Answer(b"", None, "ASK", False, 1, time.perf_counter() - start, boolean=value)
    body = write_boolean(fmt, value)
    return Answer(b"", fmt, "ASK", False, 1, time.perf_counter() - start,
                  write_body=lambda out: out.write(body))


def shape_graph(triples_in: Iterable[Any], job: QueryJob, start: float,
                labels: Callable[[list], list]) -> Answer:
    """The :class:`Answer` to a CONSTRUCT or DESCRIBE, cut at the job's limits; a
    DESCRIBE gets the labels of what it links to from ``labels``."""
    fmt = job.fmt
    form = "DESCRIBE" if job.form == "DESCRIBE" else "CONSTRUCT"
    size = (_triple_size if fmt is None
            else lambda t: estimate_triple_bytes(fmt, t))  # type: ignore[arg-type]
    triples, limit = _take(triples_in, job.max_rows, job.max_bytes, size)
    if form == "DESCRIBE":
        triples = labels(triples)
    seconds = time.perf_counter() - start
    if fmt is None:
        return Answer(b"", None, form, limit is not None, len(triples), seconds,
                      triples=triples, limit=limit)
    cut = limit is not None
    return Answer(b"", fmt, form, cut, len(triples), seconds, limit=limit,
                  write_body=lambda out: stream_graph(fmt, triples, out, prefixes=job.prefixes,
                                                      truncated=cut))


def _row_size(row: tuple) -> int:
    return sum(len(str(t)) + 8 for t in row if t is not None) + 8


def _triple_size(triple: Any) -> int:
    return len(str(triple)) + 4


_VALUED = (ox.NamedNode, ox.Literal)
# room for what comes before and after the rows (the head, the tail, their marks)
_FRAME_BYTES = 1024


def _take(items: Iterable[Any], max_rows: int, max_bytes: int,
          size: Callable[[Any], int]) -> tuple[list, str | None]:
    """The items up to the limits, and which limit cut them (``None`` if none did)."""
    out: list = []
    total = _FRAME_BYTES
    for item in items:
        if max_rows and len(out) >= max_rows:
            return out, "rows"
        if max_bytes:
            total += size(item)
            if total > max_bytes:
                return out, "bytes"
        out.append(item)
    return out, None


def _take_select(solutions: Iterable[tuple], writer: SelectWriter, max_rows: int,
                 max_bytes: int) -> tuple[list[bytes], str | None]:
    """The rows' bytes up to the limits (each row measured as written), and which limit
    cut them."""
    parts: list[bytes] = []
    total = _FRAME_BYTES + len(writer.head(True)) + len(writer.tail(True))
    for row in solutions:
        if max_rows and len(parts) >= max_rows:
            return parts, "rows"
        # the values' length is a floor of the row's bytes: a row that cannot fit is not
        # written at all (a value of 100 MB is not copied into a JSON string first)
        if max_bytes and total + sum(len(t.value) for t in row
                                     if isinstance(t, _VALUED)) > max_bytes:
            return parts, "bytes"
        part = writer.row(row)
        total += len(part)
        if max_bytes and total > max_bytes:
            writer.rows -= 1
            return parts, "bytes"
        parts.append(part)
    return parts, None


# -- running under the limits ---------------------------------------------------------------


def run_with_timeout(store: ox.Store, job: QueryJob, timeout: float, *,
                     stream: bool = False) -> Answer:
    """Evaluate ``job`` in a query process of this process's pool; stop it after
    ``timeout`` s or when it grows past ``job.memory_mb``.

    Evaluates in this process (no time or memory limit) where ``os.fork`` does not exist
    or ``timeout`` is 0.

    :param stream: leave the body in ``answer.chunks``, read from the query process as the
        consumer iterates (the deadline still holds); otherwise it is in ``answer.body``.
    :raise QueryTimeout: when the deadline passes (the query process is killed).
    :raise QueryOutOfMemory: when the query grew past its memory limit (killed too).
    :raise QuerySyntaxError: when the engine rejects the query.
    :raise QueryFailed: when the engine or the query process fails.
    """
    if not hasattr(os, "fork") or timeout <= 0:
        answer = _run_here(store, job, stream)
    else:
        answer = _executor_for(store).run(job, timeout, stream=stream)
    if answer.truncated:
        metrics.count("answers_truncated", limit=answer.limit or "rows")
    return answer


def _run_here(store: ox.Store, job: QueryJob, stream: bool) -> Answer:
    try:
        answer = finish(evaluate(store, job), stream=False)
    except PeerchangeError:
        raise
    except Exception as exc:  # noqa: BLE001 - the same answer as from the query process
        log.error("query failed in process: %s: %s", type(exc).__name__, exc)
        raise QueryFailed(log_detail=f"{type(exc).__name__}: {exc}") from None
    return finish(answer, stream=stream)


def finish(answer: Answer, *, stream: bool) -> Answer:
    """Write an answer's body (``write_body``) into ``body``, or into ``chunks`` when
    ``stream`` (an answer evaluated in this process, by either backend)."""
    if answer.write_body is not None:
        out = io.BytesIO()
        answer.write_body(out)
        answer.body, answer.write_body = out.getvalue(), None
    if stream and answer.chunks is None:
        answer.chunks, answer.body = iter([answer.body]), b""
    return answer


def _work(store: ox.Store, job: QueryJob) -> Answer:
    # what a query process runs for each job: looks ``evaluate`` up when called, so a
    # query process forked after a test replaced it runs the replacement
    return evaluate(store, job)


class Pool:
    """This process's query processes for one store: a query takes a free one (forking
    another when none is free) and gives it back when its answer is read."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self.members: list[Executor] = []
        self.idle: list[Executor] = []
        self.lock = threading.Lock()
        self.retired = False

    def fill(self, size: int) -> None:
        """Fork query processes until there are ``size`` (started now, not at a query)."""
        with self.lock:
            while len(self.members) < size:
                executor = Executor(self.store, _work)
                executor.spawn()
                self.members.append(executor)
                self.idle.append(executor)

    def run(self, job: QueryJob, timeout: float, *, stream: bool = False) -> Answer:
        executor = self._take()
        try:
            answer = executor.run(job, timeout, stream=stream,
                                  done=lambda: self._give(executor))
        except BaseException:
            self._give(executor)
            raise
        if not stream:
            self._give(executor)
        return answer

    @property
    def pids(self) -> list[int]:
        """The process ids of the running query processes."""
        return [e.pid for e in self.members if e.pid]

    def _take(self) -> Executor:
        with self.lock:
            if self.idle:
                return self.idle.pop()
            executor = Executor(self.store, _work)
            self.members.append(executor)
            return executor

    def _give(self, executor: Executor) -> None:
        with self.lock:
            if self.retired:
                executor.close()
            elif executor in self.members and executor not in self.idle:
                self.idle.append(executor)

    def close(self) -> None:
        """Stop every query process of the pool; later queries fork new ones."""
        with self.lock:
            for executor in self.members:
                executor.close()
            self.members.clear()
            self.idle.clear()

    def retire(self) -> None:
        """Stop the idle query processes now and the busy ones when their query ends."""
        with self.lock:
            self.retired = True
            for executor in self.idle:
                executor.close()

    def detach(self) -> None:
        """Forget query processes inherited from a parent process (they are its own)."""
        for executor in self.members:
            executor.detach()


# (process id, id(store)) -> the pool; entries of another process id were inherited from
# the parent at fork and are not this process's to use or stop
_EXECUTORS: dict[tuple[int, int], Pool] = {}
_EXECUTORS_LOCK = threading.Lock()


def _executor_for(store: ox.Store) -> Pool:
    """This process's pool for ``store`` (made on first use)."""
    key = (os.getpid(), id(store))
    with _EXECUTORS_LOCK:
        pool = _EXECUTORS.get(key)
        if pool is None:
            for old in [k for k in _EXECUTORS if k != key]:
                if old[0] == key[0]:
                    _EXECUTORS.pop(old).retire()  # a store that was replaced (a reload)
                else:
                    _EXECUTORS.pop(old).detach()
            pool = _EXECUTORS[key] = Pool(store)
        return pool


def start_pool(store: ox.Store, size: int) -> Pool:
    """Fork ``size`` query processes for ``store`` now (a server worker calls it when it
    starts, with one per thread), so that no request waits for a fork."""
    pool = _executor_for(store)
    if hasattr(os, "fork"):
        pool.fill(size)
    return pool


def stop_all() -> None:
    """Stop every query process of this process (a server worker calls it at exit; it also
    runs ``atexit``)."""
    with _EXECUTORS_LOCK:
        pools = [p for (pid, _), p in _EXECUTORS.items() if pid == os.getpid()]
    for pool in pools:
        pool.close()


atexit.register(stop_all)
