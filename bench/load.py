"""Bounded load against ``peerchange serve`` (the buffering worker), and its throughput
next to gunicorn's sync worker.

``load`` (the default): starts ``peerchange serve`` (2 workers) on a free port, then N
clients (each from its own loopback address, 127.0.2.x, so each is one client to the
per-client budgets) send the query mix of ``bench/queries`` as form POSTs over kept-alive
connections for a fixed time. Every second it samples the resident memory of the
server's workers and their query processes. Pass: 0 errors and the workers' memory flat
(growth from the end of the first fifth of the run to the end under ``--max-growth-mb``).

``throughput``: a simple query (``ASK``), 4 clients, the buffering worker with kept-alive
connections and with a new connection per request, and gunicorn's sync worker (the
serving model before the buffering worker, started as ``gunicorn
'peerchange.web:create_app()'``), which closes every connection.

Usage::

    python bench/load.py --clients 16 --seconds 60 --out bench/results/load.md
    python bench/load.py --mode throughput --seconds 10 --rounds 5 \\
        --out bench/results/load-throughput.md
    python bench/load.py --clients 8 --seconds 10 --json   # the reduced form (tests/serving)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
MIX = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "bench" / "queries").glob("*.rq"))]
SIMPLE = "ASK { ?s ?p ?o }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], port: int, env: dict[str, str] | None = None
          ) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PEERCHANGE_")}
    proc = subprocess.Popen(command, cwd=ROOT, env={**clean, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise SystemExit(f"{' '.join(command)} did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def serve_command(port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "peerchange", "serve", "--port", str(port), "--workers",
            "2", "-q", *extra]


def sync_command(port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
            f"127.0.0.1:{port}", "--log-level", "warning", "peerchange.web:create_app()"]


# ------------------------------------------------------------------------ memory

def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            out.setdefault(ppid, []).append(int(entry))
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory(master: int) -> tuple[float, float]:
    """(MB resident in the workers, MB in the workers and their query processes)."""
    children = _children()
    workers = children.get(master, [])
    below = [c for w in workers for c in children.get(w, [])]
    return (sum(_rss_mb(w) for w in workers),
            sum(_rss_mb(w) for w in workers) + sum(_rss_mb(c) for c in below))


# ------------------------------------------------------------------------ clients

def client(port: int, source: str, requests_of, until: float, keep_alive: bool,
           out: list[tuple[float, int]], errors: list[str]) -> None:
    conn = None
    n = 0
    while time.monotonic() < until:
        method, path, body, headers = requests_of(n)
        n += 1
        begun = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                                  source_address=(source, 0))
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
            if not keep_alive or resp.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            if conn is not None:
                conn.close()
            conn = None
            continue
        out.append((time.perf_counter() - begun, status))
        if status != 200:
            errors.append(f"status {status}")
    if conn is not None:
        conn.close()


def run_clients(port: int, clients: int, seconds: float, requests_of, *, keep_alive: bool,
                master: int | None = None) -> dict:
    out: list[tuple[float, int]] = []
    errors: list[str] = []
    samples: list[tuple[float, float, float]] = []
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(port, f"127.0.2.{i + 1}", requests_of,
                                                     until, keep_alive, out, errors))
               for i in range(clients)]
    begun = time.monotonic()
    for t in threads:
        t.start()
    while master and time.monotonic() < until:
        samples.append((time.monotonic() - begun, *memory(master)))
        time.sleep(1.0)
    for t in threads:
        t.join()
    took = time.monotonic() - begun
    latencies = sorted(t for t, _ in out) or [0.0]
    result = {"requests": len(out), "errors": len(errors), "error_kinds":
              sorted(set(errors))[:5], "seconds": round(took, 1),
              "rps": round(len(out) / took, 1),
              "p50_ms": round(statistics.median(latencies) * 1000, 2),
              "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2)}
    if samples:
        settled = [s for s in samples if s[0] >= seconds / 5] or samples
        result["memory"] = {
            "workers_mb_settled": round(settled[0][1], 1),
            "workers_mb_end": round(samples[-1][1], 1),
            "workers_mb_max": round(max(s[1] for s in samples), 1),
            "with_query_processes_mb_end": round(samples[-1][2], 1),
            "growth_mb": round(samples[-1][1] - settled[0][1], 1)}
    return result


def mix_request(n: int):
    body = urlencode({"query": MIX[n % len(MIX)]})
    return ("POST", "/sparql", body, {"Content-Type": "application/x-www-form-urlencoded",
                                      "Accept": "*/*"})


def simple_request(_: int):
    return "GET", "/sparql?query=" + quote(SIMPLE), None, {"Accept": "text/csv"}


# ------------------------------------------------------------------------ the two modes

def load(args) -> dict:
    port = free_port()
    proc = start(serve_command(port), port)
    try:
        run_clients(port, 2, 2, mix_request, keep_alive=True)  # warm up
        result = run_clients(port, args.clients, args.seconds, mix_request, keep_alive=True,
                             master=proc.pid)
    finally:
        stopping = time.monotonic()
        stop(proc)
        stopped_in = time.monotonic() - stopping
    result["stop_seconds"] = round(stopped_in, 1)
    result["alive_after"] = proc.returncode == 0
    result["pass"] = (result["errors"] == 0 and result["memory"]["growth_mb"]
                      <= args.max_growth_mb)
    return result


def throughput(args) -> dict:
    """Each configuration ``--rounds`` times, alternating (the machine's load drifts), and
    the median round of each."""
    configs = (("buffering worker, kept-alive connections", serve_command, True),
               ("buffering worker, a connection per request", serve_command, False),
               ("sync worker (before), a connection per request", sync_command, False))
    rounds: dict[str, list[dict]] = {name: [] for name, _, _ in configs}
    for _ in range(args.rounds):
        for name, command, keep_alive in configs:
            port = free_port()
            proc = start(command(port), port)
            try:
                run_clients(port, 4, 2, simple_request, keep_alive=keep_alive)
                rounds[name].append(run_clients(port, 4, args.seconds, simple_request,
                                                keep_alive=keep_alive))
            finally:
                stop(proc)
    results = {}
    for name, runs in rounds.items():
        median = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
        results[name] = {**median, "errors": sum(r["errors"] for r in runs),
                         "rounds_rps": [r["rps"] for r in runs]}
    return results


def report(args, result: dict) -> str:
    when = time.strftime("%Y-%m-%d")
    lines = [f"# {'Throughput' if args.mode == 'throughput' else 'Bounded load'}: "
             "`peerchange serve`", "",
             f"Run on {when}, {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, load average before the run "
             f"{os.getloadavg()[0]:.1f}:", "", "```sh",
             f"python bench/load.py {' '.join(sys.argv[1:])}", "```", ""]
    if args.mode == "throughput":
        lines += [f"`ASK` by GET, 4 clients, {args.seconds:g} s a round, {args.rounds} rounds "
                  "alternating between the configurations; the median round of each (req/s "
                  "of every round in the last column).", "",
                  "| configuration | requests | errors | req/s | p50 ms | p99 ms | rounds |",
                  "|---|---|---|---|---|---|---|"]
        for name, r in result.items():
            lines.append(f"| {name} | {r['requests']} | {r['errors']} | {r['rps']} | "
                         f"{r['p50_ms']} | {r['p99_ms']} | {r['rounds_rps']} |")
    else:
        m = result["memory"]
        lines += [f"{args.clients} clients × {args.seconds:g} s, the query mix of "
                  "`bench/queries` as form POSTs over kept-alive connections, each client "
                  "from its own loopback address.", "",
                  "| requests | errors | req/s | p50 ms | p99 ms | workers MB (settled → end, "
                  "max) | with query processes MB (end) | growth MB | pass |",
                  "|---|---|---|---|---|---|---|---|---|",
                  f"| {result['requests']} | {result['errors']} | {result['rps']} | "
                  f"{result['p50_ms']} | {result['p99_ms']} | {m['workers_mb_settled']} → "
                  f"{m['workers_mb_end']}, {m['workers_mb_max']} | "
                  f"{m['with_query_processes_mb_end']} | {m['growth_mb']} | "
                  f"{'yes' if result['pass'] else 'NO'} |"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("load", "throughput"), default="load")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-growth-mb", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3, help="throughput: rounds each")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    result = load(args) if args.mode == "load" else throughput(args)
    if args.json:
        print(json.dumps(result))
    else:
        print(report(args, result))
    if args.out:
        args.out.write_text(report(args, result), encoding="utf-8")
    return 0 if args.mode == "throughput" or result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
