"""Run the web app in production with gunicorn (or the Flask development server).

The graph is loaded once in the gunicorn master (``preload_app``) and shared by the
forked workers copy-on-write; an on-disk store is reopened read-only in each worker
(and a worker holding one exits without interpreter clean-up, see ``worker_exit``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from flask import Flask


def run_gunicorn(app: Flask, *, host: str, port: int, workers: int, timeout: float,
                 access_log: bool = True) -> None:
    """Serve ``app`` with gunicorn until interrupted."""
    from gunicorn.app.base import BaseApplication

    graph = app.services.graph

    def post_fork(_server: Any, _worker: Any) -> None:
        graph.reopen()

    def worker_exit(_server: Any, _worker: Any) -> None:
        """Leave a worker without interpreter clean-up when it holds an on-disk store.

        Destroying a RocksDB handle in a forked worker at exit can crash it (SIGSEGV,
        seen with pyoxigraph 0.5); the store is read-only, so there is nothing to flush
        but the log streams.
        """
        if not graph.store_path:
            return
        exc = sys.exc_info()[1]
        code = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 0
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("preload_app", True)
            # a worker must outlive the longest query (the query itself is stopped at
            # the query timeout), plus time to answer
            self.cfg.set("timeout", int(timeout) + 30 if timeout > 0 else 0)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("accesslog", "-" if access_log else None)
            self.cfg.set("errorlog", "-")
            self.cfg.set("post_fork", post_fork)
            self.cfg.set("worker_exit", worker_exit)
            self.cfg.set("proc_name", "peerchange")
            # GET queries travel in the request line: allow gunicorn's largest bounded size
            # (8190 bytes; its default is 4094); longer queries should use POST.
            self.cfg.set("limit_request_line", 8190)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1
                # no runtime-control socket: it would be one shared path per user, clashing
                # between several servers on one machine
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Flask:
            return app

    _App().run()
