"""A canned query's store-wide answer (``scope=store``) kept in a file of the cache folder
(:mod:`peerchange.services.version_files`), so that the other workers and a restart over
the same data read it instead of evaluating it again (85-90 s of CPU for
``claims-by-status`` at 10^7 triples).

The file is ``answer-{query}-{data version}-{layout}-{digest}.json.gz``; the digest covers
the query file's text, the bindings and the row limit, everything the answer is a function
of besides the data. It is gzipped JSON, not a pickle: the variables, whether the row
limit cut the answer, the seconds its evaluation took, and each row's terms written so
that they come back the same: an IRI ``["i", iri]``, a blank node ``["b", id]``, a literal
``["l", value, datatype]`` or ``["l", value, null, language]`` (with the base direction
after the language, if it has one), an unbound variable ``null``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from peerchange.services import version_files
from peerchange.services.canned_catalogue import Term
from peerchange.services.sparql import SparqlService

#: Bump when the answer written from the same rows changes (the file name holds it).
LAYOUT = "1"
_DIRECTIONS = {"ltr": ox.BaseDirection.LTR, "rtl": ox.BaseDirection.RTL}

Answer = tuple[list[str], list[tuple[Term | None, ...]], bool, float]


def kept_answer(sparql: SparqlService, cache_dir: str | None, name: str, text: str,
                bindings: Sequence[tuple[str, Term]], max_rows: int | None,
                evaluate: Callable[[], Answer]) -> Answer:
    """The answer of query ``name`` (its file's ``text``) with ``bindings`` and
    ``max_rows``: from its file in ``cache_dir``, else ``evaluate`` it (and write it
    there); ``cache_dir`` ``None``: no file."""
    version = sparql.graph.version
    path = None
    if cache_dir is not None:
        key = json.dumps([[n, encode(t)] for n, t in bindings]), str(max_rows)
        path = version_files.version_file(cache_dir, f"answer-{name}", version, LAYOUT,
                                          [text, *key], ".json.gz")
    return version_files.kept(
        path, lambda p: read_answer_file(p, version), evaluate,
        lambda f, answer: version_files.json_writer(_document(version, answer))(f))


def read_answer_file(path: Path, version: str) -> Answer | None:
    """The answer kept in ``path`` (for data version ``version``); ``None`` when it is
    missing, unreadable, cut short or another's."""
    return version_files.read_document(path, LAYOUT, version, _answer)


def _answer(doc: dict[str, Any]) -> Answer | None:
    variables = [str(v) for v in doc["variables"]]
    rows = [tuple(decode(t) for t in row) for row in doc["rows"]]
    if any(len(row) != len(variables) for row in rows):
        return None
    return variables, rows, bool(doc["truncated"]), float(doc["seconds"])


def encode(term: Term | None) -> list[str | None] | None:
    """``term`` as JSON (see the module docstring)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ["i", term.value]
    if isinstance(term, ox.BlankNode):
        return ["b", term.value]
    if isinstance(term, ox.Literal):
        if term.language is None:
            return ["l", term.value, term.datatype.value]
        if term.direction is None:
            return ["l", term.value, None, term.language]
        return ["l", term.value, None, term.language, str(term.direction)]
    raise TypeError(f"not a term of an answer: {term!r}")


def decode(data: Any) -> Term | None:
    """The term :func:`encode` wrote as ``data``.

    :raise ValueError: for anything else.
    """
    if data is None:
        return None
    kind, value, *rest = data
    if kind == "i" and not rest:
        return ox.NamedNode(value)
    if kind == "b" and not rest:
        return ox.BlankNode(value)
    if kind == "l" and len(rest) == 1:
        return ox.Literal(value, datatype=ox.NamedNode(rest[0]))
    if kind == "l" and len(rest) == 2 and rest[0] is None:
        return ox.Literal(value, language=rest[1])
    if kind == "l" and len(rest) == 3 and rest[0] is None:
        return ox.Literal(value, language=rest[1], direction=_DIRECTIONS[rest[2]])
    raise ValueError(f"not a term: {data!r}")


def _document(version: str, answer: Answer) -> dict[str, Any]:
    variables, rows, truncated, seconds = answer
    return {"layout": LAYOUT, "data_version": version, "variables": list(variables),
            "truncated": truncated, "seconds": seconds,
            "rows": [[encode(t) for t in row] for row in rows]}


__all__ = ["LAYOUT", "Answer", "decode", "encode", "kept_answer", "read_answer_file"]
