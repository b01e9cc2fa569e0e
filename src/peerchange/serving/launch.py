"""The entry of ``peerchange`` and ``python -m peerchange``: a restart answers at once.

:func:`early_answering` looks at the command line before click, Flask or gunicorn are
imported. A ``serve`` command line it fully understands (FILE..., ``--store``,
``--host`` (an IPv4 address), ``--port``, ``-q``, ``--timeout``, ``--max-rows``,
``--max-query-bytes``, ``--allow-service``, ``--workers``, ``--threads``, ``--pid-file``,
``--dumps-dir``, ``--validate-on-reload``, and the ``PEERCHANGE_*`` variables of
:data:`READ` and :data:`IGNORED` only) whose store folder is already built from the same
sources (:func:`peerchange.core.early_store.find_built`) gets its listening socket bound
here, at once, and an early answerer forked (:mod:`peerchange.serving.early`); then the
normal command runs in this process and serves on the same socket
(:func:`take_listener`, from :mod:`peerchange.serving.gunicorn_app`), and its first
worker ends the early answerer (:func:`hand_over`). Anything else (``--help``,
``--endpoint``, ``--reload``, ``--graph``, another option or variable, no ``--store``, a
store to be built or rebuilt, an address that cannot be bound) starts nothing here: the
normal command runs exactly as before. ``PEERCHANGE_EARLY_ANSWER=0`` turns it off.

The early answerer ends when the server process ends in any way (the hand-over channel's
end of file), on SIGTERM/SIGINT, and when the command returns or fails here (the
context manager stops it).

This module and everything the early answerer imports before its first answer use the
standard library's C parts where the Python modules would import more (``_socket``, not
:mod:`socket`, which builds its enums; no :mod:`contextlib`, :mod:`json` or :mod:`re`):
each import is on the path of a restart's first answer
(``tests/unit/test_early_store.py`` lists what must stay out).
"""

from __future__ import annotations

import _socket
import os
import sys

from peerchange.serving import fd_channel

SWITCH = "PEERCHANGE_EARLY_ANSWER"
BACKLOG = 2048  # gunicorn's default
READY_SECONDS = 0.5
# PEERCHANGE_* variables read here, with their types (the Settings of the same names)
READ = {"HOST": str, "PORT": int, "STORE": str, "QUERY_TIMEOUT": float, "MAX_ROWS": int,
        "MAX_QUERY_BYTES": int, "MAX_ANSWER_BYTES": int, "QUERY_MEMORY_MB": int,
        "MAX_NESTING": int, "HEADER_TIMEOUT": float, "BODY_TIMEOUT": float,
        "SEND_TIMEOUT": float, "MAX_REQUEST_LINE": int, "MAX_HEADER_BYTES": int,
        "COMPRESS_MIN_BYTES": int, "LOG_CLIENTS": bool, "LOG_QUERIES": bool,
        "WORKERS": int, "THREADS": int, "CORS_ORIGINS": str}
# variables that change nothing the early answerer does (SERVICE is refused there; the
# data digest reads PEERCHANGE_DIGEST_BYTES and PEERCHANGE_MAX_EXTRA_BYTES itself)
IGNORED = frozenset({"SERVICE_ALLOWLIST", "MAX_EXTRA_BYTES", "DIGEST_BYTES",
                     "ANSWER_CACHE_MB", "LEAN_SPARQL", "QUEUE_SIZE", "CLIENT_CONCURRENCY",
                     "CLIENT_SECONDS", "CLIENT_WINDOW", "KEEPALIVE_TIMEOUT",
                     "MAX_CONNECTIONS", "DUMPS_DIR", "METRICS_ALLOW", "TRUSTED_PROXIES",
                     "EARLY_ANSWER"})
# serve's options with a value: (setting, type); flags; options read but not used here
VALUED = {"--store": ("STORE", str), "--host": ("HOST", str), "--port": ("PORT", int),
          "--timeout": ("QUERY_TIMEOUT", float), "--max-rows": ("MAX_ROWS", int),
          "--max-query-bytes": ("MAX_QUERY_BYTES", int), "--workers": ("WORKERS", int),
          "--threads": ("THREADS", int), "--allow-service": ("", str),
          "--pid-file": ("", str), "--dumps-dir": ("", str)}
