"""Atomic reload through the real server: ``peerchange serve --pid-file FILE EXTRA`` and
``peerchange reload --pid-file FILE`` (or SIGHUP), in memory and with ``--store``."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from peerchange.serving.reload import serving_children
from tests.conftest import FIXTURES, start_server, stop_and_check
from tests.reload.conftest import BROKEN, ask, triple
from tests.store.conftest import current, stores

# every test starts `peerchange serve` (seconds each)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

INVALID = FIXTURES / "invalid" / "authorship-position-zero.ttl"


def serve(tmp_path: Path, extra: Path, *args: str, pid_file: bool = True,
          env: dict[str, str] | None = None):
    options = ["--pid-file", str(tmp_path / "server.pid")] if pid_file else []
    return start_server([*options, *args, str(extra)], log=tmp_path / "serve.log", env=env)


def booted_workers(srv, count: int) -> set[int]:
    """The server's worker pids once ``count`` of them have booted (within 30 s): /health
    answers as soon as the first one is up."""
    deadline = time.monotonic() + 30
    workers = serving_children(srv.process.pid)
    while len(workers) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        workers = serving_children(srv.process.pid)
    assert len(workers) == count, workers
    return workers


def getter(srv):
    return lambda path, params, headers: requests.get(srv.base + path, params=params,
                                                      headers=headers, timeout=30)


def reload(cli, tmp_path: Path):
    return cli("reload", "--pid-file", str(tmp_path / "server.pid"), "--timeout", "200",
               timeout=240)


@pytest.mark.parametrize("where", ["memory", "disk"])
def test_reload_serves_new_data_refuses_broken_data_and_keeps_etags(
        where, tmp_path, extra_file, cli):
    folder = tmp_path / "store"
    srv = serve(tmp_path, extra_file, *(["--store", str(folder)] if where == "disk" else []))
    try:
        get = getter(srv)
        first = ask(get)
        assert first.values == ["1"]

        old_workers = booted_workers(srv, 2)
        extra_file.write_text(triple(2), encoding="utf-8")
        done = reload(cli, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Reloaded: now serving data version" in done.stdout
        # "done" means only the new data is served: the old workers are gone
        assert not old_workers & serving_children(srv.process.pid)
        second = ask(get)
        assert second.values == ["2"] and second.etag != first.etag

        again = reload(cli, tmp_path)  # the same data: the same version and ETags
        assert again.returncode == 0, again.stderr
        assert "unchanged" in again.stdout
        assert ask(get) == second

        extra_file.write_text(BROKEN, encoding="utf-8")
        refused = reload(cli, tmp_path)
        assert refused.returncode == 1, refused.stderr
        assert "Refused: the new data cannot be loaded" in refused.stderr
        assert "extra.ttl, line 1" in refused.stdout and "syntax error" in refused.stdout
        assert ask(get) == second  # the old data, with its ETag
        if where == "disk":  # the first store went with the old workers; one is left
            assert stores(folder) == [current(folder).name]
            assert requests.get(srv.health, timeout=10).json()["store"] == "disk"
    finally:
        stop_and_check(srv)


def test_validate_on_reload_refuses_shape_invalid_data_with_the_report(
        java, tmp_path, extra_file, cli):
    srv = serve(tmp_path, extra_file, "--validate-on-reload")
    try:
        get = getter(srv)
        before = ask(get)
        shutil.copyfile(INVALID, extra_file)
        refused = reload(cli, tmp_path)
        assert refused.returncode == 1, refused.stderr
        assert "does not pass validation" in refused.stderr
        assert "authorPosition" in refused.stdout and "DOES NOT CONFORM" in refused.stdout
        assert ask(get) == before

        extra_file.write_text(triple(5), encoding="utf-8")
        done = reload(cli, tmp_path)
        assert done.returncode == 0, done.stderr
        assert ask(get).values == ["5"]
    finally:
        stop_and_check(srv)


def test_queries_keep_answering_while_the_data_is_reloaded(tmp_path, extra_file, cli):
    # four clients from one address: a budget that lets them all in (429 is not the subject)
    srv = serve(tmp_path, extra_file, env={"PEERCHANGE_CLIENT_CONCURRENCY": "8",
                                           "PEERCHANGE_CLIENT_SECONDS": "600"})
    stop = threading.Event()
    answers: Counter[str] = Counter()
    failures: list[str] = []

    def client(keep_alive: bool) -> None:
        # no request is sent again: every one gets its answer, also one whose connection an
        # old worker accepted just before it began to stop (such a connection used to be
        # closed unread: a reset, in 9 runs of 40), and one on a kept-alive
        # connection (answered with "Connection: close" by an old worker)
        session = requests.Session() if keep_alive else requests

        def get(path, params, headers):
            return session.get(srv.base + path, params=params, headers=headers, timeout=30)

        while not stop.is_set():
            try:
                answers.update(ask(get).values or ["(none)"])
            except (AssertionError, requests.RequestException) as exc:
                failures.append(repr(exc)[:200])

    # three clients with a new connection per request, one on a kept-alive connection
    clients = [threading.Thread(target=client, args=(n == 0,)) for n in range(4)]
    try:
        for thread in clients:
            thread.start()
        time.sleep(1)
        for value in (2, 3):
            extra_file.write_text(triple(value), encoding="utf-8")
            result = reload(cli, tmp_path)
            assert result.returncode == 0, result.stderr
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=60)
        stop_and_check(srv)
    print(f"\nanswers during two reloads: {dict(answers)}; failures: {failures}")
    assert failures == []
    assert set(answers) <= {"1", "2", "3"} and answers["3"] > 0  # never a half graph
    assert sum(answers.values()) > 20


def test_sighup_without_a_pid_file_reloads_too(tmp_path, extra_file):
    srv = serve(tmp_path, extra_file, pid_file=False)
    try:
        get = getter(srv)
        assert ask(get).values == ["1"]
        extra_file.write_text(triple(7), encoding="utf-8")
        os.kill(srv.process.pid, signal.SIGHUP)  # the gunicorn master
        deadline = time.monotonic() + 60
        while ask(get).values != ["7"]:
            assert time.monotonic() < deadline, "SIGHUP did not reload the data"
            time.sleep(0.2)
    finally:
        stop_and_check(srv)
