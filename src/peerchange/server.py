"""Run the web app in production with gunicorn (or the Flask development server).

The graph is loaded once in the gunicorn master (``preload_app``) and shared by the
forked workers copy-on-write; an on-disk store is reopened read-only in each worker.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def run_gunicorn(app: Flask, *, host: str, port: int, workers: int, timeout: float,
                 access_log: bool = True) -> None:
    """Serve ``app`` with gunicorn until interrupted."""
    from gunicorn.app.base import BaseApplication

    graph = app.extensions["peerchange"].graph

    def post_fork(_server: Any, _worker: Any) -> None:
        graph.reopen()

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
            self.cfg.set("proc_name", "peerchange")

        def load(self) -> Flask:
            return app

    _App().run()
