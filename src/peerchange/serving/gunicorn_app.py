"""Run the web app in production: gunicorn's master with :class:`BufferingWorker` workers.

The graph is loaded once in the gunicorn master (``preload_app``) and shared by the forked
workers copy-on-write; an on-disk store is reopened read-only in each worker (and a worker
holding one exits without interpreter clean-up, see ``worker_exit``). The per-client
budgets (:class:`~peerchange.serving.admission.ClientTable`) are made here, in the master,
before any worker forks, so that all of them share it.

SIGHUP (or ``peerchange reload``) makes the master call the reloader, if one is given:
it returns a new app over freshly loaded data (or ``None`` to keep the old one), which the
new workers get, and gunicorn then stops the old workers gracefully.

Shutdown: the graceful timeout is the query timeout plus :data:`GRACE_SECONDS`, so a
query running when SIGTERM arrives can finish. A worker still booting leaves at once: the
arbiter forks with the stop signals blocked, and the worker unblocks them in ``post_fork``
with handlers that exit (a stop sent to the process group meanwhile is not lost).

A restart's early answerer (:mod:`peerchange.serving.launch`): when it listens on this
address, gunicorn serves on its listening socket (``bind fd://N``), and each worker, once
ready to accept, tells it to stop (``post_worker_init``): nothing in the socket's backlog
is lost between the two.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from flask import Flask

from peerchange.core.config import Settings
from peerchange.serving import launch
from peerchange.serving.admission import ClientTable, parse_networks

GRACE_SECONDS = 10
WORKER_CLASS = "peerchange.serving.worker.BufferingWorker"

Reloader = Callable[[Flask], "Flask | None"]


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def _leave_at_once(_signum: int, _frame: Any) -> None:
    """A booting worker's stop signal, until gunicorn sets the worker's own handlers."""
    os._exit(0)


def _stop_safe_arbiter() -> type:
    """gunicorn's arbiter whose forks hold the stop signals back until the new worker has
    its own handlers (``post_fork`` unblocks them there) and the master is back from the
    fork: a SIGTERM sent to the process group at that moment is delivered then, not
    swallowed by the master's handlers the child inherited (the stop would then wait the
    whole graceful timeout)."""
    from gunicorn.arbiter import Arbiter

    class StopSafeArbiter(Arbiter):  # type: ignore[misc]
        def spawn_worker(self) -> int:
            before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            try:
                return super().spawn_worker()
            finally:  # the master (and a worker leaving through here) as before
                signal.pthread_sigmask(signal.SIG_SETMASK, before)

    return StopSafeArbiter


def _graph(app: Any) -> Any:
    return app.services.graph


def run_gunicorn(app: Flask, *, settings: Settings, host: str, port: int, workers: int,
                 access_log: bool = True, pid_file: str | None = None,
                 reloader: Reloader | None = None) -> None:
    """Serve ``app`` with gunicorn and the buffering worker until stopped.

    :param access_log: kept for the command line's ``--quiet``; the access log lines are
        the app's own.
    :param pid_file: the master writes its pid here and removes it at exit.
    :param reloader: called with the current app on SIGHUP; the app it returns is served
        by the new workers (``None``: the old app keeps serving).
    :raise ValueError: for a bad ``trusted_proxies`` entry (before anything starts).
    """
    from gunicorn.app.base import BaseApplication

    from peerchange.web.access_log import configure_access_log

    configure_access_log(access_log)  # the app's JSON lines on stderr (none with -q)
    parse_networks(settings.trusted_proxies)  # a bad entry stops the start, with its name
    timeout = settings.query_timeout

    def post_fork(_server: Any, worker: Any) -> None:
        # until the worker sets its own handlers (init_signals), the master's handlers it
        # inherited would swallow a SIGTERM (queued for a master that is not there): a stop
        # then waited the whole graceful timeout. A worker stopped this early has served
        # nothing, so it leaves at once (no clean-up: see worker_exit; no core file as
        # SIGQUIT's default action would write).
        # (the arbiter forked with these signals blocked: one sent since is delivered
        # now, to this handler)
        for sig in STOP_SIGNALS:
            signal.signal(sig, _leave_at_once)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        # what the master left as cyclic garbage is never collected in a worker (a RocksDB
        # store's destructor aborts a forked process; frozen pages also stay shared)
        gc.freeze()
        _graph(worker.app.wsgi()).reopen()

    def worker_exit(_server: Any, worker: Any) -> None:
        """Leave a worker without interpreter clean-up when it holds an on-disk store.

        Destroying a RocksDB handle in a forked worker at exit can crash it (SIGSEGV,
        seen with pyoxigraph 0.5); the store is read-only, so there is nothing to flush
        but the log streams.
        """
        if not _graph(worker.app.wsgi()).store_path:
            return
        exc = sys.exc_info()[1]
        code = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 0
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def post_worker_init(_worker: Any) -> None:
        launch.hand_over()  # the early answerer, if any, stops accepting

    # the early answerer's listening socket, when it listens on this address
    inherited = launch.take_listener(host, port)
    bind = f"fd://{inherited}" if inherited is not None else f"{host}:{port}"

    arbiters: list[Any] = []

    def when_ready(arbiter: Any) -> None:
        # a function, not ``arbiters.append``: gunicorn checks a hook's arity with
        # inspect.signature, which for a built-in method parses its text signature with
        # tokenize (half the calls of gunicorn's set-up at each start)
        arbiters.append(arbiter)

    class _App(BaseApplication):  # type: ignore[misc]
        def __init__(self) -> None:
            self.settings = settings
            self.clients = ClientTable(settings)  # shared memory, before the fork
            super().__init__()

        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", WORKER_CLASS)
            self.cfg.set("preload_app", True)
            # a worker must outlive the longest query (the query itself is stopped at
            # the query timeout), plus time to answer
            self.cfg.set("timeout", int(timeout) + 30 if timeout > 0 else 0)
            # SIGTERM lets a running query finish (stopped at the query timeout) first
            self.cfg.set("graceful_timeout", int(timeout) + GRACE_SECONDS if timeout > 0
                         else GRACE_SECONDS)
            # the access log is written by the app (the worker has none of its own)
            self.cfg.set("accesslog", None)
            self.cfg.set("errorlog", "-")
            self.cfg.set("post_fork", post_fork)
            self.cfg.set("when_ready", when_ready)  # the master, for its worker pids
            self.cfg.set("worker_exit", worker_exit)
            self.cfg.set("post_worker_init", post_worker_init)
            self.cfg.set("proc_name", "peerchange")
            if pid_file:
                self.cfg.set("pidfile", pid_file)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1
                # no runtime-control socket: it would be one shared path per user, clashing
                # between several servers on one machine
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Flask:
            return app

        def run(self) -> None:
            try:
                _stop_safe_arbiter()(self).run()
            except RuntimeError as exc:  # as gunicorn's own run()
                print(f"\nError: {exc}\n", file=sys.stderr)
                sys.stderr.flush()
                sys.exit(1)

        def reload(self) -> None:
            """SIGHUP in the master: re-read the configuration, then the data."""
            super().reload()
            if reloader is None or self.callable is None:
                return
            # the workers serving the old app: gunicorn stops them once new ones are up
            old_workers = set(arbiters[-1].WORKERS) if arbiters else set()
            new_app = reloader(self.callable, old_workers)
            if new_app is not None:
                self.callable = new_app

    _App().run()
