"""Canned queries: the researchers' questions in ``queries/api/*.rq``, served by name.

Each query file documents itself in its ``#+`` front matter (``summary``, ``description``,
``tags``, ``params``, ``pagination``). This service reads that catalogue, checks a request's
parameters against it and turns each value into an RDF term (an IRI, an ``xsd:integer``, an
``xsd:string`` or another literal) that is bound to the query's variable of the same name
with pyoxigraph ``substitutions`` — the query text is never edited, so a value cannot change
what the query means. The query then runs exactly as a ``/sparql`` query does: the SPARQL
service's checks, its wall-clock limit (a forked process that is stopped at the deadline)
and its row limit. Pages are cut from the evaluated rows; the query text gets no
``LIMIT``/``OFFSET``.

The web API (``/api``) and any other face use this one service, so they agree.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pyoxigraph as ox

from peerchange.core.errors import NotFound, PeerchangeError, QueryFileError, Suggestion
from peerchange.core.namespaces import PREFIXES, is_absolute_iri
from peerchange.core.queryfiles import QueryFile, queries_of_kind
from peerchange.services.sparql import SparqlService

XSD = "http://www.w3.org/2001/XMLSchema#"
PARAM_TYPES = ("iri", "integer", "string", "literal")
# request parameters the API itself uses; a query may not declare a parameter of these names
RESERVED = ("page", "per_page", "format")
REQUIRED_KEYS = ("summary", "description", "tags")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Term = ox.NamedNode | ox.Literal | ox.BlankNode


class UnknownQuery(NotFound):
    """No canned query has this name (404); ``names`` lists those there are."""

    def __init__(self, name: str, names: Sequence[str]) -> None:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        super().__init__(
            f"There is no canned query called {name!r}. The queries are: {', '.join(names)}.",
            kind="query",
            suggestions=[Suggestion(n, n) for n in close],
            extra={"queries": list(names)},
        )
        self.name = name
        self.names = list(names)


class BadParameter(PeerchangeError):
    """A parameter is missing, unknown, repeated or not of its documented type (400)."""

    http_status = 400
    exit_code = 2
    title = "Bad parameter"

    def __init__(self, message: str, *, query: CannedQuery | None = None) -> None:
        extra = {} if query is None else {
            "query": query.name, "params": [p.describe() for p in query.params]}
        super().__init__(message, extra=extra)
        self.query = query


@dataclass(frozen=True)
class Param:
    """One documented parameter of a canned query.

    :param type: ``iri`` (an absolute IRI, or a prefixed name with a published prefix),
        ``integer`` (an ``xsd:integer``), ``string`` (an ``xsd:string``) or ``literal``
        (a literal with the front matter's ``lang`` or ``datatype``, else ``xsd:string``).
    :param default: the value used when the request omits the parameter.
    :param enum: the only values allowed, where the front matter lists them.
    :param example: a value that gives a useful answer (the tests run every example).
    """

    name: str
    type: str
    description: str
    required: bool = False
    default: str | None = None
    enum: tuple[str, ...] = ()
    example: str | None = None
    lang: str | None = None
    datatype: str | None = None

    def term(self, raw: str) -> Term:
        """Return ``raw`` as the RDF term bound to the query variable.

        :raise BadParameter: when the value is not of this parameter's type or not allowed.
        """
        if self.type == "iri":
            value = expand_iri(raw)
            if not is_absolute_iri(value):
                raise BadParameter(
                    f"Parameter {self.name!r} must be an absolute IRI (such as "
                    f"https://w3id.org/peerchange/id/...) or a prefixed name with a published "
                    f"prefix (such as pcd:mechanism/role-modelling); got {raw!r}."
                )
            try:
                term: Term = ox.NamedNode(value)
            except ValueError:
                raise BadParameter(
                    f"Parameter {self.name!r} is not a valid IRI: {raw!r}."
                ) from None
            self._check_enum(value, raw)
            return term
        if self.type == "integer":
            text = raw.strip()
            if not _INTEGER.fullmatch(text):
                raise BadParameter(f"Parameter {self.name!r} must be an integer; got {raw!r}.")
            self._check_enum(str(int(text)), raw)
            return ox.Literal(str(int(text)), datatype=ox.NamedNode(XSD + "integer"))
        self._check_enum(raw, raw)
        if self.type == "literal" and self.lang:
            return ox.Literal(raw, language=self.lang)
        if self.type == "literal" and self.datatype:
            return ox.Literal(raw, datatype=ox.NamedNode(expand_iri(self.datatype)))
        return ox.Literal(raw)

    def _check_enum(self, value: str, raw: str) -> None:
        allowed = [expand_iri(v) if self.type == "iri" else v for v in self.enum]
        if allowed and value not in allowed:
            raise BadParameter(
                f"Parameter {self.name!r} must be one of: {', '.join(self.enum)}; got {raw!r}."
            )

    def describe(self) -> dict[str, Any]:
        """The parameter as documented (for the index and the OpenAPI document)."""
        out: dict[str, Any] = {"name": self.name, "type": self.type,
                               "description": self.description, "required": self.required}
        if self.default is not None:
            out["default"] = self.default
        if self.enum:
            out["enum"] = list(self.enum)
        if self.example is not None:
            out["example"] = self.example
        if self.lang:
            out["lang"] = self.lang
        if self.datatype:
            out["datatype"] = self.datatype
        return out


@dataclass(frozen=True)
class CannedQuery:
    """A served query: its file, its documentation and its parameters.

    :param pagination: the default page size, for queries whose answer may be long;
        ``None`` answers every row on one page unless the request asks for pages.
    """

    name: str
    file: QueryFile
    summary: str
    description: str
    tags: tuple[str, ...]
    params: tuple[Param, ...] = ()
    pagination: int | None = None

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def example_values(self) -> dict[str, str]:
        """Every parameter's example (or default): a request that gives a useful answer."""
        out = {}
        for p in self.params:
            value = p.example if p.example is not None else p.default
            if value is not None:
                out[p.name] = value
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "description": self.description,
            "tags": list(self.tags),
            "pagination": self.pagination,
            "params": [p.describe() for p in self.params],
        }


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
    def pages(self) -> int:
        if not self.per_page:
            return 1
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def expand_iri(value: str) -> str:
    """Expand a prefixed name with a published prefix (``pcd:mechanism/x``); else unchanged."""
    prefix, sep, local = value.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return value


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _param(qname: str, name: Any, spec: Any) -> Param:
    where = f"queries/{qname}.rq, parameter {name!r}"
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in RESERVED:
        raise QueryFileError(f"{where}: a parameter needs a SPARQL variable name other "
                             f"than {', '.join(RESERVED)}")
    if not isinstance(spec, dict):
        raise QueryFileError(f"{where}: describe it with a mapping (type, description, ...)")
    unknown = set(spec) - {"type", "description", "required", "default", "enum", "example",
                           "lang", "datatype"}
    if unknown:
        raise QueryFileError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    ptype = spec.get("type")
    if ptype not in PARAM_TYPES:
        raise QueryFileError(f"{where}: type must be one of {', '.join(PARAM_TYPES)}")
    description = spec.get("description")
    if not isinstance(description, str) or not description.strip():
        raise QueryFileError(f"{where}: a description is required")
    enum = spec.get("enum") or ()
    if not isinstance(enum, list | tuple):
        raise QueryFileError(f"{where}: enum must be a list")
    param = Param(
        name=name,
        type=ptype,
        description=" ".join(description.split()),
        required=bool(spec.get("required", False)),
        default=_str(spec.get("default")),
        enum=tuple(str(v) for v in enum),
        example=_str(spec.get("example")),
        lang=_str(spec.get("lang")),
        datatype=_str(spec.get("datatype")),
    )
    for value in (param.default, param.example):
        if value is not None:
            try:
                param.term(value)
            except BadParameter as exc:
                raise QueryFileError(f"{where}: default or example: {exc}") from None
    return param


