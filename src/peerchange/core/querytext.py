"""Lexical inspection of a SPARQL request before the engine sees it.

pyoxigraph parses and evaluates queries itself, but it would also execute updates sent to
a store, fetch ``SERVICE`` endpoints on its own and ignore ``FROM`` under the union default
graph. This module tokenizes the text (skipping comments, strings and IRIs, so a keyword
inside them does not count) to find: the query form, whether the text is an update, every
``SERVICE`` (including ``SERVICE ?var``) and the ``FROM`` / ``FROM NAMED`` clauses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<lstring>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
    | (?P<string>'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\s]*>)
    | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
    | (?P<pname>(?:[A-Za-z\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*)?   # prefix
                 :(?:[\w\-\u00B7\u00C0-\uFFFF.:%\\]*[\w\-\u00B7\u00C0-\uFFFF:%])?)  # local
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

QUERY_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
UPDATE_KEYWORDS = {
    "INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH",
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


@dataclass
class QueryInfo:
    """What the lexical scan found.

    :param form: ``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE``, or ``None`` if unknown.
    :param update_keyword: the update operation the text starts with, if it is an update.
    :param services: the targets of every ``SERVICE`` (an IRI, a prefixed name or ``?var``).
    :param from_graphs: IRIs of ``FROM`` clauses (prefixed names resolved).
    :param from_named: IRIs of ``FROM NAMED`` clauses.
    """

    form: str | None = None
    update_keyword: str | None = None
    services: list[str] = field(default_factory=list)
    from_graphs: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return self.update_keyword is not None

    @property
    def has_dataset(self) -> bool:
        return bool(self.from_graphs or self.from_named)


def tokens(text: str) -> list[Token]:
    """Split SPARQL text into tokens, dropping whitespace and comments."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind in {"ws", "comment"}:
            continue
        out.append(Token(kind, m.group(), m.start()))
    return out


def inspect_query(text: str) -> QueryInfo:
    """Scan ``text`` and return its :class:`QueryInfo` (never raises on bad syntax)."""
    info = QueryInfo()
    toks = tokens(text)
    prefixes: dict[str, str] = {}
    base = ""
    i = 0
    # prologue: BASE <iri> / PREFIX p: <iri>
    while i < len(toks):
        word = toks[i].text.upper() if toks[i].kind == "word" else ""
        if word == "BASE" and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            base = toks[i + 1].text[1:-1]
            i += 2
        elif (
            word == "PREFIX"
            and i + 2 < len(toks)
            and toks[i + 1].kind == "pname"
            and toks[i + 2].kind == "iri"
        ):
            prefixes[toks[i + 1].text[:-1]] = toks[i + 2].text[1:-1]
            i += 3
        else:
            break
    if i < len(toks) and toks[i].kind == "word":
        first = toks[i].text.upper()
        if first in QUERY_FORMS:
            info.form = first
        elif first in UPDATE_KEYWORDS:
            info.update_keyword = first

    def resolve(tok: Token) -> str | None:
        if tok.kind == "iri":
            iri = tok.text[1:-1]
            return iri if ":" in iri or not base else base + iri
        if tok.kind == "pname":
            prefix, _, local = tok.text.partition(":")
            if prefix in prefixes:
                return prefixes[prefix] + local
        return None

    for j in range(i, len(toks)):
        tok = toks[j]
        if tok.kind != "word":
            continue
        word = tok.text.upper()
        if word in UPDATE_KEYWORDS and info.update_keyword is None and _starts_operation(toks, j):
            info.update_keyword = word
        elif word == "SERVICE":
            k = j + 1
            if k < len(toks) and toks[k].kind == "word" and toks[k].text.upper() == "SILENT":
                k += 1
            target = toks[k] if k < len(toks) else Token("other", "", len(text))
            info.services.append(resolve(target) or target.text)
        elif word == "FROM" and j + 1 < len(toks):
            named = toks[j + 1].kind == "word" and toks[j + 1].text.upper() == "NAMED"
            target = toks[j + 2] if named and j + 2 < len(toks) else toks[j + 1]
            iri = resolve(target)
            if iri is not None:
                (info.from_named if named else info.from_graphs).append(iri)
    return info


def _starts_operation(toks: list[Token], j: int) -> bool:
    """Whether the update keyword at ``j`` starts an operation (after ``;`` in a request)."""
    return j > 0 and toks[j - 1].text == ";"
