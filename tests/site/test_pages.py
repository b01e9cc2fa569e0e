"""One site: every HTML page has the one stylesheet, the navigation, the search box, a skip
link and the Content-Security-Policy; no page has inline script or style; data IRIs that are
not http(s) are never links; labels are escaped."""

from __future__ import annotations

import pytest

from tests.conftest import media_type
from tests.site.conftest import BROWSER, CSP, HOSTILE_THEORY, NAV, PAGE_TYPES, soup

DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}  # data blocks, not code


@pytest.fixture(scope="module")
def pages(client):
    answers = {}
    for path, status in PAGE_TYPES:
        resp = client.get(path, headers={"Accept": BROWSER})
        assert resp.status_code == status, (path, resp.status_code)
        assert media_type(resp) == "text/html", path
        answers[path] = resp
    return answers


@pytest.mark.parametrize("path", [p for p, _ in PAGE_TYPES])
def test_every_page_carries_the_content_security_policy(pages, path):
    assert pages[path].headers["Content-Security-Policy"] == CSP


@pytest.mark.parametrize("path", [p for p, _ in PAGE_TYPES])
def test_no_page_has_inline_script_or_style(pages, path):
    page = soup(pages[path])
    assert page.find("style") is None, path
    for script in page.find_all("script"):
        assert script.get("src") or script.get("type") in DATA_SCRIPT_TYPES, (path, script)
    for element in page.find_all(True):
        handlers = [a for a in element.attrs if a.lower().startswith("on")]
        assert not handlers, (path, element.name, handlers)


@pytest.mark.parametrize("path", [p for p, _ in PAGE_TYPES])
def test_every_page_has_the_one_stylesheet(pages, path):
    links = soup(pages[path]).find_all("link", rel="stylesheet")
    ours = [link["href"] for link in links if not link["href"].startswith("/static/vendor/")]
    assert ours == ["/static/site.css"], path


@pytest.mark.parametrize("path", [p for p, _ in PAGE_TYPES])
def test_every_page_has_the_navigation_search_skip_link_and_main(pages, path):
    page = soup(pages[path])
    nav = page.find("header").find("nav")
    assert {a["href"]: a.get_text(strip=True) for a in nav.find_all("a")} == NAV
    form = page.find("form", attrs={"role": "search", "action": "/search"})
    assert form is not None and form["method"] == "get"
    field = form.find("input", id="site-search")
    assert field["name"] == "q" and field["type"] == "search"
    assert form.find("label", attrs={"for": "site-search"}) is not None
    assert form.find("button", type="submit") is not None
    skip = page.find("a", class_="skip")
    assert skip is not None and skip["href"] == "#main"
    assert len(page.find_all("main", id="main")) == 1
    assert page.find("footer") is not None
    assert page.find("html")["lang"] == "en"
    assert page.find("meta", attrs={"name": "viewport"}) is not None


@pytest.mark.parametrize("path", [p for p, _ in PAGE_TYPES])
def test_every_form_control_is_labelled(pages, path):
    page = soup(pages[path])
    labelled = {label.get("for") for label in page.find_all("label")}
    for control in page.find_all(["input", "select", "textarea"]):
        if control.get("type") in ("hidden", "submit", "button"):
            continue
        assert (control.get("id") in labelled or control.get("aria-label")
                or control.find_parent("label")), (path, control)


def test_the_current_section_is_marked_in_the_navigation(pages):
    for path, expected in (("/", "/"), ("/trace/role-modelling", "/trace"),
                           ("/cited/Bandura1977", "/trace"), ("/references", "/references"),
                           ("/dataset", "/dataset"), ("/dumps/", "/dumps/"),
                           ("/sparql", "/sparql")):
        current = soup(pages[path]).find("header").find_all("a", attrs={"aria-current": "page"})
        assert [a["href"] for a in current] == [expected], path


def test_evidence_badges_look_the_same_everywhere(pages):
    for path in ("/", "/trace/role-modelling", "/id/mechanism/role-modelling.html",
                 "/cited/Bandura1977", "/dataset"):
        badges = soup(pages[path]).select(".status")
        assert badges, path
        for badge in badges:
            assert badge.name == "span", (path, badge)
            kinds = set(badge["class"]) - {"status"}
            assert kinds <= {"stated", "companion", "curated", "other"} and len(kinds) == 1


def test_wide_tables_scroll_inside_a_wrapper(pages):
    for path in ("/dataset", "/references", "/id/mechanism/role-modelling.html", "/dumps/"):
        for table in soup(pages[path]).find("main").find_all("table"):
            assert "table-wrap" in table.parent.get("class", []), path


def test_the_stylesheet_is_served(client):
    with client.get("/static/site.css") as resp:
        assert resp.status_code == 200
        assert media_type(resp) == "text/css"
        css = resp.get_data(as_text=True)
        assert "Content-Security-Policy" not in resp.headers
    for rule in (".status.curated", ".skip:focus", ":focus-visible", ".table-wrap", "@media"):
        assert rule in css


@pytest.mark.parametrize(("path", "accept"), [
    ("/", "text/turtle"),
    ("/", "application/ld+json"),
    ("/dataset.ttl", None),
    ("/id/mechanism/role-modelling.jsonld", None),
    ("/api", "application/json"),
    ("/search?q=gillard", "application/json"),
    ("/search?q=xyzzy-nothing", "application/json"),
    ("/trace/role-modelling.json", None),
    ("/sparql?query=ASK%7B%7D", "application/sparql-results+json"),
    ("/health", None),
])
def test_rdf_and_json_answers_carry_no_csp(client, path, accept):
    resp = client.get(path, headers={"Accept": accept} if accept else {})
    assert media_type(resp) != "text/html", path
    assert "Content-Security-Policy" not in resp.headers, path


# ---------------------------------------------------------------------------
# data that is not to be trusted
# ---------------------------------------------------------------------------


def test_a_javascript_iri_is_shown_as_text_not_as_a_link(hostile_client):
    for path in ("/id/mechanism/role-modelling.html", "/id/theory/hostile-test.html"):
        resp = hostile_client.get(path)
        assert resp.status_code == 200
        page = soup(resp)
        hrefs = [a["href"] for a in page.find_all("a", href=True)]
        assert not [h for h in hrefs if not h.lower().startswith(("http", "/", "#"))], hrefs
        assert "javascript:" not in " ".join(hrefs).lower()
        assert "javascript:alert" in page.find("main").get_text(" ")  # shown as text
    page = soup(hostile_client.get("/id/theory/hostile-test.html"))
    assert page.find("a", href="https://example.org/fine") is not None  # http(s) still links


def test_a_label_with_markup_is_escaped_on_every_page(hostile_client):
    for path in ("/id/theory/hostile-test.html", "/search?q=theory", "/dataset"):
        body = hostile_client.get(path, headers={"Accept": BROWSER}).get_data(as_text=True)
        assert "<script>alert" not in body, path
    body = hostile_client.get("/id/theory/hostile-test.html").get_data(as_text=True)
    assert "&lt;script&gt;alert(2)&lt;/script&gt; hostile theory" in body
    assert HOSTILE_THEORY in body
