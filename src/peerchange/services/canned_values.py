"""A canned query's ``VALUES`` block, and blocks opening the OPTIONAL groups it starts from.

pyoxigraph (0.5) evaluates an ``OPTIONAL`` group of several patterns as a hash left join:
its right side is evaluated once, on its own, from nothing the left side bound, and then
probed with the left side's rows. A ``VALUES`` block opening the WHERE group
(:mod:`peerchange.services.trace.batched`) makes the left side start from the given
resources, but the right side is still evaluated for every resource of the store
(``mechanisms`` of one source: every ``componentOf`` claim, 7-11 s of CPU at 10^7
triples, bench/results/faces.md, "Round 5"). A query file whose front matter says::

    #+ values_in_optional: true

is run by :func:`select_rows` with that block opening the WHERE group and, cut down to the
variables each names (repeated rows dropped), every OPTIONAL group naming one of them
(anywhere in it, nested groups included): ``mechanisms?mechanism=...`` then reads that
mechanism's claims only. With the name of another (internal) query instead::

    #+ values_in_optional: internal/api/mechanisms-of-a-source

that query is run first with the same block, and its rows (the values the file's OPTIONAL
groups can meet: a source's mechanisms) are the ones written inside the OPTIONAL groups;
with none, the answer is empty and the file is not run; with more than
:data:`~peerchange.services.trace.batched.BATCH`, only the WHERE group's block is written
(the query text stays short). The hash join's right side then
starts from the given resources, and the cost grows with them, not with the store.

The answer is the same: every row of the WHERE group has each variable of an inner block
bound to one of its rows (the request's block; or the other query's rows, which that
query's text must guarantee: the tests compare both forms' rows), so a right-side row the
inner block drops was never compatible with a left-side row. That holds in the query's
own scope only: a sub-``SELECT`` inside such an OPTIONAL group is refused.

Over a remote store (``serve --endpoint``) only the WHERE group's block is written, as
:mod:`~peerchange.services.trace.batched` writes it: Virtuoso 7.2 plans the query its own
way, and its cost estimate ("The estimated execution time 613 (sec) exceeds the limit of
400 (sec)") refused forms of these queries that pyoxigraph answers in milliseconds.

The blocks are written from RDF terms (``str()`` of a pyoxigraph term, N-Triples), as in
:mod:`~peerchange.services.trace.batched`, never from a client's text; the query runs
through :meth:`SparqlService.prepare` / :meth:`SparqlService.execute` with a shipped query's
limits (no row or byte cap) and its file name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyoxigraph as ox

from peerchange.core.errors import QueryFileError
from peerchange.core.queryfiles import get_query
from peerchange.core.querytext import Token, tokens
from peerchange.services.sparql import SparqlService
from peerchange.services.trace import batched

Term = ox.NamedNode | ox.Literal | ox.BlankNode

#: The front-matter key that asks for the block inside OPTIONAL groups too.
KEY = "values_in_optional"


def wanted(name: str) -> bool | str:
    """What query file ``name`` asks for inside its OPTIONAL groups: ``False`` (nothing),
    ``True`` (the request's block) or the name of the query whose rows to write there."""
    value = get_query(name).meta.get(KEY, False)
    if not (isinstance(value, bool) or (isinstance(value, str) and value.startswith(
            "internal/"))):
        raise QueryFileError(f"queries/{name}.rq: {KEY} must be true, false or an internal "
                             "query")
    return value


def select_rows(sparql: SparqlService, name: str, rows: Sequence[Mapping[str, Term]]
                ) -> list[dict[str, Any]]:
    """The rows of the shipped SELECT query ``name`` for ``rows`` of bindings (each binding
    the variables of the first row; repeats dropped; one query), as ``{variable: term}``
    with unbound variables left out; blocks inside its OPTIONAL groups as it asks
    (:func:`wanted`), except over a remote store."""
    file = get_query(name)
    spec = wanted(name)
    inner: Sequence[Mapping[str, Term]] | None = None
    if sparql.graph.remote is None and spec is True:
        inner = rows
    elif sparql.graph.remote is None and spec:
        inner = batched.select_rows(sparql, str(spec), rows, batch=max(len(rows), 1))
        if not inner:
            return []
        if len(inner) > batched.BATCH:  # a block that large: the WHERE group's only, as
            inner = None                # before (slower, the same rows; and the text short)
    return batched.run_select(sparql, name, with_values(file.text, rows, inner=inner,
                                                        name=name))


def with_values(text: str, rows: Sequence[Mapping[str, Term]], *,
                inner: Sequence[Mapping[str, Term]] | None = None, name: str = "query") -> str:
    """``text`` with the block of ``rows`` opening its WHERE group and the block of
    ``inner`` (none when ``None``), cut down to the variables each names, opening every
    OPTIONAL group that names one of them.

    :raise QueryFileError: no WHERE group, no rows, or a sub-SELECT in such a group.
    """
    todo = _distinct(rows)
    if not todo:
        raise QueryFileError(f"queries/{name}.rq: no rows of bindings")
    toks = tokens(text)
    where = batched.where_brace(toks)
    if where is None:
        raise QueryFileError(f"queries/{name}.rq has no WHERE group")
    inserts = [(toks[where].pos + 1, batched.values_block([n for n, _ in todo[0]], todo))]
    values = _distinct(inner or ())
    names = [n for n, _ in values[0]] if values else []
    for at in range(where + 1, len(toks) - 1):
        if not (toks[at].kind == "word" and toks[at].text.upper() == "OPTIONAL"
                and _is(toks[at + 1], "{")):
            continue
        group = _group(toks, at + 1)
        named = [n for n in names if any(t.kind == "var" and t.text[1:] == n for t in group)]
        if not named:
            continue
        if any(t.kind == "word" and t.text.upper() == "SELECT" for t in group):
            raise QueryFileError(f"queries/{name}.rq: {KEY} with a sub-SELECT in an OPTIONAL")
        cut = list(dict.fromkeys(tuple((n, dict(row)[n]) for n in named) for row in values))
        inserts.append((toks[at + 1].pos + 1, batched.values_block(named, cut)))
    for pos, block in sorted(inserts, reverse=True):
        text = text[:pos] + block + text[pos:]
    return text


def _distinct(rows: Sequence[Mapping[str, Term]]) -> list[tuple[tuple[str, Term], ...]]:
    """The rows, repeats dropped, each as its (variable, term) pairs in the first's order."""
    if not rows:
        return []
    order = list(rows[0])
    return list(dict.fromkeys(tuple((n, row[n]) for n in order) for row in rows))


def _is(tok: Token, char: str) -> bool:
    return tok.kind == "other" and tok.text == char


def _group(toks: list[Token], open_at: int) -> list[Token]:
    """The tokens inside the group whose ``{`` is ``toks[open_at]``."""
    depth = 0
    for i in range(open_at, len(toks)):
        if _is(toks[i], "{"):
            depth += 1
        elif _is(toks[i], "}"):
            depth -= 1
            if depth == 0:
                return toks[open_at + 1:i]
    return toks[open_at + 1:]
