"""Row 12 of issue 8 (the app's side): a request body that cannot be read is a 400 with
the usual error body and one log line, never a 500 or a trace.

Sent with raw sockets to the app behind werkzeug's threaded server (what ``peerchange
serve --reload`` runs); the serving layer has its own tests for the production server.
"""

from __future__ import annotations

import io

import pytest

from peerchange.web.guards import BodyUnreadable, GuardedInput
from tests.security.conftest import raw_exchange, status_of

HEAD = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Accept: application/json\r\n")
FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"
QUERY = b"Content-Type: application/sparql-query\r\n"

BROKEN_BODIES = {
    "chunk size not a number": HEAD + FORM + b"Transfer-Encoding: chunked\r\n\r\n"
                               b"zz\r\nquery=ASK{}\r\n0\r\n\r\n",
    "chunk size negative": HEAD + QUERY + b"Transfer-Encoding: chunked\r\n\r\n-5\r\nASK{}\r\n",
    "chunks break off": HEAD + QUERY + b"Transfer-Encoding: chunked\r\n\r\n5\r\nASK{}\r\n"
                        b"40\r\nASK",
    "body shorter than Content-Length": HEAD + QUERY + b"Content-Length: 100\r\n\r\nASK{}",
    "form shorter than Content-Length": HEAD + FORM + b"Content-Length: 100\r\n\r\nquery=AS",
}


@pytest.mark.parametrize("raw", BROKEN_BODIES.values(), ids=BROKEN_BODIES.keys())
def test_a_body_that_cannot_be_read_is_400(dev_server, raw):
    before = len(dev_server.log)
    answer = raw_exchange(dev_server.port, raw, half_close=True)
    assert status_of(answer) == 400, answer[:300]
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head
    assert b'"status": 400' in body and b"could not be read" in body
    assert b"Access-Control-Allow-Origin: *" in head
    logged = dev_server.log[before:]
    assert len(logged) == 1 and "request body unreadable: POST /sparql" in logged[0]
    assert "Traceback" not in logged[0]


@pytest.mark.parametrize("length", [b"abc", b"-5", b"1e3", b"99999999999999999999999"])
def test_a_bad_content_length_is_a_4xx(dev_server, length):
    answer = raw_exchange(dev_server.port, HEAD + QUERY + b"Content-Length: " + length
                          + b"\r\n\r\nASK{}", half_close=True)
    assert 400 <= status_of(answer) < 500, answer[:300]
    assert not [line for line in dev_server.log if "Traceback" in line]


def test_the_server_still_answers_after_broken_bodies(dev_server):
    for raw in BROKEN_BODIES.values():
        raw_exchange(dev_server.port, raw, half_close=True, seconds=2)
    answer = raw_exchange(dev_server.port, HEAD + QUERY + b"Content-Length: 5\r\n\r\nASK{}")
    assert status_of(answer) == 200
    assert b'"boolean"' in answer


class _Failing(io.RawIOBase):
    """A server's input stream that fails as gunicorn's or h11's readers do."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def read(self, size: int = -1) -> bytes:
        raise self.exc

    def readline(self, size: int = -1) -> bytes:
        raise self.exc


@pytest.mark.parametrize("exc", [OSError("Invalid chunk header"), ConnectionResetError(),
                                 ValueError("invalid literal for int() with base 16"),
                                 RuntimeError("NoMoreData")])
def test_any_reader_failure_is_400(client, exc):
    """Whatever exception a server's reader raises (gunicorn's InvalidChunkSize and
    NoMoreData are plain exceptions) becomes the 400, not a 500."""
    resp = client.post("/sparql", data=b"query=ASK%7B%7D",
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "Accept": "application/json"},
                       environ_overrides={"wsgi.input": _Failing(exc)})
    assert resp.status_code == 400
    assert "could not be read" in resp.get_json()["message"]
    with pytest.raises(BodyUnreadable):
        GuardedInput(_Failing(exc)).read(10)
