"""No request leaves the server: the page, our script and the vendored YASGUI files name no
other host that is fetched at run time.

The bundle holds many ``http(s)://`` strings; this test sorts every one of them:

- namespace IRIs of YASQE's bundled prefix list (``name=`IRI``` pairs, what prefix
  autocompletion inserts as text) — data, never requested;
- the allowlist below, each with the reason it is not fetched. A rebuild that brings a new
  URL fails here until someone has checked it and added it with its reason.

The places that can send a request (``fetch(``) are listed too, with what keeps each one on
this server. The browser test (``tests/browser``) checks the same at run time.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from tests.editor.conftest import STATIC, VENDOR

URL = re.compile(r"https?://[^\s`\"'<>\\)]+")
# `name=`IRI`` in a list of assignments (not `obj.href=`...``)
NAMESPACE_BEFORE = re.compile(r"(?:^|[,{;\s])[\w$-]+=`$")

NOT_FETCHED = {
    # the default endpoint and endpoint catalogue of YASGUI: editor.js sets
    # requestConfig.endpoint and endpointCatalogueOptions.getData to this server's /sparql,
    # and hides the endpoint field (CSP connect-src 'self' would refuse them anyway)
    "https://dbpedia.org/sparql": "default endpoint, replaced",
    "https://query.wikidata.org/bigdata/namespace/wdq/sparql": "endpoint catalogue, replaced",
    # links a person may follow (href of <a>), help texts and console messages
    "https://docs.triply.cc/yasgui/": "href of YASR's help link",
    "https://docs.triply.cc/yasgui/#table": "helpReference: href of the table plugin's help",
    "https://docs.triply.cc/yasgui/#response": "helpReference: href of the response help",
    "http://enable-cors.org/": "href in the CORS error message",
    "https://developer.mozilla.org/en-US/docs/Web/Security/Same-origin_policy":
        "href in the CORS error message",
    "https://datatables.net/tn/": "text of a DataTables console warning",
    "https://datatables.net/tn/17": "text of a DataTables alert (dates without Luxon)",
    # XML namespaces of generated markup (createElementNS, xmlns attributes) and the
    # example query text of YASQE
    "http://www.w3.org/2000/svg": "SVG namespace",
    "http://www.w3.org/1999/xhtml": "XHTML namespace",
    "http://creativecommons.org/ns#": "xmlns:cc of an icon's SVG metadata",
    "http://purl.org/dc/elements/1.1/": "xmlns:dc of an icon's SVG metadata",
    "http://purl.org/dc/dcmitype/StillImage": "rdf:resource of an icon's SVG metadata",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "PREFIX in YASQE's default query text",
    "http://www.w3.org/2000/01/rdf-schema#": "PREFIX in YASQE's default query text",
    "http://rdfs.org/ns/void#": "a namespace in the bundled prefix list (object form)",
    "http://www.w3.org/2002/07/owl#sameAs": "an IRI constant of the N3 library",
}

# every fetch( call in the bundle, by the text before it, and why it stays on this server
FETCHES = {
    "let l=await fetch(c)": "the query: to requestConfig.endpoint, this server's /sparql",
    "e.config.prefixCcApi?fetch(e.config.prefixCcApi)": "prefixCcApi is null: bundled list",
    "return fetch(s)": "LOV term autocompletion: editor.js removes the property and class "
                       "autocompleters that call it",
    "fetch(t.toString())": "CORS check, only with a corsProxy (none is configured)",
}


def urls_in_bundle() -> tuple[set[str], set[str]]:
    js = (VENDOR / "yasgui.min.js").read_text(encoding="utf-8")
    namespaces, others = set(), set()
    for m in URL.finditer(js):
        before = js[max(0, m.start() - 40):m.start()]
        (namespaces if NAMESPACE_BEFORE.search(before) else others).add(m.group(0))
    return namespaces, others


def test_every_url_of_the_bundle_is_known_not_to_be_fetched():
    namespaces, others = urls_in_bundle()
    assert others == set(NOT_FETCHED), (
        f"new: {sorted(others - set(NOT_FETCHED))}; gone: {sorted(set(NOT_FETCHED) - others)}")
    # the prefix list: namespace IRIs (they end as namespaces do), hundreds of them
    assert len(namespaces) > 300
    odd = {u for u in namespaces if not u.endswith(("/", "#", ":", "_"))}
    assert odd <= {"http://www.w3.org/1998/Math/MathML", "http://www.w3.org/1999/xhtml",
                   "http://www.w3.org/2000/svg"}, odd


def test_every_fetch_of_the_bundle_is_accounted_for():
    js = (VENDOR / "yasgui.min.js").read_text(encoding="utf-8")
    sites = [js[max(0, m.start() - 60):m.end() + 30] for m in re.finditer(r"\bfetch\(", js)]
    assert len(sites) == len(FETCHES), sites
    for known in FETCHES:
        assert sum(known in site for site in sites) == 1, known
    # hosts built without a scheme literal: only LOV (`${protocol}lov.linkeddata.es/...`)
    assert re.findall(r"\$\{\w+\}([\w.-]+\.[a-z]{2,})/", js) == ["lov.linkeddata.es"]
    assert "prefixCcApi:null" in js


def test_editor_js_closes_every_door():
    text = (STATIC / "editor.js").read_text(encoding="utf-8")
    assert not URL.search(text)
    for needle in ('completers[i] === "property" || completers[i] === "class"',
                   "delete Yasqe.Autocompleters.property",
                   'delete Yasqe.Autocompleters["class"]',
                   "Yasqe.defaults.prefixCcApi = null",
                   "requestConfig: { endpoint: endpoint",
                   "return [{ endpoint: endpoint }]",
                   "tab.requestConfig.endpoint = endpoint"):
        assert needle in text, needle


def test_the_stylesheet_loads_nothing():
    css = (VENDOR / "yasgui.min.css").read_text(encoding="utf-8")
    assert "@import" not in css
    for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", css):
        assert url.startswith("data:"), url
    assert not URL.search(css)


def test_the_page_loads_only_from_this_server(page: BeautifulSoup):
    for tag in page.find_all(["script", "link", "img", "iframe", "source", "object", "embed"]):
        for attr in ("src", "href", "data"):
            value = tag.get(attr)
            if value:
                # a data: URI (the empty favicon) loads nothing from anywhere
                assert value.startswith(("/", "data:")) and not value.startswith("//"), (
                    tag.name, value)
    for form in page.find_all("form"):
        assert form["action"].startswith("/")
    for a in page.find_all("a", href=True):
        assert not re.match(r"(https?:)?//", a["href"]), a["href"]
