"""The one test foundation: the shipped graph, the app, live servers, the CLI, and the marks.

Fixtures every folder shares (the sub-conftests add only their folder's helpers):

- ``shipped_graph``: the shipped ontology and data loaded once per session, as the server
  loads them (:func:`~peerchange.core.knowledge_graph.load_graph`); ``shipped_store`` is
  its pyoxigraph store (read-only, never changed by the services).
- ``make_app(**settings)``: a Flask app over ``shipped_graph`` with the test settings plus
  ``settings`` (built once per set of settings; an app with extra files, graphs or an
  on-disk store loads its own graph). ``app`` is ``make_app()``, ``client`` its test
  client. The test settings (:func:`app_settings`) are explicit, so ``PEERCHANGE_*``
  variables of the calling shell never change what the tests see; the one difference from
  the defaults is a private dump folder, so no test writes to the user's cache.
- ``start_live_server(*args, env=)``: a real ``python -m peerchange serve`` (gunicorn, two
  workers) on a free port, started once per set of arguments and stopped at the end of
  the session (:func:`start_server` and :class:`Server`, used by ``tests/http`` and
  ``tests/linkeddata``; a server the fixture started must not log a trace or a crash).
- ``cli``: ``python -m peerchange ARGS...`` in a subprocess; ``java``: Java is required.

Marks (declared in ``pyproject.toml``) and the fast inner loop::

    python -m pytest -m "not slow"      # the inner loop, under a minute
    python -m pytest                    # everything (CI)

``slow`` marks tests that take seconds each or need a fixture that does, measured with
``--durations=0``: gunicorn servers, Java (HermiT) runs, the CLI in a subprocess loading the
graph, invalid-fixture validations, wheel builds. Test files owned by the folder's authors
are marked here, without editing them (:func:`pytest_collection_modifyitems`): a test that
uses a live-server fixture (:data:`LIVE_SERVER_FIXTURES`) or the ``java`` fixture is slow,
and so is every test named in :data:`SLOW_TESTS`. Files of this foundation mark themselves
(``pytestmark`` or a decorator).

``java`` marks tests that need a Java runtime (a test that uses the ``java`` fixture gets it
too): skipped locally without Java, with the reason; a failure when ``CI=true``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.virtuoso import free_port, running_virtuoso, wait_until_answering

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# ------------------------------------------------------------------------ tools and marks

def require_tool(name: str, why: str) -> None:
    """Skip the test when ``name`` is missing locally; fail it under ``CI=true``."""
    if shutil.which(name):
        return
    message = f"{name} is not installed ({why}); tests/setup.sh installs it"
    if IN_CI:
        pytest.fail(message + " — CI must install it", pytrace=False)
    pytest.skip(message)


JAVA_REASON = "HermiT, the OWL reasoner, runs in Java"


@pytest.fixture(scope="session")
def java() -> None:
    """Require a Java runtime (HermiT)."""
    require_tool("java", JAVA_REASON)


# fixtures that start a gunicorn server (seconds each): a test that uses one is slow
LIVE_SERVER_FIXTURES = frozenset({
    "start_live_server", "server", "limited_server", "protocol_server", "live_server",
    "federating_server", "virtuoso",
})

# Slow tests in files this foundation does not own, by module path and test function name
# (every parametrised case of it); "*" for every test of the module. Measured with
# ``python -m pytest --durations=0`` on the 2-core development machine. (Tests that use a
# live server, e.g. tests/linkeddata/test_serve.py, or Java are slow by the rules above.)
SLOW_TESTS: dict[str, frozenset[str] | str] = {
    "tests/cli/test_validate.py": frozenset({
        # peerchange validate with HermiT (a JVM per run): 4-10 s each, 28 runs
        "test_shipped_graph_conforms", "test_summary_counts", "test_progress_goes_to_stderr",
        "test_text_report", "test_invalid_fixture_is_rejected",
        # the CLI loads and validates the graph without the reasoner: 3-7 s each
        "test_turtle_report_is_a_shacl_report", "test_no_reasoner_is_reported_as_skipped",
        "test_extra_file_in_another_format_is_validated",
    }),
    # peerchange query in a subprocess, most load the graph or call a live server:
    # 0.3-2.6 s each, 18 s for the module
    "tests/http/test_query_command.py": "*",
    # peerchange export in a subprocess: 1.3-2.5 s each, 6 s for the module
    "tests/linkeddata/test_export.py": "*",
    # peerchange trace in a subprocess, each run loads the graph: 0.5-2.2 s, 8 s in all
    "tests/trace/test_trace_cli.py": "*",
    # the answer cache and gzip, each over apps of their own: about 5 s in all
    "tests/perf/test_compression.py": "*",
    "tests/perf/test_answer_cache.py": "*",
    # the dump set written and compared in every format: 1-2 s each
    "tests/linkeddata/test_dumps.py": "*",
}


def _module_path(item: pytest.Item) -> str:
    path = Path(str(item.path)).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()


def _is_slow_by_table(item: pytest.Item) -> bool:
    names = SLOW_TESTS.get(_module_path(item))
    if names is None:
        return False
    return names == "*" or getattr(item, "originalname", item.name) in names


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``java`` and ``slow`` tests of files owned elsewhere (see the module docstring)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "java" in fixtures and not item.get_closest_marker("java"):
            item.add_marker(pytest.mark.java)
        if item.get_closest_marker("slow"):
            continue
        if (fixtures & LIVE_SERVER_FIXTURES or item.get_closest_marker("java")
                or _is_slow_by_table(item)):
            item.add_marker(pytest.mark.slow)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("java"):
        require_tool("java", JAVA_REASON)


# ------------------------------------------------------------------------ the command line

CliRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def cli() -> CliRun:
    """Run ``python -m peerchange ARGS...`` as a user would and return the finished process."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "peerchange", *args],
            cwd=cwd or ROOT,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def write_synth(cli: CliRun, path: Path, studies: str, seed: str) -> Path:
    """Write ``peerchange synth`` studies to ``path`` (the format by its extension)."""
    done = cli("synth", "--studies", studies, "--seed", seed, "-o", str(path), "-q")
    assert done.returncode == 0, done.stderr
    return path


