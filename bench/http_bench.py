"""HTTP benchmark of the SPARQL endpoint: a query mix at N concurrent clients.

Starts ``peerchange serve`` (gunicorn) on a free port for each configuration, warms it up,
then runs the mix from N client threads for a fixed time and reports requests per second
and latency percentiles. Configurations measured side by side in the same run:

- ``timeout``: the default server (queries run in each worker's executor process under the
  30 s wall-clock limit);
- ``no-timeout``: the same server with ``--timeout 0`` (no time limit, queries run in the
  worker itself) — the ratio between the two is the price of the timeout mechanism.

Usage::

    python bench/http_bench.py --seconds 20 --clients 4 --out bench/results/http.json

Writes the results as JSON and prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MIX = Path(__file__).resolve().parent / "queries"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "peerchange", "serve", "--port", str(port), "--workers", "2",
         "-q", *extra],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(base + "/health", timeout=1).ok:
                return proc, base
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start: " + proc.stderr.read().decode())


def load_mix() -> list[tuple[str, str, str]]:
    """Return (name, query text, Accept) for every ``bench/queries/*.rq``."""
    mix = []
    for path in sorted(MIX.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        accept = "text/turtle" if path.stem.startswith(("describe", "construct")) else (
            "application/sparql-results+json")
        mix.append((path.stem, text, accept))
    return mix


def run(base: str, mix, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        nonlocal errors
        session = requests.Session()
        i = offset
        local, bad = [], 0
        while time.perf_counter() < stop:
            _, text, accept = mix[i % len(mix)]
            i += 1
            t0 = time.perf_counter()
            r = session.post(base + "/sparql", data={"query": text},
                             headers={"Accept": accept}, timeout=60)
            dt = time.perf_counter() - t0
            if r.status_code != 200:
                bad += 1
            local.append(dt)
        with lock:
            latencies.extend(local)
            errors += bad

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "req_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("bench/results/http.json"))
    args = parser.parse_args()
    mix = load_mix()
    configs = {"timeout": [], "no-timeout": ["--timeout", "0"]}
    results = {}
    for name, extra in configs.items():
        print(f"[{name}] starting server", file=sys.stderr)
        proc, base = start_server(extra)
        try:
            for _, text, accept in mix:  # warm up and check every query answers
                r = requests.post(base + "/sparql", data={"query": text},
                                  headers={"Accept": accept}, timeout=60)
                r.raise_for_status()
            print(f"[{name}] {args.clients} clients for {args.seconds:g} s", file=sys.stderr)
            results[name] = run(base, mix, args.clients, args.seconds)
            print(f"[{name}] {results[name]}", file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "clients": args.clients,
        "seconds": args.seconds,
        "mix": [name for name, _, _ in mix],
        "results": results,
        "ratios": {
            "timeout/no-timeout req_per_s": round(
                results["timeout"]["req_per_s"] / results["no-timeout"]["req_per_s"], 2),
            "timeout/no-timeout p50": round(
                results["timeout"]["p50_ms"] / results["no-timeout"]["p50_ms"], 2),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print("| configuration | requests | errors | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        cells = [name, r["requests"], r["errors"], r["req_per_s"], r["p50_ms"], r["p99_ms"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
