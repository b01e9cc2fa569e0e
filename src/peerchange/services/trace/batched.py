"""Run a shipped query for many values of one parameter at once: a ``VALUES`` block.

pyoxigraph binds one term per variable (``substitutions``), and it plans a query before
the terms are bound: a pattern such as ``OPTIONAL { ?value rdfs:label ?label }`` is then
evaluated on its own, for every label of the store, and joined afterwards. Details of a
known list of resources (their labels, a work's record, a mechanism's definition) are
read instead by a query whose WHERE group opens with ``VALUES ?resource { <iri> ... }``:
the planner sees the values, starts from them and looks each one up in the indexes, so
the cost grows with the list, not with the store.

The block is written from RDF terms (``str()`` of a pyoxigraph term, its N-Triples form),
never from a client's text, and inserted just inside the query's WHERE group, found by
the lexical scan (:func:`peerchange.core.querytext.tokens`); the same place the remote
store's several rows of bindings go (``core.remote_execution``), so the text runs
unchanged on the embedded store and on a remote one (Virtuoso 7.2 applies a trailing
``VALUES`` after the projection). The query then goes through
:meth:`SparqlService.prepare` and :meth:`SparqlService.execute`, with a shipped query's
limits (no row or byte cap) and its file name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyoxigraph as ox

from peerchange.core.errors import QueryFileError
from peerchange.core.queryfiles import get_query
from peerchange.core.querytext import QUERY_FORMS, Token, tokens
from peerchange.services.sparql import SparqlService

Term = ox.NamedNode | ox.Literal
#: Values per query, as the remote store's label lookups (``core.remote_execution``): with
#: 500, two of three parallel test runs got a 500 from Virtuoso 7.2 on the engagement
#: trace's Turtle (passing alone; the cause was not established).
BATCH = 200


def select_values(sparql: SparqlService, name: str, variable: str, values: Iterable[Term],
                  *, batch: int = BATCH) -> list[dict[str, Any]]:
    """The rows of the shipped SELECT query ``name`` for every term of ``values`` bound to
    ``?variable`` (repeats dropped; one query per ``batch`` values, none for no values),
    as ``{variable: term}`` (unbound variables left out)."""
    return select_rows(sparql, name, [{variable: v} for v in dict.fromkeys(values)],
                       batch=batch)


def select_rows(sparql: SparqlService, name: str, rows: Iterable[Mapping[str, Term]],
                *, batch: int = BATCH) -> list[dict[str, Any]]:
    """The rows of the shipped SELECT query ``name`` for each row of bindings of ``rows``
    (each binding every variable of the first row; repeats dropped; one query per
    ``batch`` rows, none for no rows)."""
    todo = list(dict.fromkeys(tuple(row.items()) for row in rows))
    out: list[dict[str, Any]] = []
    for i in range(0, len(todo), batch):
        out += _select(sparql, name, todo[i:i + batch])
    return out


def _select(sparql: SparqlService, name: str, rows: list[tuple[tuple[str, Term], ...]]
            ) -> list[dict[str, Any]]:
    file = get_query(name)
    at = _group_start(file.text)
    if at is None:
        raise QueryFileError(f"queries/{name}.rq has no WHERE group")
    block = values_block([n for n, _ in rows[0]], rows)
    return run_select(sparql, name, file.text[:at] + block + file.text[at:])


def values_block(names: Sequence[str], rows: Sequence[tuple[tuple[str, Term], ...]]) -> str:
    """A ``VALUES`` block of ``rows`` (each its (variable, term) pairs) for ``names``."""
    # one variable in the short form: with ``(?x) { (<a>) ... }`` Virtuoso 7.2 answered 500
    # in one test run of the traces (the cause was not established), with this one it did not
    if len(names) == 1:
        head, lines = "?" + names[0], [str(row[0][1]) for row in rows]
    else:
        head = "(" + " ".join("?" + n for n in names) + ")"
        lines = ["(" + " ".join(str(dict(row)[n]) for n in names) + ")" for row in rows]
    return "\nVALUES " + head + " {\n  " + "\n  ".join(lines) + "\n}\n"


def run_select(sparql: SparqlService, name: str, text: str) -> list[dict[str, Any]]:
    """The rows of ``text`` (the shipped SELECT query ``name`` with blocks written into
    it) as ``{variable: term}``, unbound variables left out; ours, not a client's: no row
    or byte cap, and errors name the file.

    :raise QueryFileError: ``text`` is not a SELECT query.
    """
    prepared = sparql.prepare(text)
    if prepared.form != "SELECT":
        raise QueryFileError(f"queries/{name}.rq is not a SELECT query")
    prepared = dataclasses.replace(prepared, max_rows=0, max_bytes=0,
                                   name=get_query(name).name)
    answer = sparql.execute(prepared)
    return [
        {v: t for v, t in zip(answer.variables, row, strict=True) if t is not None}
        for row in answer.rows
    ]


def _group_start(text: str) -> int | None:
    """The offset just inside the WHERE group of a SELECT query (after its ``{``)."""
    toks = tokens(text)
    at = where_brace(toks)
    return None if at is None else toks[at].pos + 1


def where_brace(toks: Sequence[Token]) -> int | None:
    """The index in ``toks`` of the ``{`` that opens the query's WHERE group (the first
    after the query form's keyword), else ``None``."""
    at = next((i for i, t in enumerate(toks)
               if t.kind == "word" and t.text.upper() in QUERY_FORMS), None)
    if at is None:
        return None
    return next((i for i in range(at + 1, len(toks))
                 if toks[i].kind == "other" and toks[i].text == "{"), None)