# ------------------------------------------------------------------------ graph and app

@pytest.fixture(scope="session")
def shipped_graph():
    """The shipped ontology and data, loaded once as the server loads them."""
    from peerchange.core.knowledge_graph import load_graph

    return load_graph()


@pytest.fixture(scope="session")
def shipped_store(shipped_graph):
    """The store of :func:`shipped_graph` (the services only read it)."""
    return shipped_graph.store


@pytest.fixture(scope="session")
def dumps_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the in-process apps write and serve the full dumps (once per session)."""
    return tmp_path_factory.mktemp("dumps-cache")


def app_settings(dumps_dir: Path, **overrides: Any):
    """The settings of every test app: the defaults (never the calling shell's
    ``PEERCHANGE_*``) with a private dump folder, then ``overrides``."""
    from peerchange.core.config import Settings

    return Settings(**{"dumps_dir": str(dumps_dir), **overrides})


MakeApp = Callable[..., Any]


@pytest.fixture(scope="session")
def make_app(shipped_graph, dumps_dir: Path) -> MakeApp:
    """Return ``make(**settings)``: the app with the test settings plus ``settings``, built
    once per set of settings over the shared graph (extra files, graphs or an on-disk store
    load a graph of their own). Apps built from the same settings are the same object:
    do not change one's configuration in a test."""
    from peerchange.web import create_app

    apps: dict[str, Any] = {}

    def make(**overrides: Any):
        key = repr(sorted(overrides.items()))
        if key not in apps:
            settings = app_settings(dumps_dir, **overrides)
            own_graph = settings.extra_files or settings.graphs or settings.store
            app = create_app(settings, None if own_graph else shipped_graph)
            app.config["TESTING"] = True
            # a request for a dump waits for the first build to end: a server's 10 s wait
            # (then a 503) ran out on a loaded machine, failing whichever test came first
            app.services.dumps.wait = None
            apps[key] = app
        return apps[key]

    return make


