"""Attack row 1: slow clients cost a coroutine, not a worker. 50 sockets sending their
headers or bodies at 1 byte/s stay open while 64 normal queries are answered (before:
0 of 64 within 10 s, each sync worker held about 62 s); the slow ones are dropped at
``header_timeout`` / ``body_timeout``."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.serving.conftest import SIMPLE, connect, exchange, sparql_post, split_head

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SLOW_HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n"
SLOW_BODY_HEAD = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/sparql-query\r\nContent-Length: 64\r\n\r\n")


def test_slow_clients_do_not_starve_normal_queries(fresh_server):
    srv = fresh_server(env={"PEERCHANGE_HEADER_TIMEOUT": "4", "PEERCHANGE_BODY_TIMEOUT": "6"})
    heads = [connect(srv) for _ in range(25)]
    bodies = [connect(srv) for _ in range(25)]
    try:
        _run(srv, heads, bodies)
    finally:
        for sock in heads + bodies:
            sock.close()


def _run(srv, heads: list[socket.socket], bodies: list[socket.socket]) -> None:
    for sock in bodies:
        sock.sendall(SLOW_BODY_HEAD)
    dropped: dict[int, float] = {}
    start = time.monotonic()
    stop = threading.Event()

    def drip() -> None:  # one byte a second on every slow socket, until it is dropped
        step = 0
        while not stop.is_set() and len(dropped) < 50:
            for n, sock in enumerate(heads + bodies):
                if n in dropped:
                    continue
                data = (SLOW_HEAD if n < 25 else b"A" * 64)[step:step + 1]
                try:
                    sock.sendall(data)
                except OSError:
                    dropped[n] = time.monotonic() - start
            step += 1
            stop.wait(1.0)

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    time.sleep(1.0)  # every slow socket is open and has sent something

    def queries(n: int) -> list[int]:  # 8 clients, each sending 8 queries one by one
        return [split_head(exchange(srv, sparql_post(SIMPLE), source=f"127.0.1.{n + 1}"))[0]
                for _ in range(8)]

    began = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        statuses = [s for some in pool.map(queries, range(8)) for s in some]
    took = time.monotonic() - began
    assert statuses == [200] * 64
    print(f"64 normal queries with 50 slow sockets open: {took:.2f} s")
    assert took < 10, f"64 normal queries took {took:.1f} s"

    # the server closes every slow socket at its deadline: a read sees the end
    for n, sock in enumerate(heads + bodies):
        if n in dropped:
            continue
        sock.settimeout(12)  # a socket still open then fails the test (TimeoutError)
        try:
            data = sock.recv(4096)
        except ConnectionError:
            data = b""
        assert data == b"", (n, data)
        dropped[n] = time.monotonic() - start
    stop.set()
    dripper.join(5)
    head_times = [dropped[n] for n in range(25)]
    body_times = [dropped[n] for n in range(25, 50)]
    assert max(head_times) < 4 + 3, head_times  # header_timeout (4 s) + a drip's slack
    assert max(body_times) < 6 + 3, body_times  # body_timeout (6 s)
