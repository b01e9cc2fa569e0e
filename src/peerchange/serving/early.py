"""The early answerer: ``/sparql`` answered on a restart while the full server starts.

``peerchange serve ... --store DIR`` on a store already built from the same sources
(:mod:`peerchange.serving.launch` decides it with :mod:`peerchange.core.early_store`)
forks this process, which opens the store read-only while the decision is made, then
gets the bound listening socket and answers the common ``GET``/``POST /sparql`` query
requests from it while the original process imports click, Flask and the services and
starts gunicorn on that socket. When the first gunicorn worker is ready it writes a byte
to the *hand-over channel* (the Unix socket pair the listener came through): this
process stops accepting (what waits in the socket's backlog is then accepted by the
workers), finishes the requests it has and exits. The channel's end
of file (the server process gone, however it ended) or SIGTERM/SIGINT stop it at once,
its request processes with it.

Each connection is read, answered and closed (``Connection: close``) by a process forked
for it, which runs the query under the query timeout and the memory limit (a watchdog
thread answers ``503`` and ends the process at either, stopping the query with it) and
leaves when this process is gone. What is answered and how
(:mod:`peerchange.core.early_answer`): a query in ``query`` (URL, form body or
``application/sparql-query`` body) and nothing else, on the union default graph, with
the full server's status, body, ``Content-Type``, ``Content-Length``, ``Vary``,
``Cache-Control`` and CORS headers; no ``ETag`` and no gzip (an identity body, which
``Vary`` allows). Anything else gets ``503 Service
Unavailable``, ``Retry-After: 1`` and a one-line reason: other paths and methods,
unknown or repeated headers, other parameters, refusals (:func:`~peerchange.core.
early_answer.screen`), other formats, answers the full server would cut. A query over
the size limit gets ``413`` and one the engine does not parse ``400``, as from the full
server. Access-log lines have the app's JSON shape (``web/access_log.py``), none with
``-q``.

Imports: the standard library's C parts (``_socket``, ``_signal``, ``select``, ``_thread``:
the Python modules :mod:`socket` and :mod:`signal` build enums at import),
:mod:`peerchange.serving.early_request` (reading a request),
:mod:`peerchange.serving.fd_channel`, :mod:`peerchange.core.early_store`,
:mod:`peerchange.core.json_text` and :mod:`peerchange.core.early_answer` (pyoxigraph): no
Flask, click or gunicorn, and no :mod:`json`, :mod:`re` or :mod:`enum`.
"""

from __future__ import annotations

import _signal
import _socket
import _thread
import os
import select
import time

from peerchange.core.early_answer import Unanswered, Unparsable, answer, screen
from peerchange.core.early_store import counts_as_recorded, open_read_only, read_lock
from peerchange.core.json_text import encoder
from peerchange.serving import fd_channel
from peerchange.serving.early_request import PATH, Limits, Refused, Request, starting

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc imports collections
    from collections.abc import Callable

# web.EXPOSED_HEADERS, sorted (the CORS header the app sends with every answer)
EXPOSED = ("Accept-Ranges, Content-Length, Content-Location, Content-Range, Content-Type, "
           "ETag, Last-Modified, Link, Peerchange-Byte-Limit, Peerchange-Row-Limit, "
           "Peerchange-Truncated, Vary")
GRACE_SECONDS = 10
_LINE = encoder(ensure_ascii=False, separators=(",", ":"))
_STOPS = (_signal.SIGTERM, _signal.SIGINT)

def serve(folder: str, channel_fd: int, limits: Limits) -> None:
    """Run the early answerer in this (forked) process until the hand-over or a stop;
    never returns.

    It opens the store ``folder`` (the one the pointer names) while the server process
    decides whether the store is built from the sources, then waits on ``channel_fd``
    (a Unix socket) for the decision: the listening socket (its descriptor) with the
    store's path, quad count and data version, or nothing (the end: no early answers).
    The same socket is then the hand-over channel (see the module docstring).
    """
    reader = read_lock(folder)  # inherited by the request processes; gone with them
    store = open_read_only(folder) if reader >= 0 else None
    channel = _socket.socket(fileno=channel_fd)
    try:
        message, listen_fd = fd_channel.receive(channel, 4096)
    except OSError:
        os._exit(0)
    decided = fd_channel.decided(message) if listen_fd >= 0 else None
    if decided is None or decided[0] != folder:
        os._exit(0)
    _, quads, version = decided
    if store is not None and not counts_as_recorded(store, quads):
        store = None  # the full server rebuilds it: every query waits for it (503)
    _serve(listen_fd, channel_fd, store, version, limits)


