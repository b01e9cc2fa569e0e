"""One query process, seen from the server process that forked it.

pyoxigraph cannot cancel a running query, so queries run in a child process forked from
the server process, sharing the store's memory copy-on-write; the child evaluates one query
at a time (:mod:`peerchange.core.executor_child`). The parent sends a job and waits for the
answer, and while it waits it enforces the limits the engine cannot:

- **time**: past the deadline it kills the child (:class:`QueryTimeout`, 503);
- **memory**: every :data:`~peerchange.core.framing.POLL_SECONDS` it reads the child's
  resident size (``/proc/PID/statm``); grown by more than the job's ``memory_mb`` since the
  query started, the child is killed (:class:`QueryOutOfMemory`, 503);
- **death**: a child that died while idle (the OOM killer, an operator) is noticed before
  the job is sent (``waitpid``, or ``EPIPE`` on the write), replaced, and the job sent
  again, once. A child that dies during a query gives :class:`QueryFailed` (500).

The conversation, in frames (:mod:`peerchange.core.framing`): ``JOB`` →; ← ``HEADER`` (the
answer without its body, or an error); ← ``DATA`` pieces of the body (about 64 KB each);
← ``END``. The body can be handed on as it arrives (:class:`AnswerStream`), so a web answer
streams while the deadline still holds.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import queue
import signal
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from peerchange.core import metrics
from peerchange.core.errors import (
    PeerchangeError,
    QueryFailed,
    QueryOutOfMemory,
    QueryTimeout,
)
from peerchange.core.executor_child import child_main
from peerchange.core.framing import DATA, END, ERROR, HEADER, JOB, FrameReader, write_frame

log = logging.getLogger("peerchange.core.execution")

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MIB = 1024 * 1024


def timeout_error(timeout: float) -> QueryTimeout:
    return QueryTimeout(
        f"The query did not finish within the server's limit of {timeout:g} s "
        "and was stopped. Narrow it (more selective patterns, a LIMIT) or ask "
        "the operator to raise PEERCHANGE_QUERY_TIMEOUT."
    )


def memory_error(limit_mb: int) -> QueryOutOfMemory:
    return QueryOutOfMemory(
        f"The query needed more than the server's limit of {limit_mb:,} MiB of memory and "
        "was stopped. Narrow it: more selective patterns, no ORDER BY or GROUP BY over a "
        "large cross product, a LIMIT, no strings built up by repeated CONCAT; or ask the "
        "operator to raise PEERCHANGE_QUERY_MEMORY_MB."
    )


def resident_bytes(pid: int, statm: int = -1) -> int | None:
    """The resident size of process ``pid`` in bytes, or ``None`` if it cannot be read;
    ``statm``: its ``/proc/PID/statm`` kept open (read again from its start: one call)."""
    try:
        if statm >= 0:
            return int(os.pread(statm, 128, 0).split()[1]) * _PAGE
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class _OverMemory(Exception):
    pass


class _Spawner:
    """Runs forks in the main thread or in one long-lived thread of this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.owner = 0  # the process whose thread serves ``jobs``
        self.jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def call(self, fn: Callable[[], None]) -> None:
        if threading.current_thread() is threading.main_thread():
            fn()
            return
        with self.lock:
            if self.owner != os.getpid():  # none yet, or it stayed in the parent at fork
                self.owner, self.jobs = os.getpid(), queue.SimpleQueue()
                threading.Thread(target=self._serve, args=(self.jobs,), name="query-spawner",
                                 daemon=True).start()
        done, box = threading.Event(), {}
        self.jobs.put((fn, done, box))
        done.wait()
        if "error" in box:
            raise box["error"]

    @staticmethod
    def _serve(jobs: queue.SimpleQueue[Any]) -> None:
        while True:
            fn, done, box = jobs.get()
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box["error"] = exc
            finally:
                done.set()


_SPAWNER = _Spawner()


