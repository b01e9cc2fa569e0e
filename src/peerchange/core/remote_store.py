"""A client of a remote SPARQL 1.1 store (``serve --endpoint``): the protocol, not a driver.

:class:`RemoteStore` POSTs a query form-encoded (SPARQL 1.1 Protocol §2.1.2) with the
dataset as ``default-graph-uri`` / ``named-graph-uri``, asks for one canonical format
(``application/sparql-results+json`` for SELECT and ASK, ``application/n-triples`` for
graphs) and reads the answer in pieces under our deadline, so a slow store is cut by us
whatever it does itself. The store's own time limit is set where it has a way to take
one (Virtuoso, recognised by its ``Server:`` header: the ``timeout`` parameter, in ms, half
our deadline so that its flagged partial answer arrives before our cut).

Failures come back typed (:mod:`peerchange.core.errors`):

- cannot connect, no answer, the store says 503: ``StoreUnavailable`` (503,
  ``Retry-After: 5``);
- past our deadline, or the store's partial "anytime" answer (``X-SQL-State: S1TAT``):
  ``QueryTimeout`` (503);
- the store rejects the query (400): ``QuerySyntaxError`` with the store's message (400);
- any other error status, a refused login, a body we cannot read: ``StoreError`` (502).

A connection that stops answering (a paused or dead store) is found by a short probe
(an ``ASK`` answered within :data:`PROBE_SECONDS`): a query that has had no answer for
:data:`WATCH_SECONDS` waits in a helper thread while the caller probes the store, and is
given up with 503 as soon as a probe fails (a slow query on a live store waits on). Until
a probe succeeds again each query is preceded by one, so clients get 503 within seconds
instead of waiting for the deadline, and answers return by themselves when the store is
back.

The HTTP under it is :class:`StoreSession`, which ``peerchange publish``
(:mod:`peerchange.services.publish_http`) shares: a ``requests`` session per process and
thread (gunicorn workers fork) and the login each URL's challenge names. Passwords are never
held in settings: the password comes from the environment variable the settings (or
``--password-env``) name, read when a store first asks for it.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from peerchange.core.errors import (
    QuerySyntaxError,
    QueryTimeout,
    StoreError,
    StoreFailed,
    StoreUnavailable,
)
from peerchange.core.queryfiles import get_query

CONNECT_SECONDS = 3.0
PROBE_SECONDS = 2.0
WATCH_SECONDS = 3.0  # without an answer this long, a query probes the store
STORE_SHARE = 0.5  # of our deadline, given to a store that takes a time limit
CHUNK = 64 * 1024
SELECT_MEDIA = "application/sparql-results+json"
GRAPH_MEDIA = "application/n-triples"
USER_AGENT = "peerchange (SPARQL 1.1 protocol client)"


@dataclass
class StoreReply:
    """A store's complete answer body and what its headers said.

    :param max_rows: the store cut the answer at this many rows (Virtuoso's
        ``X-SPARQL-MaxRows``), else ``None``.
    """

    body: bytes
    media_type: str
    max_rows: int | None = None
    seconds: float = 0.0


@dataclass
class StoreSession:
    """HTTP to a store's endpoints: a ``requests`` session per process and thread, with our
    ``User-Agent``, and for each URL that answers 401 the login its challenge names (Digest,
    as Virtuoso's, or Basic), sent from then on.

    :param user: the user name (no login is tried without one).
    :param password_env: the environment variable holding the password.
    """

    user: str = ""
    password_env: str = ""
    user_agent: str = USER_AGENT
    sent: int = 0  # requests sent, a login's second try included
    _auth: dict[str, AuthBase] = field(default_factory=dict, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def session(self) -> requests.Session:
        """This process's and thread's session (made anew after a fork)."""
        key = os.getpid()
        session = getattr(self._local, "session", None)
        if session is None or getattr(self._local, "pid", None) != key:
            session = requests.Session()
            session.headers["User-Agent"] = self.user_agent
            self._local.session, self._local.pid = session, key
        return session

    def use(self, session: requests.Session | None) -> None:
        """Make ``session`` this thread's (``None``: a new one next time)."""
        self._local.session = session

    def password(self, url: str) -> str:
        """The password, from :attr:`password_env` (empty when none is named).

        :raise StoreError: the variable is not set.
        """
        if not self.password_env:
            return ""
        value = os.environ.get(self.password_env)
        if value is None:
            raise StoreError(f"The environment variable {self.password_env} (the password "
                             f"for {self.user!r} at {url}) is not set.")
        return value

    def send(self, method: str, url: str, *, session: requests.Session | None = None,
             **kwargs: Any) -> requests.Response:
        """One request (``requests`` keyword arguments); a first 401 from ``url`` is
        answered with the login, once. ``requests`` exceptions pass through: each caller
        says what they mean for it."""
        session = session or self.session()
        self.sent += 1
        response = session.request(method, url, auth=self._auth.get(url), **kwargs)
        if response.status_code == 401 and self.user and url not in self._auth:
            challenge = response.headers.get("WWW-Authenticate", "").lower().lstrip()
            response.close()
            password = self.password(url)
            self._auth[url] = (HTTPDigestAuth(self.user, password)
                               if challenge.startswith("digest")
                               else HTTPBasicAuth(self.user, password))
            self.sent += 1
            response = session.request(method, url, auth=self._auth[url], **kwargs)
        return response


@dataclass
class RemoteStore:
    """One remote SPARQL 1.1 query endpoint.

    :param url: the query URL (e.g. ``http://host:8890/sparql``).
    :param user: a user name, when the store asks for a login (Digest or Basic, whichever
        the store's challenge names).
    :param password_env: the name of the environment variable holding the password.
    """

    url: str
    user: str = ""
    password_env: str = ""
    connect_seconds: float = CONNECT_SECONDS
    server: str = ""
    queries: int = 0
    _down: bool = field(default=False, repr=False)
    _http: StoreSession = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._http = StoreSession(self.user, self.password_env)

    # -- identity -----------------------------------------------------------------------

    @property
    def is_virtuoso(self) -> bool:
        return self.server.lower().startswith("virtuoso")

    @property
    def description(self) -> str:
        """The store for people: its URL and, once known, its ``Server:`` header."""
        return f"{self.url} ({self.server})" if self.server else self.url

    # -- connecting ---------------------------------------------------------------------

    def connect(self) -> None:
        """Ask the store the probe query (``queries/internal/remote/probe.rq``); learn its
        ``Server:`` header and the login scheme it challenges with.

        :raise StoreUnavailable: it cannot be reached or does not answer.
        :raise StoreError: it refuses the login, or does not speak the protocol.
        """
        probe = get_query("internal/remote/probe").text
        reply = self.request(probe, accept=SELECT_MEDIA, timeout=max(self.connect_seconds,
                                                                      10.0))
        if b"true" not in reply.body:
            raise StoreError(f"The store at {self.url} does not answer the probe query with true; "
                             "is this a SPARQL 1.1 query endpoint?")

    def probe(self, seconds: float = PROBE_SECONDS) -> bool:
        """Whether the store answers a cheap ``ASK`` within ``seconds``."""
        try:
            self.request(get_query("internal/remote/probe").text, accept=SELECT_MEDIA,
                         timeout=seconds, probing=True)
        except (StoreUnavailable, StoreError, QueryTimeout):
            self._down = True
            return False
        self._down = False
        return True

    # -- one request --------------------------------------------------------------------

    def request(self, text: str, *, accept: str, timeout: float,
                default_graphs: list[str] | None = None,
                named_graphs: list[str] | None = None, probing: bool = False,
                sink: BinaryIO | None = None) -> StoreReply:
        """POST ``text`` and read the whole answer before ``timeout`` seconds pass.

        :param default_graphs: ``default-graph-uri`` values (``None``: send none).
        :param named_graphs: ``named-graph-uri`` values (``None``: send none).
        :param sink: write the body there as it arrives (the reply's ``body`` is then
            empty): a dump is streamed to disk, never held in memory.
        """
        if self._down and not probing and not self.probe():
            raise self._unavailable("it did not answer a probe within "
                                    f"{PROBE_SECONDS:g} s")
        start = time.monotonic()
        deadline = start + timeout if timeout > 0 else None
        form: list[tuple[str, str]] = [("query", text)]
        form += [("default-graph-uri", g) for g in default_graphs or ()]
        form += [("named-graph-uri", g) for g in named_graphs or ()]
        if self.is_virtuoso and timeout > 0:
            # half our deadline: Virtuoso overshoots its own limit (about 2 s for 1 s), and
            # its partial answer, flagged, is a clearer 503 than our cut
            form.append(("timeout", str(max(1, int(timeout * 1000 * STORE_SHARE)))))
        read_seconds = timeout if timeout > 0 else None
        self.queries += 1
        try:
            response = self._post_watched(form, accept, read_seconds, probing)
        except requests.exceptions.ConnectTimeout:
            raise self._unavailable(f"no connection within {self.connect_seconds:g} s") from None
        except requests.exceptions.ReadTimeout:
            return self._stalled(timeout, probing)
        except requests.exceptions.ConnectionError as exc:
            raise self._unavailable(reason_of(exc)) from None
        except requests.exceptions.RequestException as exc:
            raise StoreError(f"Cannot send the query to {self.url}: {reason_of(exc)}.") from None
        with response:
            self.server = response.headers.get("Server", self.server).strip()
            if response.status_code != 200:
                self._fail(response)
            chunks: list[bytes] = []
            try:
                for chunk in response.iter_content(CHUNK):
                    if sink is not None:
                        sink.write(chunk)
                    else:
                        chunks.append(chunk)
                    if deadline is not None and time.monotonic() > deadline:
                        raise _timeout(timeout)
            except requests.exceptions.ConnectionError as exc:
                if "timed out" in str(exc).lower():
                    return self._stalled(timeout, probing)
                raise self._unavailable(f"the answer broke off ({reason_of(exc)})") from None
            except requests.exceptions.RequestException as exc:
                raise StoreError(f"The answer of the store at {self.url} could not be read: "
                                 f"{reason_of(exc)}.") from None
            if response.headers.get("X-SQL-State", "").strip().upper() == "S1TAT":
                raise _timeout(timeout, by_store=True)
            max_rows = response.headers.get("X-SPARQL-MaxRows")
            media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        self._down = False
        return StoreReply(b"".join(chunks), media,
                          int(max_rows) if max_rows and max_rows.strip().isdigit() else None,
                          time.monotonic() - start)

    def _post(self, form: list[tuple[str, str]], accept: str, read_seconds: float | None,
              *, session: requests.Session | None = None) -> requests.Response:
        return self._http.send("POST", self.url, session=session, data=form,
                               headers={"Accept": accept}, stream=True,
                               timeout=(self.connect_seconds, read_seconds))

    def _post_watched(self, form: list[tuple[str, str]], accept: str,
                      read_seconds: float | None, probing: bool) -> requests.Response:
        """:meth:`_post`, with the store probed every :data:`WATCH_SECONDS` while no answer
        has come: a store that fails the probe gives 503 at once. The waiting request is
        left to its own read timeout, on a session no other request uses again."""
        if probing or (read_seconds is not None and read_seconds <= WATCH_SECONDS):
            return self._post(form, accept, read_seconds)
        session = self._http.session()
        box: Future[requests.Response] = Future()

        def send() -> None:
            try:
                box.set_result(self._post(form, accept, read_seconds, session=session))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                box.set_exception(exc)

        threading.Thread(target=send, name="peerchange-store-request", daemon=True).start()
        while True:
            try:
                return box.result(timeout=WATCH_SECONDS)
            except FutureTimeout:
                self._http.use(None)  # the waiting request keeps that one
                if not self.probe():
                    box.add_done_callback(_close_late_answer)
                    raise self._unavailable("it stopped answering (no answer to a probe "
                                            f"within {PROBE_SECONDS:g} s)") from None
                self._http.use(session)

    def _stalled(self, timeout: float, probing: bool) -> StoreReply:
        """The store sent nothing for the whole read timeout: down, or just slow?"""
        if probing or not self.probe():
            raise self._unavailable("it stopped answering")
        raise _timeout(timeout)

    def _unavailable(self, why: str) -> StoreUnavailable:
        self._down = True
        return StoreUnavailable(
            f"The SPARQL store at {self.url} is unavailable: {why}. Try again in a few "
            "seconds; if it persists, the store's operator must restart it.")

    def _fail(self, response: requests.Response) -> None:
        status = response.status_code
        try:
            message = response.text[:2000].strip()
        except requests.exceptions.RequestException:
            message = ""
        if status == 400 or (status == 500 and _is_syntax_error(message)):
            raise QuerySyntaxError(f"The store rejected the query: {_first_lines(message)}")
        if status in (401, 403):
            who = f"as {self.user!r}" if self.user else "without a login"
            raise StoreError(f"The store at {self.url} refused the request {who} "
                             f"({status}); check --endpoint-user and --endpoint-password-env.")
        if status in (502, 503, 504):
            raise self._unavailable(f"it answered {status}")
        if _is_timeout_error(message):
            raise QueryTimeout("The query did not finish within the store's time limit and "
                               "was stopped. Narrow it (more selective patterns, a LIMIT).")
        raise StoreFailed(self.url, status, _first_lines(message) or "no message")


def _close_late_answer(box: Future[requests.Response]) -> None:
    """Close the answer of a request that was given up, should it ever come."""
    if not box.cancelled() and box.exception() is None:
        box.result().close()


def _timeout(seconds: float, *, by_store: bool = False) -> QueryTimeout:
    what = ("the store returned only a partial answer at its time limit" if by_store
            else "no complete answer from the store")
    return QueryTimeout(
        f"The query did not finish within the server's limit of {seconds:g} s ({what}) "
        "and was stopped. Narrow it (more selective patterns, a LIMIT) or ask the "
        "operator to raise PEERCHANGE_QUERY_TIMEOUT.")


def reason_of(exc: Exception) -> str:
    """The reason of a ``requests`` error in a few words (``connection refused`` ...),
    else its type's name: never the library's long text, which names pools and objects."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out",
                   "Connection reset", "Remote end closed"):
        if marker.lower() in text.lower():
            return marker.lower()
    return type(exc).__name__


def _first_lines(message: str, n: int = 3) -> str:
    # Virtuoso repeats the query it compiled after "SPARQL query:", with the dataset as
    # `define input:...` lines: not the client's words, and long; keep what precedes it
    message = message.split("SPARQL query:", 1)[0]
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return " ".join(lines[:n])


def _is_syntax_error(message: str) -> bool:
    # Virtuoso: "37000 Error SP030: SPARQL compiler, line 1: syntax error"
    return "SP030" in message or "syntax error" in message.lower()


def _is_timeout_error(message: str) -> bool:
    # Virtuoso: "S1T00 Error SR171: Transaction timed out"; "The estimated execution time
    # 2084 (sec) exceeds the limit of 400 (sec)" (refused before it runs)
    lower = message.lower()
    return "S1T00" in message or "timed out" in lower or "exceeds the limit" in lower


def store_for(settings: Any) -> RemoteStore:
    """The :class:`RemoteStore` the settings name (``endpoint``, ``endpoint_user``,
    ``endpoint_password_env``)."""
    return RemoteStore(settings.endpoint, user=settings.endpoint_user,
                       password_env=settings.endpoint_password_env)
