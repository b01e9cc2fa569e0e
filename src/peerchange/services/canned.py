"""Canned queries: the researchers' questions in ``queries/api/*.rq``, served by name.

Each query file documents itself in its ``#+`` front matter (``summary``, ``description``,
``tags``, ``params``, ``pagination``, ``scoped``, ``bind``). This service reads that
catalogue, checks a request's parameters against it and turns each value into an RDF term
(an IRI, an ``xsd:integer``, an ``xsd:string`` or another literal) that is bound to the
query's variable of the same name with pyoxigraph ``substitutions`` — the query text is not
edited, so a value cannot change what the query means. pyoxigraph plans a query before it
binds substitutions, so a query that would be planned as if its parameter were omitted
(``bind: values``), and the internal query that answers a ``scoped`` one
(``claims-by-status`` of one ``source``), get their given values instead in a ``VALUES``
block written from those RDF terms (:mod:`peerchange.services.trace.batched`): the engine
starts from them, and the cost grows with what is asked, not with the store. A file whose
front matter has ``values_in_optional`` gets such blocks inside its OPTIONAL groups too
(the given values, or those of another query: a source's mechanisms), whose hash joins
pyoxigraph would otherwise evaluate over the whole store
(:mod:`peerchange.services.canned_values`).
The query then runs exactly as a ``/sparql`` query does: the SPARQL service's checks, its
wall-clock limit (a forked process that is stopped at the deadline) and its row limit.
Pages are cut from the evaluated rows; the query text gets no ``LIMIT``/``OFFSET``. The
evaluated rows are kept per (data version, query, bindings, row limit), up to
:data:`ANSWER_CACHE_ROWS` rows in all, so the next page of a store-wide answer
(``claims-by-status?scope=store`` over 10^6 triples: about 10,000 rows, seconds to
evaluate) is cut from memory instead of evaluated again; another data version never sees
them. A ``scoped`` query's store-wide answer (``scope=store``: every claim of a status
at 10^7 triples, 85-90 s of CPU) is shared work instead: evaluated once per data version
under the limits of shared work (``SparqlService.for_shared_work``, not a client's 30 s),
shared by every thread (others asking meanwhile wait for it) and left out of the client's
budget (:func:`peerchange.services.memo.per_data_version` with ``shared=True``), and kept
in a file of the dumps folder (:mod:`peerchange.services.answer_files`) that the other
workers and a restart over the same data read; the first such request on a large store
waits for it, later ones are cut from memory.

The web API (``/api``) and any other face use this one service, so they agree.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from peerchange.core.errors import QueryFileError
from peerchange.core.queryfiles import get_query
from peerchange.core.querytext import tokens
from peerchange.services import canned_values
from peerchange.services.answer_files import kept_answer
from peerchange.services.canned_catalogue import (
    PARAM_TYPES,
    RESERVED,
    BadParameter,
    CannedQuery,
    Param,
    Scoped,
    Term,
    UnknownQuery,
    canned_query,
    catalogue,
    expand_iri,
    plain_value,
)
from peerchange.services.memo import per_data_version
from peerchange.services.paging import PageWindow
from peerchange.services.sparql import SparqlService
from peerchange.services.trace.batched import select_rows

#: The most rows (summed over answers) a service keeps evaluated; an answer with more is
#: not kept (a ``claims-by-status`` row holds about 1 KB: about 20 MB per worker at most).
ANSWER_CACHE_ROWS = 20_000
#: Store-wide answers kept per data version (each at most the row limit: about 10 MB)
STORE_WIDE_ANSWERS = 8

_Answer = tuple[list[str], list[tuple[Term | None, ...]], bool, float]

__all__ = [
    "PARAM_TYPES", "RESERVED", "BadParameter", "CannedQuery", "CannedQueryService", "Page",
    "Param", "Scoped", "UnknownQuery", "canned_query", "catalogue", "expand_iri", "plain_value",
]


@dataclass
class Page:
    """One page of a canned query's answer.

    :param params: the values the query ran with (defaults applied; IRIs in full).
    :param rows: this page's rows, one term (or ``None`` when unbound) per variable.
    :param total: rows in the whole answer (up to the row limit: see ``truncated``).
    :param per_page: the page size; ``None`` when the whole answer is one page.
    :param truncated: the answer reached the server's row limit and was cut there.
    """

    query: CannedQuery
    params: dict[str, str]
    variables: list[str]
    rows: list[tuple[Term | None, ...]]
    total: int
    page: int = 1
    per_page: int | None = None
    truncated: bool = False
    seconds: float = 0.0
    bindings: dict[str, Term] = field(default_factory=dict)

    @property
    def window(self) -> PageWindow:
        """Where this page stands (:mod:`peerchange.services.paging`): one page of every
        row without ``per_page``."""
        return PageWindow(self.page, self.total, self.per_page or max(1, self.total))

    @property
    def pages(self) -> int:
        return self.window.count

    @property
    def has_next(self) -> bool:
        return self.window.next is not None

    @property
    def has_prev(self) -> bool:
        return self.window.previous is not None


class CannedQueryService:
    """Lists, checks and runs the canned queries against one SPARQL service.

    :param sparql: the service whose checks, time limit and row limit apply.
    :param max_per_page: the largest page a request may ask for (default: the row limit).
    :param cache_dir: the folder store-wide answers are kept in across workers and
        restarts (the dumps' folder); ``None``: in memory only.
    """

    def __init__(self, sparql: SparqlService, *, max_per_page: int | None = None,
                 cache_dir: str | Path | None = None) -> None:
        self.sparql = sparql
        self.cache_dir = str(cache_dir) if cache_dir else None
        self.max_per_page = max_per_page or sparql.max_rows or 10_000
        self._answers: OrderedDict[tuple[object, ...], _Answer] = OrderedDict()
        self._kept_rows = 0
        self._lock = threading.Lock()

    def queries(self) -> list[CannedQuery]:
        """Every canned query, sorted by name."""
        return [q for _, q in sorted(catalogue().items())]

    def get(self, name: str) -> CannedQuery:
        """:raise UnknownQuery: when there is no query ``name``."""
        try:
            return catalogue()[name]
        except KeyError:
            raise UnknownQuery(name, sorted(catalogue())) from None

    def bind(self, query: CannedQuery, args: Mapping[str, Sequence[str]]
             ) -> tuple[dict[str, Term], dict[str, str]]:
        """Check the request's parameters; return the terms to bind and the values used.

        :param args: request parameters (name → values), without ``page``, ``per_page``
            and ``format``. An empty value counts as omitted (as an empty form field).
        :raise BadParameter: for an unknown, repeated, missing or ill-typed parameter.
        """
        documented = {p.name for p in query.params}
        unknown = sorted(set(args) - documented - set(RESERVED))
        if unknown:
            takes = ", ".join(sorted(documented)) or "no parameters"
            raise BadParameter(
                f"Query {query.name!r} has no parameter {', '.join(map(repr, unknown))}; it "
                f"takes {takes} (and page, per_page, format).",
                query=query,
            )
        bindings: dict[str, Term] = {}
        used: dict[str, str] = {}
        for param in query.params:
            values = [v for v in args.get(param.name, ()) if v.strip()]
            if len(values) > 1:
                raise BadParameter(
                    f"Parameter {param.name!r} was given {len(values)} times; give it once.",
                    query=query,
                )
            raw = values[0] if values else param.default
            if raw is None:
                if param.required:
                    hint = f" (for example {param.name}={param.example})" if param.example else ""
                    raise BadParameter(
                        f"Query {query.name!r} needs the parameter {param.name!r}: "
                        f"{param.description}{hint}",
                        query=query,
                    )
                continue
            try:
                bindings[param.name] = param.term(raw)
            except BadParameter as exc:
                raise BadParameter(exc.message, query=query) from None
            used[param.name] = bindings[param.name].value
        return bindings, used

    def page_size(self, query: CannedQuery, page: str | None, per_page: str | None
                  ) -> tuple[int, int | None]:
        """Check ``page`` and ``per_page``; return them (``per_page`` ``None``: one page).

        :raise BadParameter: for a value that is not a positive integer or too large.
        """
        number = self._positive("page", page) if page else 1
        if per_page:
            size: int | None = self._positive("per_page", per_page)
        else:  # the query's own page size, within what this server allows
            size = min(query.pagination, self.max_per_page) if query.pagination else None
        if size is not None and size > self.max_per_page:
            raise BadParameter(
                f"per_page={size} is more than this server allows ({self.max_per_page}).",
                query=query,
            )
        if size is None and number > 1:
            raise BadParameter(
                f"page={number} needs per_page: query {query.name!r} answers on one page "
                "unless per_page is given.",
                query=query,
            )
        return number, size

    @staticmethod
    def _positive(name: str, raw: str) -> int:
        text = raw.strip()
        if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
            raise BadParameter(f"{name} must be a positive integer; got {raw!r}.")
        return int(text)

    def run(self, name: str, args: Mapping[str, Sequence[str]], *,
            page: str | None = None, per_page: str | None = None) -> Page:
        """Run query ``name`` with the request's parameters and return the asked-for page.

        :raise UnknownQuery: for an unknown name.
        :raise BadParameter: for bad parameters, or a page past the last one.
        :raise PeerchangeError: a timeout (503) or evaluation failure from the SPARQL service.
        """
        query = self.get(name)
        bindings, used = self.bind(query, args)
        number, size = self.page_size(query, page, per_page)
        variables, rows, truncated, seconds = self.evaluate(
            query, self.scope(query, args, bindings, used))
        result = Page(query=query, params=used, variables=variables, rows=[], total=len(rows),
                      page=number, per_page=size, truncated=truncated, seconds=seconds,
                      bindings=bindings)
        if number > result.pages:
            raise BadParameter(
                f"page={number} is past the last page: the answer has {len(rows)} rows, "
                f"{result.pages} page{'s' if result.pages != 1 else ''} of {size}.",
                query=query,
            )
        start = (number - 1) * size if size else 0
        result.rows = rows[start:start + size] if size else rows
        return result

    @staticmethod
    def scope(query: CannedQuery, args: Mapping[str, Sequence[str]],
              bindings: dict[str, Term], used: dict[str, str]) -> dict[str, Term]:
        """The bindings the query is evaluated with, for a query with a ``scoped`` parameter.

        The parameter of ``unless`` is never bound in the query (it picks the answer);
        with its value (``scope=store``) the scoping parameter is dropped (``used`` too),
        and giving both is a 400. The scoping parameter's default is dropped too when one
        of ``unless_given`` is (``mechanism``: a resource of one source already). Other
        queries' bindings are returned as they are.

        :raise BadParameter: the scoping parameter given with the store-wide value.
        """
        scoped = query.scoped
        if scoped is None or scoped.unless is None:
            return bindings
        name, value = scoped.unless
        picked = bindings.get(name)
        out = {k: v for k, v in bindings.items() if k != name}
        given = any(v.strip() for v in args.get(scoped.param, ()))
        if picked is None or picked.value != value:
            if not given and any(g in out for g in scoped.unless_given):
                out.pop(scoped.param, None)
                used.pop(scoped.param, None)
                used.pop(name, None)
            return out
        if given:
            raise BadParameter(
                f"Give {scoped.param!r} or {name}={value}, not both: {name}={value} answers "
                f"for every {scoped.param} in the store.", query=query)
        out.pop(scoped.param, None)
        used.pop(scoped.param, None)
        return out

    def evaluate(self, query: CannedQuery, bindings: Mapping[str, Term]
                 ) -> tuple[list[str], list[tuple[Term | None, ...]], bool, float]:
        """Evaluate ``query`` with ``bindings`` under the SPARQL service's limits.

        A query whose ``scoped`` parameter is bound is answered by its internal query with
        every binding in a ``VALUES`` block (the engine starts from them); the row limit is
        applied to its ordered rows as the engine applies it to the query's own.

        :return: the variables, every row (up to the row limit), whether the row limit cut
            the answer, and the seconds its evaluation took. An answer evaluated before for
            the same data version, bindings and row limit is given again without a query.
        """
        scoped = query.scoped is not None and query.scoped.param in bindings
        key = (self.sparql.graph.version, query.file.name, scoped, self.sparql.max_rows,
               tuple(sorted((name, str(term)) for name, term in bindings.items())))
        with self._lock:
            kept = self._answers.get(key)
            if kept is not None:
                self._answers.move_to_end(key)
                return kept
        if scoped:
            assert query.scoped is not None
            evaluated = _evaluate_values(self.sparql, query.scoped.query,
                                         *self._scoped_rows(query.scoped, bindings),
                                         variables=projection(query.file.text,
                                                              query.file.name))
        elif store_wide(query, bindings):
            evaluated = _store_wide_answer(self.sparql, query.name,
                                           tuple(sorted(bindings.items(), key=lambda b: b[0])),
                                           self.sparql.max_rows, self.cache_dir)
        else:
            evaluated = _evaluate_unscoped(self.sparql, query, bindings)
        self._keep(key, evaluated)
        return evaluated

    def _scoped_rows(self, scoped: Scoped, bindings: Mapping[str, Term]
                     ) -> list[dict[str, Term]]:
        """The rows of bindings of a scoped query: the request's, and as many again with
        the scoping parameter set to each value of the ``also`` query (a companion paper)."""
        rows = [dict(bindings)]
        if scoped.also:
            found = select_rows(self.sparql, scoped.also,
                                [{scoped.param: bindings[scoped.param]}])
            rows += [{**bindings, scoped.param: row["also"]} for row in found if "also" in row]
        return rows

    def _keep(self, key: tuple[object, ...], answer: _Answer) -> None:
        rows = len(answer[1])
        if rows > ANSWER_CACHE_ROWS:
            return
        with self._lock:
            if key in self._answers:
                return
            stale = [k for k in self._answers if k[0] != key[0]]  # another data version's
            for k in stale:
                self._kept_rows -= len(self._answers.pop(k)[1])
            while self._answers and self._kept_rows + rows > ANSWER_CACHE_ROWS:
                self._kept_rows -= len(self._answers.popitem(last=False)[1][1])
            self._answers[key] = answer
            self._kept_rows += rows


def store_wide(query: CannedQuery, bindings: Mapping[str, Term]) -> bool:
    """Whether ``bindings`` ask a ``scoped`` query for its store-wide answer
    (``scope=store``, with none of the parameters that narrow it instead of the scope)."""
    scoped = query.scoped
    return (scoped is not None and scoped.unless is not None
            and scoped.param not in bindings
            and not any(name in bindings for name in scoped.unless_given))


@per_data_version(maxsize=STORE_WIDE_ANSWERS, shared=True)
def _store_wide_answer(sparql: SparqlService, name: str,
                       bindings: tuple[tuple[str, Term], ...], max_rows: int | None,
                       cache_dir: str | None = None) -> _Answer:
    """The store-wide answer of the scoped query ``name`` (see :func:`store_wide`), under
    the limits of shared work (``SparqlService.for_shared_work``): the same query and row
    limit (``max_rows``, ``sparql``'s: part of the key) as any answer, evaluated once per
    data version and shared by every thread (its time is left out of the client's
    budget: :func:`peerchange.services.memo.shared_seconds`), and kept in a file of
    ``cache_dir`` that other workers and restarts read
    (:func:`peerchange.services.answer_files.kept_answer`)."""
    query = catalogue()[name]
    longer = sparql.for_shared_work()
    return kept_answer(sparql, cache_dir, name, query.file.text, bindings, max_rows,
                       lambda: _evaluate_unscoped(longer, query, dict(bindings)))


def _evaluate_unscoped(sparql: SparqlService, query: CannedQuery,
                       bindings: Mapping[str, Term]) -> _Answer:
    """``query``'s own text with ``bindings`` (in a ``VALUES`` block for a ``bind: values``
    query), cut at the row limit."""
    if query.bind_values and bindings:
        return _evaluate_values(sparql, query.file.name, dict(bindings))
    prepared = sparql.prepare_file(query.file, bindings, max_rows=sparql.max_rows)
    if prepared.form != "SELECT":
        raise QueryFileError(f"queries/{query.file.name}.rq is not a SELECT query")
    answer = sparql.execute(prepared)
    return (answer.variables, list(answer.rows), answer.truncated, answer.seconds)


def _evaluate_values(sparql: SparqlService, name: str, *rows: Mapping[str, Term],
                     variables: list[str] | None = None) -> _Answer:
    """Query file ``name`` with each of ``rows`` of bindings in one ``VALUES`` block
    opening its WHERE group (:func:`~peerchange.services.trace.batched.select_rows`:
    one query, so its ORDER BY orders them all), cut at the row limit as the engine
    cuts an answer.

    :param variables: the answer's columns (default: those ``name`` projects).
    """
    variables = variables or projection(get_query(name).text, name)
    started = time.perf_counter()
    if canned_values.wanted(name):  # the block opens its OPTIONAL groups too
        found = canned_values.select_rows(sparql, name, rows)
    else:
        found = select_rows(sparql, name, rows, batch=max(len(rows), 1))
    out = [tuple(row.get(v) for v in variables) for row in found]
    limit = sparql.max_rows
    truncated = bool(limit) and len(out) > limit
    return (variables, out[:limit] if truncated else out, truncated,
            time.perf_counter() - started)


def projection(text: str, name: str) -> list[str]:
    """The variables a query file's ``SELECT`` projects, in order: ``?v`` and ``(... AS ?v)``.

    :raise QueryFileError: a projection of ``*`` or of nothing (a packaging bug).
    """
    toks = tokens(text)
    at = next((i for i, t in enumerate(toks)
               if t.kind == "word" and t.text.upper() == "SELECT"), len(toks))
    names: list[str] = []
    depth, after_as = 0, False
    for tok in toks[at + 1:]:
        if tok.kind == "other" and tok.text == "(":
            depth += 1
        elif tok.kind == "other" and tok.text == ")":
            depth -= 1
        elif depth == 0 and (tok.text == "{" or tok.text.upper() == "WHERE"):
            break
        elif depth == 0 and tok.text == "*":
            names = []
            break
        elif tok.kind == "var" and (depth == 0 or after_as):
            names.append(tok.text[1:])
        after_as = tok.kind == "word" and tok.text.upper() == "AS"
    if not names:
        raise QueryFileError(f"queries/{name}.rq must project named variables")
    return names