FLAGS = {"-q": "QUIET", "--quiet": "QUIET", "--validate-on-reload": ""}
RANGES = {"WORKERS": (1, 64), "THREADS": (1, 256), "MAX_QUERY_BYTES": (1, None)}


class _Early:
    """The early answerer of this process: its pid (and pidfd), the listening socket's
    descriptor, the address, and this end of the hand-over channel."""

    def __init__(self, pid: int, pidfd: int, fd: int, address: tuple[str, int],
                 pipe: int) -> None:
        self.pid, self.pidfd, self.fd, self.address, self.pipe = pid, pidfd, fd, address, pipe
        self.owner = os.getpid()
        self.taken = False


_EARLY: _Early | None = None


def parse(argv: list[str], environ: dict[str, str]) -> tuple[dict, list[str]] | None:
    """(settings by ``PEERCHANGE_*`` name, FILE...) of a ``serve`` command line the early
    answerer understands, or ``None``."""
    if not argv or argv[0] != "serve":
        return None
    values: dict[str, object] = {}
    for key, raw in environ.items():
        if not key.startswith("PEERCHANGE_"):
            continue
        name = key[len("PEERCHANGE_"):]
        if name in READ:
            kind = READ[name]
            if kind is bool:
                values[name] = raw.strip().lower() in {"1", "true", "yes", "on"}
                continue
            try:
                values[name] = kind(raw)
            except ValueError:
                return None
        elif name not in IGNORED:
            return None  # PEERCHANGE_SERVE_* (click's own), BASE_URL, ENDPOINT, ...
    files: list[str] = []
    args = argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        name, eq, value = arg.partition("=")
        if arg in FLAGS:
            if FLAGS[arg]:
                values[FLAGS[arg]] = True
        elif name in VALUED:
            if not eq:
                if i >= len(args):
                    return None
                value = args[i]
                i += 1
            setting, kind = VALUED[name]
            try:
                converted = kind(value)
            except ValueError:
                return None
            if setting:
                values[setting] = converted
        elif arg.startswith("-") and arg != "-":
            return None  # --help, --graph, --endpoint, --reload, --, an unknown option
        else:
            files.append(arg)
    for name, (low, high) in RANGES.items():
        if name in values and (values[name] < low or (high and values[name] > high)):  # type: ignore[operator]
            return None
    if not values.get("STORE") or str(values.get("CORS_ORIGINS", "*")).strip() != "*":
        return None
    return values, files


def start(argv: list[str]) -> bool:
    """Bind the socket and fork the early answerer if ``argv`` is a restart it can take
    (see the module docstring); whether it did.

    The early answerer is forked first, from the store folder the pointer names, and opens
    that store while this process decides whether it is built from the sources
    (:func:`~peerchange.core.early_store.find_built`): then it gets the bound listening
    socket through a Unix socket pair (which stays the hand-over channel), or nothing and
    it exits.
    """
    global _EARLY
    if _EARLY is not None or os.environ.get(SWITCH, "1").strip().lower() in {"0", "false",
                                                                              "no", "off"}:
        return False
    parsed = parse(argv, dict(os.environ))
    if parsed is None or not hasattr(os, "pidfd_open"):
        return False
    values, files = parsed
    host, port = str(values.get("HOST", "127.0.0.1")), int(values.get("PORT", 8000))  # type: ignore[call-overload]
    if not _ipv4(host):
        return False
    from peerchange.core import early_store

    store_dir = str(values["STORE"])
    folder = early_store.current_folder(store_dir)
    if folder is None:
        return False
    ours, theirs = _socket.socketpair()
    pid = os.fork()
    if pid == 0:  # the early answerer
        try:
            ours.close()
            from peerchange.serving.early import serve
            from peerchange.serving.early_request import Limits

            serve(folder, theirs.detach(), Limits(**{k.lower(): v for k, v in values.items()}))
        finally:
            os._exit(1)
    theirs.close()
    pidfd = os.pidfd_open(pid)
    built = early_store.find_built(store_dir, files)
    fd = _bound(host, port) if built is not None and built.path == folder else -1
    if fd < 0:
        ours.close()  # the early answerer reads the end and exits
        os.waitid(os.P_PIDFD, pidfd, os.WEXITED)
        os.close(pidfd)
        if built is not None:
            built.release()
        return False
    fd_channel.send(ours, fd_channel.decision(built.path, built.quads,  # type: ignore[union-attr]
                                              built.version), fd)  # type: ignore[union-attr]
    built.release()  # type: ignore[union-attr]  # the early answerer holds its own lock
    # the full server's start waits (at most READY_SECONDS) until the early answerer
    # answers: on a busy machine the two would otherwise share the cores, and the first
    # answer would come later for the sake of a start that takes ten times as long
    import select

    if select.select([ours], [], [], READY_SECONDS)[0]:
        try:  # noqa: SIM105 - no contextlib on the first answer's path
            ours.recv(1)
        except OSError:
            pass
    _EARLY = _Early(pid, pidfd, fd, (host, port), ours.detach())
    if not values.get("QUIET"):
        sys.stderr.write(f"Answering SPARQL queries at http://{host}:{port}/sparql from the "
                         "built store while the server starts\n")
    return True


