"""Run one query on a remote SPARQL 1.1 endpoint (through SPARQLWrapper).

:func:`query_remote` sends the query by POST, asks for one format and returns the
endpoint's answer as bytes; every failure (unreachable host, HTTP error, the endpoint
refusing the query) becomes a :class:`RemoteEndpointError` carrying the endpoint's own
message.
"""

from __future__ import annotations

from peerchange.core.errors import PeerchangeError
from peerchange.core.formats import Format


class RemoteEndpointError(PeerchangeError):
    """The remote SPARQL endpoint could not be reached or answered with an error."""

    http_status = 502
    exit_code = 2
    title = "Remote endpoint error"


def query_remote(text: str, endpoint: str, fmt: Format) -> bytes:
    """Send ``text`` to ``endpoint`` asking for ``fmt`` and return the answer's body.

    :raise RemoteEndpointError: the endpoint cannot be reached or answers with an error.
    """
    from urllib.error import HTTPError, URLError

    from SPARQLWrapper import POST, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    client = SPARQLWrapper(endpoint)
    client.setMethod(POST)
    client.setQuery(text)
    client.setOnlyConneg(True)
    client.addCustomHttpHeader("Accept", fmt.media_type)
    try:
        response = client.query().response
        return response.read()
    except SPARQLWrapperException as exc:
        raise RemoteEndpointError(_refusal(endpoint, exc)) from None
    except HTTPError as exc:  # statuses SPARQLWrapper does not translate (403, 406, 503 ...)
        body = exc.read().decode("utf-8", "replace").strip()
        raise RemoteEndpointError(
            f"{endpoint} answered {exc.code} {exc.reason}" + (f": {body}" if body else "")
        ) from None
    except URLError as exc:
        raise RemoteEndpointError(f"cannot reach {endpoint}: {exc.reason}") from None
    except OSError as exc:
        raise RemoteEndpointError(f"cannot reach {endpoint}: {exc}") from None


def _refusal(endpoint: str, exc: Exception) -> str:
    """The endpoint's own message from a SPARQLWrapper exception (which keeps it as a repr)."""
    import ast

    code = getattr(exc.__context__, "code", None)  # the urllib HTTPError it replaced
    text = str(exc)
    _, sep, raw = text.partition("Response:\n")
    if sep:
        try:
            text = ast.literal_eval(raw).decode("utf-8", "replace").strip()
        except (ValueError, SyntaxError, AttributeError):
            text = raw.strip()
    return f"{endpoint} refused the query" + (f" (HTTP {code})" if code else "") + f": {text}"
