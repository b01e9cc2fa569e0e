"""Reloading the data of a running server (SIGHUP, or ``peerchange reload``).

:class:`Reloader` is called in the gunicorn master with the app it serves. It re-reads the
sources (the shipped ontology and data, plus the same extra files and ``--graph`` files
the server started with) into a *new* graph, checks it, and returns a new app over it; the
master gives that app to new workers and stops the old ones gracefully. The old graph is
served until then, and keeps being served when the new data is refused:

- a file that cannot be read or parsed: refused, with the file, line and reason;
- with ``validate`` (``serve --validate-on-reload``): data that fails the checks of
  ``peerchange validate`` (SHACL, the OWL phase, the check queries; the same service,
  :func:`peerchange.services.validation.validate_store`): refused, with the report;
- unchanged data (the same sources' digest, so the same data version and ETags): nothing
  is rebuilt, the current app is returned.

Over a remote SPARQL store (``serve --endpoint``) a reload loads nothing: it re-reads the
store's publication record (:func:`peerchange.core.remote_graph.connect_graph`); a new
data version there gives a new app (new ETags), the same one keeps the current app, and
a store that cannot be reached or holds no record is refused like bad data.

Where the new graph lives:

- on disk (``--store DIR``): built in a new folder beside the current store and made
  current by an atomic rename of the folder's pointer (:mod:`peerchange.core.store_folder`),
  only once it loaded and passed; old workers keep reading the old folder, which is
  removed by a later reload or start once no process holds it;
- in memory: a second copy, so the master holds both graphs while the new one loads and
  is checked. Measured peak RSS of the master during a reload (busy 2-core machine): the
  shipped graph 68 → 69 MiB; with a 49 MB N-Triples extra file (500,000 triples)
  440 → 916 MiB, about twice the graph. On disk the same file: 246 → 656 MiB (the
  file's bytes, the parser and RocksDB's write buffers while it is bulk-loaded).

With a pid file, each reload's outcome goes to ``FILE.reload.json``
(:mod:`peerchange.core.reload_status`), where ``peerchange reload`` waits for it: ``done``
is written once the old workers (the master's children that hold the listening socket
when the new app is returned) have exited, so that only the new data is served.
Each outcome is counted in the ``reloads`` metric.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from peerchange.core import metrics
from peerchange.core.config import Settings
from peerchange.core.errors import PeerchangeError
from peerchange.core.knowledge_graph import KnowledgeGraph, load_graph, sources_digest
from peerchange.core.reload_status import write_status
from peerchange.core.sources import Source, shipped_sources

if TYPE_CHECKING:
    from peerchange.web.state import PeerchangeApp

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# how long, beyond the query timeout, old workers may take to stop before "done" is
# written anyway (with a note)
WORKER_STOP_SECONDS = 60.0


class ReloadRefused(PeerchangeError):
    """The new data failed validation; ``report`` is the validation report (text)."""

    exit_code = 1

    def __init__(self, message: str, *, report: str) -> None:
        super().__init__(message)
        self.report = report


class Reloader:
    """Build the app for freshly loaded data: ``reloader(current_app) -> app | None``.

    :param settings: the server's settings (``store``: the on-disk store folder or empty).
    :param extra_sources: the extra files and ``--graph`` files the server loaded; they
        are read again at each reload.
    :param validate: refuse data that fails validation (the checks of ``peerchange
        validate``).
    :param pid_file: the server's pid file; the outcome goes to ``pid_file.reload.json``.
        ``None``: no status file (SIGHUP still reloads).
    :param progress: prints one line (the server's progress printer).
    :param reasoner: run the OWL phase when validating (needs Java), as ``peerchange
        validate`` does unless ``--no-reasoner``.
    """

    def __init__(self, settings: Settings, extra_sources: Sequence[Source], *,
                 validate: bool, pid_file: str | None, progress: Progress = lambda _: None,
                 reasoner: bool = True) -> None:
        self.settings = settings
        self.extra = list(extra_sources)
        self.validate = validate
        self.pid_file = pid_file
        self.progress = progress
        self.reasoner = reasoner
        self._served: PeerchangeApp | None = None  # the app the last reload returned
        self._generation = 0
        self._lock = threading.Lock()

    def __call__(self, current_app: PeerchangeApp,
                 old_workers: Collection[int] = ()) -> PeerchangeApp | None:
        """Reload: the app to serve from now on, or ``None`` to keep ``current_app``'s.

        :param old_workers: the pids of the server workers serving ``current_app``: the
            status file says ``done`` once they have exited (at once when there are none).

        Never raises: every failure is reported (progress line, status file, metric) and
        answered with ``None``.
        """
        current = self._served if self._served is not None else current_app
        old = current.services.graph
        started = time.time()
        self._generation += 1
        self._status("running", started, old.version, "reloading the data")
        self.progress("Reloading the data (SIGHUP)")
        try:
            if self.settings.endpoint:
                # a remote store: re-read its publication record only, load nothing
                from peerchange.core.remote_graph import connect_graph

                graph = connect_graph(self.settings)
                if graph.version == old.version:
                    return self._unchanged(current, started)
                new_app = self._app_over(graph)
            else:
                version = sources_digest(shipped_sources() + self.extra)
                if version == old.version:
                    return self._unchanged(current, started)
                new_app = self._build(started)
        except ReloadRefused as exc:
            return self._refuse(started, old, exc.message, exc.report)
        except PeerchangeError as exc:
            return self._refuse(started, old, "the new data cannot be loaded", str(exc))
        except Exception as exc:  # noqa: BLE001 - a reload must never stop the server
            log.exception("reload failed")
            return self._finish("failed", started, old.version,
                                f"the reload failed ({type(exc).__name__}: {exc}); "
                                "still serving the data loaded before", outcome="failed")
        graph = new_app.services.graph
        if old.store_path and old.store_path != graph.store_path:
            old.release()  # its folder goes once the old workers have exited
        self._served = new_app
        metrics.count("reloads", outcome="done")
        metrics.observe("store_triples", graph.triples)
        message = (f"now serving data version {graph.version} ({graph.triples:,} triples "
                   f"in {len(graph.graph_counts)} named graphs, loaded in "
                   f"{graph.seconds:.2f} s)")
        self.progress(f"Reloaded: {message}")
        if self.pid_file:
            self._report_done_when_old_workers_stop(started, graph.version, message,
                                                    set(old_workers))
        return new_app

    # ---------------------------------------------------------------- steps

    def _build(self, started: float) -> PeerchangeApp:
        from peerchange.web import create_app

        def step(line: str) -> None:
            self.progress("  " + line)

        graph = load_graph(self.extra, store_path=self.settings.store or None, progress=step,
                           accept=self._check if self.validate else None)
        return create_app(self.settings, graph)

    def _app_over(self, graph: KnowledgeGraph) -> PeerchangeApp:
        from peerchange.web import create_app

        return create_app(self.settings, graph)

    def _check(self, graph: KnowledgeGraph) -> None:
        """Refuse ``graph`` when it fails validation (before it is made current)."""
        from peerchange.services.validation import validate_store
        from peerchange.services.validation.report import render_text

        report = validate_store(graph.store, graph.sources, reasoner=self.reasoner,
                                progress=lambda line: self.progress("  " + line))
        if not report.conforms():
            raise ReloadRefused("the new data does not pass validation",
                                report=render_text(report))

    def _unchanged(self, current: PeerchangeApp, started: float) -> PeerchangeApp:
        version = current.services.graph.version
        message = f"the data is unchanged (version {version}); still serving it"
        self.progress(f"Reload: {message}")
        self._finish("done", started, version, message, outcome="unchanged")
        return current

    def _refuse(self, started: float, old: KnowledgeGraph, message: str,
                report: str) -> None:
        self.progress(f"Reload refused: {message}; still serving data version {old.version}")
        for line in report.splitlines():
            self.progress("  " + line)
        return self._finish("refused", started, old.version,
                            f"{message}; still serving data version {old.version}",
                            report=report, outcome="refused")

    def _finish(self, state: str, started: float, version: str, message: str, *,
                outcome: str, report: str | None = None) -> None:
        metrics.count("reloads", outcome=outcome)
        self._status(state, started, version, message, report)
        return None

    # ---------------------------------------------------------------- the status file

    def _status(self, state: str, started: float, version: str | None, message: str,
                report: str | None = None) -> None:
        if not self.pid_file:
            return
        try:
            write_status(self.pid_file, state=state, pid=os.getpid(), started=started,
                         version=version, message=message, report=report)
        except OSError as exc:
            self.progress(f"cannot write the reload status next to {self.pid_file}: {exc}")

    def _report_done_when_old_workers_stop(self, started: float, version: str,
                                           message: str, old_workers: set[int]) -> None:
        """Write ``done`` once the workers serving the old app have exited (a thread; at
        once, before the reload returns, when there are none)."""
        if not old_workers:
            with self._lock:
                self._status("done", started, version, message)
            return
        generation = self._generation
        deadline = time.monotonic() + max(self.settings.query_timeout, 0) + WORKER_STOP_SECONDS

        def wait() -> None:
            while old_workers and time.monotonic() < deadline:
                old_workers.intersection_update(serving_children(os.getpid()))
                time.sleep(0.05)
            note = (f" ({len(old_workers)} old worker(s) still finishing their requests)"
                    if old_workers else "")
            with self._lock:
                if generation == self._generation:  # no later reload has begun
                    self._status("done", started, version, message + note)

        threading.Thread(target=wait, name="peerchange-reload-done", daemon=True).start()


def serving_children(pid: int) -> set[int]:
    """The live child processes of ``pid`` that hold a socket (its server workers; the
    query processes close theirs). Empty where ``/proc`` is not available."""
    proc = Path("/proc")
    found: set[int] = set()
    try:
        names = [n for n in os.listdir(proc) if n.isdigit()]
    except OSError:
        return found
    for name in names:
        try:
            stat = (proc / name / "stat").read_text()
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) != pid or state in ("Z", "X"):
                continue
            fds = list((proc / name / "fd").iterdir())
        except (OSError, ValueError):
            continue
        if any(_is_socket(fd) for fd in fds):
            found.add(int(name))
    return found


def _is_socket(fd: Path) -> bool:
    try:
        return os.readlink(fd).startswith("socket:")
    except OSError:
        return False
