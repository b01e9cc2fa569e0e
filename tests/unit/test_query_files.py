"""Query files: front matter, and no SPARQL inside the Python package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from peerchange.core.queryfiles import all_queries, parse_front_matter

SRC = Path(__file__).resolve().parents[2] / "src" / "peerchange"
QUERIES = sorted(all_queries().values(), key=lambda q: q.name)


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_every_query_has_a_summary(query):
    assert isinstance(query.meta.get("summary"), str) and query.meta["summary"].strip()


def test_front_matter_is_yaml():
    text = "#+ summary: hello\n#+ tags: [a, b]\n#+ params:\n#+   x:\n#+     type: iri\nSELECT * {}"
    assert parse_front_matter(text) == {
        "summary": "hello",
        "tags": ["a", "b"],
        "params": {"x": {"type": "iri"}},
    }


def test_front_matter_stops_at_the_query():
    assert parse_front_matter("SELECT * {}\n#+ summary: late") == {}


# what only SPARQL looks like: a query form with its first argument, a prologue, an update;
# a group pattern is "{" then a term, a prefixed name, a keyword or another group
GROUP = r"\{\s*([?$<_\[(\"'{}]|[\w-]*:|(GRAPH|FILTER|OPTIONAL|VALUES|BIND|SERVICE|MINUS)\b)"
SPARQL = re.compile(
    rf"""\b(SELECT\s+(DISTINCT\s+|REDUCED\s+)?([?$*]|\([^()]*(\([^()]*\))?[^()]*\sAS\s+[?$])
        |CONSTRUCT\s*({GROUP}|WHERE\b)|ASK\s*({GROUP}|WHERE\b)
        |DESCRIBE\s+[?$<*]|PREFIX\s+[\w.-]*:\s*<|BASE\s*<|(INSERT|DELETE)\s+(DATA|WHERE)\b
        |WHERE\s*{GROUP})""",
    re.IGNORECASE | re.VERBOSE,
)
HOLE = "\x00"  # stands for an f-string's replacement field


def _text(node: ast.expr) -> str | None:
    """The text of a string expression: a literal (implicit concatenations are one literal
    after parsing), an f-string (its replacement fields as :data:`HOLE`) or a ``+`` of
    those; ``None`` for anything else."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(part) or HOLE for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def sparql_strings(source: str) -> list[int]:
    """Line numbers of the string expressions in Python ``source`` that hold SPARQL: every
    literal (one-line or triple-quoted), implicit concatenation, f-string and ``+`` of them
    is read whole, whatever its layout; comments are not strings."""
    tree = ast.parse(source)
    found, inner = [], set()
    for node in ast.walk(tree):  # outer expressions come before their parts
        if id(node) in inner or not isinstance(node, ast.expr):
            continue
        text = _text(node)
        if text is None:
            continue
        inner.update(id(n) for n in ast.walk(node))
        if SPARQL.search(text):
            found.append(node.lineno)
    return found


def test_no_sparql_strings_in_python():
    offenders = [
        f"{p.relative_to(SRC)}:{line}"
        for p in sorted(SRC.rglob("*.py"))
        for line in sparql_strings(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


SYNTHETIC = {
    "triple-quoted": '''
QUERY = """
    PREFIX pcm: <https://w3id.org/peerchange/onto/>
    SELECT ?m
    WHERE { ?m a pcm:ChangeMechanism }
"""
''',
    "implicit concatenation": '''
QUERY = (
    "SELECT"
    " ?m WHERE"
    " { ?m a <https://w3id.org/peerchange/onto/ChangeMechanism> }"
)
''',
    "f-string concatenation": '''
def query(cls):
    return (f"ASK"
            f"{{ ?m a <{cls}> }}")
''',
    "plus": '''
QUERY = "DESCRIBE" + " <https://w3id.org/peerchange/id/mechanism/engagement>"
''',
    "lower case, one line": '''
run("construct where { ?s ?p ?o }")
''',
}
# the line-by-line pattern this test used before: it needed a quote and the keyword on one line
OLD_LINE_RULE = re.compile(
    r"""["'].*\b(SELECT\s+[?*(]|CONSTRUCT\s*\{|ASK\s*\{|DESCRIBE\s+[?<]|PREFIX\s+\w*:\s*<|INSERT\s+DATA)""",
    re.IGNORECASE,
)


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_the_check_finds_sparql_however_the_string_is_written(name):
    source = SYNTHETIC[name]
    assert len(sparql_strings(source)) == 1
    if name != "lower case, one line":  # what the line rule missed
        assert not any(OLD_LINE_RULE.search(line) for line in source.splitlines())


@pytest.mark.parametrize("source", [
    '# SELECT ?m WHERE { ?m ?p ?o } in a comment\nx = 1\n',
    'message = "Select (at most) one format; ask the operator"\n',
    'label = f"where {name}"\n',
    'hint = "select (the first) from the list; ask {who}".format(who="them")\n',
    'path = "queries/api/" + name + ".rq"\n',
])
def test_the_check_leaves_other_strings_alone(source):
    assert sparql_strings(source) == []