def _serve(listen_fd: int, stop_fd: int, store: object, version: str, limits: Limits
           ) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    _signal.set_wakeup_fd(wake_w)
    stopping = []
    for sig in _STOPS:
        _signal.signal(sig, lambda *_: stopping.append(True))
    listener = _socket.socket(fileno=listen_fd)
    listener.setblocking(False)
    try:  # noqa: SIM105 - no contextlib on the first answer's path
        os.write(stop_fd, b"r")  # answering: the server's start goes on (launch.start)
    except OSError:
        pass
    children: set[int] = set()
    handed_over = False
    while not stopping:
        ready = select.select([listener, stop_fd, wake_r], [], [])[0]
        _reap(children, block=False)
        if wake_r in ready:
            os.read(wake_r, 64)
        if stop_fd in ready:
            handed_over = os.read(stop_fd, 1) != b""  # end of file: the server is gone
            break
        if listener in ready and not stopping:
            try:
                conn_fd, addr = listener._accept()
            except (BlockingIOError, InterruptedError):
                continue  # a worker took it
            conn = _socket.socket(fileno=conn_fd)
            first = _refused_here(conn, addr, version, limits)
            if first is None:
                conn.close()
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                _connection(conn, addr, first, store, version, limits, os.getppid())
            conn.close()
            children.add(pid)
    listener.close()
    if handed_over and not stopping:
        deadline = time.monotonic() + max(limits.query_timeout, 0) + GRACE_SECONDS
        while children and time.monotonic() < deadline and not stopping:
            _reap(children, block=False)
            time.sleep(0.02)
    for pid in children:
        try:  # noqa: SIM105 - no contextlib on the first answer's path
            os.kill(pid, _signal.SIGKILL)
        except OSError:
            pass
    _reap(children, block=True)
    os._exit(0)


def _reap(children: set[int], block: bool) -> None:
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)


def _refused_here(conn: _socket.socket, addr: object, version: str, limits: Limits
                  ) -> bytes | None:
    """Answer here a request refused by its head alone (a page path, a polled health
    check: no process forked for it) when its head has arrived; ``None`` when answered,
    else the bytes read so far (the request's process reads on)."""
    started, arrived = time.perf_counter(), time.time()
    conn.setblocking(False)
    try:
        first = conn.recv(65536)
    except OSError:
        first = b""
    if b"\r\n\r\n" not in first:
        return first
    request = Request(addr)
    try:
        request.head(first, limits)
        if request.method == "GET":
            request.query_text(limits)
        return first
    except Refused as refused:
        status, headers, body = _refusal(refused)
    try:
        conn.settimeout(1.0)  # a few hundred bytes: the socket's buffer takes them
        conn.sendall(_head(status, headers, len(body)) + body)
        conn.shutdown(_socket.SHUT_WR)
        _log(request, status, len(body), time.perf_counter() - started, arrived, version,
             limits)
    except OSError:
        pass
    return None


# -- one connection, in its own process ---------------------------------------------------

