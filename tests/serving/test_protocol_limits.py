"""Requests the buffering worker reads itself: pipelining, keep-alive, HEAD, 100-continue,
and the limits answered by our code (attack rows 12 and 17; 413, 414, 431), with the app's
error body and its CORS header, never a trace in the log."""

from __future__ import annotations

import json
import time

import pytest

from tests.serving.conftest import (
    connect,
    exchange,
    http_get,
    read_all,
    read_response,
    split_head,
)

# each test talks to a live `peerchange serve` and several wait out a time limit
pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

ENV = {"PEERCHANGE_HEADER_TIMEOUT": "1", "PEERCHANGE_KEEPALIVE_TIMEOUT": "1",
       "PEERCHANGE_BODY_TIMEOUT": "1"}


@pytest.fixture(scope="module")
def srv(start_live_server):
    return start_live_server("--workers", "1", env=ENV)


def test_two_pipelined_requests_are_both_answered_in_order(srv):
    """Row 17: two requests sent at once on one socket get two answers, in order."""
    data = http_get("/health", close=False) + http_get("/sparql?query=ASK%7B%7D",
                                                       accept="text/csv")
    answer = exchange(srv, data)
    assert answer.count(b"HTTP/1.1 200") == 2, answer
    first, second = answer.index(b'"status"'), answer.index(b"text/csv")
    assert first < second


def test_keep_alive_serves_several_requests_on_one_connection(srv):
    with connect(srv) as sock:
        for _ in range(3):
            sock.sendall(http_get("/health", close=False))
            status, headers, body = read_response(sock)
            assert status == 200 and len(body) == int(headers["content-length"]) > 0


def test_an_idle_keep_alive_connection_is_closed_after_the_keepalive_timeout(srv):
    with connect(srv) as sock:
        sock.sendall(http_get("/health", close=False))
        assert read_response(sock)[0] == 200
        start = time.monotonic()
        assert read_all(sock, timeout=5) == b""
        assert time.monotonic() - start < 3


def test_a_bad_chunk_size_is_a_400_with_our_body(srv):
    """Row 12: a chunked POST with a bad chunk size gets 400 (was 500 and two traces)."""
    for accept, kind in (("application/json", "application/json"), ("*/*", "text/plain")):
        answer = exchange(srv, (
            "POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: application/sparql-query\r\nAccept: {accept}\r\n\r\n"
            "zz\r\nASK {}\r\n0\r\n\r\n").encode())
        status, headers, body = split_head(answer)
        assert status == 400, answer
        assert headers["content-type"].startswith(kind)
        assert b"chunk" in body
    assert "Traceback" not in srv.output()


def test_a_good_chunked_post_is_answered(srv):
    query = b"ASK { ?s ?p ?o }"
    answer = exchange(srv, (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/sparql-query\r\nAccept: text/csv\r\n"
        b"Connection: close\r\n\r\n" + f"{len(query):x}\r\n".encode() + query
        + b"\r\n0\r\n\r\n"))
    status, _, body = split_head(answer)
    assert status == 200 and b"true" in body


def test_a_too_long_request_line_is_our_414_with_cors_and_json(srv):
    answer = exchange(srv, http_get("/sparql?query=" + "a" * 9000, accept="application/json"))
    status, headers, body = split_head(answer)
    assert status == 414
    assert headers["access-control-allow-origin"] == "*"
    doc = json.loads(body)
    assert doc["status"] == 414 and "POST" in doc["message"]


def test_a_request_line_still_arriving_past_the_limit_is_a_414(srv):
    """The line is judged as it arrives, before its end (and the head's) is seen."""
    with connect(srv) as sock:
        sock.sendall(b"GET /sparql?query=" + b"a" * 20000)
        status, headers, body = split_head(read_all(sock))
    assert status == 414 and headers["access-control-allow-origin"] == "*"
    assert body.startswith(b"414 URI too long")


def test_too_large_headers_are_our_431_with_cors_and_json(srv):
    big = "".join(f"X-Filler-{i}: {'b' * 1000}\r\n" for i in range(40))
    answer = exchange(srv, http_get("/health", accept="application/json", extra=big))
    status, headers, body = split_head(answer)
    assert status == 431
    assert headers["access-control-allow-origin"] == "*"
    assert json.loads(body)["status"] == 431


def test_a_too_large_body_is_refused_before_it_is_sent(srv):
    """413 on the Content-Length alone: the server does not wait for the body."""
    with connect(srv) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/sparql-query\r\nContent-Length: 99999999\r\n"
                     b"Accept: application/json\r\n\r\n")
        start = time.monotonic()
        status, _, body = split_head(read_all(sock, timeout=5))
    assert status == 413 and time.monotonic() - start < 0.9
    assert json.loads(body)["status"] == 413


def test_expect_100_continue_gets_a_100_then_the_answer(srv):
    query = b"ASK { ?s ?p ?o }"
    with connect(srv) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
                     b"Content-Type: application/sparql-query\r\nAccept: text/csv\r\n"
                     b"Connection: close\r\n"
                     + f"Content-Length: {len(query)}\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 ")
        sock.sendall(query)
        status, _, body = split_head(read_all(sock))
    assert status == 200 and b"true" in body


def test_head_gets_the_headers_and_no_body(srv):
    with connect(srv) as sock:
        sock.sendall(b"HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                     + http_get("/health"))
        answer = read_all(sock)
    # the HEAD answer has a length but no body: the next answer follows its head directly
    assert answer.count(b"HTTP/1.1 200") == 2
    status, headers, rest = split_head(answer)
    assert int(headers["content-length"]) > 0 and rest.startswith(b"HTTP/1.1 200")


def test_a_head_that_does_not_arrive_in_time_is_dropped(srv):
    """Row 1 in small: a client that stops mid-head is disconnected at header_timeout."""
    with connect(srv) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127")
        start = time.monotonic()
        assert read_all(sock, timeout=5) == b""
        assert 0.8 < time.monotonic() - start < 3


def test_a_body_that_does_not_arrive_in_time_is_dropped(srv):
    with connect(srv) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/sparql-query\r\nContent-Length: 100\r\n\r\nAS")
        start = time.monotonic()
        assert read_all(sock, timeout=5) == b""
        assert 0.8 < time.monotonic() - start < 3


def test_garbage_is_a_400_not_a_trace(srv):
    status, headers, _ = split_head(exchange(srv, b"\x16\x03\x01\x02\x00 nonsense\r\n\r\n"))
    assert status == 400 and headers["connection"] == "close"
    assert "Traceback" not in srv.output()
