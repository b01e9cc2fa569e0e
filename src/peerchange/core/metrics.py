"""The server's metrics, served at ``/metrics`` in the Prometheus text format.

Metrics are made on first use, so that ``PROMETHEUS_MULTIPROC_DIR`` (set by ``peerchange
serve`` before its workers start) is in place when prometheus-client first looks at it; then
every worker writes its counts into that folder and ``/metrics`` adds them up. Outside a
server (tests, the command line) the metrics live in this process only.

Call :func:`count` and :func:`observe` from anywhere; both are cheap and never raise.
Count in the process that serves the request, not in a query process: a query process's
counts are lost when no metrics folder is set (tests, the Flask development server), and
with one, each short-lived process leaves a file there that every scrape reads.

:func:`prepare_multiprocess` chooses where the counts go (``create_app`` calls it, before
anything imports prometheus-client); :func:`exposition` is the text ``/metrics`` serves.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
import threading
from typing import Any

from peerchange.core.errors import PeerchangeError

log = logging.getLogger(__name__)

# name: (kind, help, label names); the exported name is ``peerchange_`` + name
METRICS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "requests": ("counter", "HTTP requests answered, by route group and status",
                 ("route", "status")),
    "request_seconds": ("histogram", "Seconds to answer an HTTP request", ("route",)),
    "query_seconds": ("histogram", "Seconds a SPARQL query took in the query process", ()),
    "query_timeouts": ("counter", "Queries stopped at the time limit", ()),
    "query_memory_stops": ("counter", "Queries stopped at the memory limit", ()),
    "answers_truncated": ("counter", "Answers cut at the row or byte limit", ("limit",)),
    "answers_replayed": ("counter", "Answers a worker sent again from its fast lane, "
                         "without the app", ()),
    "answers_lean": ("counter", "SPARQL answers a worker made without Flask (its lean path)",
                     ()),
    "refusals": ("counter", "Requests refused by a limit, by reason", ("reason",)),
    "executor_restarts": ("counter", "Query processes started again, by cause", ("cause",)),
    "reloads": ("counter", "Data reloads, by outcome", ("outcome",)),
    "store_triples": ("gauge", "Triples in the served store", ()),
}

# histogram buckets (seconds): up to the default query timeout and past it
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# the folder prometheus-client's multi-process mode reads (its own variable name)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# a private folder made by :func:`prepare_multiprocess` is named PREFIX + pid + "-..."
PRIVATE_PREFIX = "peerchange-metrics-"

_made: dict[str, Any] = {}
_children: dict[tuple, Any] = {}  # (name, *label items) -> the labelled metric
_lock = threading.Lock()


def _metric(name: str) -> Any:
    metric = _made.get(name)
    if metric is not None:
        return metric
    with _lock:
        if name not in _made:
            import prometheus_client as prom

            kind, doc, labels = METRICS[name]
            cls = {"counter": prom.Counter, "histogram": prom.Histogram,
                   "gauge": prom.Gauge}[kind]
            # a gauge shows the value last set by any process (the master sets the store
            # size at start and at each reload)
            extra: dict[str, Any] = ({"multiprocess_mode": "mostrecent"} if kind == "gauge"
                                     else {"buckets": BUCKETS} if kind == "histogram" else {})
            _made[name] = cls(f"peerchange_{name}", doc, labels, **extra)
        return _made[name]


def _labelled(name: str, labels: dict[str, str]) -> Any:
    """The metric ``name`` with these label values (each kept once made: prometheus-client
    checks and looks up the labels on every ``labels()`` call)."""
    if not labels:
        return _metric(name)
    key = (name, *labels.items())
    child = _children.get(key)
    if child is None:
        child = _children[key] = _metric(name).labels(**labels)
    return child


def count(name: str, amount: float = 1.0, **labels: str) -> None:
    """Add ``amount`` to the counter ``name`` (a key of :data:`METRICS`)."""
    try:
        _labelled(name, labels).inc(amount)
    except Exception as exc:  # noqa: BLE001 - metrics must never break a request
        log.debug("metric %s not counted: %s", name, exc)


def observe(name: str, value: float, **labels: str) -> None:
    """Record ``value`` in the histogram ``name``, or set the gauge ``name`` to it."""
    try:
        target = _labelled(name, labels)
        (target.set if METRICS[name][0] == "gauge" else target.observe)(value)
    except Exception as exc:  # noqa: BLE001
        log.debug("metric %s not observed: %s", name, exc)


def prepare_multiprocess() -> str | None:
    """Make the counts of every process of one server add up; return the folder, or ``None``
    when this process counts alone.

    prometheus-client picks its storage when it is first imported: with
    ``PROMETHEUS_MULTIPROC_DIR`` set, every process (gunicorn's master and workers) writes
    its counts into files there and :func:`exposition` adds them up. An operator's value is
    used as it is (the folder should be emptied between runs, as prometheus-client says);
    otherwise a private folder is made and removed when this process exits. A private
    folder inherited from another peerchange process (a server started by a test, or by
    another server) is not shared: this process makes its own. Call it before anything
    imports prometheus-client; called later, it changes nothing.

    :raise PeerchangeError: when the operator's folder cannot be made.
    """
    if "prometheus_client" in sys.modules:
        return multiprocess_dir()
    current = os.environ.get(MULTIPROC_ENV)
    if current and not _inherited_private(current):
        try:
            os.makedirs(current, exist_ok=True)
        except OSError as exc:
            raise PeerchangeError(
                f"{MULTIPROC_ENV}={current!r} cannot be used for the metrics ({exc}); set it "
                "to a folder this server can write, or unset it."
            ) from None
        return current
    folder = tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-")
    os.environ[MULTIPROC_ENV] = folder
    atexit.register(_remove_folder, folder, os.getpid())
    return folder


def _inherited_private(folder: str) -> bool:
    name = os.path.basename(os.path.normpath(folder))
    if not name.startswith(PRIVATE_PREFIX):
        return False
    return name[len(PRIVATE_PREFIX):].split("-", 1)[0] != str(os.getpid())


def _remove_folder(folder: str, owner: int) -> None:
    """Remove the private folder at the exit of the process that made it (forked workers
    inherit the exit hook: they leave it alone)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def multiprocess_dir() -> str | None:
    """The folder counts are added up from, or ``None`` when this process counts alone."""
    if "prometheus_client" not in sys.modules:
        return os.environ.get(MULTIPROC_ENV) or None
    from prometheus_client import values

    if not getattr(values.ValueClass, "_multiprocess", False):
        return None
    return os.environ.get(MULTIPROC_ENV) or None


def create_all() -> None:
    """Make every metric of :data:`METRICS` now, so the unlabelled ones are listed (at 0)
    before anything happens."""
    for name in METRICS:
        try:
            _metric(name)
        except Exception as exc:  # noqa: BLE001
            log.warning("metric %s could not be made: %s", name, exc)


def exposition(accept: str | None = None) -> tuple[bytes, str]:
    """The metrics and their media type: the Prometheus text format (0.0.4), or OpenMetrics
    when ``accept`` (the request's ``Accept``) asks for it; the sum over every process of
    the server when :func:`multiprocess_dir` is set, this process's otherwise."""
    import prometheus_client as prom
    from prometheus_client import multiprocess
    from prometheus_client.exposition import choose_encoder

    registry = prom.REGISTRY
    if multiprocess_dir():
        registry = prom.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    encode, media_type = choose_encoder(accept or "")
    return encode(registry), media_type
