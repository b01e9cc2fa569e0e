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
import os
import pickle
import select
import signal
import struct
import threading
import time
from dataclasses import dataclass, field

import pyoxigraph as ox

from peerchange.core.describe import with_labels
from peerchange.core.errors import PeerchangeError, QuerySyntaxError
from peerchange.core.formats import Format
from peerchange.core.results import write_boolean, write_graph, write_select


class QueryTimeout(PeerchangeError):
    """The query ran past the wall-clock limit and was stopped."""

    http_status = 503
    exit_code = 2
    title = "Query timed out"


class QueryFailed(PeerchangeError):
    """The engine failed while evaluating (not a syntax error)."""

    http_status = 500
    exit_code = 2
    title = "Query evaluation failed"


@dataclass
class QueryJob:
    """Everything the child needs to evaluate and serialize one query.

    :param formats: the negotiated output format per query form (``SELECT``, ``ASK``,
        ``CONSTRUCT``, ``DESCRIBE``).
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
    formats: dict[str, Format]
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
    """A serialized answer: bytes in ``fmt``, for a query of ``form``."""

    body: bytes
    fmt: Format
    form: str
    truncated: bool = False
    count: int = 0
    seconds: float = 0.0


def evaluate(store: ox.Store, job: QueryJob) -> Answer:
    """Evaluate and serialize ``job`` in this process (no time limit).

    :raise QuerySyntaxError: if the engine rejects the query text.
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
        raise QueryFailed(f"The store failed while answering: {exc}") from None
    limit = job.max_rows or None
    if isinstance(result, ox.QuerySolutions):
        fmt = job.formats["SELECT"]
        variables = [v.value for v in result.variables]
        rows, truncated = _take((tuple(s[v] for v in variables) for s in result), limit)
        body = write_select(fmt, variables, rows, truncated=truncated)
        return Answer(body, fmt, "SELECT", truncated, len(rows), time.perf_counter() - start)
    if isinstance(result, ox.QueryBoolean):
        fmt = job.formats["ASK"]
        return Answer(write_boolean(fmt, bool(result)), fmt, "ASK", False, 1,
                      time.perf_counter() - start)
    form = "DESCRIBE" if _is_describe(job.text) else "CONSTRUCT"
    fmt = job.formats[form]
    triples, truncated = _take(iter(result), limit)
    if form == "DESCRIBE":
        triples = with_labels(store, triples, job.label_graphs)
    body = write_graph(fmt, triples, prefixes=job.prefixes, truncated=truncated)
    return Answer(body, fmt, form, truncated, len(triples), time.perf_counter() - start)


def _is_describe(text: str) -> bool:
    from peerchange.core.querytext import inspect_query

    return inspect_query(text).form == "DESCRIBE"


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
        return evaluate(store, job)
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
            request = pickle.dumps(_job_to_wire(job))
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
            meta, body = pickle.loads(data)
            if not meta["ok"]:
                cls = QuerySyntaxError if meta["kind"] == "syntax" else QueryFailed
                raise cls(meta["message"])
            fmt = job.formats[meta["form"]]
            return Answer(body, fmt, meta["form"], meta["truncated"], meta["count"],
                          time.perf_counter() - start)

    def _spawn(self) -> None:
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child never returns into the parent's code
            status = 0
            try:
                os.close(parent_read)
                os.close(parent_write)
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


def _job_to_wire(job: QueryJob) -> dict:
    wire = dict(job.__dict__)
    wire["formats"] = {form: fmt.name for form, fmt in job.formats.items()}
    return wire


def _job_from_wire(wire: dict) -> QueryJob:
    from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS

    by_name = {f.name: f for f in (*RESULT_FORMATS, *RDF_FORMATS)}
    wire = dict(wire)
    wire["formats"] = {form: by_name[name] for form, name in wire["formats"].items()}
    return QueryJob(**wire)


def _serve_jobs(store: ox.Store, read_fd: int, write_fd: int) -> None:
    while True:
        try:
            request = _read_frame(read_fd, None)
        except EOFError:
            return  # the parent closed the pipe or exited
        job = _job_from_wire(pickle.loads(request))
        try:
            answer = evaluate(store, job)
            meta = {"ok": True, "form": answer.form, "truncated": answer.truncated,
                    "count": answer.count}
            body = answer.body
        except QuerySyntaxError as exc:
            meta, body = {"ok": False, "kind": "syntax", "message": exc.message}, b""
        except PeerchangeError as exc:
            meta, body = {"ok": False, "kind": "error", "message": exc.message}, b""
        except Exception as exc:  # noqa: BLE001 - reported to the parent, never as a trace
            meta = {"ok": False, "kind": "error", "message": f"{type(exc).__name__}: {exc}"}
            body = b""
        _write_frame(write_fd, pickle.dumps((meta, body)))


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


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
