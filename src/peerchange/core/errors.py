"""One error hierarchy for the whole package.

Every error a user can cause is a :class:`PeerchangeError` with a message a person can
act on, an HTTP status for the web app and an exit code for the command line. Library
errors (pyoxigraph, rdflib, pySHACL, owlready2) are translated into these at the
boundary where they are raised, never caught wholesale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Suggestion:
    """A near match offered with a "not found" error: an identifier, a label and, for the
    web, where it is served (filled in by the web face when it renders the error)."""

    id: str
    label: str
    href: str | None = None


class PeerchangeError(Exception):
    """Base class. ``http_status`` and ``exit_code`` tell each face how to answer.

    :param message: what went wrong and what to do, for a person.
    :param detail: more lines for the person (shown after the message).
    :param suggestions: near matches, shown by every face (HTML list, JSON array, text lines).
    :param extra: more members for the JSON form of the error (``{"queries": [...]}``).
    :param headers: HTTP headers the web answer carries (``Allow`` for a 405).
    """

    http_status = 500
    exit_code = 2
    title = "Error"

    def __init__(self, message: str, *, detail: str | None = None,
                 suggestions: list[Suggestion] | None = None,
                 extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.suggestions = list(suggestions or [])
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def __str__(self) -> str:
        return self.message if not self.detail else f"{self.message}\n{self.detail}"


class SourceError(PeerchangeError):
    """An RDF source cannot be read: missing file, unknown format, or bad syntax.

    ``path``, ``line`` and ``column`` locate the problem where they are known.
    """

    http_status = 400
    exit_code = 2
    title = "Cannot load data"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        where = path or "<input>"
        if line is not None:
            where += f", line {line}" + (f", column {column}" if column is not None else "")
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.column = column
        self.reason = message


class QueryFileError(PeerchangeError):
    """A ``.rq`` file shipped with the package is missing or malformed (a packaging bug)."""

    http_status = 500
    exit_code = 2
    title = "Query file error"


class QuerySyntaxError(PeerchangeError):
    """A SPARQL query does not parse."""

    http_status = 400
    exit_code = 2
    title = "SPARQL syntax error"


class QueryRefused(PeerchangeError):
    """A well-formed request the service will not run (update, SERVICE, limits)."""

    http_status = 400
    exit_code = 2
    title = "Query refused"


class ValidationUnavailable(PeerchangeError):
    """A validation phase could not run at all (for example Java is missing for HermiT)."""

    http_status = 500
    exit_code = 2
    title = "Validation could not run"


# -- requests ---------------------------------------------------------------------------


class BadRequest(PeerchangeError):
    """A request the server cannot read (bad encoding, a parameter twice, a bad IRI)."""

    http_status = 400
    title = "Bad request"


class NotFound(PeerchangeError):
    """Nothing of that name: an unknown IRI, mechanism, work, canned query or file.

    ``kind`` says what was looked for (``"resource"``, ``"mechanism"``, ``"work"`` ...), so
    a face can say where to look instead.
    """

    http_status = 404
    title = "Not found"

    def __init__(self, message: str, *, kind: str = "resource", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.kind = kind


class NotAcceptable(PeerchangeError):
    """Nothing the client accepts is offered (406)."""

    http_status = 406
    title = "Not acceptable"


class UnsupportedMediaType(PeerchangeError):
    """A request body in a media type or charset the server does not read (415)."""

    http_status = 415
    title = "Unsupported media type"


# -- queries ----------------------------------------------------------------------------


class QueryTooLarge(PeerchangeError):
    """The query text is longer than the configured maximum."""

    http_status = 413
    title = "Query too large"


class UpdateRefused(PeerchangeError):
    """An update sent to the read-only service."""

    http_status = 403
    title = "Read-only endpoint"


class QueryTimeout(PeerchangeError):
    """The query ran past the wall-clock limit and was stopped."""

    http_status = 503
    title = "Query timed out"


class QueryOutOfMemory(PeerchangeError):
    """The query grew its query process past the memory limit and was stopped."""

    http_status = 503
    title = "Query used too much memory"


# -- a remote SPARQL store (serve --endpoint) ------------------------------------------------


class StoreUnavailable(PeerchangeError):
    """The remote SPARQL store cannot be reached (refused, not answering, 503): try again
    in a few seconds (``Retry-After: 5``)."""

    http_status = 503
    exit_code = 2
    title = "Store unavailable"

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message, detail=detail, headers={"Retry-After": "5"})


class StoreError(PeerchangeError):
    """The remote SPARQL store answered with an error that is not the query's fault, or
    cut its answer (a bad gateway: 502)."""

    http_status = 502
    exit_code = 2
    title = "Store error"
    log_detail: str | None = None


class StoreFailed(StoreError):
    """The remote store failed while evaluating (its HTTP 500): the client sees a generic
    message, as for :class:`QueryFailed`; the store's words go to the server's log only."""

    def __init__(self, store: str, status: int, words: str) -> None:
        super().__init__(f"The SPARQL store failed while the query was evaluated (it answered "
                         f"{status}); the error has been logged on the server.")
        self.log_detail = f"the store at {store} answered {status}: {words}"


class NotPublished(PeerchangeError):
    """The remote store holds no publication record (``peerchange publish`` first)."""

    http_status = 503
    exit_code = 2
    title = "Nothing published"


# -- serving: limits that keep one client from taking the endpoint down --------------------


class TooManyRequests(PeerchangeError):
    """One client is over its share (concurrent requests or seconds of work); the
    ``Retry-After`` header says when to try again."""

    http_status = 429
    title = "Too many requests"


class ServerBusy(PeerchangeError):
    """The server's queue is full; the ``Retry-After`` header says when to try again."""

    http_status = 503
    title = "Server busy"


