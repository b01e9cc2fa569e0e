"""Row 17 (Host) and the in-app 414 of issue 8.

A ``Host`` the server does not serve is a 400 before any view runs, so no answer (and no
cached redirect) carries a forged host; ``base_url`` makes every absolute URL the app
builds. A URL longer than ``max_request_line`` is a 414 from the app's own error path,
whatever server runs it (here werkzeug's, as ``serve --reload``).
"""

from __future__ import annotations

import socket

import pytest
import requests

from tests.security.conftest import raw_exchange, status_of

EVIL = ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.evil",
        "[::2]", "user@localhost", "localhost:80@evil.example", "evil.example/x", " ",
        "localhost:8000:1", "%6c%6fcalhost"]
SERVED = ["localhost", "localhost:8000", "LOCALHOST:1", "127.0.0.1", "127.0.0.1:65535",
          "[::1]", "[::1]:8000", "localhost."]


@pytest.mark.parametrize("host", EVIL)
def test_a_host_not_served_is_400(client, host):
    for path in ("/trace/Role-Modelling", "/onto/Claim", "/dataset", "/health",
                 "/sparql?query=ASK%7B%7D"):
        resp = client.get(path, headers={"Host": host, "Accept": "application/json"})
        assert resp.status_code == 400, (path, resp.status_code)
        body = resp.get_json()
        assert body["ok"] is False and body["status"] == 400
        assert "is not served here; allowed: localhost, 127.0.0.1, [::1]" in body["message"]
        assert "Location" not in resp.headers
        assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_the_refused_host_appears_in_no_link(client):
    resp = client.get("/no/such/page", headers={"Host": "evil.example", "Accept": "text/html"})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "http://evil.example" not in page and "//evil.example" not in page


@pytest.mark.parametrize("host", SERVED)
def test_loopback_names_are_served_on_any_port(client, host):
    assert client.get("/health", headers={"Host": host}).status_code == 200


def test_the_serving_host_and_base_url_host_are_served(make_app):
    client = make_app(host="10.9.8.7", base_url="https://kg.example.org/pc").test_client()
    for host in ("10.9.8.7:8000", "kg.example.org", "kg.example.org:443", "localhost"):
        assert client.get("/health", headers={"Host": host}).status_code == 200, host
    resp = client.get("/health", headers={"Host": "10.9.8.6", "Accept": "application/json"})
    assert resp.status_code == 400
    assert "10.9.8.7, kg.example.org" in resp.get_json()["message"]


def test_listening_everywhere_serves_the_machine_name(make_app):
    client = make_app(host="0.0.0.0").test_client()
    name = socket.gethostname()
    assert client.get("/health", headers={"Host": f"{name}:8000"}).status_code == 200
    assert client.get("/health", headers={"Host": "0.0.0.0"}).status_code == 400


def test_allowed_hosts_are_exactly_those(make_app):
    client = make_app(allowed_hosts=["kg.example.org", "other.example:8080"]).test_client()
    assert client.get("/health", headers={"Host": "kg.example.org:1"}).status_code == 200
    assert client.get("/health", headers={"Host": "other.example:8080"}).status_code == 200
    assert client.get("/health", headers={"Host": "other.example:8081"}).status_code == 400
    assert client.get("/health", headers={"Host": "localhost"}).status_code == 400
    star = make_app(allowed_hosts=["*"]).test_client()
    assert star.get("/health", headers={"Host": "anything.example"}).status_code == 200


def test_base_url_makes_the_absolute_urls(make_app):
    client = make_app(base_url="https://kg.example.org/pc").test_client()
    resp = client.get("/onto/Claim", headers={"Host": "127.0.0.1:8000"})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "https://kg.example.org/pc/onto/Claim.ttl"
    assert "<https://kg.example.org/pc/onto/Claim.html>" in resp.headers["Link"]
    void = client.get("/dataset.ttl").get_data(as_text=True)
    assert "<https://kg.example.org/pc/sparql>" in void
    assert "http://localhost" not in void and "127.0.0.1" not in void
    redirect = client.get("/trace/Role-Modelling")
    assert redirect.headers["Location"] == "/pc/trace/role-modelling"


def test_a_long_url_is_414_with_the_usual_body(client):
    limit = 8190  # the default max_request_line
    resp = client.get("/sparql?query=" + "a" * limit,
                      headers={"Accept": "application/json", "Origin": "https://x.example"})
    assert resp.status_code == 414
    body = resp.get_json()
    assert body["status"] == 414 and "POST" in body["message"]
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    # just under the limit: the app answers the request itself
    ok = client.get("/sparql?query=" + "%20" * ((limit - 40) // 3) + "ASK%7B%7D")
    assert ok.status_code == 200


@pytest.mark.parametrize("query", ["\r", "a=\n", "\x00", "x=\x7f"])
def test_raw_control_characters_in_the_url_are_400(client, query):
    """Found by the property tests: ``/peerchange/dumps///?\r`` made werkzeug's slash
    redirect put the CR into ``Location`` (ValueError, a 500)."""
    for path in ("/peerchange/dumps///", "/trace/Role-Modelling", "/sparql"):
        resp = client.get(path, query_string=query, headers={"Accept": "application/json"})
        assert resp.status_code == 400, path
        assert "control characters" in resp.get_json()["message"]


def test_the_setting_sets_the_url_limit(make_app):
    client = make_app(max_request_line=200).test_client()
    assert client.get("/trace?q=" + "r" * 150).status_code != 414
    assert client.get("/trace?q=" + "r" * 200).status_code == 414


def test_werkzeug_serves_our_414_and_400(dev_server):
    """The development server (``serve --reload``) reads lines up to 64 KiB: the app
    answers a 20 KB URL and a forged Host itself, with CORS and the error body."""
    answer = raw_exchange(dev_server.port, b"GET /sparql?query=" + b"a" * 20_000
                          + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://x.example\r\n"
                          b"Connection: close\r\n\r\n")
    assert status_of(answer) == 414
    assert b"Access-Control-Allow-Origin: *" in answer
    assert b"use POST" in answer.lower() or b"with post" in answer.lower()
    answer = raw_exchange(dev_server.port, b"GET /trace/Role-Modelling HTTP/1.1\r\n"
                          b"Host: evil.example\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 400
    assert b"\r\nLocation:" not in answer
    assert not [line for line in dev_server.log if "Traceback" in line]


@pytest.mark.slow
def test_a_real_server_refuses_a_forged_host(start_live_server):
    srv = start_live_server()
    port = srv.base.rsplit(":", 1)[1]
    ok = requests.get(srv.base + "/trace/Role-Modelling", allow_redirects=False, timeout=10)
    assert ok.status_code == 301 and ok.headers["Location"] == "/trace/role-modelling"
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        assert requests.get(srv.health, headers={"Host": host}, timeout=10).status_code == 200
    bad = requests.get(srv.base + "/onto/Claim", headers={"Host": "evil.example"},
                       allow_redirects=False, timeout=10)
    assert bad.status_code == 400
    assert "Location" not in bad.headers
    assert "Host 'evil.example' is not served here" in bad.text
