"""The HTTP side of ``peerchange publish``: a SPARQL 1.1 store written through the standard
protocols only (SPARQL 1.1 Protocol queries and updates, Graph Store Protocol ``PUT``).

:class:`StoreWriter` sends the shipped ``.rq``/``.ru`` templates of
:mod:`peerchange.services.publish_queries` with ``requests``. A store that asks for a login
gets the scheme its challenge names (Digest, as Virtuoso does, or Basic). Every failure
becomes one of three errors, each with the URL it concerns:

| what happened | error | exit code |
|---|---|---|
| cannot connect, no answer in time, the answer broke off | :class:`StoreUnreachable` | 2 |
| 401 or 403 (a login missing or refused) | :class:`LoginRefused` | 2 |
| any other error status, an answer we cannot read | :class:`StoreRefused` | 1 |

:class:`StoreRefused` keeps the status, so a caller can tell a request the store found too
large (400, 413: Virtuoso refuses an update whose SQL translation passes 10,000 lines,
about 1,400 triples) from a store that fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from peerchange.core.errors import PeerchangeError
from peerchange.services.publish_queries import render_query, render_update

CONNECT_SECONDS = 5.0
SELECT_MEDIA = "application/sparql-results+json"
NTRIPLES_MEDIA = "application/n-triples"
USER_AGENT = "peerchange publish (SPARQL 1.1 protocol client)"
MAX_BODY_SHOWN = 400


class StoreUnreachable(PeerchangeError):
    """The store cannot be reached, or stopped answering (exit code 2)."""

    http_status = 503
    exit_code = 2
    title = "Store unreachable"


class LoginRefused(PeerchangeError):
    """The store asks for a login, or refuses the one given (exit code 2)."""

    http_status = 502
    exit_code = 2
    title = "Login refused"


class StoreRefused(PeerchangeError):
    """The store answered a request with an error, or with something we cannot read
    (exit code 1: the data was not published)."""

    http_status = 502
    exit_code = 1
    title = "Store error"

    def __init__(self, message: str, *, detail: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, detail=detail)
        self.status = status


@dataclass(frozen=True)
class Login:
    """A user name and the password read from the environment variable ``variable``."""

    user: str
    password: str
    variable: str


@dataclass
class StoreWriter:
    """The endpoints of one store.

    :param query_url: the SPARQL query endpoint.
    :param update_url: the SPARQL Update endpoint (the query endpoint when not given).
    :param graph_store_url: the Graph Store Protocol endpoint, or ``None`` to load by
        SPARQL Update data insertion batches.
    :param timeout: seconds to wait for one answer.
    """

    query_url: str
    update_url: str | None = None
    graph_store_url: str | None = None
    login: Login | None = None
    timeout: float = 300.0
    requests_sent: int = 0
    _session: requests.Session = field(default_factory=requests.Session, repr=False)
    _auth: dict[str, AuthBase] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.update_url = self.update_url or self.query_url
        self._session.headers["User-Agent"] = USER_AGENT

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
        """Send one request (again with a login if the store challenges the first time)."""
        response = self._request(method, url, self._auth.get(url), **kwargs)
        if response.status_code == 401 and url not in self._auth and self.login:
            self._auth[url] = _auth_for(response, self.login)
            response = self._request(method, url, self._auth[url], **kwargs)
        if response.status_code in (401, 403):
            raise self._refused_login(url, response.status_code)
        if not 200 <= response.status_code < 300:
            raise StoreRefused(f"{url} answered {response.status_code} {response.reason}.",
                               detail=_shown(response.text), status=response.status_code)
        return response

    def _request(self, method: str, url: str, auth: AuthBase | None,
                 **kwargs: Any) -> requests.Response:
        self.requests_sent += 1
        try:
            return self._session.request(method, url, auth=auth,
                                         timeout=(CONNECT_SECONDS, self.timeout), **kwargs)
        except requests.exceptions.ConnectTimeout:
            raise StoreUnreachable(f"Cannot reach the store at {url}: no connection within "
                                   f"{CONNECT_SECONDS:g} s.") from None
        except requests.exceptions.ReadTimeout:
            raise StoreUnreachable(f"The store at {url} did not answer within "
                                   f"{self.timeout:g} s (--timeout).") from None
        except requests.exceptions.ConnectionError as exc:
            raise StoreUnreachable(f"Cannot reach the store at {url}: {_reason(exc)}.") from None
        except requests.exceptions.RequestException as exc:
            raise StoreUnreachable(f"Cannot send to the store at {url}: {_reason(exc)}.") from None

    def _refused_login(self, url: str, status: int) -> LoginRefused:
        if not self.login:
            return LoginRefused(f"{url} answered {status}: it needs a login. Give --user NAME "
                                "and --password-env VAR (the variable holding the password).")
        return LoginRefused(f"{url} refused the login of {self.login.user!r} ({status}); the "
                            f"password comes from the environment variable "
                            f"{self.login.variable}.")


def _auth_for(response: requests.Response, login: Login) -> AuthBase:
    """The scheme the store's challenge names: Digest, else Basic."""
    challenge = response.headers.get("WWW-Authenticate", "")
    if challenge.lower().lstrip().startswith("digest"):
        return HTTPDigestAuth(login.user, login.password)
    return HTTPBasicAuth(login.user, login.password)


def _reason(exc: Exception) -> str:
    """The innermost reason of a requests error (``Connection refused`` ...)."""
    text = str(exc)
    for marker in ("] ", "Errno"):
        if marker in text:
            tail = text.rsplit(marker, 1)[1]
            return tail.rstrip("')\"").strip() or text
    return text


def _shown(body: str) -> str | None:
    """The start of a store's answer body, for a message."""
    body = body.strip()
    if not body:
        return None
    return body if len(body) <= MAX_BODY_SHOWN else body[:MAX_BODY_SHOWN] + " ..."
