"""Drive a mix over HTTP from N client threads for T seconds.

Each client keeps one connection alive (``http.client``, cheaper per request than
``requests``) from its own loopback address (127.0.2.k, as ``bench/load.py``: N users, not
one user's N connections, to a server's per-client budget) and sends the mix's requests
round-robin, starting at its own offset. Latency is measured from sending the request to
reading the whole answer; an answer other than 200 counts as an error, by status.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from urllib.parse import urlencode, urlsplit

from .mix import Request


def _percentiles(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    if len(latencies) == 1:
        ms = round(latencies[0] * 1000, 2)
        return {"p50_ms": ms, "p95_ms": ms, "p99_ms": ms}
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50_ms": round(q[49] * 1000, 2), "p95_ms": round(q[94] * 1000, 2),
            "p99_ms": round(q[98] * 1000, 2)}


class _Client:
    def __init__(self, endpoint: str, base: str, source: str) -> None:
        self.host = urlsplit(base).netloc
        self.endpoint_path = urlsplit(endpoint).path or "/"
        self.conn = http.client.HTTPConnection(self.host, timeout=600,
                                               source_address=(source, 0))

    def send(self, request: Request) -> int:
        for attempt in (0, 1):
            try:
                if request.query is not None:
                    body = urlencode({"query": request.query})
                    self.conn.request("POST", self.endpoint_path, body=body, headers={
                        "Accept": request.accept,
                        "Content-Type": "application/x-www-form-urlencoded"})
                else:
                    self.conn.request("GET", request.path, headers={"Accept": request.accept})
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.conn.close()
                return response.status
            except (http.client.HTTPException, OSError):
                self.conn.close()  # a server that closed the kept-alive connection: reconnect
                if attempt:
                    raise
        raise AssertionError("unreachable")


def drive(endpoint: str, base: str, requests: list[Request], clients: int,
          seconds: float) -> dict:
    """Send ``requests`` round-robin from ``clients`` threads for ``seconds``."""
    per_name: dict[str, list[float]] = {r.name: [] for r in requests}
    errors: dict[str, int] = {r.name: 0 for r in requests}
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        conn = _Client(endpoint, base, f"127.0.2.{offset + 1}")
        local = {r.name: [] for r in requests}
        bad = {r.name: 0 for r in requests}
        codes: dict[str, int] = {}
        i = offset
        while time.perf_counter() < stop:
            request = requests[i % len(requests)]
            i += 1
            t0 = time.perf_counter()
            try:
                status = str(conn.send(request))
            except (http.client.HTTPException, OSError) as exc:
                status = type(exc).__name__
            local[request.name].append(time.perf_counter() - t0)
            if status != "200":
                bad[request.name] += 1
                codes[status] = codes.get(status, 0) + 1
        with lock:
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n
            for name in local:
                per_name[name].extend(local[name])
                errors[name] += bad[name]

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    everything = [x for values in per_name.values() for x in values]
    return {
        "requests": len(everything),
        "errors": sum(errors.values()),
        "error_statuses": statuses,
        "seconds": round(elapsed, 2),
        "req_per_s": round(len(everything) / elapsed, 1),
        **_percentiles(everything),
        "per_query": {name: {"requests": len(v), "errors": errors[name], **_percentiles(v)}
                      for name, v in per_name.items()},
    }
