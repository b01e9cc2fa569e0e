"""Drive a mix over HTTP from N client processes for T seconds.

Each client is a process of its own (no GIL shared between clients) that keeps one
connection alive (:mod:`.wire`: each request sent in one write, cheaper per request than
``http.client``) from its own loopback address (127.0.2.k, as ``bench/load.py``: N users, not
one user's N connections, to a server's per-client budget) and sends either a fixed list of
requests round-robin, starting at its own offset, or the requests a schedule yields for it
(the varied mix). Latency is measured from sending the request to reading the whole
answer; an answer other than 200 counts as an error, by status.

Besides the latencies: how many of the requests were distinct (what a cache could not
have answered from an earlier one), the 1-minute load average just before, and, given the
server's pids, the CPU seconds its process tree used while driven (per request too: a
figure less disturbed by other work on the machine than the wall-clock ones) and the CPU
seconds of the client processes.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

from .memory import cpu_between, tree_cpu
from .mix import Request
from .wire import WireClient, encode

Schedule = Callable[[int], Iterator[Request]]


def round_robin(requests: list[Request]) -> Schedule:
    """Client k sends ``requests`` in turn, starting at the k-th."""
    def schedule(k: int) -> Iterator[Request]:
        return itertools.islice(itertools.cycle(requests), k % len(requests), None)
    return schedule


def _percentiles(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    if len(latencies) == 1:
        ms = round(latencies[0] * 1000, 2)
        return {"p50_ms": ms, "p95_ms": ms, "p99_ms": ms}
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50_ms": round(q[49] * 1000, 2), "p95_ms": round(q[94] * 1000, 2),
            "p99_ms": round(q[98] * 1000, 2)}


def drive(endpoint: str, base: str, requests: list[Request] | Schedule, clients: int,
          seconds: float, server_pids: list[int] | None = None) -> dict:
    """Send ``requests`` (a list, round-robin, or a schedule: client index -> requests)
    from ``clients`` processes for ``seconds``; ``server_pids``: the roots of the server's
    process trees, whose CPU time is reported."""
    schedule = round_robin(requests) if isinstance(requests, list) else requests
    per_name: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    statuses: dict[str, int] = {}
    distinct: set[int] = set()
    load_average = round(os.getloadavg()[0], 2)
    cpu_before = tree_cpu(server_pids) if server_pids else None
    stop = time.perf_counter() + seconds

    def client(offset: int, out: Connection) -> None:
        conn = WireClient(base, f"127.0.2.{offset + 1}")
        local: dict[str, list[float]] = {}
        bad: dict[str, int] = {}
        sent: set[int] = set()
        codes: dict[str, int] = {}
        wire: dict[int, bytes] = {}
        todo = schedule(offset)
        while time.perf_counter() < stop:
            request = next(todo)
            key = hash((request.name, request.query, request.path))
            sent.add(key)
            data = wire.get(key)
            if data is None:
                data = wire[key] = encode(request, endpoint, base)
            t0 = time.perf_counter()
            try:
                status = str(conn.send(data))
            except OSError as exc:
                status = type(exc).__name__
            local.setdefault(request.name, []).append(time.perf_counter() - t0)
            bad.setdefault(request.name, 0)
            if status != "200":
                bad[request.name] += 1
                codes[status] = codes.get(status, 0) + 1
        conn.close()
        out.send((local, bad, sorted(sent), codes))
        out.close()

    context = multiprocessing.get_context("fork")
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pipes, processes = [], []
    t0 = time.perf_counter()
    for k in range(clients):
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=client, args=(k, sender), daemon=True)
        process.start()
        sender.close()
        pipes.append(receiver)
        processes.append(process)
    for receiver in pipes:
        local, bad, sent, codes = receiver.recv()
        distinct.update(sent)
        for code, n in codes.items():
            statuses[code] = statuses.get(code, 0) + n
        for name in local:
            per_name.setdefault(name, []).extend(local[name])
            errors[name] = errors.get(name, 0) + bad[name]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - t0
    server_cpu = cpu_between(cpu_before, tree_cpu(server_pids)) if server_pids else None
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = round(children_after.ru_utime + children_after.ru_stime
                       - children_before.ru_utime - children_before.ru_stime, 2)
    everything = [x for values in per_name.values() for x in values]
    n = len(everything)
    return {
        "requests": n,
        "distinct_requests": len(distinct),
        "errors": sum(errors.values()),
        "error_statuses": statuses,
        "seconds": round(elapsed, 2),
        "req_per_s": round(n / elapsed, 1),
        **_percentiles(everything),
        "load_average_1m": load_average,
        "server_cpu_s": server_cpu,
        "server_cpu_ms_per_request": (round(server_cpu * 1000 / n, 2)
                                      if server_cpu is not None and n else None),
        "client_cpu_s": client_cpu,
        "per_query": {name: {"requests": len(v), "errors": errors[name], **_percentiles(v)}
                      for name, v in sorted(per_name.items())},
    }
