"""Admission control and per-client budgets on a live server (attack row 7), the bounded
queue (503), and whose X-Forwarded-For is believed."""

from __future__ import annotations

import threading
import time

import pytest

from tests.serving.conftest import RUNAWAY, SIMPLE, exchange, sparql_post, split_head

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _in_threads(count: int, send) -> tuple[list[bytes], list[threading.Thread]]:
    answers: list[bytes] = []
    threads = [threading.Thread(target=lambda: answers.append(send()), daemon=True)
               for _ in range(count)]
    for thread in threads:
        thread.start()
    return answers, threads


def test_runaway_queries_of_one_client_do_not_hold_up_another(fresh_server):
    """Row 7: 8 runaway queries at once from 127.0.0.2; a normal query from 127.0.0.3
    answers within 2 s (it waited up to 20 s), and the runaway client is told to wait."""
    srv = fresh_server("--timeout", "3")
    answers, threads = _in_threads(8, lambda: exchange(srv, sparql_post(RUNAWAY),
                                                       source="127.0.0.2", timeout=30))
    time.sleep(0.5)
    start = time.monotonic()
    status, _, body = split_head(exchange(srv, sparql_post(SIMPLE), source="127.0.0.3"))
    took = time.monotonic() - start
    assert status == 200 and b"true" in body
    print(f"a normal query beside 8 runaways: {took:.2f} s")
    assert took < 2, f"a normal query took {took:.1f} s"
    for thread in threads:
        thread.join(30)
    statuses = sorted(split_head(a)[0] for a in answers)
    assert statuses.count(429) == 6, statuses  # client_concurrency = 2 by default
    assert statuses.count(503) == 2, statuses  # the two admitted ones hit the time limit
    refused = next(a for a in answers if split_head(a)[0] == 429)
    assert int(split_head(refused)[1]["retry-after"]) > 0


def test_a_client_over_its_seconds_gets_429_with_retry_after(fresh_server):
    srv = fresh_server("--timeout", "2", env={"PEERCHANGE_CLIENT_SECONDS": "1.5",
                                              "PEERCHANGE_CLIENT_WINDOW": "30"})
    status, _, _ = split_head(exchange(srv, sparql_post(RUNAWAY), source="127.0.0.4"))
    assert status == 503  # stopped at the time limit, after 2 s of work
    status, headers, body = split_head(exchange(srv, sparql_post(SIMPLE),
                                                source="127.0.0.4"))
    assert status == 429 and 1 <= int(headers["retry-after"]) <= 30
    assert b"seconds" in body
    status, _, _ = split_head(exchange(srv, sparql_post(SIMPLE), source="127.0.0.5"))
    assert status == 200


def test_a_full_queue_is_a_503_with_retry_after(fresh_server):
    srv = fresh_server("--timeout", "3", "--threads", "1", "--workers", "1",
                       env={"PEERCHANGE_QUEUE_SIZE": "1", "PEERCHANGE_CLIENT_CONCURRENCY": "9"})
    answers, threads = _in_threads(2, lambda: exchange(srv, sparql_post(RUNAWAY), timeout=30))
    time.sleep(0.5)  # one runs, one waits in the queue
    status, headers, body = split_head(exchange(srv, sparql_post(SIMPLE,
                                                                 accept="application/json")))
    assert status == 503 and int(headers["retry-after"]) > 0
    assert b'"Server busy"' in body and headers["access-control-allow-origin"] == "*"
    for thread in threads:
        thread.join(30)
    assert sorted(split_head(a)[0] for a in answers) == [503, 503]  # both ran to the limit


def test_only_a_trusted_proxy_is_believed(fresh_server):
    """Behind the trusted proxy 127.0.0.6, clients are told apart by X-Forwarded-For; the
    same header from 127.0.0.7 (not trusted) changes nothing."""
    srv = fresh_server("--timeout", "3", env={"PEERCHANGE_TRUSTED_PROXIES": "127.0.0.6",
                                              "PEERCHANGE_CLIENT_CONCURRENCY": "1"})

    def via(source: str, client: str, query: str = SIMPLE) -> int:
        request = sparql_post(query, extra=f"X-Forwarded-For: {client}\r\n")
        return split_head(exchange(srv, request, source=source, timeout=30))[0]

    for proxy, trusted in (("127.0.0.6", True), ("127.0.0.7", False)):
        answers, threads = _in_threads(1, lambda p=proxy: via(p, "198.51.100.1", RUNAWAY))
        time.sleep(0.5)  # the runaway holds its client's one slot
        assert via(proxy, "198.51.100.1") == 429  # the same client, by either reading
        assert via(proxy, "198.51.100.2") == (200 if trusted else 429)
        for thread in threads:
            thread.join(30)
        assert answers == [503]
