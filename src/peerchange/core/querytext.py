"""Lexical inspection of a SPARQL request before the engine sees it.

pyoxigraph parses and evaluates queries itself, but it would also execute updates sent to
a store, fetch ``SERVICE`` endpoints on its own and ignore ``FROM`` under the union default
graph. This module tokenizes the text (skipping comments, strings and IRIs, so a keyword
inside them does not count) to find: the query form, whether the text is an update, every
``SERVICE`` (including ``SERVICE ?var``) and the ``FROM`` / ``FROM NAMED`` clauses.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field
from typing import NamedTuple

# Every token kind but the strings, tried at each position in this order. Each alternative
# runs in time linear in what it consumes: the prefix of a prefixed name is matched
# possessively (``*+``), and a name that turns out not to be followed by ``:`` is consumed
# whole as a ``run`` and split into words afterwards (before, every position of
# ``a.a.a.…`` re-scanned the rest of the run: quadratic, 8-33 s for 32-64 KB).
_TOKEN = re.compile(
    r"""
      (?P<punct>[(){}\[\];,.*=!&|+/^\-]+)   # characters no other kind starts with
    | (?P<ws>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<iri><[^<>"{}|^`\\\s]*>)
    | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
    | (?P<pname>(?:[A-Za-z\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*+)?   # prefix
                 :(?:[\w\-\u00B7\u00C0-\uFFFF.:%\\]*[\w\-\u00B7\u00C0-\uFFFF:%])?)  # local
    | (?P<run>[A-Za-z\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*+)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# how a run (a name not followed by ``:``) splits: what the old single expression found
# at each position inside it
_IN_RUN = re.compile(r"(?P<ws>\s+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<other>.)", re.DOTALL)
# strings: the body is matched possessively, then the closing quote checked; the
# alternatives of a body item exclude each other, so this finds what backtracking would
_LONG_BODY = {q: re.compile(rf"(?:[^{q}\\]|\\.|{q}(?!{q}{q}))*+", re.DOTALL) for q in "'\""}
_SHORT_BODY = {q: re.compile(rf"(?:[^{q}\\\n\r]|\\.)*+", re.DOTALL) for q in "'\""}
_OPEN = "{(["
_CLOSE = "})]"

QUERY_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
UPDATE_KEYWORDS = {
    "INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH",
}


class Token(NamedTuple):
    """One token: its kind (a group name of the scanner), its text and its offset."""

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
    :param from_spans: where each ``FROM`` / ``FROM NAMED`` clause is in the text (start and
        end offsets), so a protocol dataset can replace them (:func:`without_from`).
    :param depth: the deepest nesting of ``{``, ``(`` and ``[`` outside strings, IRIs and
        comments (the engine's parser recurses once per level).
    """

    form: str | None = None
    update_keyword: str | None = None
    services: list[str] = field(default_factory=list)
    from_graphs: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)
    from_spans: list[tuple[int, int]] = field(default_factory=list)
    depth: int = 0

    @property
    def is_update(self) -> bool:
        return self.update_keyword is not None

    @property
    def has_dataset(self) -> bool:
        return bool(self.from_graphs or self.from_named)


def tokens(text: str) -> list[Token]:
    """Split SPARQL text into tokens, dropping whitespace and comments.

    Runs in time linear in the length of ``text`` whatever it holds: every character is
    looked at a bounded number of times. A string that does not close is not a string (its
    quote is an ``other`` token and the scan goes on after it); once a string of one quote
    failed to close, a later one that starts inside the part it scanned fails the same way
    (its quote can only be an escaped one there), so it is not scanned again.
    """
    collecting = gc.isenabled()
    gc.disable()  # tokens make no cycles; 256 K of them would start many collections
    try:
        return _tokens(text)
    finally:
        if collecting:
            gc.enable()


def _tokens(text: str) -> list[Token]:
    out: list[Token] = []
    append = out.append
    n = len(text)
    pos = 0
    short_dead = {"'": -1, '"': -1}  # a string of this quote starting before here fails
    long_dead = {"'": False, '"': False}  # a long string of this quote fails from now on
    while pos < n:
        for m in _TOKEN.finditer(text, pos):
            kind = m.lastgroup
            if kind == "punct":  # one ``other`` token per character
                start = m.start()
                out.extend([Token("other", c, start + i) for i, c in enumerate(m.group())])
            elif kind == "other":
                char = m.group()
                if char == "'" or char == '"':  # a string, or a lone quote
                    pos = m.start()
                    break
                append(Token("other", char, m.start()))
            elif kind == "run":
                for part in _IN_RUN.finditer(text, m.start(), m.end()):
                    if part.lastgroup != "ws":
                        append(Token(part.lastgroup, part.group(), part.start()))  # type: ignore[arg-type]
            elif kind != "ws" and kind != "comment":
                append(Token(kind, m.group(), m.start()))  # type: ignore[arg-type]
        else:
            break
        char = text[pos]
        kind, end = _string_end(text, pos, char, short_dead, long_dead)
        if end:
            append(Token(kind, text[pos:end], pos))
            pos = end
        else:
            append(Token("other", char, pos))
            pos += 1
    return out


def _string_end(text: str, pos: int, quote: str, short_dead: dict[str, int],
                long_dead: dict[str, bool]) -> tuple[str, int]:
    """The kind of the string starting at ``pos`` and where it ends (after its closing
    quote); ``("other", 0)`` when it does not close."""
    if not long_dead[quote] and text.startswith(quote * 3, pos):
        body = _LONG_BODY[quote].match(text, pos + 3).end()  # type: ignore[union-attr]
        if text.startswith(quote * 3, body):
            return "lstring", body + 3
        long_dead[quote] = True
    if pos < short_dead[quote]:
        return "other", 0
    body = _SHORT_BODY[quote].match(text, pos + 1).end()  # type: ignore[union-attr]
    if text.startswith(quote, body):
        return "string", body + 1
    short_dead[quote] = body
    return "other", 0


def inspect_query(text: str) -> QueryInfo:
    """Scan ``text`` and return its :class:`QueryInfo` (never raises on bad syntax)."""
    info = QueryInfo()
    toks = tokens(text)
    info.depth = nesting_depth(toks)
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
                info.from_spans.append((tok.pos, target.pos + len(target.text)))
    return info


def without_from(text: str, info: QueryInfo) -> str:
    """``text`` with its ``FROM`` / ``FROM NAMED`` clauses blanked out (same length, so an
    error's line and column still point into the client's text): the dataset clause only,
    for a store that would add a protocol dataset to them instead of replacing them
    (SPARQL 1.1 Protocol §2.1.4: the protocol's dataset wins)."""
    chars = list(text)
    for start, end in info.from_spans:
        chars[start:end] = [" "] * (end - start)
    return "".join(chars)


def _starts_operation(toks: list[Token], j: int) -> bool:
    """Whether the update keyword at ``j`` starts an operation (after ``;`` in a request)."""
    return j > 0 and toks[j - 1].text == ";"


def nesting_depth(toks: list[Token]) -> int:
    """The deepest nesting of ``{``, ``(`` and ``[`` among ``toks`` (strings, IRIs and
    comments are tokens of their own, so brackets in them do not count)."""
    depth = deepest = 0
    for tok in toks:
        if tok.kind != "other":
            continue
        if tok.text in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif tok.text in _CLOSE and depth:
            depth -= 1
    return deepest