@pytest.fixture(scope="session")
def app(make_app: MakeApp):
    """The app over the shipped graph with the test settings (built once)."""
    return make_app()


@pytest.fixture(scope="session")
def client(app):
    """A Flask test client of :func:`app` (the app sets no cookies: one serves every test)."""
    return app.test_client()


# ------------------------------------------------------------------------ live servers

STARTUP_SECONDS = 60.0


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a server: the caller's without ``PEERCHANGE_*``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERCHANGE_")}
    env.update(extra or {})
    return env


@dataclass
class Server:
    """A running ``peerchange serve`` process."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path
    args: list[str] = field(default_factory=list)
    started_in: float = 0.0

    @property
    def sparql(self) -> str:
        return self.base + "/sparql"

    @property
    def health(self) -> str:
        return self.base + "/health"

    def output(self) -> str:
        """What the server printed so far (standard output and error)."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Stop the server: TERM to the gunicorn master (which stops its workers), then KILL
        to the whole process group if it is not gone within a few seconds.

        A worker still booting when the master relays TERM can miss it (gunicorn installs a
        worker's signal handlers late) and would hold the master for its graceful timeout
        (the query timeout + 10 s): such a worker gets TERM again after a second, and KILL
        after a few more.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            for sig, wait in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 3.0)):
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    _signal_group(self.process, sig)
            self.process.wait(timeout=15)
        # the workers and query processes share the group: make sure none outlives the test
        _signal_group(self.process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def start_server(
    args: Sequence[str] = (),
    *,
    log: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    defaults: bool = True,
    wait_for: str = "/health",
) -> Server:
    """Start ``python -m peerchange serve`` and return once ``wait_for`` answers 200.

    :param defaults: add ``--port <free> --workers 2 -q``; without it the command is exactly
        ``serve`` plus ``args`` (and ``port`` is only where to look for it).
    :param env: variables added to the caller's environment without ``PEERCHANGE_*``.
    :raise pytest.fail: if the process exits or does not answer within a minute.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "peerchange", "serve"]
    if defaults:
        command += ["--port", str(port), "--workers", "2", "-q"]
    command += list(args)
    handle = log.open("wb")
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=clean_env(env), stdout=handle, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    handle.close()
    server = Server(f"http://127.0.0.1:{port}", process, log, list(args))
    try:
        wait_until_answering(process, server.base + wait_for, seconds=STARTUP_SECONDS,
                             what=f"peerchange serve {' '.join(args)}", output=server.output)
    except RuntimeError as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    server.started_in = time.perf_counter() - start
    return server


LOG_ALARMS = ("Traceback", "SIGSEGV", "WORKER TIMEOUT")


def stop_and_check(srv: Server) -> None:
    """Stop a server; every request the tests sent was answered without an unexpected
    exception (a trace in the log) or a crashed worker."""
    srv.stop()
    log = srv.output()
    for sign in LOG_ALARMS:
        if sign in log:
            pytest.fail(f"the server log shows {sign!r}:\n{log[-4000:]}", pytrace=False)


StartLiveServer = Callable[..., Server]


@pytest.fixture(scope="session")
def start_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartLiveServer]:
    """Return ``start(*args, env=None)``: a ``peerchange serve`` of the shipped graph plus
    ``args`` (options and files), started once per set of arguments for the session, with
    its own dump folder. Every server is stopped at the end and its log checked
    (:func:`stop_and_check`)."""
    running: dict[str, Server] = {}

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        key = repr((args, sorted((env or {}).items())))
        if key not in running:
            folder = tmp_path_factory.mktemp("serve")
            running[key] = start_server(
                list(args), log=folder / "serve.log",
                env={"PEERCHANGE_DUMPS_DIR": str(folder / "dumps"), **(env or {})})
        return running[key]

    yield start
    # stop them all before checking any, so one bad log does not leave servers running
    for srv in running.values():
        srv.stop()
    for srv in running.values():
        stop_and_check(srv)


# ------------------------------------------------------------------------ engine faults

ENGINE_FAILURE = "the engine broke (raised on purpose by a test)"
FAULT_MARKER = "# fail in the engine"


def at_once(ask: Callable[[int], Any], count: int, timeout: float
            ) -> tuple[list[Any], list[float]]:
    """``ask(n)`` for each ``n`` below ``count``, in as many threads started together; each
    answer, and the seconds of shared per-data-version work each thread was charged
    (:func:`peerchange.services.memo.shared_seconds`, counted from its start)."""
    from peerchange.services import memo

    answers: list[Any] = [None] * count
    shared = [0.0] * count

    def run(n: int) -> None:
        memo.shared_seconds()
        answers[n] = ask(n)
        shared[n] = memo.shared_seconds()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return answers, shared


def kill_and_wait_dead(pid: int, limit: float = 10.0) -> None:
    """SIGKILL ``pid`` (a child of this process) and wait until it has died (a zombie,
    not yet reaped): the scenario "an idle process was killed" is a process that is dead
    before the next job is written. Right after ``kill`` a process blocked in ``read`` may
    still take a job written at that instant before it dies, which is indistinguishable
    from dying of that job."""
    os.kill(pid, signal.SIGKILL)
    until = time.monotonic() + limit
    while time.monotonic() < until:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                state = stat.read().rsplit(b")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in (b"Z", b"X"):
            return
        time.sleep(0.005)
    raise AssertionError(f"process {pid} still running {limit} s after SIGKILL")


def close_executors() -> None:
    """Stop this process's query executors; the next query forks a fresh one (from the
    code as it is then)."""
    from peerchange.core import execution

    with execution._EXECUTORS_LOCK:
        for (pid, _), executor in execution._EXECUTORS.items():
            if pid == os.getpid():
                executor.close()


@pytest.fixture
def failing_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Make the engine fail on a query whose text holds :data:`FAULT_MARKER` (a comment):
    ``evaluate`` raises ``RuntimeError(ENGINE_FAILURE)`` for it, in this process and in the
    query executor, which is forked anew after the patch and stopped again at the end, so
    no executor outlives the patch. Other queries run normally. Yields the marker."""
    from peerchange.core import execution

    real = execution.evaluate

    def evaluate(store, job):
        if FAULT_MARKER in job.text:
            raise RuntimeError(ENGINE_FAILURE)
        return real(store, job)

    close_executors()
    monkeypatch.setattr(execution, "evaluate", evaluate)
    yield FAULT_MARKER
    close_executors()


def media_type(response) -> str:
    """The media type of a response, without parameters."""
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip()


def sparql_rows(client, query: str) -> list[dict[str, str]]:
    """Run a SELECT query through /sparql and return its rows as ``{var: value}``."""
    resp = client.post("/sparql", data={"query": query},
                       headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in resp.get_json()["results"]["bindings"]]


def sparql_count(client, query: str) -> int:
    """The single value of a one-row counting query, as an integer."""
    rows = sparql_rows(client, query)
    return int(next(iter(rows[0].values())))


# ------------------------------------------------------------------------ Virtuoso

VIRTUOSO_REASON = "the remote SPARQL store the remote-backend tests run against"

# the stores the HTTP-facing tests' Virtuoso backend answers from, shared by the session
# (their parametrised ``backend`` fixture lives in tests/backend_fixtures.py)
pytest_plugins = ["tests.backends"]


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Virtuoso of this session on free loopback ports with an empty database
    (:func:`tests.virtuoso.running_virtuoso`); stopped at the end. Skipped locally without
    Virtuoso, a failure under ``CI=true``."""
    with running_virtuoso(tmp_path_factory, "virtuoso") as server:
        yield server
