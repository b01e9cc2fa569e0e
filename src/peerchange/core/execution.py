"""Run one SPARQL query under a wall-clock limit and a row limit.

pyoxigraph cannot cancel a running query, so queries run in an executor: a child process
forked from the server worker, sharing the store's memory copy-on-write, that evaluates
one query at a time. The worker waits for the answer until the deadline and kills the
executor if it passes, which frees the worker whatever the query does (ORDER BY and GROUP
BY included); the next query forks a fresh executor. The executor also serializes the
answer, so the worker only relays bytes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import signal
import stat
import struct
import threading
import time
from dataclasses import dataclass, field

import pyoxigraph as ox

from peerchange.core.describe import with_labels
from peerchange.core.errors import (
    PeerchangeError,
    QueryFailed,
    QuerySyntaxError,
    QueryTimeout,
)
from peerchange.core.formats import Format
from peerchange.core.results import write_boolean, write_graph, write_select

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
    base_iri: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    substitutions: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] = field(
        default_factory=dict
    )


@dataclass
class Answer:
    """An answer: bytes in ``fmt``, or (when no format was asked for) RDF terms.

    :param variables: SELECT's variables (terms mode).
    :param rows: SELECT's rows as tuples of terms, ``None`` where unbound (terms mode).
    :param triples: CONSTRUCT/DESCRIBE's triples (terms mode).
    :param boolean: ASK's answer (terms mode).
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


