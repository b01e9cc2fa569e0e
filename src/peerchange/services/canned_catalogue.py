"""The catalogue of canned queries: ``queries/api/*.rq`` read as documented questions.

Each query file documents itself in its ``#+`` front matter (``summary``, ``description``,
``tags``, ``params``, ``pagination``, ``scoped``, ``bind``). :func:`catalogue` reads it into
:class:`CannedQuery` objects whose :class:`Param` s turn a request's raw value into an RDF
term (an IRI, an ``xsd:integer``, an ``xsd:string`` or another literal); :func:`plain_value`
turns an answer's term back into a plain JSON value. :mod:`peerchange.services.canned` runs
them.

``scoped`` names a parameter that scopes the query to one resource (``claims-by-status``'s
``source``) and the internal query (``queries/internal/api/``) that answers it so: same
variables, rows and order, but written to start from that resource, whose value is bound in
a ``VALUES`` block (pyoxigraph plans a query before its ``substitutions`` are bound, so a
substituted value cannot steer the plan). ``also`` names an internal query whose ``?also``
values (with the parameter bound) are further values the answer starts from, in the same
block (a paper's companion papers). ``unless`` gives the value of another parameter that
asks for the store-wide answer instead (``scope=store``). ``unless_given`` lists parameters
that name a resource of one source already (a ``mechanism``): when one is given and the
scoping parameter is not, its default does not apply and the query answers as unscoped::

    #+ scoped:
    #+   param: source
    #+   query: internal/api/claims-by-status-of-source
    #+   also: internal/api/companions-of
    #+   unless: {scope: store}

``bind: values`` asks for the given parameters to be bound in such a ``VALUES`` block of the
query itself rather than as ``substitutions``, for a query that is otherwise planned as if
the parameter were not given (``mechanism-works?mechanism=...``: every claim of the store).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyoxigraph as ox

from peerchange.core.errors import NotFound, PeerchangeError, QueryFileError, Suggestion
from peerchange.core.namespaces import PREFIXES, XSD, is_absolute_iri
from peerchange.core.queryfiles import QueryFile, queries_of_kind

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
class Scoped:
    """How a query is answered when it is scoped to one resource (front matter ``scoped``).

    :param param: the parameter whose value scopes the query.
    :param query: the internal query (same variables and order) that starts from it.
    :param unless: ``(parameter, value)`` asking for the store-wide answer instead.
    :param also: an internal query giving (as ``?also``) further values of ``param``.
    :param unless_given: parameters that, given without ``param``, leave the query unscoped.
    """

    param: str
    query: str
    unless: tuple[str, str] | None = None
    also: str | None = None
    unless_given: tuple[str, ...] = ()


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
    scoped: Scoped | None = None
    bind_values: bool = False

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
        scoped=_scoped(file.name, meta.get("scoped"), params),
        bind_values=_bind(file.name, meta.get("bind")),
    )


def _bind(qname: str, value: Any) -> bool:
    if value not in (None, "values", "substitutions"):
        raise QueryFileError(f"queries/{qname}.rq: bind must be values or substitutions")
    return value == "values"


def _scoped(qname: str, spec: Any, params: dict[str, Any]) -> Scoped | None:
    if spec is None:
        return None
    where = f"queries/{qname}.rq, scoped"
    keys = {"param", "query", "unless", "also", "unless_given"}
    if not isinstance(spec, dict) or set(spec) - keys:
        raise QueryFileError(f"{where}: a mapping of param, query, also, unless and "
                             "unless_given")
    param, query, unless = spec.get("param"), spec.get("query"), spec.get("unless")
    also, given = spec.get("also"), spec.get("unless_given") or []
    if (param not in params or not _internal(query)
            or (also is not None and not _internal(also))):
        raise QueryFileError(f"{where}: param must be a parameter of the query, query and "
                             "also internal queries")
    if not isinstance(given, list) or any(g not in params or g == param for g in given):
        raise QueryFileError(f"{where}: unless_given must list other parameters of the query")
    if unless is None:
        return Scoped(param, query, also=also, unless_given=tuple(given))
    if not isinstance(unless, dict) or len(unless) != 1 or next(iter(unless)) not in params:
        raise QueryFileError(f"{where}: unless must be one parameter and its value")
    name, value = next(iter(unless.items()))
    return Scoped(param, query, (str(name), str(value)), also, tuple(given))


def _internal(name: Any) -> bool:
    return isinstance(name, str) and name.startswith("internal/")


@cache
def catalogue() -> dict[str, CannedQuery]:
    """Every shipped ``queries/api/*.rq`` as a :class:`CannedQuery`, by name."""
    return {q.short_name: canned_query(q) for q in queries_of_kind("api")}


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

