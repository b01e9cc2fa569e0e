"""Peak memory and CPU time of a process tree (sampled from /proc), the disk a folder takes."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    """Map every live pid to its children (one pass over /proc)."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: the ppid follows ")"
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(roots: list[int]) -> list[int]:
    tree = _children()
    todo, seen = list(roots), []
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.append(pid)
            todo.extend(tree.get(pid, []))
    return seen


def tree_cpu(roots: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) each live process of the trees has used, by pid.

    A process's own time only: what its exited children used is not counted (the servers
    keep their processes; the difference of two calls is what the tree used between them,
    less the time of processes that exited in between).
    """
    out = {}
    for pid in _descendants(roots):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return out


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the tree used between two ``tree_cpu`` readings."""
    return round(sum(t - before.get(pid, 0.0) for pid, t in after.items()), 2)


def _pss(pid: int) -> int:
    """Proportional set size (bytes): shared pages divided among their sharers."""
    with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
        for line in f:
            if line.startswith(b"Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def tree_memory(roots: list[int]) -> tuple[int, int]:
    """Summed RSS and summed PSS (bytes) of ``roots`` and all their descendants.

    The RSS sum counts a page shared by forked workers once per process (what the issue's
    figures used); the PSS sum counts it once in all.
    """
    tree = _children()
    rss = pss = 0
    todo, seen = list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                rss += int(f.read().split()[1]) * PAGE
            pss += _pss(pid)
        except (OSError, IndexError, ValueError):
            continue
    return rss, pss


class PeakSampler:
    """Sample the memory of the watched process trees every ``interval`` s; keep the max.

    ``watch(pid)`` adds a root (a load command, the server); roots that have exited simply
    add nothing. ``peak`` is the largest summed RSS seen, ``peak_pss`` the largest PSS,
    ``cpu`` the CPU seconds last seen per process (``cpu_s``: their sum, a lower bound for a
    tree that was killed: the time since the last sample is lost).
    """

    def __init__(self, interval: float = 0.2, cpu: bool = False) -> None:
        self.interval = interval
        self.track_cpu = cpu  # an extra pass over /proc per sample: only where asked
        self.roots: list[int] = []
        self.peak = 0
        self.peak_pss = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, pid: int) -> None:
        self.roots.append(pid)
        self.sample()

    def sample(self) -> None:
        if self.roots:
            rss, pss = tree_memory(self.roots)
            self.peak = max(self.peak, rss)
            self.peak_pss = max(self.peak_pss, pss)
            if self.track_cpu:
                self.cpu.update(tree_cpu(self.roots))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    @contextlib.contextmanager
    def sparse(self, interval: float = 2.0) -> Iterator[None]:
        """Sample only every ``interval`` s meanwhile: during a timed mix. Reading a
        process's PSS (``smaps_rollup``) takes that process's memory lock, and every 0.2 s
        over a server's eleven processes it added 0.6–1.1 ms to peerchange's p99 (and cost
        it a tenth of its throughput) where Oxigraph, one process, is read once."""
        saved, self.interval = self.interval, interval
        try:
            yield
        finally:
            self.interval = saved
            self.sample()

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)

    @property
    def cpu_s(self) -> float:
        return round(sum(self.cpu.values()), 2)

    @property
    def peak_pss_mb(self) -> float:
        return round(self.peak_pss / 2**20, 1)


def disk_mb(folder: Path) -> float:
    """Disk blocks used by the files under ``folder`` (as ``du``), in MB."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            total += st.st_blocks * 512
    return round(total / 2**20, 1)