def evaluate(store: ox.Store, job: QueryJob) -> Answer:
    """Evaluate and serialize ``job`` in this process (no time limit).

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
    limit = job.max_rows or None
    fmt = job.fmt
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows, truncated = _take((tuple(s[v] for v in variables) for s in result), limit)
        seconds = time.perf_counter() - start
        if fmt is None:
            return Answer(b"", None, "SELECT", truncated, len(rows), seconds,
                          variables=variables, rows=rows)
        body = write_select(fmt, variables, rows, truncated=truncated)
        return Answer(body, fmt, "SELECT", truncated, len(rows), time.perf_counter() - start)
    if isinstance(result, ox.QueryBoolean):
        if fmt is None:
            return Answer(b"", None, "ASK", False, 1, time.perf_counter() - start,
                          boolean=bool(result))
        return Answer(write_boolean(fmt, bool(result)), fmt, "ASK", False, 1,
                      time.perf_counter() - start)
    form = "DESCRIBE" if job.form == "DESCRIBE" else "CONSTRUCT"
    triples, truncated = _take(iter(result), limit)
    if form == "DESCRIBE":
        triples = with_labels(store, triples, job.label_graphs)
    if fmt is None:
        return Answer(b"", None, form, truncated, len(triples), time.perf_counter() - start,
                      triples=triples)
    body = write_graph(fmt, triples, prefixes=job.prefixes, truncated=truncated)
    return Answer(body, fmt, form, truncated, len(triples), time.perf_counter() - start)


def _take(items, limit: int | None) -> tuple[list, bool]:
    out = []
    for item in items:
        if limit is not None and len(out) >= limit:
            return out, True
        out.append(item)
    return out, False


def run_with_timeout(store: ox.Store, job: QueryJob, timeout: float) -> Answer:
    """Evaluate ``job`` in this process's query executor; stop it after ``timeout`` s.

    Evaluates in this process (no limit) where ``os.fork`` does not exist or ``timeout``
    is 0.

    :raise QueryTimeout: when the deadline passes (the executor is killed and replaced).
    :raise QuerySyntaxError: when the engine rejects the query.
    :raise QueryFailed: when the engine or the executor fails.
    """
    if not hasattr(os, "fork") or timeout <= 0:
        try:
            return evaluate(store, job)
        except PeerchangeError:
            raise
        except Exception as exc:  # noqa: BLE001 - the same answer as from the executor
            log.error("query failed in process: %s: %s", type(exc).__name__, exc)
            raise QueryFailed(log_detail=f"{type(exc).__name__}: {exc}") from None
    return _executor_for(store).run(job, timeout)


_EXECUTORS: dict[tuple[int, int], Executor] = {}
_EXECUTORS_LOCK = threading.Lock()


def _executor_for(store: ox.Store) -> Executor:
    # one executor per process (a forked server worker gets its own) and per store
    key = (os.getpid(), id(store))
    with _EXECUTORS_LOCK:
        executor = _EXECUTORS.get(key)
        if executor is None:
            for old in [k for k in _EXECUTORS if k[0] != key[0] or k[1] != key[1]]:
                if old[0] == key[0]:
                    _EXECUTORS.pop(old).close()
                else:  # inherited from a parent process: not ours to stop
                    _EXECUTORS.pop(old)
            executor = _EXECUTORS[key] = Executor(store)
        return executor


class Executor:
    """A child process, forked from this one, that evaluates queries one at a time.

    It shares the store's memory copy-on-write and answers over a pipe. A query that runs
    past its deadline is stopped by killing the child; the next query forks a fresh one.
    Forking once instead of per query keeps the cost of the time limit to a pipe round
    trip (see bench/README.md).
    """

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self.pid = 0
        self.to_child = -1
        self.from_child = -1
        self.lock = threading.Lock()

    def run(self, job: QueryJob, timeout: float) -> Answer:
        with self.lock:  # one query at a time per executor (threaded dev server)
            start = time.perf_counter()
            if not self.pid:
                self._spawn()
            request = pickle.dumps(job)
            try:
                _write_frame(self.to_child, request)
                data = _read_frame(self.from_child, start + timeout)
            except TimeoutError:
                self.close()
                raise QueryTimeout(
                    f"The query did not finish within the server's limit of {timeout:g} s "
                    "and was stopped. Narrow it (more selective patterns, a LIMIT) or ask "
                    "the operator to raise PEERCHANGE_QUERY_TIMEOUT."
                ) from None
            except (BrokenPipeError, EOFError, OSError):
                self.close()
                raise QueryFailed(
                    "The query process ended without an answer (out of memory?)."
                ) from None
            outcome = pickle.loads(data)
            if isinstance(outcome, QuerySyntaxError):
                raise outcome
            if isinstance(outcome, QueryFailed):
                log.error("query failed in the executor: %s", outcome.log_detail)
                raise outcome
            outcome.seconds = time.perf_counter() - start
            return outcome

    def _spawn(self) -> None:
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child never returns into the parent's code
            status = 0
            try:
                os.close(parent_read)
                os.close(parent_write)
                _close_inherited_streams(keep={child_read, child_write})
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _serve_jobs(self.store, child_read, child_write)
            except BaseException:  # noqa: BLE001
                status = 1
            finally:
                os._exit(status)
        os.close(child_read)
        os.close(child_write)
        self.pid, self.to_child, self.from_child = pid, parent_write, parent_read

    def close(self) -> None:
        """Stop the child (if any) and forget it."""
        if self.pid:
            for fd in (self.to_child, self.from_child):
                with contextlib.suppress(OSError):
                    os.close(fd)
            _kill(self.pid)
            self.pid, self.to_child, self.from_child = 0, -1, -1


def _serve_jobs(store: ox.Store, read_fd: int, write_fd: int) -> None:
    while True:
        try:
            request = _read_frame(read_fd, None)
        except EOFError:
            return  # the parent closed the pipe or exited
        job: QueryJob = pickle.loads(request)
        outcome: Answer | PeerchangeError
        try:
            outcome = evaluate(store, job)
        except QuerySyntaxError as exc:
            outcome = QuerySyntaxError(exc.message)
        except QueryFailed as exc:
            outcome = QueryFailed(log_detail=exc.log_detail)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, never as a trace
            outcome = QueryFailed(log_detail=f"{type(exc).__name__}: {exc}")
        _write_frame(write_fd, pickle.dumps(outcome))


_LEN = struct.Struct("!Q")


def _write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(_LEN.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int, deadline: float | None) -> bytes:
    (length,) = _LEN.unpack(_read_exactly(fd, _LEN.size, deadline))
    return _read_exactly(fd, length, deadline)


def _close_inherited_streams(keep: set[int]) -> None:
    """In the executor child: close every inherited pipe and socket but its own two pipes.

    A forked child holds copies of all its parent's descriptors. Left open, the parent's
    listening socket and client connections stay alive in the child, and a pipe the parent
    shares with another program (a subprocess it talks to) never sees its end of file, so
    that program can wait for ever. Regular files stay open: an on-disk store reads them.
    """
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: leave the descriptors as they are
        return
    for fd in fds:
        if fd <= 2 or fd in keep:
            continue
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            with contextlib.suppress(OSError):
                os.close(fd)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
