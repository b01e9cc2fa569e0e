"""The four servers, each started on the same data in a folder of its own.

Every server has the same life: ``prepare`` (a load command where the server has one,
timed on its own), ``start`` (until its SPARQL endpoint answers the mix's ASK), ``stop``.
peerchange serves the shipped ontology and data plus the data file (as a user runs it);
the peers load the same: the data file plus ``ontology/*.ttl`` and ``data/*.ttl``.

- peerchange: ``peerchange serve FILE --store DIR`` (its default workers and threads);
- peerchange without its answer cache: the same on peerchange's built store (a restart,
  nothing loaded again) with ``PEERCHANGE_ANSWER_CACHE_MB=0``, so every request reaches
  the engine: engine plus peerchange's overhead, no cache;
- Oxigraph server: ``oxigraph load --location DIR --file ...`` then ``oxigraph serve``;
- Virtuoso: Debian's ``virtuoso-t`` started by ``tests/virtuoso.py`` with its own ini in
  the folder, loaded with the bulk loader (``ld_dir``, ``rdf_loader_run``, ``checkpoint``);
- rdflib-endpoint: ``rdflib-endpoint serve FILES`` (loads into memory at start).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from .memory import PeakSampler

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GRAPH = "urn:peerchange:bench"
JSON = "application/sparql-results+json"


def shipped_files() -> list[Path]:
    """The shipped sources peerchange always serves (the peers load them too)."""
    return sorted((ROOT / "ontology").glob("*.ttl")) + sorted((ROOT / "data").glob("*.ttl"))


def tool(name: str) -> str | None:
    """The command ``name``, from this venv first, then the PATH."""
    here = BIN / name
    return str(here) if here.exists() else shutil.which(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PEERCHANGE_")}


def virtuoso_module():
    """``tests/virtuoso.py``, imported by path (the harness starts Virtuoso as tests do)."""
    spec = importlib.util.spec_from_file_location("peerchange_bench_virtuoso",
                                                  ROOT / "tests" / "virtuoso.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class ServerError(RuntimeError):
    """A server did not start or load (the message holds its log's tail)."""


class Server:
    """One server in ``folder`` on ``data``; subclasses fill in the commands."""

    name = "server"
    path = "/sparql"
    restartable = True

    def __init__(self, folder: Path, data: Path, probe: str, startup: float = 3600) -> None:
        self.folder = folder
        self.data = data
        self.probe = probe  # a query of the mix: the server is ready when it answers
        self.startup = startup
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / f"{self.name}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.base + self.path

    @property
    def data_dir(self) -> Path:
        """The folder whose disk use is reported."""
        return self.folder / "store"

    @classmethod
    def available(cls) -> str | None:
        """``None`` when it can run here, else why not."""
        return None

    # -- the life of a server ---------------------------------------------------------
    def prepare(self, sampler: PeakSampler) -> float | None:
        """Run the load command, if the server has one; return its seconds."""
        return None

    def load(self, sampler: PeakSampler) -> float | None:
        """Load the data into the started server, if it loads that way; return seconds."""
        return None

    def start(self, sampler: PeakSampler) -> None:
        self.process = self._popen(self.command())
        sampler.watch(self.process.pid)
        self.wait_ready()

    def command(self) -> list[str]:
        raise NotImplementedError

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    # -- helpers ----------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        return clean_env()

    def _popen(self, command: list[str]) -> subprocess.Popen:
        out = self.log.open("ab")
        try:
            return subprocess.Popen(command, cwd=self.folder, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=self.env(), start_new_session=True)
        finally:
            out.close()

    def run_timed(self, command: list[str], sampler: PeakSampler) -> float:
        t0 = time.perf_counter()
        proc = self._popen(command)
        sampler.watch(proc.pid)
        if proc.wait() != 0:
            raise ServerError(f"{self.name}: {command[0]} exited {proc.returncode}\n"
                              + self.tail())
        return time.perf_counter() - t0

    def answers(self) -> bool:
        try:
            r = requests.post(self.endpoint, data={"query": self.probe},
                              headers={"Accept": JSON}, timeout=5)
        except requests.RequestException:
            return False
        return r.status_code == 200

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(f"{self.name} exited {self.process.returncode}\n"
                                  + self.tail())
            if self.answers():
                return
            time.sleep(0.1)
        self.stop()
        raise ServerError(f"{self.name} did not answer within {self.startup:g} s\n"
                          + self.tail())

    def wait_served(self) -> None:
        """Wait until the whole server is up (after :meth:`wait_ready`); the same for most."""

    def tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


class Peerchange(Server):
    name = "peerchange"

    def wait_served(self) -> None:
        """After a restart on a built store the first answers come from the early answerer,
        which refuses some queries (503, ``Retry-After``) and every page; the mixes start
        once the full server answers ``/health``."""
        deadline = time.monotonic() + self.startup
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.02)
        raise ServerError(f"{self.name}: /health did not answer within {self.startup:g} s\n"
                          + self.tail())

    def env(self) -> dict[str, str]:
        """As a user must for a big file: the extra-file cap (256 MiB) raised to its size."""
        env = clean_env()
        size = self.data.stat().st_size
        if size > 256 * 2**20:
            env["PEERCHANGE_MAX_EXTRA_BYTES"] = str(size)
        return env

    def command(self) -> list[str]:
        return [sys.executable, "-m", "peerchange", "serve", str(self.data),
                "--store", str(self.data_dir), "--port", str(self.port)]