class URITooLong(PeerchangeError):
    """The request line is longer than the server accepts (send the query with POST)."""

    http_status = 414
    title = "URI too long"


class HeadersTooLarge(PeerchangeError):
    """The request's header lines are larger than the server accepts."""

    http_status = 431
    title = "Request header fields too large"


class QueryFailed(PeerchangeError):
    """The engine failed while evaluating (not the query's fault).

    The message a client sees is generic; what the engine said is in ``detail`` and goes
    to the server's log only (:func:`public_message`).
    """

    http_status = 500
    title = "Query evaluation failed"

    def __init__(self, message: str = "The query could not be evaluated; the error has been "
                 "logged on the server.", *, log_detail: str | None = None) -> None:
        super().__init__(message)
        self.log_detail = log_detail


@dataclass
class ErrorView:
    """What any face shows of an error: built once by :func:`error_view`."""

    status: int
    title: str
    message: str
    exit_code: int
    detail: str | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"ok": false, "status", "error", "message", ...}``."""
        doc: dict[str, Any] = {"ok": False, "status": self.status, "error": self.title,
                               "message": self.message}
        if self.detail:
            doc["detail"] = self.detail
        if self.suggestions:
            doc["suggestions"] = [
                {"id": s.id, "label": s.label, **({"href": s.href} if s.href else {})}
                for s in self.suggestions
            ]
        doc.update(self.extra)
        return doc

    def as_text(self) -> str:
        """The plain-text form: ``404 Not found: message`` and one line per suggestion."""
        lines = [f"{self.status} {self.title}: {self.message}"]
        if self.detail:
            lines.append(self.detail)
        if self.suggestions:
            lines.append("Did you mean:")
            lines += [f"  {s.href or s.id}  ({s.label})" for s in self.suggestions]
        return "\n".join(lines) + "\n"


def error_view(exc: PeerchangeError) -> ErrorView:
    """Return what every face shows of ``exc`` (the web renders it as HTML, JSON or text,
    the CLI prints the message and exits with the code)."""
    return ErrorView(status=exc.http_status, title=exc.title, message=exc.message,
                     exit_code=exc.exit_code, detail=exc.detail, suggestions=list(exc.suggestions),
                     extra=dict(exc.extra), headers=dict(exc.headers))
