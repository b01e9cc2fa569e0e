"""Graceful shutdown (attack row 2 at the server level): SIGTERM during a long query lets
it end (at the query timeout, within the grace period), the server exits, and a new
server starts on the same port; the pid file is written and removed."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from tests.serving.conftest import (
    RUNAWAY,
    connect,
    exchange,
    port_of,
    read_all,
    read_response,
    sparql_post,
    split_head,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

QUERY_TIMEOUT = 3
GRACE = 10


def test_sigterm_during_a_long_query_answers_it_then_exits(fresh_server, tmp_path):
    pid_file = tmp_path / "serve.pid"
    srv = fresh_server("--timeout", str(QUERY_TIMEOUT), "--pid-file", str(pid_file))
    assert int(pid_file.read_text()) == srv.process.pid
    answers: list[bytes] = []
    asking = threading.Thread(target=lambda: answers.append(
        exchange(srv, sparql_post(RUNAWAY), timeout=30)), daemon=True)
    asking.start()
    time.sleep(1.0)  # the query is running
    start = time.monotonic()
    srv.process.send_signal(signal.SIGTERM)
    srv.process.wait(timeout=QUERY_TIMEOUT + GRACE + 5)
    took = time.monotonic() - start
    asking.join(5)
    assert took < QUERY_TIMEOUT + GRACE, took
    # the query in hand was answered (stopped at its limit), not cut by the shutdown
    assert answers and split_head(answers[0])[0] == 503
    assert not pid_file.exists()
    assert "Traceback" not in srv.output()
    again = fresh_server("--timeout", str(QUERY_TIMEOUT), port=port_of(srv))
    assert split_head(exchange(again, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                      b"Connection: close\r\n\r\n"))[0] == 200


def test_sigterm_closes_idle_connections_at_once(fresh_server):
    """A kept-alive idle connection does not hold the shutdown (it would stay open 30 s)."""
    srv = fresh_server(env={"PEERCHANGE_KEEPALIVE_TIMEOUT": "30"})
    with connect(srv) as idle:
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_response(idle)[0] == 200
        start = time.monotonic()
        srv.process.send_signal(signal.SIGTERM)
        assert read_all(idle, timeout=10) == b""
        closed_in = time.monotonic() - start
    assert closed_in < 5, closed_in  # a drain of 1 s, then closed
    srv.process.wait(timeout=15)


def test_a_request_on_its_way_at_sigterm_is_still_answered(fresh_server):
    """Nothing is lost at a reload or stop: a request sent on a kept-alive connection just
    after SIGTERM is answered (with Connection: close, so the next one goes elsewhere)."""
    srv = fresh_server()
    with connect(srv) as kept:
        kept.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_response(kept)[0] == 200
        srv.process.send_signal(signal.SIGTERM)
        time.sleep(0.6)  # the worker has seen the signal (it looks twice a second)
        kept.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, headers, _ = read_response(kept)
        assert status == 200 and headers["connection"] == "close"
        assert read_all(kept, timeout=5) == b""
    srv.process.wait(timeout=15)
