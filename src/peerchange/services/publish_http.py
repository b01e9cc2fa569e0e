"""The HTTP side of ``peerchange publish``: a SPARQL 1.1 store written through the standard
protocols only (SPARQL 1.1 Protocol queries and updates, Graph Store Protocol ``PUT``).

:class:`StoreWriter` sends the shipped ``.rq``/``.ru`` templates of
:mod:`peerchange.services.publish_queries` through the remote store's
:class:`~peerchange.core.remote_store.StoreSession` (``serve --endpoint`` uses the same): a
store that asks for a login gets the scheme its challenge names (Digest, as Virtuoso does,
or Basic), the password read from the ``--password-env`` variable. Every failure becomes
one of the remote store's errors (:mod:`peerchange.core.errors`), each with the URL it
concerns:

| what happened | error | exit code |
|---|---|---|
| cannot connect, no answer in time, the answer broke off | ``StoreUnavailable`` | 2 |
| 401 or 403 (a login missing or refused) | ``StoreError`` | 2 |
| any other error status, an answer we cannot read | :class:`StoreRefused` | 1 |

:class:`StoreRefused` (a ``StoreError`` whose exit code says the data was not published)
keeps the status, so a caller can tell a request the store found too large (400, 413:
Virtuoso refuses an update whose SQL translation passes 10,000 lines, about 1,400 triples)
from a store that fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

from peerchange.core.errors import StoreError, StoreUnavailable
from peerchange.core.remote_store import SELECT_MEDIA, StoreSession, reason_of
from peerchange.services.publish_queries import render_query, render_update

CONNECT_SECONDS = 5.0
NTRIPLES_MEDIA = "application/n-triples"
USER_AGENT = "peerchange publish (SPARQL 1.1 protocol client)"
MAX_BODY_SHOWN = 400


class StoreRefused(StoreError):
    """The store answered a request with an error, or with something we cannot read
    (exit code 1: the data was not published)."""

    exit_code = 1

    def __init__(self, message: str, *, detail: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, detail=detail)
        self.status = status


@dataclass
class StoreWriter:
    """The endpoints of one store.

    :param query_url: the SPARQL query endpoint.
    :param update_url: the SPARQL Update endpoint (the query endpoint when not given).
    :param graph_store_url: the Graph Store Protocol endpoint, or ``None`` to load by
        SPARQL Update data insertion batches.
    :param user: the user name, when the store asks for a login.
    :param password_env: the environment variable holding the password.
    :param timeout: seconds to wait for one answer.
    """

    query_url: str
    update_url: str | None = None
    graph_store_url: str | None = None
    user: str = ""
    password_env: str = ""
    timeout: float = 300.0
    _http: StoreSession = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.update_url = self.update_url or self.query_url
        self._http = StoreSession(self.user, self.password_env, user_agent=USER_AGENT)

    @property
    def requests_sent(self) -> int:
        """The requests sent so far (a login's second try included)."""
        return self._http.sent

    # -- the three operations -----------------------------------------------------------

    def select(self, name: str, iris: dict[str, str]) -> list[dict[str, str]]:
        """Run the shipped SELECT ``name`` and return its rows as ``{variable: value}``."""
        response = self._send("POST", self.query_url, data={"query": render_query(name, iris)},
                              headers={"Accept": SELECT_MEDIA})
        try:
            bindings = json.loads(response.content)["results"]["bindings"]
            return [{k: str(v["value"]) for k, v in row.items()} for row in bindings]
        except (ValueError, KeyError, TypeError):
            raise StoreRefused(f"The answer of {self.query_url} is not SPARQL JSON results.",
                               detail=_shown(response.text)) from None

    def update(self, name: str, iris: dict[str, str], data: str | None = None) -> None:
        """Run the shipped update ``name`` (with ``data`` in its ``#@data`` line)."""
        assert self.update_url is not None
        self._send("POST", self.update_url, data={"update": render_update(name, iris, data)})

    def put_graph(self, graph: str, ntriples: bytes) -> None:
        """Replace ``graph`` with the N-Triples ``ntriples`` (Graph Store Protocol PUT)."""
        assert self.graph_store_url is not None
        self._send("PUT", self.graph_store_url, params={"graph": graph}, data=ntriples,
                   headers={"Content-Type": NTRIPLES_MEDIA})

    # -- sending ------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send one request (again with the login if the store challenges the first time)."""
        try:
            response = self._http.send(method, url, timeout=(CONNECT_SECONDS, self.timeout),
                                       **kwargs)
        except requests.exceptions.ConnectTimeout:
            raise StoreUnavailable(f"Cannot reach the store at {url}: no connection within "
                                   f"{CONNECT_SECONDS:g} s.") from None
        except requests.exceptions.ReadTimeout:
            raise StoreUnavailable(f"The store at {url} did not answer within "
                                   f"{self.timeout:g} s (--timeout).") from None
        except requests.exceptions.ConnectionError as exc:
            raise StoreUnavailable(f"Cannot reach the store at {url}: {reason_of(exc)}."
                                   ) from None
        except requests.exceptions.RequestException as exc:
            raise StoreUnavailable(f"Cannot send to the store at {url}: {reason_of(exc)}."
                                   ) from None
        if response.status_code in (401, 403):
            raise self._refused_login(url, response.status_code)
        if not 200 <= response.status_code < 300:
            raise StoreRefused(f"{url} answered {response.status_code} {response.reason}.",
                               detail=_shown(response.text), status=response.status_code)
        return response

    def _refused_login(self, url: str, status: int) -> StoreError:
        if not self.user:
            return StoreError(f"{url} answered {status}: it needs a login. Give --user NAME "
                              "and --password-env VAR (the variable holding the password).")
        return StoreError(f"{url} refused the login of {self.user!r} ({status}); the "
                          f"password comes from the environment variable "
                          f"{self.password_env}.")


def _shown(body: str) -> str | None:
    """The start of a store's answer body, for a message."""
    body = body.strip()
    if not body:
        return None
    return body if len(body) <= MAX_BODY_SHOWN else body[:MAX_BODY_SHOWN] + " ..."
