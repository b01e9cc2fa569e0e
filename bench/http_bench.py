"""The price of the query time limit: one query mix against ``peerchange serve``, with and without.

Starts ``peerchange serve`` (2 workers, the shipped graph) on a free port for each
configuration, checks every query of the mix answers 200, then drives the mix with the
harness's driver (``bench.harness.drive``: N clients, each on its own loopback address and
kept-alive connection, for a fixed time) and reports requests per second, latency
percentiles and the server's CPU time per request. Configurations, side by side in one run:

- ``timeout``: the default server (queries run in each worker's query processes under the
  30 s wall-clock limit);
- ``no-timeout``: the same server with ``--timeout 0`` (no time limit) — the ratio between
  the two is the price of the timeout mechanism.

The mix is ``bench/queries/*.rq`` (an ASK, a CONSTRUCT, a DESCRIBE, an aggregate, the
mechanism-theory trace, the references of a paper; CONSTRUCT and DESCRIBE asked for as
Turtle). The comparison with other servers is ``python -m bench.harness``.

Usage (``--answer-cache-mb 0``: without peerchange's answer cache, which otherwise answers
this fixed mix after its first round)::

    python -m bench.http_bench --seconds 20 --clients 4 --out bench/results/http.json

Writes the results as JSON and prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import requests
from bench.harness.drive import drive
from bench.harness.mix import Request
from bench.harness.servers import ROOT, clean_env, free_port

MIX = Path(__file__).resolve().parent / "queries"
CONFIGS = {"timeout": [], "no-timeout": ["--timeout", "0"]}


def start_server(extra: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "peerchange", "serve", "--port", str(port), "--workers", "2",
         "-q", *extra],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if requests.get(base + "/health", timeout=1).ok:
                return proc, base
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start: " + proc.stderr.read().decode())


def load_mix() -> list[Request]:
    """Every ``bench/queries/*.rq``, Turtle for CONSTRUCT and DESCRIBE, else SPARQL JSON."""
    return [Request(path.stem, query=path.read_text(encoding="utf-8"),
                    accept="text/turtle" if path.stem.startswith(("describe", "construct"))
                    else "application/sparql-results+json")
            for path in sorted(MIX.glob("*.rq"))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("bench/results/http.json"))
    parser.add_argument("--answer-cache-mb", type=int,
                        help="PEERCHANGE_ANSWER_CACHE_MB of both servers (0: every request "
                             "reaches the engine; default: peerchange's default, 16)")
    args = parser.parse_args(argv)
    env = clean_env()
    if args.answer_cache_mb is not None:
        env["PEERCHANGE_ANSWER_CACHE_MB"] = str(args.answer_cache_mb)
    mix = load_mix()
    results = {}
    for name, extra in CONFIGS.items():
        print(f"[{name}] starting server", file=sys.stderr)
        proc, base = start_server(extra, env)
        try:
            session = requests.Session()
            for request in mix:  # warm up and check every query answers
                request.send(session, base + "/sparql", base, timeout=60).raise_for_status()
            print(f"[{name}] {args.clients} clients for {args.seconds:g} s", file=sys.stderr)
            results[name] = drive(base + "/sparql", base, mix, args.clients, args.seconds,
                                  server_pids=[proc.pid])
            summary = {k: v for k, v in results[name].items() if k != "per_query"}
            print(f"[{name}] {json.dumps(summary)}", file=sys.stderr)
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
        "answer_cache_mb": args.answer_cache_mb,
        "mix": [request.name for request in mix],
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
    print("| configuration | requests | errors | req/s | p50 ms | p99 ms "
          "| server CPU ms / request |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        cells = [name, r["requests"], r["errors"], r["req_per_s"], r["p50_ms"], r["p99_ms"],
                 r["server_cpu_ms_per_request"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
