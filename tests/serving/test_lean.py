"""The lean path (``serving/lean``) through real ``peerchange serve`` processes: the same
requests sent to a server that answers the common ``/sparql`` requests without Flask and
to one that sends every request to the app (``PEERCHANGE_LEAN_SPARQL=0``) get the same
bytes (status, every header in order, body), the same access-log lines and counts; the
lean server's ``peerchange_answers_lean_total`` shows which ones it answered itself, and
that errors, cut and large answers went to the app.

Both servers run one worker each with the same settings, and every request says ``Host:
localhost``, so that the endpoint's URL (the base IRI, in every ETag) is the same on both;
the queries leave blank nodes out (each server labels them when it loads the data).
"""

from __future__ import annotations

import json
import re
import socket
import time
from urllib.parse import quote

import pytest
import requests

from tests.conftest import free_port, start_server, stop_and_check
from tests.serving.conftest import connect, read_all, read_message

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

JSON = "application/sparql-results+json"
ENV = {"PEERCHANGE_CLIENT_CONCURRENCY": "8", "PEERCHANGE_CLIENT_SECONDS": "100000",
       "PEERCHANGE_MAX_ROWS": "2000"}


def _server(folder, env: dict[str, str]):
    port = free_port()
    return start_server(["--port", str(port), "--workers", "1"], defaults=False, port=port,
                        log=folder / "serve.log",
                        env={"PEERCHANGE_DUMPS_DIR": str(folder / "dumps"), **ENV, **env})


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(lean, app): the same server with the lean path on and off."""
    lean = _server(tmp_path_factory.mktemp("lean"), {})
    app = _server(tmp_path_factory.mktemp("app"), {"PEERCHANGE_LEAN_SPARQL": "0"})
    yield lean, app
    stop_and_check(lean)
    stop_and_check(app)


def request_bytes(method: str, target: str, body: bytes = b"", **headers: str) -> bytes:
    """One kept-alive request (headers as Name_With_Underscores=value, in order)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def form(query: str, extra: str = "") -> bytes:
    return ("query=" + quote(query, safe="") + extra).encode()


def read_answer(sock: socket.socket) -> bytes:
    """One whole answer from a kept-alive connection, its body unchunked. How the body is
    framed depends on timing: the worker sends a Content-Length when the whole answer is in
    before its head goes out, chunks when it is not (a loaded machine); either is the same
    answer, so the framing headers are left out."""
    head, body = read_message(sock)
    head = re.sub(rb"(?im)\r\n(content-length|transfer-encoding):[^\r]*", b"", head)
    return head + b"\r\n\r\n" + body


def ask(srv, request: bytes) -> bytes:
    with connect(srv) as sock:
        sock.sendall(request)
        return read_answer(sock)


def metric(srv, name: str, **labels: str) -> float:
    text = requests.get(srv.base + "/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(f"peerchange_{name}")
               and all(f'{k}="{v}"' in line for k, v in labels.items()))


def sparql_lines(srv, since: int) -> list[dict]:
    lines = [json.loads(line) for line in srv.output().splitlines()
             if line.startswith('{"time"')]
    return [{k: v for k, v in line.items() if k not in ("time", "duration_ms")}
            for line in lines[since:] if line["route"] == "sparql"]


def log_size(srv) -> int:
    return sum(1 for line in srv.output().splitlines() if line.startswith('{"time"'))


def both(pair, request: bytes) -> tuple[bytes, float]:
    """The lean server's answer (checked equal to the app's) and its lean count's rise."""
    lean, app = pair
    before = metric(lean, "answers_lean_total")
    mine, theirs = ask(lean, request), ask(app, request)
    assert mine == theirs, (mine[:600], theirs[:600])
    return mine, metric(lean, "answers_lean_total") - before


def _unique(text: str) -> str:
    return f"{text}\n# {time.monotonic_ns()}"


