"""``/metrics`` through the Flask test client: the Prometheus text format, the request
counts by route group, the store size, and the allow-list (anyone else gets a plain 404)."""

from __future__ import annotations

import pytest

from peerchange.core.errors import PeerchangeError
from peerchange.web.metrics import is_allowed, parse_allow
from tests.observability.conftest import LOOPBACK, OUTSIDER, parse, sample, scrape

pytestmark = pytest.mark.timeout(60)

ASK = "ASK { ?s ?p ?o }"
JSON = {"Accept": "application/sparql-results+json"}


def _ask(client, query: str = ASK, **kwargs):
    resp = client.get("/sparql", query_string={"query": query}, headers=JSON, buffered=True,
                      **kwargs)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp


def test_metrics_from_loopback_is_prometheus_text(client, shipped_graph):
    resp = client.get("/metrics", environ_base=LOOPBACK, buffered=True)
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain"
    assert "version=0.0.4" in resp.headers["Content-Type"]
    assert resp.headers["Cache-Control"] == "no-store"
    families = parse(resp.get_data(as_text=True))
    for name in ("peerchange_requests", "peerchange_request_seconds",
                 "peerchange_query_timeouts", "peerchange_store_triples"):
        assert name in families, sorted(families)
    assert families["peerchange_requests"].type == "counter"
    assert families["peerchange_request_seconds"].type == "histogram"
    assert sample(families, "peerchange_store_triples") == shipped_graph.triples > 0


def test_openmetrics_when_asked(client):
    resp = client.get("/metrics", environ_base=LOOPBACK, buffered=True,
                      headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert resp.status_code == 200
    assert resp.mimetype == "application/openmetrics-text"
    assert resp.get_data(as_text=True).rstrip().endswith("# EOF")


def test_queries_are_counted_by_route_group(client):
    before = scrape(client)
    n = 5
    for i in range(n):
        _ask(client, f"ASK {{ ?s ?p {i} }}")
    missing = client.get("/no/such/page/12345", buffered=True)
    assert missing.status_code == 404
    after = scrape(client)
    labels = {"route": "sparql", "status": "200"}
    counted = (sample(after, "peerchange_requests", "_total", **labels)
               - sample(before, "peerchange_requests", "_total", **labels))
    assert counted == n
    seconds = (sample(after, "peerchange_request_seconds", "_count", route="sparql")
               - sample(before, "peerchange_request_seconds", "_count", route="sparql"))
    assert seconds == n
    unmatched = {"route": "unmatched", "status": "404"}
    assert (sample(after, "peerchange_requests", "_total", **unmatched)
            - sample(before, "peerchange_requests", "_total", **unmatched)) == 1
    # route groups, never raw paths: no label value of any sample is a path
    values = {v for f in after.values() for s in f.samples for v in s.labels.values()}
    assert not any("/" in v for v in values), values


@pytest.mark.parametrize("address", ["203.0.113.5", "10.1.2.3", "192.168.0.1", "::2",
                                     "not-an-address", ""])
def test_metrics_is_404_for_everyone_else(client, address):
    resp = client.get("/metrics", environ_base={"REMOTE_ADDR": address}, buffered=True)
    assert resp.status_code == 404
    assert b"peerchange_" not in resp.data
    # the same answer as any path that does not exist: nothing says /metrics is there
    other = client.get("/metricz", environ_base={"REMOTE_ADDR": address}, buffered=True)
    assert other.status_code == 404
    assert resp.data.replace(b"/metrics", b"/metricz") == other.data
    assert resp.mimetype == other.mimetype


def test_json_404_for_an_outsider_is_the_usual_error_body(client):
    resp = client.get("/metrics", environ_base=OUTSIDER, buffered=True,
                      headers={"Accept": "application/json"})
    assert resp.status_code == 404
    assert resp.get_json()["ok"] is False and resp.get_json()["status"] == 404


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_in_every_spelling_is_allowed(client, address):
    resp = client.get("/metrics", environ_base={"REMOTE_ADDR": address}, buffered=True)
    assert resp.status_code == 200


def test_allow_list_takes_networks(make_app):
    app = make_app(metrics_allow=["198.51.100.7", "203.0.113.0/24"])
    client = app.test_client()
    for address, status in [("203.0.113.5", 200), ("203.0.113.250", 200),
                            ("198.51.100.7", 200), ("198.51.100.8", 404), ("127.0.0.1", 404)]:
        resp = client.get("/metrics", environ_base={"REMOTE_ADDR": address}, buffered=True)
        assert resp.status_code == status, address


def test_metrics_are_not_shared_with_other_origins(client):
    resp = client.get("/metrics", environ_base=LOOPBACK, buffered=True,
                      headers={"Origin": "https://evil.example"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "http://localhost"
    # the rest of the site stays open to every origin
    other = client.get("/health", headers={"Origin": "https://evil.example"}, buffered=True)
    assert other.headers["Access-Control-Allow-Origin"] == "*"


def test_a_bad_allow_entry_is_refused_with_a_message():
    with pytest.raises(PeerchangeError, match="PEERCHANGE_METRICS_ALLOW: 'localhost' is not"):
        parse_allow(["127.0.0.1", "localhost"])


def test_is_allowed_compares_addresses_not_strings():
    nets = parse_allow(["10.0.0.0/8", "2001:db8::/32"])
    assert is_allowed("10.200.0.1", nets)
    assert is_allowed("2001:db8::1", nets)
    assert is_allowed("::ffff:10.0.0.1", nets)
    assert not is_allowed("11.0.0.1", nets)
    assert not is_allowed("10.0.0.1 , 8.8.8.8", nets)
    assert not is_allowed(None, nets)
