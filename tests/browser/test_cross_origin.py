"""Browser clients on another origin (issue 13): a page served by a second local server (another
port: another origin, in the same loopback address space so Chromium's local-network
checks do not apply) queries the live endpoint with the headers jQuery-style clients and
YASGUI users add. Chromium makes the real CORS preflight; a header missing from the
allow-list fails it, and the page sees a network error.

A GET over the request-line limit is answered 414 by our own serving code *with* the CORS
headers and the usual error body, so the page reads "use POST" instead of a CORS error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASK = "ASK { ?s ?p ?o }"
# what a page of another site runs: the answer's status and body, or the network error
FETCH = """async ([url, init]) => {
  try {
    const resp = await fetch(url, init);
    return {status: resp.status, body: await resp.text(),
            etag: resp.headers.get('ETag')};
  } catch (e) { return {error: String(e)}; }
}"""


class _ClientPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the handler's name)
        body = b"<!doctype html><title>another site</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def client_origin() -> Iterator[str]:
    """Another site: an empty HTML page on another port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ClientPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def client_page(browser, client_origin: str) -> Iterator[Any]:
    """A page of :func:`client_origin` (no CSP of ours)."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{client_origin}/")
    yield page
    context.close()


def _fetch(page: Any, url: str, **init: Any) -> dict[str, Any]:
    return page.evaluate(FETCH, [url, init])


@pytest.mark.parametrize("headers", [
    {"X-Requested-With": "XMLHttpRequest"},
    {"X-Requested-With": "XMLHttpRequest", "Cache-Control": "no-cache", "Pragma": "no-cache"},
    {"Accept": "application/sparql-results+json", "If-None-Match": '"x"'},
], ids=["x-requested-with", "cache-directives", "conditional"])
def test_get_with_preflighted_headers(site, client_page, headers):
    got = _fetch(client_page, f"{site.sparql}?query={quote(ASK)}",
                 headers={"Accept": "application/sparql-results+json", **headers})
    assert "error" not in got, got
    assert got["status"] == 200 and '"boolean": true' in got["body"]
    assert got["etag"]  # an exposed header


def test_post_form_with_x_requested_with(site, client_page):
    got = _fetch(client_page, site.sparql, method="POST", body=f"query={quote(ASK)}", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/sparql-results+json",
        "X-Requested-With": "XMLHttpRequest",
    })
    assert "error" not in got, got
    assert got["status"] == 200


def test_canned_api_with_x_requested_with(site, client_page):
    got = _fetch(client_page, f"{site.base}/api/mechanisms",
                 headers={"X-Requested-With": "XMLHttpRequest"})
    assert "error" not in got, got
    assert got["status"] == 200 and '"rows"' in got["body"]


def test_a_header_outside_the_allow_list_still_fails(site, client_page):
    """The check is real: a header the server does not allow fails the preflight."""
    got = _fetch(client_page, f"{site.sparql}?query={quote(ASK)}",
                 headers={"X-Not-Allowed": "1"})
    assert "error" in got


def test_a_get_over_the_request_line_limit_is_a_readable_414(site, client_page):
    """A query too long for a GET: the page sees our 414 and its message (JSON, as asked),
    not a CORS error (gunicorn's own 414 had no CORS headers)."""
    long_query = ASK + " # " + "x" * 10_000
    got = _fetch(client_page, f"{site.sparql}?query={quote(long_query)}",
                 headers={"Accept": "application/json"})
    assert "error" not in got, got
    assert got["status"] == 414
    assert '"status": 414' in got["body"] and "POST" in got["body"]