ANSWERED = {  # requests the lean path answers itself
    "get-json": lambda q: request_bytes("GET", "/sparql?query=" + quote(q, safe=""),
                                        Accept=JSON),
    "get-format": lambda q: request_bytes("GET", "/sparql?query=" + quote(q, safe="")
                                          + "&format=csv&output=xml"),
    "form-csv": lambda q: request_bytes(
        "POST", "/sparql", form(q), Content_Type="application/x-www-form-urlencoded",
        Accept="text/csv;q=0.9, application/sparql-results+xml;q=0.5",
        User_Agent="test/1"),
    "direct-dataset": lambda q: request_bytes(
        "POST", "/sparql?default-graph-uri=https%3A%2F%2Fw3id.org%2Fpeerchange%2Fgraph%2F"
        "ontology&named-graph-uri=http%3A%2F%2Fx.example%2Fg", q.encode(),
        Content_Type="application/sparql-query; charset=UTF-8", Accept="*/*"),
    "gzip-origin": lambda q: request_bytes(
        "POST", "/sparql", form(q), Content_Type="application/x-www-form-urlencoded",
        Accept=JSON, Accept_Encoding="gzip, deflate", Origin="https://a.example"),
    "gzip-refused": lambda q: request_bytes(
        "POST", "/sparql", form(q), Content_Type="application/x-www-form-urlencoded",
        Accept=JSON, Accept_Encoding="gzip;q=0, identity"),
}
QUERIES = {
    "select": "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) } "
              "ORDER BY ?s ?p ?o LIMIT 40",
    "ask": "ASK { ?s a ?type }",
    "construct": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(!isBlank(?s) && "
                 "!isBlank(?o)) } ORDER BY ?s ?p ?o LIMIT 7",
    "relative": "SELECT (<x> AS ?iri) WHERE {}",
}


@pytest.mark.parametrize("kind", sorted(ANSWERED))
@pytest.mark.parametrize("query", sorted(QUERIES))
def test_the_lean_path_answers_as_the_app(pair, kind, query):
    lean, app = pair
    since = log_size(lean), log_size(app)
    request = ANSWERED[kind](_unique(QUERIES[query]))
    answer, lean_count = both(pair, request)
    if query == "construct" and kind not in ("direct-dataset", "get-format"):  # not offered
        assert answer.startswith(b"HTTP/1.1 406") and lean_count == 0  # the app's refusal
    else:
        assert answer.startswith(b"HTTP/1.1 200") and lean_count == 1
    # the same again: the answer cache (a hit on both), then once more from another client
    assert both(pair, request)[0] == answer
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (len(sparql_lines(lean, since[0])) < 2
                                           or len(sparql_lines(app, since[1])) < 2):
        time.sleep(0.1)
    assert sparql_lines(lean, since[0]) == sparql_lines(app, since[1])


HANDED = {  # requests that go to the app (errors, other shapes), answered as before
    "syntax-error": request_bytes("GET", "/sparql?query=SELEKT", Accept=JSON),
    "not-acceptable": request_bytes("GET", "/sparql?query=ASK%7B%7D", Accept="image/png"),
    "bad-dataset": request_bytes("GET", "/sparql?query=ASK%7B%7D&default-graph-uri=x",
                                 Accept=JSON),
    "update": request_bytes("POST", "/sparql", b"update=CLEAR%20ALL",
                            Content_Type="application/x-www-form-urlencoded"),
    "two-queries": request_bytes("GET", "/sparql?query=ASK%7B%7D&query=ASK%7B%7D"),
    "no-query": request_bytes("POST", "/sparql", b"default-graph-uri=http%3A%2F%2Fx.example%2F",
                              Content_Type="application/x-www-form-urlencoded"),
    "not-utf8": request_bytes("GET", "/sparql?query=ASK%7B%7D%FF"),
    "latin1": request_bytes("POST", "/sparql", b"ASK{}",
                            Content_Type="application/sparql-query; charset=latin-1"),
    "other-header": request_bytes("GET", "/sparql?query=ASK%7B%7D", X_Custom="1"),
    "expect": request_bytes("GET", "/sparql?query=ASK%7B%7D", Expect="nothing"),
    # a request line one byte over the limit (8190): the server's 414, before the app
    "line-over-limit": request_bytes("GET", "/sparql?query=ASK%7B%7D%23" + "x" * (
        8191 - len("GET /sparql?query=ASK%7B%7D%23 HTTP/1.1"))),
    "service": request_bytes("GET", "/sparql?query=" + quote(
        "SELECT * { SERVICE <http://x.example/sparql> { ?s ?p ?o } }")),
    "truncated": request_bytes("GET", "/sparql?query=" + quote(
        "SELECT ?s ?p ?o { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) } ORDER BY ?s ?p ?o"),
        Accept="text/csv"),
    "large": request_bytes("GET", "/sparql?query=" + quote(
        "SELECT ?s ?x { ?s ?p ?o FILTER(isIRI(?s) && !isBlank(?o)) BIND(CONCAT(STR(?s), "
        "STR(?p), STR(?o), STR(?s), STR(?p), STR(?o), STR(?s), STR(?p), STR(?o), STR(?s), "
        "STR(?p), STR(?o)) AS ?x) } ORDER BY ?s ?x LIMIT 1900"),
        Accept=JSON),
}


@pytest.mark.parametrize("name", sorted(HANDED))
def test_everything_else_goes_to_the_app_as_before(pair, name):
    lean, app = pair
    since = log_size(lean), log_size(app)
    answer, lean_count = both(pair, HANDED[name])
    assert lean_count == 0
    assert not answer.startswith(b"HTTP/1.1 5")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
            len(sparql_lines(lean, since[0])) != len(sparql_lines(app, since[1]))):
        time.sleep(0.1)
    assert sparql_lines(lean, since[0]) == sparql_lines(app, since[1])


