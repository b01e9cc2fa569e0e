"""Row 11 of issue 8: request parameters never reach ``url_for``; a redirect's
``Location`` is a path on this site, whatever the query string says.

Before the fix, ``/trace/Role-Modelling?slug=x`` and ``/cited/bandura1977?key=x`` were 500
with a trace, and ``?_external=1&_scheme=https`` turned the canonical redirect into an
absolute URL with a client-chosen scheme.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

# (non-canonical page, canonical path)
REDIRECTS = [("/trace/Role-Modelling", "/trace/role-modelling"),
             ("/trace/Role-Modelling.json", "/trace/role-modelling.json"),
             ("/cited/bandura1977", "/cited/Bandura1977"),
             ("/cited/bandura1977.ttl", "/cited/Bandura1977.ttl")]
HOSTILE_QUERIES = ["slug=x", "key=x", "_external=1&_scheme=https", "_external=1",
                   "_scheme=javascript&_external=true", "_anchor=x", "_method=POST",
                   "filename=x", "name=x&slug=y&key=z", "format=json&slug=x"]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
@pytest.mark.parametrize(("page", "canonical"), REDIRECTS)
def test_parameters_never_reach_the_redirect(client, page, canonical, query):
    resp = client.get(f"{page}?{query}")
    assert resp.status_code == 301, resp.get_data(as_text=True)
    location = urlsplit(resp.headers["Location"])
    assert (location.scheme, location.netloc, location.fragment) == ("", "", "")
    assert location.path == canonical
    # only the one parameter a page reads is kept, as a value
    kept = parse_qs(location.query)
    assert set(kept) <= {"format"}
    assert kept.get("format") == parse_qs(query).get("format")


def test_the_redirect_keeps_the_format(client):
    resp = client.get("/trace/Role-Modelling?format=ttl")
    assert resp.headers["Location"] == "/trace/role-modelling?format=ttl"
    assert client.get(resp.headers["Location"]).headers["Content-Type"].startswith(
        "text/turtle")


@pytest.mark.parametrize("path", ["/trace?q=role&_external=1&_scheme=https",
                                  "/trace/role-modelling/bibliography.bib?_external=1",
                                  "/trace/Role-Modelling/bibliography.bib?slug=x&filename=y",
                                  "/search?q=Bandura1977&_external=1&_scheme=https",
                                  "/onto/Claim?_external=1&_scheme=https",
                                  "/api/mechanisms?_external=1&_scheme=https&name=x"])
def test_other_redirects_and_pages_ignore_url_for_arguments(client, path):
    resp = client.get(path)
    assert resp.status_code < 500, resp.get_data(as_text=True)
    location = resp.headers.get("Location", "")
    assert not location.startswith("https:"), location
    assert "javascript" not in location


def test_no_view_spreads_request_data_into_url_for():
    """The code itself: no ``url_for(..., **something)`` in the web layer (the keyword
    arguments of a URL are named one by one, so no request parameter can become one)."""
    import ast
    from pathlib import Path

    import peerchange.web

    spread = []
    for path in Path(peerchange.web.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "url_for"
                    and any(k.arg is None for k in node.keywords)):
                spread.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    # the API's example links spread the front matter's example values (shipped data)
    assert [s for s in spread if "example_values()" not in s] == []