def _connection(conn: _socket.socket, addr: object, first: bytes, store: object,
                version: str, limits: Limits, parent: int) -> None:
    """Read one request (``first``: its bytes read already), answer it, close; never
    returns.

    The query runs in this (main) thread; a watchdog thread stops the process at the
    query timeout or the memory limit, after sending the ``503`` (whichever of the two
    threads takes the ``claim`` first sends the one answer). Running the query here
    rather than in a thread of its own keeps a thread hand-over off the answer's path.
    """
    for sig in _STOPS:
        _signal.signal(sig, _signal.SIG_DFL)
    _signal.set_wakeup_fd(-1)
    started, arrived = time.perf_counter(), time.time()
    request = Request(addr)
    claim = _thread.allocate_lock()

    def reply(status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        try:
            conn.settimeout(limits.send_timeout or None)
            conn.sendall(_head(status, headers, len(body)) + body)
            _log(request, status, len(body), time.perf_counter() - started, arrived,
                 version, limits)
        except OSError:
            pass
        finally:
            try:
                conn.shutdown(_socket.SHUT_WR)
                conn.close()
            finally:
                os._exit(0)

    try:
        try:
            request.read(conn, limits, first)
            text = request.query_text(limits)
            answered = _answered(request, text, store, limits, parent, claim, reply)
        except Refused as refused:
            answered = _refusal(refused)
    except Exception:  # noqa: BLE001 - the connection failed (OSError): no answer
        answered = None
    if not claim.acquire(blocking=False):  # the watchdog answers, and ends the process
        claim.acquire()
    if answered is None:
        try:
            conn.close()
        finally:
            os._exit(0)
    reply(*answered)


def _answered(request: Request, text: str, store: object, limits: Limits, parent: int,
              claim: _thread.LockType, reply: Callable[..., None]
              ) -> tuple[int, list[tuple[str, str]], bytes]:
    if store is None:
        raise starting("a query while the store is checked")
    why = screen(text, limits.max_nesting)
    if why:
        raise starting(why)
    finished = _thread.allocate_lock()
    finished.acquire()

    def watch(base: int, start: float) -> None:
        """Stop the query (this process) at the time or memory limit, with a 503."""
        while not finished.acquire(timeout=0.05):
            if os.getppid() != parent:
                os._exit(0)  # the early answerer is gone
            why = None
            if limits.query_timeout > 0 and time.monotonic() - start > limits.query_timeout:
                why = f"The query ran longer than {limits.query_timeout:g} s and was stopped."
            elif limits.query_memory_mb > 0 and \
                    _resident() - base > limits.query_memory_mb << 20:
                why = f"The query used more than {limits.query_memory_mb} MiB and was stopped."
            if why and claim.acquire(blocking=False):
                reply(*_refusal(Refused(503, why, retry=False)))

    _thread.start_new_thread(watch, (_resident(), time.monotonic()))
    try:
        result = answer(store, text, base_iri=request.base_iri(),  # type: ignore[arg-type]
                        accept=request.headers.get("accept"),
                        max_rows=limits.max_rows, max_bytes=limits.max_answer_bytes)
    except Unanswered as exc:
        raise starting(str(exc)) from None
    except Unparsable as exc:
        raise Refused(400, str(exc), retry=False) from None
    except Exception:  # noqa: BLE001 - anything else is left to the full server
        raise starting("this query") from None
    finally:
        finished.release()
    content_type, body, rows = result
    request.rows = rows
    vary = "Accept, Accept-Encoding" if limits.compress_min_bytes > 0 else "Accept"
    return 200, [("Content-Type", content_type), ("Vary", vary),
                 ("Cache-Control", "public, no-cache")], body


def _resident() -> int:
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _refusal(refused: Refused) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [("Content-Type", "text/plain; charset=utf-8")]
    if refused.retry:
        headers.append(("Retry-After", "1"))
    return refused.status, headers, (str(refused).replace("\n", " ") + "\n").encode()


REASONS = {200: "OK", 400: "Bad Request", 413: "Request Entity Too Large",
           503: "Service Unavailable"}


def _head(status: int, headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, '')}", f"{headers[0][0]}: {headers[0][1]}",
             f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in headers[1:]]
    lines += ["Access-Control-Allow-Origin: *", f"Access-Control-Expose-Headers: {EXPOSED}",
              "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

def _log(request: Request, status: int, sent: int, seconds: float, arrived: float,
         version: str, limits: Limits) -> None:
    """One access-log line on standard error, in the app's shape (none with ``-q``)."""
    if limits.quiet:
        return
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(arrived))
    line: dict[str, object] = {
        "time": f"{stamp}.{int(arrived * 1000) % 1000:03d}Z", "method": request.method,
        "route": "sparql" if request.path == PATH else "unmatched", "status": status,
        "duration_ms": round(seconds * 1000, 1), "bytes": sent, "version": version}
    if request.text is not None:
        from peerchange.core.early_store import sha256

        line["query_hash"] = sha256(
            request.text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        if request.rows is not None:
            line["rows"], line["truncated"] = request.rows, False
    if limits.log_clients:
        line["client"] = request.client
    if limits.log_queries:
        if request.text is not None:
            line["query"] = request.text
        line["target"] = request.path + (f"?{request.query}" if request.query else "")
    try:  # noqa: SIM105 - no contextlib on the first answer's path
        os.write(2, (_LINE(line) + "\n").encode())
    except OSError:
        pass
