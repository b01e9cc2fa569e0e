"""Bounds on the query text before any expensive work (issue 8, rows 6, 9 and 10).

- Row 6: the tokeniser (``core.querytext``) is linear-time: texts that took the old one
  8-70 s (``a.a.a.…``, runs of escaped quotes) are scanned in well under 0.5 s of CPU,
  and it still finds exactly what the old one found (compared, token by token, with the
  old expression kept here as the reference, on generated texts).
- Row 9: nesting deeper than ``max_nesting`` is a 400 before the engine's parser sees it
  (an ``ASK`` with 2,300 nested ``{`` overflowed its stack: 500).
- Row 10: ``default-graph-uri`` / ``named-graph-uri`` values that are not IRIs the store
  accepts are a 400 naming the parameter, never a 500.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from peerchange.core import querytext
from peerchange.core.errors import BadRequest
from peerchange.core.querytext import inspect_query, tokens

# the tokeniser before issue 8: correct, but quadratic on some texts (kept as the oracle)
REFERENCE = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<lstring>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
    | (?P<string>'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\s]*>)
    | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
    | (?P<pname>(?:[A-Za-z\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*)?
                 :(?:[\w\-\u00B7\u00C0-\uFFFF.:%\\]*[\w\-\u00B7\u00C0-\uFFFF:%])?)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def reference_tokens(text: str) -> list[tuple[str, str, int]]:
    return [(m.lastgroup or "other", m.group(), m.start()) for m in REFERENCE.finditer(text)
            if m.lastgroup not in ("ws", "comment")]


PIECES = ["a", "Z", "_", ":", ".", "-", "'", '"', "\\", "\n", "\r", " ", "#", "<", ">", "?",
          "$", "{", "}", "(", ")", "[", "]", "é", "\u00b7", "\u3000", "\u00a0", "%", ";",
          "0", "'''", '"""', "SERVICE", "ex:", "<http://x>", "\\'", '\\"', "INSERT"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_the_tokens_are_the_old_tokeniser_s(text):
    assert [tuple(t) for t in tokens(text)] == reference_tokens(text)


# each took the old tokeniser 16-70 s on the development machine (2 cores, loaded)
HOSTILE = {
    "a.a.a 64 KB": "a." * 32768,
    "parentheses 256 KB": "(" * 262144,
    "escaped quotes 64 KB": "'\\" * 32768,
    "unterminated long string of escapes 64 KB": "'''" + "\\'" * 32768,
    "long string with escapes 64 KB": '"""' + 'a\\"' * 21000 + '"""',
    "unterminated IRI 64 KB": "<" + "a" * 65535,
    "unterminated comment 64 KB": "#" + "a" * 65535,
    "names and dots 64 KB": "ab.cd-" * 10922,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_tokeniser_is_linear_on_hostile_texts(text):
    def cpu() -> float:  # CPU seconds, the best of three (the machine may be busy)
        start = time.process_time()
        inspect_query(text)
        return time.process_time() - start

    assert min(cpu() for _ in range(3)) < 0.5


def test_linear_means_twice_the_text_about_twice_the_time():
    def cpu(n: int) -> float:
        text = "a." * n
        start = time.process_time()
        tokens(text)
        return time.process_time() - start

    cpu(1000)  # warm up
    small, large = min(cpu(8192) for _ in range(3)), min(cpu(32768) for _ in range(3))
    assert large < small * 8  # quadratic would be 16 times


@pytest.mark.parametrize(("text", "depth"), [
    ("SELECT * WHERE { ?s ?p ?o }", 1),
    ("SELECT * WHERE { { ?s ?p ?o } UNION { ?s ?p ?o FILTER((1 + 2) > 0) } }", 4),
    ('ASK { FILTER(STRLEN("{{{{(((((") > 0) }', 3),  # brackets in a string do not count
    ("ASK { ?s <http://x/((((> ?o }", 1),  # nor in an IRI
    ("ASK {\n# {{{{{{\n}", 1),  # nor in a comment
    ("ASK " + "{" * 2300 + "}" * 2300, 2300),
    ("}}} ASK { }", 1),  # closing more than was opened does not go below 0
    ("ASK { [ ?p ( 1 2 ) ] }", 3),
])
def test_the_scan_measures_nesting_outside_strings_iris_and_comments(text, depth):
    assert inspect_query(text).depth == depth


def nested_ask(depth: int) -> str:
    return "ASK " + "{" * depth + "}" * depth


def test_nesting_over_the_limit_is_refused_before_the_parser(app, monkeypatch):
    sparql = app.services.sparql
    assert sparql.max_nesting == 128
    sparql.prepare(nested_ask(128))  # at the limit: accepted
    calls = []
    monkeypatch.setattr(querytext, "tokens",
                        lambda text, real=querytext.tokens: calls.append(1) or real(text))
    with pytest.raises(BadRequest) as info:
        sparql.prepare(nested_ask(2300))
    assert info.value.http_status == 400
    assert "nested 2,300 levels deep" in info.value.message
    assert "accepts 128" in info.value.message
    assert calls == [1]  # one scan, and nothing else ran


def test_row_9_deep_nesting_is_400_and_the_limit_still_answers(client):
    deep = client.post("/sparql", data={"query": nested_ask(2300)},
                       headers={"Accept": "application/json"})
    assert deep.status_code == 400
    assert "2,300 levels" in deep.get_json()["message"]
    at_limit = client.post("/sparql", data={"query": nested_ask(128)},
                           headers={"Accept": "application/sparql-results+json"})
    assert at_limit.status_code == 200, at_limit.get_data(as_text=True)
    assert at_limit.get_json()["boolean"] is True


MALFORMED_IRIS = [
    "http://[x", "http://a b", "<x>", "", "\x00", "foo", "http://a%zz", "http://e/a#b#c",
    "http://x/\\y", "http://x/{y}", "mailto:a b", "http://x/\u0001",
]


@pytest.mark.parametrize("parameter", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("value", MALFORMED_IRIS)
def test_row_10_malformed_dataset_iris_are_400(client, parameter, value):
    resp = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }", parameter: value},
                       headers={"Accept": "application/json"})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert parameter in resp.get_json()["message"]


def test_dataset_iris_the_store_accepts_still_work(client):
    for value in ("https://w3id.org/peerchange/graph/ontology", "urn:x", "http://[::1]/g"):
        resp = client.post("/sparql", data={"query": "ASK { }", "default-graph-uri": value},
                           headers={"Accept": "application/sparql-results+json"})
        assert resp.status_code == 200, (value, resp.get_data(as_text=True))


@pytest.mark.slow
def test_rows_6_9_10_through_a_real_server(start_live_server):
    """The same bounds over HTTP: a hostile text answers quickly, deep nesting and bad
    dataset IRIs are 400, and the server keeps answering."""
    server = start_live_server()
    start = time.monotonic()
    resp = requests.post(server.sparql, data={"query": "a." * 30000}, timeout=30)
    assert resp.status_code == 400 and time.monotonic() - start < 5
    resp = requests.post(server.sparql, data={"query": nested_ask(2300)}, timeout=30)
    assert resp.status_code == 400 and "2,300 levels" in resp.text
    for value in MALFORMED_IRIS[:8]:
        resp = requests.get(server.sparql, params={"query": "ASK {}", "default-graph-uri": value},
                            timeout=30)
        assert resp.status_code == 400, (value, resp.text)
    resp = requests.post(server.sparql, data={"query": "ASK { ?s ?p ?o }"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert resp.status_code == 200 and resp.json()["boolean"] is True
