"""A client that asks for a large answer and does not read it is dropped after
``send_timeout``; the app thread never waited on it (the answer was spooled) and the
server goes on answering others."""

from __future__ import annotations

import socket
import time

import pytest

from tests.serving.conftest import SIMPLE, exchange, port_of, sparql_post, split_head

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

BIG = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 10000"


def test_a_client_that_does_not_read_is_dropped_after_the_send_timeout(fresh_server):
    srv = fresh_server("--workers", "1", "--threads", "1",
                       env={"PEERCHANGE_SEND_TIMEOUT": "2"})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(20)
    sock.connect(("127.0.0.1", port_of(srv)))
    try:
        sock.sendall(sparql_post(BIG, accept="application/sparql-results+json"))
        time.sleep(1.0)
        # the one app thread is free again although the answer is not read
        start = time.monotonic()
        status, _, _ = split_head(exchange(srv, sparql_post(SIMPLE), source="127.0.0.9"))
        assert status == 200 and time.monotonic() - start < 2
        time.sleep(3.0)  # past the send timeout: the server has given up on the reader
        received = b""
        while True:
            try:
                data = sock.recv(1 << 20)
            except ConnectionError:
                break
            if not data:
                break
            received += data
    finally:
        sock.close()
    status, headers, body = split_head(received)
    assert status == 200
    # cut: the answer (about 7 MB) went out as it was made, and never reached its end
    assert headers["transfer-encoding"] == "chunked"
    assert not body.endswith(b"\r\n0\r\n\r\n") and len(body) < 6_000_000
    assert "dropped" in srv.output() and "did not read" in srv.output()