def _bound(host: str, port: int) -> int:
    """A listening TCP socket on ``host:port`` as gunicorn makes one (its descriptor), or
    ``-1`` when it cannot be bound (the normal start then reports it)."""
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        return -1
    return sock.detach()


def _ipv4(host: str) -> bool:
    try:
        _socket.inet_aton(host)
    except OSError:
        return False
    return host.count(".") == 3


def take_listener(host: str, port: int) -> int | None:
    """(The server's master) The listening socket's descriptor when the early answerer
    listens on ``host:port`` (gunicorn then serves on it: ``bind fd://N``, and closes
    it); otherwise ``None``, and an early answerer for another address is stopped."""
    early = _EARLY
    if early is None or early.taken or early.owner != os.getpid():
        return None
    if early.address != (host, port):
        stop()
        return None
    early.taken = True
    return early.fd


def hand_over() -> None:
    """(A server worker, ready to accept) Tell the early answerer to stop accepting:
    it finishes the requests it has and exits. Once per worker; nothing without one."""
    early = _EARLY
    if early is None or early.pipe < 0:
        return
    try:
        os.set_blocking(early.pipe, False)
        os.write(early.pipe, b"1")
    except OSError:
        pass
    _close(early.pipe)
    early.pipe = -1


def stop() -> None:
    """(The process that started it) Stop the early answerer now, if it still runs, and
    close what this process holds of it."""
    global _EARLY
    early = _EARLY
    if early is None or early.owner != os.getpid():
        return
    _EARLY = None
    import contextlib
    import select
    import signal

    with contextlib.suppress(OSError):
        signal.pidfd_send_signal(early.pidfd, signal.SIGTERM)
    if not select.select([early.pidfd], [], [], 5)[0]:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(early.pidfd, signal.SIGKILL)
    with contextlib.suppress(OSError):  # ChildProcessError: gunicorn reaped it already
        os.waitid(os.P_PIDFD, early.pidfd, os.WEXITED)
    for fd in (early.pidfd, early.pipe, -1 if early.taken else early.fd):
        if fd >= 0:
            _close(fd)


def _close(fd: int) -> None:
    try:  # noqa: SIM105 - no contextlib on the first answer's path
        os.close(fd)
    except OSError:
        pass


class early_answering:  # noqa: N801 - used as the context manager it was
    """:func:`start` for ``argv`` on entering (its result is the ``as`` value), and
    :func:`stop` when the block ends (normally, by ``SystemExit`` or by an error). A
    class, not :func:`contextlib.contextmanager`: :mod:`contextlib` imports
    :mod:`collections` and :mod:`functools`, on the first answer's path."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv

    def __enter__(self) -> bool:
        try:
            return start(self.argv)
        except BaseException:
            stop()
            raise

    def __exit__(self, *exc: object) -> None:
        stop()
