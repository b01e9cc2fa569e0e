"""The app side of the buffering worker: a PEP 3333 environ for a fully read request, and
the app run in an app thread into an :class:`Answer` that the event loop sends on.

The app thread never touches the client's socket: it writes the answer into a spool
(memory up to :data:`SPOOL_MEMORY`, then a temporary file) and tells the loop that there is
more; the loop writes it to the client at the client's pace (``send_timeout``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

log = logging.getLogger("peerchange.serving")

SPOOL_MEMORY = 1024 * 1024  # bytes of an answer kept in memory before it goes to a file
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade",
                        "proxy-connection", "te", "trailer"})

WsgiApp = Callable[..., Iterable[bytes]]


@dataclass
class Request:
    """A request read completely from a client (head and body)."""

    method: str
    target: str
    headers: list[tuple[str, str]]  # names lower case, in the order sent
    body: bytes
    peer: tuple[str, int]
    client: str  # the peer, or the address a trusted proxy reported
    scheme: str = "http"
    server: tuple[str, int] = ("127.0.0.1", 80)
    http_version: str = "1.1"
    # the fast lane's key when this request's answer may be kept (serving/fast_lane)
    lane_key: tuple | None = field(default=None, compare=False, repr=False)

    def header(self, name: str) -> str | None:
        """All values of header ``name`` (lower case) joined by ``, ``, or ``None``."""
        values = [v for n, v in self.headers if n == name]
        return ", ".join(values) if values else None

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


def environ_for(request: Request) -> dict[str, Any]:
    """The PEP 3333 environ of ``request`` (body in a ``BytesIO``)."""
    target = request.target
    if "://" in target.split("?", 1)[0]:  # absolute form: keep the path and query
        rest = target.split("://", 1)[1]
        target = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "RAW_URI": request.target,
        "REQUEST_URI": request.target,
        "SERVER_NAME": request.server[0],
        "SERVER_PORT": str(request.server[1]),
        "SERVER_PROTOCOL": f"HTTP/{request.http_version}",
        "REMOTE_ADDR": request.client,
        "REMOTE_PORT": str(request.peer[1]) if request.client == request.peer[0] else "0",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": request.scheme,
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(request.body)) if request.body else "",
    }
    for name, value in request.headers:
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
            continue
        if name in ("content-length", "transfer-encoding") or "_" in name:
            continue  # the body is whole; "_" names could pose as another header
        key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _new_spool() -> Any:
    return tempfile.SpooledTemporaryFile(SPOOL_MEMORY)  # noqa: SIM115 - closed by Answer


@dataclass
class Answer:
    """One answer, filled by an app thread and read by the event loop.

    The thread calls :meth:`start`, :meth:`put` and :meth:`finish`; the loop waits on
    :attr:`changed` and calls :meth:`take`. ``committed`` is set by the loop once the head
    is on its way to the client (from then on an error can only cut the connection).
    """

    loop: asyncio.AbstractEventLoop
    status: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    done: bool = False
    failed: bool = False
    committed: bool = False
    written: int = 0
    sent: int = 0
    started: float = 0.0
    seconds: float = 0.0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _spool: Any = field(default_factory=_new_spool)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake_pending: bool = False
    closed: bool = False
    # for the fast lane: the dict the app fills (replayable, access) through the environ
    note: dict[str, Any] | None = None

    # -- the app thread --

    def _wake(self) -> None:
        with self._lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # a closed loop: the worker is gone
            self.loop.call_soon_threadsafe(self._woken)

    def _woken(self) -> None:
        with self._lock:
            self._wake_pending = False
        self.changed.set()

    def start(self, status: str, headers: list[tuple[str, str]]) -> None:
        with self._lock:
            self.status = status
            self.headers = [(n, v) for n, v in headers if n.lower() not in HOP_BY_HOP]

    def put(self, data: bytes) -> None:
        with self._lock:
            if self.closed:  # the client is gone: nobody will read it
                return
            self._spool.seek(0, io.SEEK_END)
            self._spool.write(data)
            self.written += len(data)
        self._wake()

    def finish(self, *, failed: bool = False) -> None:
        with self._lock:
            self.done = True
            self.failed = failed
        self._wake()

    # -- the event loop --

    def take(self, size: int) -> bytes:
        """Up to ``size`` bytes not yet sent (empty when there are none yet)."""
        with self._lock:
            if self.closed or self.sent >= self.written:
                return b""
            self._spool.seek(self.sent)
            data = self._spool.read(min(size, self.written - self.sent))
            self.sent += len(data)
            return data

    @property
    def pending(self) -> int:
        return self.written - self.sent

    def close(self) -> None:
        """Free the spool (the loop is done with the answer, sent or not)."""
        with self._lock:
            self.closed = True
            self._spool.close()


def run_app(app: WsgiApp, environ: dict[str, Any], answer: Answer,
            before_finish: Callable[[float], None] = lambda _seconds: None) -> None:
    """Call ``app`` and collect its answer into ``answer`` (in an app thread).

    ``before_finish(seconds)`` is called with the app's time before the answer is marked
    complete, so that what it frees (the client's budget) is free before the client can
    have the whole answer and send its next request.

    An exception from the app (Flask answers its own errors, so this is a fault of the
    server) is logged with its trace; the client gets a 500 if nothing was sent yet, or a
    cut connection.
    """
    answer.started = time.perf_counter()

    def start_response(status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info and answer.committed:
            raise exc_info[1].with_traceback(exc_info[2])
        answer.start(status, headers)
        return answer.put

    failed = False
    try:
        result = app(environ, start_response)
        try:
            for chunk in result:
                if chunk:
                    answer.put(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception:  # noqa: BLE001 - a server fault: logged with its trace
        log.exception("the app failed on %s %s", environ.get("REQUEST_METHOD"),
                      environ.get("PATH_INFO"))
        failed = True
    finally:
        answer.seconds = time.perf_counter() - answer.started
        try:
            before_finish(answer.seconds)
        finally:
            answer.finish(failed=failed)
