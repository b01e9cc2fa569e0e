"""The query process's side: set up right after ``fork``, then evaluate jobs until told to
stop.

Set-up, in order: die with the parent (``PR_SET_PDEATHSIG`` on Linux, which fires when the
*thread* that forked exits, and a watchdog thread that exits when the parent changes),
run at a lower priority, close every inherited pipe and socket but its own two pipes
(the server's listening socket and client connections stay with the server), and ignore
``SIGINT`` (a Ctrl-C in a terminal reaches the whole process group; the parent stops its
query processes itself).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import stat
import threading
import time
from collections.abc import Callable
from typing import Any

from peerchange.core.errors import PeerchangeError, QueryFailed, QuerySyntaxError
from peerchange.core.framing import (
    END,
    ERROR,
    HEADER,
    FrameReader,
    FrameSink,
    frame,
    write_frame,
)

NICENESS = 5  # how much lower the query process's priority is than its server's
WATCHDOG_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def child_main(store: Any, work: Callable[[Any, Any], Any], read_fd: int, write_fd: int,
               parent: int) -> None:
    """Run in the forked child: set up, then answer jobs until the parent closes the pipe.

    Never returns normally into the parent's code: the caller ``os._exit``\\s after it.
    """
    _die_with_parent(parent)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    close_inherited_streams(keep={read_fd, write_fd})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    # The jobs are answered in a thread started here, not in the thread that forked: the
    # engine draws blank node labels from a per-thread generator, and a forked thread keeps
    # its parent's state, so two query processes forked from one thread would label the
    # blank nodes of their CONSTRUCT templates alike (and two answers put together, as a
    # description is, would merge unrelated nodes). A new thread seeds its own.
    failed: list[BaseException] = []

    def serve() -> None:
        try:
            serve_jobs(store, work, read_fd, write_fd)
        except BaseException as exc:  # noqa: BLE001 - the process's exit status says it
            failed.append(exc)

    thread = threading.Thread(target=serve, name="query-jobs")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog alone
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)
    threading.Thread(target=_watchdog, args=(parent,), name="parent-watchdog",
                     daemon=True).start()


def _watchdog(parent: int) -> None:
    # pyoxigraph releases the GIL while it evaluates, so this runs during a query too
    while os.getppid() == parent:
        time.sleep(WATCHDOG_SECONDS)
    os._exit(0)


def serve_jobs(store: Any, work: Callable[[Any, Any], Any], read_fd: int,
               write_fd: int) -> None:
    """Answer jobs: for each, a :data:`HEADER` frame (the answer without its body, or the
    error), then the body in :data:`DATA` frames, then :data:`END` (or :data:`ERROR` when
    writing the body failed); the header waits for the body's first piece, so a small
    answer is one write."""
    reader = FrameReader(read_fd)  # a job and its length in one read
    while True:
        try:
            _kind, request = reader.read(None)
        except EOFError:
            return  # the parent closed the pipe or exited
        job = pickle.loads(request)
        try:
            answer = work(store, job)
        except PeerchangeError as exc:
            write_frame(write_fd, HEADER, pickle.dumps(_portable(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - reported to the parent, never as a trace
            write_frame(write_fd, HEADER, pickle.dumps(
                QueryFailed(log_detail=f"{type(exc).__name__}: {exc}")))
            continue
        write_body, answer.write_body = answer.write_body, None
        # the header goes with the body's first piece (a small answer: one write in all)
        sink = FrameSink(write_fd, prefix=frame(HEADER, pickle.dumps(answer)))
        if write_body is not None:
            try:
                write_body(sink)
            except BrokenPipeError:
                raise
            except Exception as exc:  # noqa: BLE001
                sink.buffer.clear()  # a body cut short: what was not sent is dropped
                sink.finish(ERROR, pickle.dumps(
                    QueryFailed(log_detail=f"writing the answer: {type(exc).__name__}: {exc}")))
                continue
        sink.finish(END)


def _portable(exc: PeerchangeError) -> PeerchangeError:
    """The error as it crosses the pipe (no traceback, no chained library exception)."""
    if isinstance(exc, QuerySyntaxError):
        return QuerySyntaxError(exc.message)
    if isinstance(exc, QueryFailed):
        return QueryFailed(log_detail=exc.log_detail)
    return exc


def close_inherited_streams(keep: set[int]) -> None:
    """In the query process: close every inherited pipe and socket but its own two pipes.

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