def test_a_request_line_of_the_limit_is_answered(pair):
    target = "/sparql?query=ASK%7B%7D%23" + "x" * (
        8190 - len("GET /sparql?query=ASK%7B%7D%23 HTTP/1.1"))
    answer, lean_count = both(pair, request_bytes("GET", target, Accept=JSON))
    assert answer.startswith(b"HTTP/1.1 200") and lean_count == 1


def test_a_conditional_request_gets_the_apps_304(pair):
    lean, _ = pair
    query = _unique(QUERIES["select"])
    first, _ = both(pair, request_bytes("GET", "/sparql?query=" + quote(query, safe="")))
    etag = re.search(rb"(?im)^etag: (.*)\r$", first.partition(b"\r\n\r\n")[0] + b"\r")
    assert etag is not None
    answer, lean_count = both(pair, request_bytes(
        "GET", "/sparql?query=" + quote(query, safe=""), If_None_Match=etag.group(1).decode()))
    assert answer.startswith(b"HTTP/1.1 304") and lean_count == 0


def test_the_counts_match_the_requests(pair):
    lean, app = pair
    counted = [metric(srv, "requests_total", route="sparql", status="200")
               for srv in (lean, app)]
    for _ in range(3):
        both(pair, ANSWERED["form-csv"](_unique(QUERIES["ask"])))
    assert [metric(srv, "requests_total", route="sparql", status="200") - n
            for srv, n in zip((lean, app), counted, strict=True)] == [3, 3]
    assert metric(app, "answers_lean_total") == 0


def _exchange_split(srv, request: bytes) -> bytes:
    """``request`` sent as Python's http.client sends it: the head, then the body."""
    head, _, body = request.partition(b"\r\n\r\n")
    with connect(srv) as sock:
        sock.sendall(head + b"\r\n\r\n")
        time.sleep(0.05)
        sock.sendall(body)
        return read_answer(sock)


def test_a_body_sent_after_its_head_gets_the_same_answer(pair):
    lean, app = pair
    request = ANSWERED["form-csv"](_unique(QUERIES["select"]))
    before = metric(lean, "answers_lean_total")
    mine, theirs = _exchange_split(lean, request), _exchange_split(app, request)
    assert mine == theirs and mine.startswith(b"HTTP/1.1 200")
    assert metric(lean, "answers_lean_total") - before == 1


def test_pipelined_requests_are_answered_in_order(pair):
    lean, app = pair
    first = ANSWERED["get-json"](_unique(QUERIES["ask"]))
    last = request_bytes("GET", "/sparql?query=" + quote(_unique(QUERIES["select"]), safe=""),
                         Accept=JSON, Connection="close")
    out = []
    for srv in (lean, app):
        with connect(srv) as sock:
            sock.sendall(first + last)
            out.append(read_all(sock))
    assert out[0] == out[1]
    assert out[0].count(b"HTTP/1.1 200") == 2
    assert out[0].index(b'"boolean": true') < out[0].index(b'"bindings"')


def test_behind_a_proxy_the_base_url_is_the_apps(tmp_path):
    env = {"PEERCHANGE_BASE_URL": "https://kg.example.org/prefix",
           "PEERCHANGE_ANSWER_CACHE_MB": "0"}
    (tmp_path / "lean").mkdir()
    (tmp_path / "app").mkdir()
    lean = _server(tmp_path / "lean", env)
    app = _server(tmp_path / "app", {**env, "PEERCHANGE_LEAN_SPARQL": "0"})
    try:
        for kind in ("get-json", "form-csv"):
            answer, lean_count = both((lean, app), ANSWERED[kind](_unique(QUERIES["relative"])))
            assert answer.startswith(b"HTTP/1.1 200") and lean_count == 1
            assert b"https://kg.example.org/prefix/x" in answer
    finally:
        stop_and_check(lean)
        stop_and_check(app)