class PeerchangeNoCache(Peerchange):
    """peerchange with ``PEERCHANGE_ANSWER_CACHE_MB=0``, on peerchange's store folder.

    Started after ``Peerchange`` it finds the store built and only restarts on it (its
    load, memory and disk are peerchange's, not measured again); alone it builds it.
    """

    name = "peerchange-nocache"

    def __init__(self, folder: Path, *args, **kwargs) -> None:
        super().__init__(folder.parent / Peerchange.name, *args, **kwargs)

    def env(self) -> dict[str, str]:
        return {**super().env(), "PEERCHANGE_ANSWER_CACHE_MB": "0"}


class Oxigraph(Server):
    name = "oxigraph"
    path = "/query"

    @classmethod
    def available(cls) -> str | None:
        return None if tool("oxigraph") else (
            "the oxigraph command is missing (pip install oxigraph)")

    def prepare(self, sampler: PeakSampler) -> float:
        files = [str(self.data), *map(str, shipped_files())]
        return self.run_timed([tool("oxigraph"), "load", "--location", str(self.data_dir),
                               "--file", *files], sampler)

    def command(self) -> list[str]:
        return [tool("oxigraph"), "serve", "--location", str(self.data_dir),
                "--bind", f"127.0.0.1:{self.port}"]


class RdflibEndpoint(Server):
    name = "rdflib-endpoint"
    path = "/"
    restartable = False

    @classmethod
    def available(cls) -> str | None:
        return None if tool("rdflib-endpoint") else (
            "the rdflib-endpoint command is missing (pip install 'rdflib-endpoint[cli]')")

    @property
    def data_dir(self) -> Path:
        return self.folder / "none"  # in memory: nothing on disk

    def command(self) -> list[str]:
        return [tool("rdflib-endpoint"), "serve", str(self.data),
                *map(str, shipped_files()), "--host", "127.0.0.1", "--port", str(self.port)]


class Virtuoso(Server):
    """Virtuoso 7 with Debian's ini, ``buffers`` pages of cache (the ini's 4 GB setting)."""

    name = "virtuoso"
    buffers = (340_000, 250_000)  # NumberOfBuffers, MaxDirtyBuffers

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.server = None
        self.loads = self.folder / "load"

    @classmethod
    def available(cls) -> str | None:
        if not (shutil.which("virtuoso-t") and shutil.which("isql-vt")):
            return "virtuoso-t or isql-vt is missing (apt-get install virtuoso-opensource)"
        return None

    @property
    def data_dir(self) -> Path:
        return self.folder / "db"

    def start(self, sampler: PeakSampler) -> None:
        module = virtuoso_module()
        write_ini = module.write_ini
        buffers, dirty = self.buffers

        def sized_ini(folder: Path, **kwargs) -> Path:
            path = write_ini(folder, **kwargs)
            ini = path.read_text(encoding="utf-8")
            ini = re.sub(r"(?m)^NumberOfBuffers(\s*)=.*$", rf"NumberOfBuffers\g<1>= {buffers}",
                         ini)
            ini = re.sub(r"(?m)^MaxDirtyBuffers(\s*)=.*$", rf"MaxDirtyBuffers\g<1>= {dirty}",
                         ini)
            path.write_text(ini, encoding="utf-8")
            return path

        module.write_ini = sized_ini  # the harness's cache size; the rest as tests start it
        self.loads.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):  # its two ports are picked free, but may be taken since
            try:
                self.server = module.start_virtuoso(self.data_dir,
                                                    dirs_allowed=(str(self.loads),))
                break
            except RuntimeError as exc:
                if "Address already in use" not in str(exc) or attempt == 2:
                    raise ServerError(f"virtuoso: {exc}") from exc
        self.process = self.server.process
        self.port = self.server.http_port
        self.log = self.data_dir / "virtuoso.out"
        sampler.watch(self.process.pid)

    def load(self, sampler: PeakSampler) -> float:
        """The bulk loader into the graph ``GRAPH``; return its seconds."""
        for path in [self.data, *shipped_files()]:
            link = self.loads / path.name
            if not link.exists():
                link.symlink_to(path.resolve())
        patterns = sorted({"*" + self.data.suffix, "*.ttl"})
        sql = "".join(f"ld_dir('{self.loads}', '{p}', '{GRAPH}'); " for p in patterns)
        sql += "rdf_loader_run(); checkpoint;"
        seconds = self.run_timed(
            ["isql-vt", str(self.server.sql_port), "dba", "dba", f"exec={sql}"], sampler)
        self.check_loaded()
        return seconds

    def check_loaded(self) -> None:
        sql = "SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;"
        out = subprocess.run(["isql-vt", str(self.server.sql_port), "dba", "dba",
                              f"exec={sql}"], capture_output=True, text=True, timeout=60)
        if "0 Rows" not in out.stdout:
            raise ServerError(f"virtuoso: the bulk loader reported errors:\n{out.stdout}")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.process = None


SERVERS: dict[str, type[Server]] = {
    cls.name: cls for cls in (Peerchange, PeerchangeNoCache, Oxigraph, Virtuoso,
                              RdflibEndpoint)
}
