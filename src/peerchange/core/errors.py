"""One error hierarchy for the whole package.

Every error a user can cause is a :class:`PeerchangeError` with a message a person can
act on, an HTTP status for the web app and an exit code for the command line. Library
errors (pyoxigraph, rdflib, pySHACL, owlready2) are translated into these at the
boundary where they are raised, never caught wholesale.
"""

from __future__ import annotations


class PeerchangeError(Exception):
    """Base class. ``http_status`` and ``exit_code`` tell each face how to answer."""

    http_status = 500
    exit_code = 2
    title = "Error"

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

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
