"""One SPARQL query answered by the restart's early answerer (:mod:`peerchange.serving.
early`): the subset it answers exactly as the full server, everything else refused.

:func:`answer` evaluates a client's query on the union default graph (as
:meth:`peerchange.services.sparql.SparqlService.execute` does without a dataset) and writes
the body as :mod:`peerchange.core.results` writes it:

- SELECT and ASK in SPARQL JSON (``application/sparql-results+json``, also chosen by
  ``application/json``, ``*/*`` or no ``Accept``);
- CONSTRUCT in Turtle with the published prefixes (``text/turtle``, ``*/*`` or no
  ``Accept``) or N-Triples (``application/n-triples``).

It raises :class:`Unanswered` (the server answers ``503`` and the full server answers the
query in a moment) for what it does not give identically: DESCRIBE (the full server adds
the labels of what it links to), any other or several ``Accept`` entries, an answer the
full server would cut at its row or byte limit, and texts :func:`screen` refuses. A query
the engine cannot parse raises :class:`Unparsable` (400, as the full server).

The time and memory limits are the caller's (it runs this in a process of its own). The
module imports pyoxigraph, :mod:`peerchange.core.json_text` (the JSON writer :mod:`json`
itself uses, without importing :mod:`json` and :mod:`re`) and
:mod:`peerchange.core.namespaces` only: it is on the path of a restart's first answer.
``tests/serving/test_early.py`` holds its bodies equal to the full server's.
"""

from __future__ import annotations

import pyoxigraph as ox

from peerchange.core.json_terms import json_term
from peerchange.core.json_text import encoder
from peerchange.core.namespaces import PREFIXES

JSON_RESULTS = "application/sparql-results+json"
TURTLE = "text/turtle; charset=utf-8"
N_TRIPLES = "application/n-triples; charset=utf-8"
# room the full server keeps for what comes before and after the rows
# (``core.execution._FRAME_BYTES``), and more: an answer near the byte limit is refused
FRAME_BYTES = 4096
# words that make a text one the early answerer leaves to the full server: updates,
# SERVICE (the allow-list), FROM / FROM NAMED (the dataset), DESCRIBE (labels). Found
# anywhere but in whole-line comments (strings and IRIs too), so a text is refused rather
# than answered differently.
REFUSED_WORDS = frozenset({"service", "from", "describe", "insert", "delete", "load", "clear",
                           "create", "drop", "copy", "move", "add", "with", "using"})
_WORD_CHARS = "abcdefghijklmnopqrstuvwxyz"
_SPLIT = str.maketrans({c: " " for c in map(chr, range(128))
                        if c not in _WORD_CHARS and not c.isdigit() and c != "_"})

_JSON = encoder(ensure_ascii=False)


class Unanswered(Exception):
    """Not answered here: the full server will (a ``503``; the message says why)."""


class Unparsable(Exception):
    """The engine does not parse the query (a ``400``, as the full server)."""


def screen(text: str, max_nesting: int) -> str | None:
    """Why ``text`` is left to the full server, or ``None``: empty, one of
    :data:`REFUSED_WORDS` outside its whole-line comments, or more ``{``, ``(`` and ``[``
    than the nesting limit (an upper bound of its depth)."""
    if not text.strip():
        return "an empty query"
    # a line that starts with ``#`` is a comment (or, inside a long string literal, part
    # of a string): either way no keyword of the query, so it is not looked at
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    if max_nesting and text.count("{") + text.count("(") + text.count("[") > max_nesting:
        return "a deeply nested query"
    words = set(text.lower().translate(_SPLIT).split())
    found = sorted(words & REFUSED_WORDS)
    if found:
        return f"a query with {found[0].upper()}"
    return None


def _media(accept: str | None) -> str | None:
    """The one media type ``accept`` names (``None`` when absent), or ``"?"`` for a list,
    q-values or another charset."""
    if accept is None or not accept.strip():
        return None
    media, _, params = accept.partition(";")
    if "," in accept:
        return "?"
    for param in params.split(";") if params.strip() else ():
        key, _, value = param.strip().partition("=")
        if key.strip().lower() != "charset" or value.strip().strip('"').lower() not in (
                "utf-8", "utf8"):
            return "?"
    return media.strip().lower()


def _json_term(term: object) -> dict[str, object]:
    try:
        return json_term(term)
    except TypeError:
        raise Unanswered(f"a term of type {type(term).__name__}") from None


def answer(store: ox.Store, text: str, *, base_iri: str, accept: str | None, max_rows: int,
           max_bytes: int) -> tuple[str, bytes, int]:
    """(Content-Type, body, rows) of the full server's 200 to ``text``.

    :raise Unanswered: for what is not answered here (see the module docstring).
    :raise Unparsable: when the engine does not parse the text.
    """
    media = _media(accept)
    try:
        result = store.query(text, use_default_graph_as_union=True, base_iri=base_iri)
    except SyntaxError as exc:
        raise Unparsable(f"The query does not parse: {exc}") from None
    except OSError:
        raise Unanswered("a store failure") from None
    if isinstance(result, ox.QueryBoolean):
        _result_format(media)
        return JSON_RESULTS, _JSON({"head": {}, "boolean": bool(result)}).encode(), 1
    if isinstance(result, ox.QuerySolutions):
        _result_format(media)
        return _select(result, max_rows, max_bytes)
    return _graph(result, media, max_rows, max_bytes)


def _result_format(media: str | None) -> None:
    if media not in (None, "*/*", JSON_RESULTS, "application/json"):
        raise Unanswered("a result format other than SPARQL JSON")


def _too_long(what: str) -> Unanswered:
    return Unanswered(f"an answer the full server cuts at its {what} limit")


def _select(result: ox.QuerySolutions, max_rows: int, max_bytes: int
            ) -> tuple[str, bytes, int]:
    variables = [v.value for v in result.variables]
    parts = []
    total = FRAME_BYTES
    for solution in result:
        if max_rows and len(parts) >= max_rows:
            raise _too_long("row")
        binding = {}
        for name in variables:
            term = solution[name]
            if term is not None:
                binding[name] = _json_term(term)
        part = _JSON(binding)
        total += len(part) + 2
        if max_bytes and total > max_bytes:
            raise _too_long("byte")
        parts.append(part)
    head = f'{{"head": {_JSON({"vars": variables})}, "results": {{"bindings": ['
    return JSON_RESULTS, (head + ", ".join(parts) + "]}}").encode(), len(parts)


def _graph(result: ox.QueryTriples, media: str | None, max_rows: int, max_bytes: int
           ) -> tuple[str, bytes, int]:
    if media in (None, "*/*", "text/turtle"):
        content_type, kwargs = TURTLE, {"format": ox.RdfFormat.TURTLE, "prefixes": PREFIXES}
    elif media == "application/n-triples":
        content_type, kwargs = N_TRIPLES, {"format": ox.RdfFormat.N_TRIPLES}
    else:
        raise Unanswered("a graph format other than Turtle or N-Triples")
    triples = []
    total = FRAME_BYTES
    for triple in result:
        if max_rows and len(triples) >= max_rows:
            raise _too_long("row")
        total += len(str(triple).encode()) + 3
        if max_bytes and total > max_bytes:
            raise _too_long("byte")
        triples.append(triple)
    return content_type, ox.serialize(triples, **kwargs), len(triples)
