"""One size: every server started on the same data file, measured and driven in turn.

Servers run one after another (never two at once: they would share the 2 cores). Per
server: the load command's seconds (Oxigraph's ``load``, Virtuoso's bulk loader), the
seconds from the first command to the first answer, the peak memory of its process
trees (the load command's and the server's), the disk of its data folder, both mixes
(fixed, then varied) driven for T seconds each from N clients and, with ``restart``, the
seconds a restart on the built store takes to answer. "peerchange, no answer cache" runs
on peerchange's built store: only its mixes are measured.

Validation: ``peerchange validate`` in its default mode and with ``--whole-graph`` (the
pySHACL reference), each under its own timeout: wall and CPU seconds, peak memory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import mix
from .drive import drive
from .memory import PeakSampler, disk_mb
from .servers import ROOT, PeerchangeNoCache, Server, clean_env

CHECKED_DRAWS = 3  # parameter sets of the varied mix whose answers are compared
VALIDATE_MODES = {"default": [], "whole-graph": ["--whole-graph"]}


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


def validate_run(data: Path, timeout: float, extra: list[str]) -> dict:
    """``peerchange validate FILE -q --format json [extra]``: wall and CPU seconds, exit.

    Validates the N-Quads twin of an N-Triples file where there is one (``synth`` writes
    shape-valid graphs as N-Quads: one named graph per study), else the file itself. All
    phases run as a user runs them (the OWL phase, HermiT, needs Java). Past ``timeout``
    the whole process group is killed and the run recorded as "stopped after N s"; its CPU
    seconds are then those sampled until the kill (a lower bound).
    """
    twin = data.with_suffix(".nq")
    target = twin if data.suffix == ".nt" and twin.exists() else data
    command = [sys.executable, "-m", "peerchange", "validate", str(target), "-q",
               "--format", "json", *extra]
    with tempfile.TemporaryFile() as err, PeakSampler(interval=0.5, cpu=True) as sampler:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, env=clean_env(), stdout=subprocess.DEVNULL,
                                stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        sampler.watch(proc.pid)
        deadline = t0 + timeout
        stopped = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                sampler.sample()
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                stopped = True
                break
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        # the process and the children it waited for; the sampled tree where that is more
        # (children not waited for, a killed tree)
        with_children = max(usage.ru_utime + usage.ru_stime, sampler.cpu_s)
        err.seek(0)
        tail = err.read()[-500:].decode("utf-8", "replace").strip()
    result = {"file": target.name, "mode": " ".join(extra) or "default",
              "seconds": round(wall, 2), "cpu_s": round(with_children, 2),
              "peak_memory_mb": sampler.peak_mb,
              "exit_code": f"stopped after {timeout:g} s" if stopped else proc.returncode}
    if stopped:
        result["cpu_s_is_lower_bound"] = True
    elif proc.returncode not in (0, 1) and tail:
        result["stderr_tail"] = tail
    return result


def _rows(answers: dict) -> dict:
    return {k: len(v) if isinstance(v, list) else v for k, v in answers.items()}


def measure(cls: type[Server], data: Path, work: Path, *, clients: int, seconds: float,
            reference: dict | None, restart: bool, params: list[dict] | None,
            log=print) -> tuple[dict, dict | None]:
    """Start, check, drive and stop one server; return its results and its answers.

    ``params``: the varied mix's parameter sets (``None``: no varied mix for this file).
    """
    why = cls.available()
    if why:
        return {"skipped": why}, None
    server = cls(work / cls.name, data, mix.probe())
    # the no-cache run restarts on peerchange's store: its load, memory, disk are not its own
    rerun = cls is PeerchangeNoCache and server.data_dir.exists()
    result: dict = {"on_built_store": True} if rerun else {}
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
            if not rerun:
                result["load_command_s"] = None if command is None else round(command, 2)
                result["ready_s"] = round(time.perf_counter() - t0, 2)
            log(f"  {cls.name}: answering after {round(time.perf_counter() - t0, 2)} s")
            server.wait_served()
            answers = mix.check(server.endpoint, server.base)
            result["rows"] = _rows(answers)
            if params:
                varied = {}
                for i, bindings in enumerate(params[:CHECKED_DRAWS]):
                    varied.update(mix.check(server.endpoint, server.base, mix.varied(bindings),
                                            suffix=f"#{i}"))
                result["rows_varied"] = _rows(varied)
                answers = {**answers, **varied}
            result["problems"] = mix.problems(answers, reference or answers)
            if cls.name == "peerchange":
                try:
                    result["page_bytes"] = mix.check_pages(server.base)
                except RuntimeError as exc:  # a page that fails is a finding, not the end
                    result["page_error"] = str(exc)[:300]
                    log(f"  {cls.name}: page failed: {str(exc)[:100]}")
            # the machine's load before driving (other work on it makes figures noisy);
            # each mix records its own as well
            result["load_average_1m"] = round(os.getloadavg()[0], 2)
            with sampler.sparse():  # memory read every 2 s while a mix is timed
                if seconds > 0:
                    pids = [server.process.pid] if server.process is not None else None
                    result["mix"] = drive(server.endpoint, server.base, mix.queries(), clients,
                                          seconds, server_pids=pids)
                    log(f"  {cls.name}: fixed mix {result['mix']['req_per_s']} req/s, "
                        f"p99 {result['mix']['p99_ms']} ms")
                    if params:
                        result["mix_varied"] = drive(
                            server.endpoint, server.base, mix.varied_schedule(params, clients),
                            clients, seconds, server_pids=pids)
                        log(f"  {cls.name}: varied mix {result['mix_varied']['req_per_s']} "
                            f"req/s, p99 {result['mix_varied']['p99_ms']} ms")
                    if cls.name == "peerchange":
                        result["pages"] = drive(server.endpoint, server.base, mix.pages(),
                                                clients, seconds, server_pids=pids)
            if not rerun:
                sampler.sample()
                result["peak_memory_mb"] = sampler.peak_mb
                result["peak_pss_mb"] = sampler.peak_pss_mb
                result["disk_mb"] = disk_mb(server.data_dir)
            if restart and server.restartable and not rerun:
                server.stop()
                t2 = time.perf_counter()
                try:
                    server.start(PeakSampler())
                    result["restart_s"] = round(time.perf_counter() - t2, 2)
                    server.wait_served()  # peerchange: its pages too, after the early answers
                    result["restart_served_s"] = round(time.perf_counter() - t2, 2)
                except Exception as exc:  # noqa: BLE001  (the rest was measured)
                    result["restart_error"] = str(exc)[-1000:]
        except Exception as exc:  # noqa: BLE001  (recorded: the run goes on)
            result["error"] = str(exc)[-2000:]
            log(f"  {cls.name}: FAILED {str(exc)[:300]}")
        finally:
            server.stop()
    log(f"  {cls.name}: " + json.dumps({k: v for k, v in result.items()
                                        if k not in ("mix", "mix_varied", "pages", "rows_varied")}))
    return result, answers


def run_size(data: Path, work: Path, servers: list[type[Server]], *, clients: int,
             seconds: float, restart: bool, validate: float | None, skip: dict[str, str],
             seed: int = 0, validate_modes: list[str] | None = None, log=print) -> dict:
    """Every server on ``data``; peerchange first (its answers are the reference).

    ``validate``: time ``peerchange validate`` in each of ``validate_modes`` (default: both,
    see ``VALIDATE_MODES``) with this timeout (seconds) per run, or not at all. The varied
    mix draws its parameters with ``seed`` from the studies the file holds.
    """
    lines = count_lines(data)
    log(f"{data.name}: {lines:,} lines")
    size: dict = {"file": data.name, "lines": lines, "servers": {}}
    studies = mix.study_count(data)
    params = mix.draws(studies, seed) if studies else None
    size["varied"] = ({"studies": studies, "seed": seed, "parameter_sets": len(params),
                       "distinct_mechanisms": len({p["mechanism"] for p in params})}
                      if params else {"skipped": "no synthetic studies found in the file"})
    reference = None
    for cls in servers:
        if cls.name in skip:
            size["servers"][cls.name] = {"skipped": skip[cls.name]}
            continue
        result, answers = measure(cls, data, work / data.stem, clients=clients,
                                  seconds=seconds, reference=reference, restart=restart,
                                  params=params, log=log)
        if cls.name == "peerchange" and answers is not None:
            reference = answers
        size["servers"][cls.name] = result
    if validate:
        for mode in validate_modes or list(VALIDATE_MODES):
            key = "validate" if mode == "default" else "validate_" + mode.replace("-", "_")
            log(f"  validate ({mode}), up to {validate:g} s")
            size[key] = validate_run(data, validate, VALIDATE_MODES[mode])
            log(f"  validate ({mode}): {size[key]}")
    return size
