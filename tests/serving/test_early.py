"""A restart on a built store answers ``/sparql`` at once (``serving/launch.py``,
``serving/early.py``): the real ``python -m peerchange serve --store DIR`` on a store it
built before.

The early phase lasts as long as the full server's start (a fraction of a second). To
look at it without a race, a test stops the server's own process (SIGSTOP) as soon as
the early answerer has answered: the early answerer, a process of its own, keeps
answering while the full server is frozen, and SIGCONT lets the start go on. An answer
of the early answerer is told from the full server's by its missing ``ETag``.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import ROOT, clean_env, free_port, start_server
from tests.serving.conftest import RUNAWAY

pytestmark = pytest.mark.slow

SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 25"
ASK = "ASK { ?s ?p ?o }"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 25"
QUERIES = [(SELECT, None), (SELECT, "application/sparql-results+json"), (ASK, None),
           (CONSTRUCT, None), (CONSTRUCT, "application/n-triples")]
SAME_HEADERS = ("Content-Type", "Vary", "Cache-Control", "Access-Control-Allow-Origin",
                "Access-Control-Expose-Headers")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A store folder built by a first ``peerchange serve --store``."""
    folder = tmp_path_factory.mktemp("early") / "store"
    srv = start_server(["--store", str(folder)], log=folder.parent / "build.log")
    srv.stop()
    return folder


