"""One size: every server started on the same data file, measured and driven in turn.

Servers run one after another (never two at once: they would share the 2 cores). Per
server: the load command's seconds (Oxigraph's ``load``, Virtuoso's bulk loader), the
seconds from the first command to the first answer, the peak memory of its process
trees (the load command's and the server's), the disk of its data folder, the mix driven
for T seconds from N clients and, with ``restart``, the seconds a restart on the built
store takes to answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from . import mix
from .drive import drive
from .memory import PeakSampler, disk_mb
from .servers import ROOT, Server, clean_env


def count_lines(path: Path) -> int:
    """Lines of an N-Triples/N-Quads file (one triple or quad a line)."""
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines


def synthesize(path: Path, studies: int) -> None:
    """Write ``path`` with ``peerchange synth`` (seed 0) unless it exists."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "peerchange", "synth", "-n", str(studies), "-q",
                    "-o", str(path)], check=True, cwd=ROOT, env=clean_env())


def validate_seconds(data: Path, timeout: float) -> dict:
    """``peerchange validate FILE -q --format json``: seconds and exit code.

    Validates the N-Quads twin of an N-Triples file where there is one (``synth`` writes
    shape-valid graphs as N-Quads: one named graph per study), else the file itself. All
    phases run as a user runs them (the OWL phase, HermiT, needs Java).
    """
    twin = data.with_suffix(".nq")
    target = twin if data.suffix == ".nt" and twin.exists() else data
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "peerchange", "validate", str(target),
                               "-q", "--format", "json"], cwd=ROOT, env=clean_env(),
                              capture_output=True, text=True, timeout=timeout)
        code: int | str = proc.returncode
    except subprocess.TimeoutExpired:
        code = f"stopped after {timeout:g} s"
    return {"file": target.name, "seconds": round(time.perf_counter() - t0, 2),
            "exit_code": code}


def measure(cls: type[Server], data: Path, work: Path, *, clients: int, seconds: float,
            reference: dict | None, restart: bool, log=print) -> tuple[dict, dict | None]:
    """Start, check, drive and stop one server; return its results and its answers."""
    why = cls.available()
    if why:
        return {"skipped": why}, None
    server = cls(work / cls.name, data, mix.probe())
    result: dict = {}
    answers = None
    with PeakSampler() as sampler:
        try:
            t0 = time.perf_counter()
            command = server.prepare(sampler)
            t1 = time.perf_counter()
            server.start(sampler)
            result["start_s"] = round(time.perf_counter() - t1, 2)
            loaded = server.load(sampler)
            command = loaded if loaded is not None else command
            result["load_command_s"] = None if command is None else round(command, 2)
            result["ready_s"] = round(time.perf_counter() - t0, 2)
            log(f"  {cls.name}: answering after {result['ready_s']} s")
            answers = mix.check(server.endpoint, server.base)
            result["rows"] = {k: len(v) if isinstance(v, list) else v
                              for k, v in answers.items()}
            result["problems"] = mix.problems(answers, reference or answers)
            if cls.name == "peerchange":
                try:
                    result["page_bytes"] = mix.check_pages(server.base)
                except RuntimeError as exc:  # a page that fails is a finding, not the end
                    result["page_error"] = str(exc)[:300]
                    log(f"  {cls.name}: page failed: {str(exc)[:100]}")
            if seconds > 0:
                # the machine's load before driving (other work on it makes figures noisy)
                result["load_average_1m"] = round(os.getloadavg()[0], 2)
                result["mix"] = drive(server.endpoint, server.base, mix.queries(), clients,
                                      seconds)
                log(f"  {cls.name}: {result['mix']['req_per_s']} req/s, "
                    f"p99 {result['mix']['p99_ms']} ms")
                if cls.name == "peerchange":
                    result["pages"] = drive(server.endpoint, server.base, mix.pages(),
                                            clients, seconds)
            sampler.sample()
            result["peak_memory_mb"] = sampler.peak_mb
            result["peak_pss_mb"] = sampler.peak_pss_mb
            result["disk_mb"] = disk_mb(server.data_dir)
            if restart and server.restartable:
                server.stop()
                t2 = time.perf_counter()
                try:
                    server.start(PeakSampler())
                    result["restart_s"] = round(time.perf_counter() - t2, 2)
                except Exception as exc:  # noqa: BLE001  (the rest was measured)
                    result["restart_error"] = str(exc)[-1000:]
        except Exception as exc:  # noqa: BLE001  (recorded: the run goes on)
            result["error"] = str(exc)[-2000:]
            log(f"  {cls.name}: FAILED {str(exc)[:300]}")
        finally:
            server.stop()
    log(f"  {cls.name}: " + json.dumps({k: v for k, v in result.items()
                                        if k not in ("mix", "pages")}))
    return result, answers


def run_size(data: Path, work: Path, servers: list[type[Server]], *, clients: int,
             seconds: float, restart: bool, validate: float | None, skip: dict[str, str],
             log=print) -> dict:
    """Every server on ``data``; peerchange first (its answers are the reference).

    ``validate``: time ``peerchange validate`` with this timeout (seconds), or not at all.
    """
    lines = count_lines(data)
    log(f"{data.name}: {lines:,} lines")
    size: dict = {"file": data.name, "lines": lines, "servers": {}}
    reference = None
    for cls in servers:
        if cls.name in skip:
            size["servers"][cls.name] = {"skipped": skip[cls.name]}
            continue
        result, answers = measure(cls, data, work / data.stem, clients=clients,
                                  seconds=seconds, reference=reference, restart=restart,
                                  log=log)
        if cls.name == "peerchange" and answers is not None:
            reference = answers
        size["servers"][cls.name] = result
    if validate:
        size["validate"] = validate_seconds(data, validate)
        log(f"  validate: {size['validate']}")
    return size