class Executor:
    """A query process: forked on first use (or by :meth:`spawn`), replaced when it dies or
    is killed at a limit. Used by one thread at a time (the pool in
    :mod:`peerchange.core.execution` hands it out)."""

    def __init__(self, store: Any, work: Callable[[Any, Any], Any]) -> None:
        self.store = store
        self.work = work  # what the child calls for each job: (store, job) -> Answer
        self.pid = 0
        self.to_child = -1
        self.from_child = -1
        self.reader: FrameReader | None = None
        self.statm = -1  # the child's /proc/PID/statm, kept open

    # -- the process ------------------------------------------------------------------

    def spawn(self) -> None:
        """Fork the child now (it shares the store copy-on-write).

        The fork happens in the main thread or in this process's long-lived spawner
        thread, never in a short-lived request thread: the child's ``PR_SET_PDEATHSIG``
        fires when the thread that forked it exits.
        """
        _SPAWNER.call(self._fork)

    def _fork(self) -> None:
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child never returns into the parent's code
            # Nothing inherited is ever collected here: an object the parent left as cyclic
            # garbage (an on-disk store no longer used) would run its destructor in this
            # process, where RocksDB's threads do not exist (it aborts the process).
            gc.freeze()
            status = 0
            try:
                os.close(parent_read)
                os.close(parent_write)
                child_main(self.store, self.work, child_read, child_write, parent)
            except BaseException:  # noqa: BLE001
                status = 1
            finally:
                os._exit(status)
        os.close(child_read)
        os.close(child_write)
        self.pid, self.to_child, self.from_child = pid, parent_write, parent_read
        self.reader = FrameReader(parent_read)
        try:  # its resident size is read at every query's start
            self.statm = os.open(f"/proc/{pid}/statm", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self.statm = -1

    def alive(self) -> bool:
        """Whether the child is running (a dead one is reaped)."""
        if not self.pid:
            return False
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            done = self.pid
        if done:
            self._forget()
            return False
        return True

    def close(self) -> None:
        """Stop the child (if any), reap it and forget it."""
        if self.pid:
            pid = self.pid
            self._forget()
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    def detach(self) -> None:
        """Forget an inherited child without stopping it (it is another process's)."""
        self._forget()

    def _forget(self) -> None:
        for fd in (self.to_child, self.from_child, self.statm):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.pid, self.to_child, self.from_child, self.statm = 0, -1, -1, -1
        self.reader = None

    def _restart(self, cause: str) -> None:
        self.close()
        metrics.count("executor_restarts", cause=cause)

    # -- one query --------------------------------------------------------------------

    def run(self, job: Any, timeout: float, *, stream: bool = False,
            done: Callable[[], None] | None = None) -> Any:
        """Send ``job`` and return its answer, with the body read (or, with ``stream``, an
        :class:`AnswerStream` in ``answer.chunks`` that calls ``done`` at its end).

        :raise QueryTimeout: past ``timeout`` seconds (the child is killed).
        :raise QueryOutOfMemory: the child grew past ``job.memory_mb`` (it is killed).
        :raise QueryFailed: the child died, or the engine failed.
        :raise QuerySyntaxError: the engine rejected the query.
        """
        start = time.monotonic()
        deadline = start + timeout
        request = pickle.dumps(job)
        for attempt in (1, 2):
            self._send(request)
            watch = _Watch(self.pid, getattr(job, "memory_mb", 0), self.statm)
            try:
                kind, payload = self._read(deadline, watch, timeout)
                break
            except QueryFailed:
                # died without taking the job (it is still in the pipe): it was idle
                # and died (the OOM killer, an operator), not of this query: once more
                if attempt == 2 or not self._job_unread:
                    raise
                log.warning("the idle query process had died; starting another")
        if kind != HEADER:
            self._restart("died")
            raise QueryFailed(log_detail=f"the query process sent {kind!r} first")
        outcome = pickle.loads(payload)
        if isinstance(outcome, PeerchangeError):  # no body follows an error
            if isinstance(outcome, QueryFailed):
                log.error("query failed in the query process: %s", outcome.log_detail)
            raise outcome
        answer = outcome
        if stream:  # evaluated and collected: only the writing is left
            answer.seconds = time.monotonic() - start
            metrics.observe("query_seconds", answer.seconds)
            answer.chunks = AnswerStream(self, deadline - time.monotonic(), watch, timeout,
                                         done)
            return answer
        pieces = []
        while True:
            kind, payload = self._read(deadline, watch, timeout)
            if kind == DATA:
                pieces.append(payload)
            elif kind == END:
                break
            else:
                error = pickle.loads(payload)
                log.error("query failed in the query process: %s",
                          getattr(error, "log_detail", error))
                raise error
        answer.body = b"".join(pieces) or answer.body
        answer.seconds = time.monotonic() - start
        metrics.observe("query_seconds", answer.seconds)
        return answer

    def _send(self, request: bytes) -> None:
        for attempt in (1, 2):
            if self.pid and not self.alive():
                log.warning("the idle query process had died; starting another")
                metrics.count("executor_restarts", cause="died")
            if not self.pid:
                self.spawn()
            try:
                write_frame(self.to_child, JOB, request)
                return
            except OSError:  # EPIPE: it died between the check and the write
                self._restart("died")
                if attempt == 2:
                    raise QueryFailed("The query process could not be started.") from None

    _job_unread = False  # the last child that died had not read its job

    def _read(self, deadline: float, watch: _Watch, timeout: float) -> tuple[bytes, bytes]:
        try:
            if self.reader is None:
                raise EOFError
            return self.reader.read(deadline, watch.check)
        except TimeoutError:
            self._restart("timeout")
            metrics.count("query_timeouts")
            raise timeout_error(timeout) from None
        except _OverMemory:
            self._restart("memory")
            metrics.count("query_memory_stops")
            raise memory_error(watch.limit_mb) from None
        except (EOFError, OSError):
            self._job_unread = _unread(self.to_child) > 0
            self._restart("died")
            raise QueryFailed(
                "The query process ended without an answer (out of memory?)."
            ) from None


def _unread(fd: int) -> int:
    """How many bytes wait in the pipe ``fd`` writes to (Linux ``FIONREAD``), 0 if unknown."""
    try:
        import fcntl
        import termios

        return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    except (OSError, ImportError, struct.error):
        return 0


class _Watch:
    """Samples a child's resident size against its size when the query started."""

    def __init__(self, pid: int, limit_mb: int, statm: int = -1) -> None:
        self.pid = pid
        self.limit_mb = limit_mb
        self.statm = statm
        start = resident_bytes(pid, statm) if limit_mb > 0 else None
        self.ceiling = None if start is None else start + limit_mb * MIB

    def check(self) -> None:
        if self.ceiling is not None:
            now = resident_bytes(self.pid, self.statm)
            if now is not None and now > self.ceiling:
                raise _OverMemory


class AnswerStream(Iterator[bytes]):
    """The body of an answer as the query process sends it, piece by piece.

    The deadline still holds, counted over the time spent waiting for the child (not the
    time the consumer takes to pass a piece on). Closing it before the end (a client that
    went away) stops the child, whose state is then unknown; the next query starts another.
    ``done`` is called once, at the end or at the close. ``complete`` is true once the
    whole body has been read (the query process said ``END``), never for a body cut short.
    """

    def __init__(self, executor: Executor, remaining: float, watch: _Watch, timeout: float,
                 done: Callable[[], None] | None) -> None:
        self.executor = executor
        self.remaining = remaining
        self.watch = watch
        self.timeout = timeout
        self.done = done
        self.finished = False
        self.complete = False
        self.sent = 0

    def __iter__(self) -> AnswerStream:
        return self

    def __next__(self) -> bytes:
        if self.finished:
            raise StopIteration
        start = time.monotonic()
        try:
            kind, payload = self.executor._read(start + self.remaining, self.watch,
                                                self.timeout)
        except PeerchangeError as exc:
            # the head of the answer is sent: all that is left is to stop it short
            log.warning("the answer was cut after %d bytes: %s", self.sent, exc.message)
            self._finish()
            raise StopIteration from None
        self.remaining -= time.monotonic() - start
        if kind == DATA:
            self.sent += len(payload)
            return payload
        if kind == ERROR:
            error = pickle.loads(payload)
            log.error("writing the answer failed after %d bytes: %s", self.sent,
                      getattr(error, "log_detail", error))
        else:
            self.complete = kind == END
        self._finish()
        raise StopIteration

    def _finish(self) -> None:
        if not self.finished:
            self.finished = True
            if self.done is not None:
                self.done()

    def close(self) -> None:
        """Stop reading before the end (a client that went away, a HEAD request): the rest
        of the body (at most the byte limit, already made) is read and dropped within the
        deadline, so the query process can take the next query; failing that it is
        stopped."""
        if self.finished:
            return
        try:
            for _ in self:
                pass
        finally:
            if not self.finished:
                self.executor.close()
                self._finish()

    def __del__(self) -> None:
        # never closed by its consumer: do not wait for the rest here, stop the child
        if not self.finished:
            with contextlib.suppress(Exception):
                self.executor.close()
                self._finish()

    def read_all(self) -> bytes:
        """The rest of the body."""
        return b"".join(self)
