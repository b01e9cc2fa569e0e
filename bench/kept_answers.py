"""CPU of the store-wide answers kept per data version: the home page and a scoped canned
query's ``scope=store`` answer on a fresh server with an empty dumps folder, after a
restart over the same folder, and with two workers the second worker's first request
(the first worker stopped meanwhile, so that the other one answers).

    python bench/kept_answers.py SRC DATA STORE PORT SCRATCH [--extra-bytes N] [--two]

``SRC``: the ``src`` folder of the code measured (run with ``PYTHONPATH=SRC``); ``DATA``
and ``STORE``: the N-Triples file and its built on-disk store; ``SCRATCH``: a folder for
the dumps folders; ``--two``: the two-worker step alone. CPU is of the server's process
tree (every process under the one started, reaped query processes included), read from
``/proc``; one JSON line per step.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
HOME = "/"
CANNED = ("/api/claims-by-status?status=https%3A%2F%2Fw3id.org%2Fpeerchange%2Fonto%2F"
          "StatedInSource&scope=store&per_page=10")


def _stat(pid: int) -> tuple[int, float] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / TICK  # ppid, u+s+cu+cs


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            kids.setdefault(st[0], []).append(int(entry))
    return kids


def cpu(root: int, kids: dict[int, list[int]] | None = None) -> float:
    """CPU seconds of ``root`` and its live descendants (reaped ones in their parents)."""
    kids = _children() if kids is None else kids
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if (st := _stat(pid)) is not None:
            total += st[1]
        todo += kids.get(pid, [])
    return total


def get(port: int, path: str) -> tuple[int, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=900) as r:
        return r.status, len(r.read())


def serve(src: str, data: str, store: str, port: int, dumps: Path, workers: int,
          extra: str | None) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PEERCHANGE_")},
           "PYTHONPATH": src}
    if extra:
        env["PEERCHANGE_MAX_EXTRA_BYTES"] = extra
    proc = subprocess.Popen(
        [sys.executable, "-m", "peerchange", "serve", data, "--store", store, "--port",
         str(port), "-q", "--dumps-dir", str(dumps), "--workers", str(workers)],
        env=env, start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            if get(port, "/health")[0] == 200:
                break
        except OSError:
            time.sleep(0.5)
    time.sleep(2)  # the workers settle
    return proc


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(60)


def workers_of(proc: subprocess.Popen) -> list[int]:
    return sorted(_children().get(proc.pid, []))


def one_worker(src, data, store, port, dumps, extra, step: str) -> None:
    proc = serve(src, data, store, port, dumps, 1, extra)
    try:
        for name, path in (("home", HOME), ("canned", CANNED)):
            before, t = cpu(proc.pid), time.perf_counter()
            status, size = get(port, path)
            print(json.dumps({"step": step, "request": name, "status": status,
                              "bytes": size, "cpu_s": round(cpu(proc.pid) - before, 2),
                              "wall_s": round(time.perf_counter() - t, 2)}), flush=True)
    finally:
        stop(proc)


def two_workers(src, data, store, port, dumps, extra) -> None:
    """The first answer of each worker: the one that answers first (the most CPU) is
    stopped (``SIGSTOP``) while the same request is sent again, so the other answers it."""
    proc = serve(src, data, store, port, dumps, 2, extra)
    try:
        for name, path in (("home", HOME), ("canned", CANNED)):
            kids = _children()
            pids = workers_of(proc)
            before = {p: cpu(p, kids) for p in pids}
            get(port, path)
            kids = _children()
            spent = {p: cpu(p, kids) - before[p] for p in pids}
            first = max(pids, key=lambda p: spent[p])
            other = next(p for p in pids if p != first)
            print(json.dumps({"step": "2 workers", "request": name, "worker": "first",
                              "cpu_s": round(spent[first], 2)}), flush=True)
            os.kill(first, signal.SIGSTOP)
            try:
                was = cpu(other)
                get(port, path)
                print(json.dumps({"step": "2 workers", "request": name, "worker": "second",
                                  "cpu_s": round(cpu(other) - was, 2)}), flush=True)
            finally:
                os.kill(first, signal.SIGCONT)
    finally:
        stop(proc)


def main() -> None:
    src, data, store, port, scratch, *rest = sys.argv[1:]
    extra = rest[rest.index("--extra-bytes") + 1] if "--extra-bytes" in rest else None
    root = Path(scratch) / f"dumps-{int(time.time())}"
    if "--two" not in rest:
        one_worker(src, data, store, int(port), root / "a", extra, "fresh")
        one_worker(src, data, store, int(port), root / "a", extra, "restart")
    two_workers(src, data, store, int(port), root / "b", extra)


if __name__ == "__main__":
    main()
