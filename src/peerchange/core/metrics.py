"""The server's metrics, served at ``/metrics`` in the Prometheus text format.

Metrics are made on first use, so that ``PROMETHEUS_MULTIPROC_DIR`` (set by ``peerchange
serve`` before its workers start) is in place when prometheus-client first looks at it; then
every worker writes its counts into that folder and ``/metrics`` adds them up. Outside a
server (tests, the command line) the metrics live in this process only.

Call :func:`count` and :func:`observe` from anywhere; both are cheap and never raise.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

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
    "refusals": ("counter", "Requests refused by a limit, by reason", ("reason",)),
    "executor_restarts": ("counter", "Query processes started again, by cause", ("cause",)),
    "reloads": ("counter", "Data reloads, by outcome", ("outcome",)),
    "store_triples": ("gauge", "Triples in the served store", ()),
}

_made: dict[str, Any] = {}
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
            extra = {"multiprocess_mode": "max"} if kind == "gauge" else {}
            _made[name] = cls(f"peerchange_{name}", doc, labels, **extra)
        return _made[name]


def count(name: str, amount: float = 1.0, **labels: str) -> None:
    """Add ``amount`` to the counter ``name`` (a key of :data:`METRICS`)."""
    try:
        metric = _metric(name)
        (metric.labels(**labels) if labels else metric).inc(amount)
    except Exception as exc:  # noqa: BLE001 - metrics must never break a request
        log.debug("metric %s not counted: %s", name, exc)


def observe(name: str, value: float, **labels: str) -> None:
    """Record ``value`` in the histogram ``name``, or set the gauge ``name`` to it."""
    try:
        metric = _metric(name)
        target = metric.labels(**labels) if labels else metric
        (target.set if METRICS[name][0] == "gauge" else target.observe)(value)
    except Exception as exc:  # noqa: BLE001
        log.debug("metric %s not observed: %s", name, exc)
