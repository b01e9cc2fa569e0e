"""The fast lane (``serving/fast_lane``) through a real ``peerchange serve``: a request the
app has answered with a replayable answer is answered again by the worker's event loop,
byte for byte, with its own access-log line and counts, its client's budget, never across
a reload and never for a cut answer.

One worker per server, so that every repeat meets the lane that kept the first answer.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from tests.conftest import free_port, start_server, stop_and_check
from tests.serving.conftest import connect, read_message

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ORIGINS = "https://a.example https://b.example"
ROWS = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 50"
ASK = "ASK { ?s ?p ?o }"
MAX_ROWS = 20


def post(query: str, **headers: str) -> bytes:
    """A kept-alive form POST of ``query`` to /sparql with ``headers`` (Name_With: value)."""
    body = "query=" + requests.utils.quote(query, safe="")
    lines = [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    head = ["POST /sparql HTTP/1.1", "Host: 127.0.0.1",
            "Content-Type: application/x-www-form-urlencoded",
            f"Content-Length: {len(body)}", *lines]
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode("latin-1")


def raw_answer(sock: socket.socket) -> bytes:
    """One whole answer (head and body) from a kept-alive connection."""
    head, body = read_message(sock)
    return head + b"\r\n\r\n" + body


def answers(srv, request: bytes, times: int = 3) -> list[bytes]:
    """``request`` sent ``times`` times on one kept-alive connection: the raw answers."""
    with connect(srv) as sock:
        out = []
        for _ in range(times):
            sock.sendall(request)
            out.append(raw_answer(sock))
        return out


def head_of(answer: bytes) -> dict[str, str]:
    lines = answer.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":")
                                                          for line in lines[1:])}


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def metric(srv, name: str, **labels: str) -> float:
    text = requests.get(srv.base + "/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(f"peerchange_{name}"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def access_lines(srv) -> list[dict]:
    return [json.loads(line) for line in srv.output().splitlines()
            if line.startswith('{"time"')]


@pytest.fixture(scope="module")
def lane_server(tmp_path_factory):
    """One worker, the access log on, two CORS origins, answers cut at MAX_ROWS rows."""
    folder = tmp_path_factory.mktemp("lane")
    port = free_port()
    srv = start_server(
        ["--port", str(port), "--workers", "1"], defaults=False, port=port,
        log=folder / "serve.log",
        env={"PEERCHANGE_DUMPS_DIR": str(folder / "dumps"), "PEERCHANGE_CORS_ORIGINS": ORIGINS,
             "PEERCHANGE_MAX_ROWS": str(MAX_ROWS), "PEERCHANGE_CLIENT_CONCURRENCY": "8",
             "PEERCHANGE_CLIENT_SECONDS": "100000"})
    yield srv
    stop_and_check(srv)


def test_a_repeated_request_gets_the_same_bytes_counted_and_logged(lane_server):
    srv = lane_server
    replayed = metric(srv, "answers_replayed_total")
    counted = metric(srv, "requests_total", route="sparql", status="200")
    logged = len(access_lines(srv))
    request = post(ASK, Accept="application/sparql-results+json")
    first, *again = answers(srv, request, times=4)
    assert status_of(first) == 200 and b'"boolean": true' in first
    assert all(a == first for a in again)  # status, every header, the body
    assert metric(srv, "answers_replayed_total") - replayed == 3
    assert metric(srv, "requests_total", route="sparql", status="200") - counted == 4
    deadline = time.monotonic() + 5
    while len(access_lines(srv)) - logged < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [line for line in access_lines(srv)[logged:] if line["route"] == "sparql"]
    assert len(lines) == 4
    assert len({line["query_hash"] for line in lines}) == 1
    assert {(line["status"], line["bytes"], line["rows"]) for line in lines} == {
        (200, len(first.partition(b"\r\n\r\n")[2]), 1)}


def test_accept_encoding_and_origin_each_get_their_own_answer(lane_server):
    srv = lane_server
    variants = {
        "json": {"Accept": "application/sparql-results+json"},
        "csv": {"Accept": "text/csv"},
        "csv-gzip": {"Accept": "text/csv", "Accept_Encoding": "gzip"},
        "origin-a": {"Accept": "text/csv", "Origin": "https://a.example"},
        "origin-b": {"Accept": "text/csv", "Origin": "https://b.example"},
    }
    query = ROWS.replace("LIMIT 50", f"LIMIT {MAX_ROWS - 1}")  # whole, so replayable
    seen = {}
    for name, headers in variants.items():
        first, *again = answers(srv, post(query, **headers))
        assert status_of(first) == 200 and all(a == first for a in again), name
        seen[name] = head_of(first)
    assert seen["json"]["content-type"].startswith("application/sparql-results+json")
    assert seen["csv"]["content-type"].startswith("text/csv")
    assert "content-encoding" not in seen["csv"]
    assert seen["csv-gzip"]["content-encoding"] == "gzip"
    assert seen["csv-gzip"]["etag"].startswith("W/")
    assert seen["origin-a"]["access-control-allow-origin"] == "https://a.example"
    assert seen["origin-b"]["access-control-allow-origin"] == "https://b.example"


def test_if_none_match_gets_the_apps_304_again(lane_server):
    srv = lane_server
    first = answers(srv, post(ASK, Accept="text/csv"), times=1)[0]
    etag = head_of(first)["etag"]
    replayed = metric(srv, "answers_replayed_total")
    not_modified = answers(srv, post(ASK, Accept="text/csv", If_None_Match=etag))
    assert [status_of(a) for a in not_modified] == [304, 304, 304]
    assert not_modified[1] == not_modified[0] == not_modified[2]
    assert head_of(not_modified[0])["etag"] == etag
    assert metric(srv, "answers_replayed_total") - replayed == 2
    other = answers(srv, post(ASK, Accept="text/csv", If_None_Match='"other"'), times=2)
    assert [status_of(a) for a in other] == [200, 200]


def test_a_cut_answer_is_never_replayed(lane_server):
    srv = lane_server
    replayed = metric(srv, "answers_replayed_total")
    cut = answers(srv, post(ROWS, Accept="text/csv"))
    assert all(head_of(a).get("peerchange-truncated") == "true" for a in cut)
    assert metric(srv, "answers_replayed_total") == replayed


def _tiny_budget_server(tmp_path, window: str):
    """One worker whose clients each have 0.0001 s of work per ``window`` seconds."""
    port = free_port()
    return start_server(
        ["--port", str(port), "--workers", "1", "-q"], defaults=False, port=port,
        log=tmp_path / "serve.log",
        env={"PEERCHANGE_DUMPS_DIR": str(tmp_path / "dumps"),
             "PEERCHANGE_CLIENT_SECONDS": "0.0001", "PEERCHANGE_CLIENT_WINDOW": window})


def test_a_client_over_its_budget_still_gets_429(tmp_path):
    srv = _tiny_budget_server(tmp_path, window="600")
    try:
        request = post(ASK, Accept="text/csv", Connection="close")
        with connect(srv, source="127.0.0.2") as sock:
            sock.sendall(request)
            assert status_of(raw_answer(sock)) == 200  # the app's time: the budget is spent
        with connect(srv, source="127.0.0.2") as sock:
            sock.sendall(request)
            refused = raw_answer(sock)
        assert status_of(refused) == 429 and "retry-after" in head_of(refused)
        # another client's identical request is replayed, so the lane had the answer
        before = metric(srv, "answers_replayed_total")
        with connect(srv, source="127.0.0.3") as sock:
            sock.sendall(request)
            assert status_of(raw_answer(sock)) == 200
        assert metric(srv, "answers_replayed_total") - before == 1
    finally:
        stop_and_check(srv)


def test_a_reload_changes_the_answer_and_its_etag(tmp_path, cli):
    from tests.reload.conftest import QUERY, triple

    extra = tmp_path / "extra.ttl"
    extra.write_text(triple(1), encoding="utf-8")
    port = free_port()
    pid_file = tmp_path / "server.pid"
    srv = start_server(
        ["--port", str(port), "--workers", "1", "-q", "--pid-file", str(pid_file), str(extra)],
        defaults=False, port=port, log=tmp_path / "serve.log",
        env={"PEERCHANGE_DUMPS_DIR": str(tmp_path / "dumps")})
    try:
        request = post(QUERY, Accept="text/csv")
        before = answers(srv, request)
        assert before[0] == before[1] == before[2] and before[0].endswith(b"\r\n1\r\n")
        extra.write_text(triple(2), encoding="utf-8")
        done = cli("reload", "--pid-file", str(pid_file), "--timeout", "200", timeout=240)
        assert done.returncode == 0, done.stderr
        after = answers(srv, request)
        assert after[0] == after[1] and after[0].endswith(b"\r\n2\r\n")
        assert head_of(after[0])["etag"] != head_of(before[0])["etag"]
    finally:
        stop_and_check(srv)


def test_a_body_sent_after_its_head_and_a_100_continue_client(lane_server):
    srv = lane_server
    request = post(ASK, Accept="application/sparql-results+json", X_Split="yes")
    head, _, body = request.partition(b"\r\n\r\n")
    replayed = metric(srv, "answers_replayed_total")
    with connect(srv) as sock:  # as Python's http.client sends: the head, then the body
        got = []
        for _ in range(3):
            sock.sendall(head + b"\r\n\r\n")
            time.sleep(0.05)
            sock.sendall(body)
            got.append(raw_answer(sock))
    assert status_of(got[0]) == 200 and got[0] == got[1] == got[2]
    assert metric(srv, "answers_replayed_total") - replayed == 2
    expecting = head + b"\r\nExpect: 100-continue\r\n\r\n"
    with connect(srv) as sock:  # the client waits for the 100 before it sends the body
        for _ in range(2):
            sock.sendall(expecting)
            continued = sock.recv(65536)
            assert continued.startswith(b"HTTP/1.1 100 "), continued
            sock.sendall(body)
            assert status_of(raw_answer(sock)) == 200


def test_a_known_request_skipping_the_parser_still_meets_the_budget(tmp_path):
    """The bytes of a request replayed before are answered without h11; a client over its
    budget still gets the 429 (through h11, on the same connection)."""
    srv = _tiny_budget_server(tmp_path, window="1")
    try:
        known = post(ASK, Accept="application/sparql-results+json")
        with connect(srv, source="127.0.0.5") as sock:
            sock.sendall(known)
            first = raw_answer(sock)  # the app's: this client's budget is spent
            time.sleep(1.5)  # ... for the window's length
            sock.sendall(known)
            assert raw_answer(sock) == first  # replayed: its bytes are now known
        with connect(srv, source="127.0.0.6") as sock:
            sock.sendall(post(ROWS, Accept="text/csv"))
            assert status_of(raw_answer(sock)) == 200  # the app's time: over budget
            refusals = metric(srv, "refusals_total", reason="client_seconds")
            sock.sendall(known)
            refused = raw_answer(sock)
            assert status_of(refused) == 429 and "retry-after" in head_of(refused)
            # refused once (not once by the lane and again by the parsed request)
            assert metric(srv, "refusals_total", reason="client_seconds") - refusals == 1
        with connect(srv, source="127.0.0.7") as sock:  # a fresh client: the same bytes
            replayed = metric(srv, "answers_replayed_total")
            sock.sendall(known)
            assert raw_answer(sock) == first
            assert metric(srv, "answers_replayed_total") - replayed == 1
    finally:
        stop_and_check(srv)