class Restart:
    """``python -m peerchange serve --store DIR`` started in its own session."""

    def __init__(self, store: Path, log: Path, *args: str) -> None:
        self.port = free_port()
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "peerchange", "serve", "--store", str(store),
                 "--port", str(self.port), "--workers", "2", *args],
                cwd=ROOT, env=clean_env(), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict[str, str] | None = None, timeout: float = 30
                ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def query(self, text: str, accept: str | None = None, timeout: float = 30
              ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if accept:
            headers["Accept"] = accept
        return self.request("POST", "/sparql", urlencode({"query": text}), headers, timeout)

    def first_answer(self, seconds: float = 60) -> tuple[int, dict[str, str], bytes]:
        """The first answer to the ASK (connections refused until the socket is bound)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                return self.query(ASK)
            except OSError:
                time.sleep(0.005)
        pytest.fail("no answer")

    def freeze_early(self) -> bool:
        """Stop the full server's start while the early answerer answers; whether it
        was caught in time (the first answer came from the early answerer)."""
        status, headers, _ = self.first_answer()
        os.kill(self.process.pid, signal.SIGSTOP)
        if "ETag" in headers:
            return False
        status, headers, _ = self.query(ASK)
        return status == 200 and "ETag" not in headers

    def resume_until_full(self, seconds: float = 60) -> None:
        os.kill(self.process.pid, signal.SIGCONT)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status, _, _ = self.request("GET", "/health")
            if status == 200:
                return
            time.sleep(0.02)
        pytest.fail("the full server did not start")

    def session_processes(self) -> list[int]:
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[3]) == self.process.pid and fields[0] != "Z":  # its session
                    out.append(int(entry.name))
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for pid in self.session_processes():
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def restart(built, tmp_path):
    started: list[Restart] = []

    def start(*args: str, frozen: bool = True) -> Restart:
        for _ in range(3):
            r = Restart(built, tmp_path / f"restart{len(started)}.log", *args)
            started.append(r)
            if not frozen or r.freeze_early():
                return r
            r.stop()  # the full server was up first: try again
        pytest.fail("the early answerer never answered before the full server")

    yield start
    for r in started:
        r.stop()


def test_early_answers_are_the_full_servers(restart):
    r = restart()
    early = [r.query(text, accept) for text, accept in QUERIES]
    r.resume_until_full()
    full = [r.query(text, accept) for text, accept in QUERIES]
    for (text, accept), (e_status, e_headers, e_body), (f_status, f_headers, f_body) in zip(
            QUERIES, early, full, strict=True):
        assert (e_status, f_status) == (200, 200), (text, accept, e_body)
        assert "ETag" not in e_headers and "ETag" in f_headers
        assert e_body == f_body, (text, accept)
        for name in SAME_HEADERS:
            assert e_headers.get(name) == f_headers.get(name), (name, text, accept)
        assert e_headers["Content-Length"] == str(len(e_body))


def test_early_refusals(restart):
    r = restart()
    status, headers, body = r.request("GET", "/health")
    assert status == 503 and headers["Retry-After"] == "1"
    assert body.decode().startswith("starting: ")
    status, headers, _ = r.query("DESCRIBE <https://w3id.org/peerchange/onto>")
    assert status == 503 and headers["Retry-After"] == "1"
    status, headers, _ = r.query(SELECT, accept="text/csv")
    assert status == 503
    assert r.query("SELECT ?s WHERE { ?s ?p }")[0] == 400  # as the full server
    assert r.query("ASK { " + "x" * 70_000 + " }")[0] == 413
    r.resume_until_full()
    assert r.query("SELECT ?s WHERE { ?s ?p }")[0] == 400
    assert r.query("ASK { " + "x" * 70_000 + " }")[0] == 413
    assert r.query("DESCRIBE <https://w3id.org/peerchange/onto>")[0] == 200


def test_sigterm_in_the_early_phase_leaves_nothing(restart, built):
    # a short query timeout keeps the graceful timeout (timeout + 10 s) under the wait
    # below: a gunicorn worker caught between its fork and its first hook can still miss
    # the TERM its master relays (gunicorn's race, narrowed in gunicorn_app.post_fork), and
    # the master then waits that long; what this test checks is that nothing is left after
    r = restart("--timeout", "5")
    assert len(r.session_processes()) >= 2  # the server's process and the early answerer
    os.kill(r.process.pid, signal.SIGTERM)
    os.kill(r.process.pid, signal.SIGCONT)
    r.process.wait(timeout=30)
    deadline = time.monotonic() + 20
    while r.session_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.session_processes() == []
    current = json.loads((built / "peerchange-store.json").read_text())["folder"]
    # nobody holds the store any more. Polled: a process whose first thread has exited
    # shows as a zombie (not listed above) while its other threads (RocksDB's, a
    # watchdog) are still exiting and its descriptors still open, for a moment
    fd = os.open(built / current / "peerchange-store.json", os.O_RDONLY)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline + 5, "the store is still held"
                time.sleep(0.05)
    finally:
        os.close(fd)


def test_requests_across_the_hand_over_are_answered(restart):
    r = restart(frozen=False)
    seen: list[object] = []
    done = threading.Event()

    def client() -> None:
        answered = False
        while not done.is_set():
            try:
                status, headers, _ = r.query(ASK, timeout=30)
            except OSError as exc:
                if answered:  # before the socket is bound: refused, as before
                    seen.append(exc)
                continue
            answered = True
            seen.append((status, "ETag" in headers, headers.get("Retry-After")))

    # two: the full server admits two requests of one client at once (429 beyond)
    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                isinstance(s, tuple) and s[1] for s in seen):
            time.sleep(0.05)
        time.sleep(0.5)  # and some more from the workers
    finally:
        done.set()
        for t in threads:
            t.join()
    errors = [s for s in seen if not isinstance(s, tuple)]
    assert not errors, errors[:3]
    odd = [s for s in seen if not (s[0] == 200 or (s[0] == 503 and s[2] == "1"))]
    assert not odd, odd[:5]
    assert any(not s[1] for s in seen if s[0] == 200)  # the early answerer answered
    assert any(s[1] for s in seen)  # and then the full server


def test_a_query_over_the_timeout_is_stopped(restart):
    r = restart("--timeout", "1")
    status, headers, body = r.query(RUNAWAY, timeout=60)
    assert status == 503 and "ETag" not in headers, body
    assert b"was stopped" in body
    # its process is gone: the server's, the early answerer and nothing else
    deadline = time.monotonic() + 10
    while len(r.session_processes()) > 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(r.session_processes()) == 2


def test_what_the_launcher_does_not_take_runs_as_before(built):
    env = clean_env()
    run = [sys.executable, "-m", "peerchange"]
    helped = subprocess.run([*run, "serve", "--store", str(built), "--help"], env=env,
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "Usage:" in helped.stdout
    wrong = subprocess.run([*run, "serve", "--store", str(built), "--no-such-option"],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "No such option" in wrong.stderr
    version = subprocess.run([*run, "--version"], env=env, cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("peerchange, version ")