def canned_query(file: QueryFile) -> CannedQuery:
    """Read a query file's front matter into a :class:`CannedQuery`.

    :raise QueryFileError: when the front matter lacks a key or documents a parameter badly
        (a packaging bug: the tests check every shipped file).
    """
    meta = file.meta
    missing = [k for k in REQUIRED_KEYS if not meta.get(k)]
    if missing:
        raise QueryFileError(f"queries/{file.name}.rq: front matter lacks {', '.join(missing)}")
    tags = meta["tags"]
    if isinstance(tags, str):
        tags = [tags]
    pagination = meta.get("pagination")
    if pagination is not None and (not isinstance(pagination, int) or pagination < 1):
        raise QueryFileError(f"queries/{file.name}.rq: pagination must be a positive integer")
    params = meta.get("params") or {}
    if not isinstance(params, dict):
        raise QueryFileError(f"queries/{file.name}.rq: params must be a mapping")
    return CannedQuery(
        name=file.short_name,
        file=file,
        summary=" ".join(str(meta["summary"]).split()),
        description=" ".join(str(meta["description"]).split()),
        tags=tuple(str(t) for t in tags),
        params=tuple(_param(file.name, n, s) for n, s in params.items()),
        pagination=pagination,
    )


@cache
def catalogue() -> dict[str, CannedQuery]:
    """Every shipped ``queries/api/*.rq`` as a :class:`CannedQuery`, by name."""
    return {q.short_name: canned_query(q) for q in queries_of_kind("api")}


class CannedQueryService:
    """Lists, checks and runs the canned queries against one SPARQL service.

    :param sparql: the service whose checks, time limit and row limit apply.
    :param max_per_page: the largest page a request may ask for (default: the row limit).
    """

    def __init__(self, sparql: SparqlService, *, max_per_page: int | None = None) -> None:
        self.sparql = sparql
        self.max_per_page = max_per_page or sparql.max_rows or 10_000

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
        variables, rows, truncated, seconds = self.evaluate(query, bindings)
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

    def evaluate(self, query: CannedQuery, bindings: Mapping[str, Term]
                 ) -> tuple[list[str], list[tuple[Term | None, ...]], bool, float]:
        """Evaluate ``query`` with ``bindings`` under the SPARQL service's limits.

        :return: the variables, every row (up to the row limit), whether the row limit cut
            the answer, and the seconds taken.
        """
        prepared = self.sparql.prepare_file(query.file, bindings, max_rows=self.sparql.max_rows)
        if prepared.form != "SELECT":
            raise QueryFileError(f"queries/{query.file.name}.rq is not a SELECT query")
        answer = self.sparql.execute(prepared)
        return answer.variables, answer.rows, answer.truncated, answer.seconds


NUMBER_TYPES = {
    XSD + t for t in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "negativeInteger", "nonPositiveInteger", "unsignedLong", "unsignedInt",
        "unsignedShort", "unsignedByte",
    )
}
DECIMAL_TYPES = {XSD + "decimal", XSD + "double", XSD + "float"}


def plain_value(term: Term | None) -> str | int | float | bool | None:
    """A term as a plain JSON value: IRIs and literals as their string, numbers as numbers,
    booleans as booleans, blank nodes as ``_:id``, unbound as ``None``."""
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        try:
            if datatype in NUMBER_TYPES:
                return int(term.value)
            if datatype in DECIMAL_TYPES:
                value = float(term.value)
                return value if math.isfinite(value) else term.value
        except ValueError:
            return term.value
        if datatype == XSD + "boolean":
            return term.value in ("true", "1")
    return term.value
