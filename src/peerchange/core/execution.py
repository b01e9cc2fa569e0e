"""Run one SPARQL query under a wall-clock limit and a row limit.

pyoxigraph cannot cancel a running query, so each query runs in a forked child process
that shares the store's memory copy-on-write. The parent waits for the child's answer
until the deadline and kills it if it passes, which frees the worker whatever the query
does (ORDER BY and GROUP BY included). The child also serializes the answer, so the
parent only relays bytes.
"""

from __future__ import annotations

import json
import os
import select
import signal
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
    """Evaluate ``job`` in a forked child; stop it after ``timeout`` seconds.

    Falls back to evaluating in this process where ``os.fork`` does not exist.

    :raise QueryTimeout: when the deadline passes (the child is killed).
    :raise QuerySyntaxError: when the engine rejects the query.
    :raise QueryFailed: when the engine or the child fails.
    """
    if not hasattr(os, "fork") or timeout <= 0:
        return evaluate(store, job)
    start = time.perf_counter()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: answer, write, and leave without running any parent cleanup
        os.close(read_fd)
        status = 0
        try:
            _child(store, job, write_fd)
        except BaseException:  # noqa: BLE001 - the child must never return into the parent's code
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        data = _read_until(read_fd, start + timeout)
    except TimeoutError:
        _kill(pid)
        raise QueryTimeout(
            f"The query did not finish within the server's limit of {timeout:g} s and was "
            "stopped. Narrow it (more selective patterns, a LIMIT) or ask the operator to "
            "raise PEERCHANGE_QUERY_TIMEOUT."
        ) from None
    finally:
        os.close(read_fd)
    _reap(pid)
    header, _, body = data.partition(b"\n")
    if not header:
        raise QueryFailed("The query process ended without an answer (out of memory?).")
    meta = json.loads(header)
    if not meta["ok"]:
        cls = QuerySyntaxError if meta["kind"] == "syntax" else QueryFailed
        raise cls(meta["message"])
    fmt = job.formats[meta["form"]]
    return Answer(body, fmt, meta["form"], meta["truncated"], meta["count"],
                  time.perf_counter() - start)


def _child(store: ox.Store, job: QueryJob, fd: int) -> None:
    try:
        answer = evaluate(store, job)
        header = {"ok": True, "form": answer.form, "truncated": answer.truncated,
                  "count": answer.count}
        payload = json.dumps(header).encode() + b"\n" + answer.body
    except QuerySyntaxError as exc:
        payload = json.dumps({"ok": False, "kind": "syntax", "message": exc.message}).encode()
    except PeerchangeError as exc:
        payload = json.dumps({"ok": False, "kind": "error", "message": exc.message}).encode()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, never as a trace
        payload = json.dumps(
            {"ok": False, "kind": "error", "message": f"{type(exc).__name__}: {exc}"}
        ).encode()
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.close(fd)


def _read_until(fd: int, deadline: float) -> bytes:
    chunks = []
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _reap(pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
