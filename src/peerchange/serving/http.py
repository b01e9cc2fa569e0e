"""One client connection of the buffering worker: HTTP/1.1 read with h11 under deadlines.

Per request: the line and headers within ``header_timeout`` (from the first byte, or from
the connection's start), the body within ``body_timeout``, an idle kept-alive connection
closed after ``keepalive_timeout``. A request line over ``max_request_line`` gets 414,
headers over ``max_header_bytes`` 431, a request h11 cannot read (bad chunked encoding, a
bad header) 400, a body over the app's ``MAX_CONTENT_LENGTH`` 413 before it is read. These
answers are ours, with the app's error body (JSON when preferred, text otherwise) and its
CORS header. A complete request is handed to the worker (:class:`Dispatcher`), and its
answer written back as the app produces it, each write bounded by ``send_timeout``.
Pipelined requests are answered one after the other, in order. A request the worker's
fast lane knows (:mod:`peerchange.serving.fast_lane`) is answered with the kept answer
through the same writer; a whole request with the same bytes as one replayed before on a
kept-alive connection gets the same bytes without being parsed again; a whole plain
``/sparql`` request skips h11 when the lean path answers it (``serving/lean_wire``).

A slow or silent client costs this coroutine only, never an app thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import time
from dataclasses import dataclass
from typing import Protocol

import h11

from peerchange.core.config import Settings
from peerchange.core.errors import (
    BadRequest,
    HeadersTooLarge,
    PeerchangeError,
    QueryFailed,
    QueryTooLarge,
    URITooLong,
)
from peerchange.serving import lean_wire
from peerchange.serving.fast_lane import Stored, whole_request
from peerchange.serving.lean import LeanJob, Made
from peerchange.serving.refusals import error_response, sniff
from peerchange.serving.wsgi import Answer, Request

log = logging.getLogger("peerchange.serving")

READ_SIZE = 64 * 1024
FLUSH_BYTES = 64 * 1024  # an answer this big starts going out before the app is done
FLUSH_SECONDS = 0.5  # ... and so does one the app has been writing for this long


class ClientGone(Exception):
    """The client closed the connection, stopped reading, or ran out of time."""


@dataclass(frozen=True)
class Limits:
    """The connection limits of :class:`~peerchange.core.config.Settings`."""

    header_timeout: float
    body_timeout: float
    keepalive_timeout: float
    send_timeout: float
    max_request_line: int
    max_header_bytes: int
    max_body: int
    cors_origins: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings, max_body: int) -> Limits:
        return cls(settings.header_timeout, settings.body_timeout,
                   settings.keepalive_timeout, settings.send_timeout,
                   settings.max_request_line, settings.max_header_bytes, max_body,
                   tuple(settings.cors_origins.split()))


class Dispatcher(Protocol):
    """What a connection needs from its worker (the fast lane's calls: see the worker)."""

    stopping: bool
    def submit(self, request: Request) -> Answer:
        """Queue ``request`` for an app thread (raise a 429 or 503 error to refuse it)."""

    def replay(self, request: Request) -> Stored | None: ...
    def admit_replay(self, request: Request) -> None: ...
    def replayed(self, request: Request, stored: Stored, started: float, arrived: float
                 ) -> None: ...
    def keep(self, request: Request, answer: Answer, headers: list, body: bytes) -> None: ...
    def replay_raw(self, data: bytes, peer: tuple) -> tuple[Request, Stored, bytes] | None: ...
    def remember_raw(self, data: bytes, request: Request, wire: bytes) -> None: ...
    def lean_request(self, data: bytes, peer: tuple, server: tuple) -> Request | None: ...
    def submit_lean(self, request: Request) -> LeanJob: ...
    def keep_made(self, request: Request, made: Made) -> bool: ...


class Connection:
    """Serve one client connection until it closes, idles out or the worker stops."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 limits: Limits, dispatcher: Dispatcher, client_of) -> None:
        self.reader = reader
        self.writer = writer
        self.limits = limits
        self.dispatcher = dispatcher
        self.client_of = client_of  # (peer, headers) -> (client address, scheme)
        self.h11 = h11.Connection(
            h11.SERVER, max_incomplete_event_size=limits.max_request_line
            + limits.max_header_bytes + 4)
        peer = writer.get_extra_info("peername") or ("", 0)
        self.peer = (str(peer[0]), int(peer[1])) if len(peer) >= 2 else (str(peer), 0)
        server = writer.get_extra_info("sockname") or ("", 0)
        self.server = (str(server[0]), int(server[1])) if len(server) >= 2 else ("", 0)
        self.idle = True  # waiting for a request's first byte: may be closed at shutdown
        self.answered = 0  # requests answered on this connection
        self._pending_head: list[tuple[str, str]] | None = None
        self._one_read: bytes | None = None  # the request came whole in this one read
        self._refused: PeerchangeError | None = None  # by the fast lane's admission

    # -- the loop over requests --

    async def serve(self) -> None:
        """Answer requests until the connection should close; never raises."""
        try:
            deadline = time.monotonic() + self.limits.header_timeout
            while True:  # at shutdown, answers say "Connection: close" (see _head)
                self._one_read = None
                if (self.h11.their_state is h11.IDLE and self.h11.our_state is h11.IDLE
                        and not self.dispatcher.stopping and not self.h11.trailing_data[0]):
                    replayed = await self._raw_turn(deadline)
                    if replayed is None:
                        return
                    if replayed:
                        self.answered += 1
                        deadline = None
                        continue
                request = await self._read_request(deadline)
                if request is None:
                    return
                await self._answer(request)
                self.answered += 1
                if self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
                    return
                self.h11.start_next_cycle()
                deadline = None
        except ClientGone:
            pass
        except PeerchangeError as exc:  # a request we refuse before the app: then close
            self._log_refusal(exc)
            await self._send_error_and_close(exc)
        except (ConnectionError, OSError):
            pass
        finally:
            await self._close()

    def _log_refusal(self, exc: PeerchangeError) -> None:
        log.info("refused a request from %s: %s %s", self.peer[0], exc.http_status,
                 exc.message)

    # -- reading --

    async def _raw_turn(self, deadline: float | None) -> bool | None:
        """Read the next bytes; when they are a whole request answered before from the fast
        lane, send its answer's bytes again (``True``); else hand them to h11 (``False``).
        ``None``: the client is done."""
        self.idle = True
        timeout = (deadline - time.monotonic()) if deadline is not None \
            else self.limits.keepalive_timeout
        try:
            async with asyncio.timeout(timeout):
                data = await self.reader.read(READ_SIZE)
        except (TimeoutError, ConnectionError, OSError):
            return None
        if not data:
            return None
        self.idle = False
        data = await whole_request(self.reader, data, self.limits.body_timeout, READ_SIZE)
        if data is None:
            return None
        # a worker that began stopping while these bytes were awaited answers through h11,
        # whose answer says "Connection: close" (kept bytes would promise a kept-alive
        # connection the drain is about to close)
        hit = None if self.dispatcher.stopping else self.dispatcher.replay_raw(data, self.peer)
        if hit is not None:
            request, stored, wire = hit
            started, arrived = time.perf_counter(), time.time()
            try:
                self.dispatcher.admit_replay(request)
            except PeerchangeError as exc:  # answered through h11, as any refusal
                self._refused = exc
            else:
                try:
                    await self._write(wire)
                finally:
                    self.dispatcher.replayed(request, stored, started, arrived)
                return True
        if not self.dispatcher.stopping and (  # the lean path's (serving/lean_wire)
                request := self.dispatcher.lean_request(data, self.peer, self.server)):
            return await lean_wire.lean_turn(self, data, request)
        self.h11.receive_data(data)
        self._one_read = data
        return False

    async def _receive(self, deadline: float | None, idle_seconds: float | None) -> None:
        """Read more bytes into h11 before ``deadline`` (or ``idle_seconds`` from now)."""
        timeout = (deadline - time.monotonic()) if deadline is not None else idle_seconds
        if timeout is not None and timeout <= 0:
            raise ClientGone
        try:
            async with asyncio.timeout(timeout):  # cheaper than wait_for: no extra task
                data = await self.reader.read(READ_SIZE)
        except (TimeoutError, ConnectionError, OSError):
            raise ClientGone from None
        self._one_read = None  # the request took more than one read
        self.h11.receive_data(data)
        if not data:
            raise ClientGone

    def _next_event(self):
        try:
            return self.h11.next_event()
        except h11.RemoteProtocolError as exc:
            raise self._protocol_error(exc) from None

    def _protocol_error(self, exc: h11.RemoteProtocolError) -> PeerchangeError:
        raw = self.h11.trailing_data[0]
        if self.h11.their_state in (h11.IDLE, h11.ERROR) and self._line_too_long(raw):
            return self._uri_too_long(raw)
        if exc.error_status_hint == 431:
            return self._headers_too_large(raw)
        reason = str(exc).split(":", 1)[0] or "malformed"  # without the bytes' repr
        return BadRequest(f"The request could not be read as HTTP/1.1 ({reason}). Check the "
                          "client; a chunked body needs valid hexadecimal chunk sizes.")

    def _line_too_long(self, raw: bytes) -> bool:
        end = raw.find(b"\n")
        return (end if end >= 0 else len(raw)) > self.limits.max_request_line + 1

    def _uri_too_long(self, raw: bytes = b"") -> PeerchangeError:
        exc = URITooLong(
            f"The request line is longer than this server's limit of "
            f"{self.limits.max_request_line:,} bytes. Send a long SPARQL query with POST "
            "(application/sparql-query or a form) instead of GET.")
        exc.extra["_sniffed"] = raw
        return exc

    def _headers_too_large(self, raw: bytes = b"") -> PeerchangeError:
        exc = HeadersTooLarge(
            f"The request's header lines are larger than this server's limit of "
            f"{self.limits.max_header_bytes:,} bytes; send fewer or shorter headers "
            "(cookies?).")
        exc.extra["_sniffed"] = raw
        return exc

    async def _read_request(self, deadline: float | None) -> Request | None:
        """The next complete request, or ``None`` when the client is done."""
        self.idle = True
        self._pending_head = None
        while True:
            event = self._next_event()
            if isinstance(event, h11.Request):
                break
            if isinstance(event, h11.ConnectionClosed):
                return None
            if event is h11.PAUSED:
                return None
            raw = self.h11.trailing_data[0]
            if raw and deadline is None:  # the first byte of a new request
                deadline = time.monotonic() + self.limits.header_timeout
            if raw:
                self.idle = False
                if self._line_too_long(raw):
                    raise self._uri_too_long(raw)
                if len(raw) > self.limits.max_request_line + self.limits.max_header_bytes:
                    raise self._headers_too_large(raw)
            try:
                await self._receive(deadline, self.limits.keepalive_timeout)
            except ClientGone:
                if self.h11.trailing_data[0]:
                    log.info("dropped %s: no complete request head within %g s",
                             self.peer[0], self.limits.header_timeout)
                return None
        self.idle = False
        headers = [(n.decode("latin-1").lower(), v.decode("latin-1"))
                   for n, v in event.headers]
        self._pending_head = headers
        line = len(event.method) + len(event.target) + len(b" HTTP/1.1") + 1
        if line > self.limits.max_request_line:
            raise self._uri_too_long()
        if sum(len(n) + len(v) + 4 for n, v in headers) > self.limits.max_header_bytes:
            raise self._headers_too_large()
        body = await self._read_body(event, headers)
        client, scheme = self.client_of(self.peer[0], headers)
        return Request(event.method.decode("ascii", "replace"),
                       event.target.decode("latin-1"), headers, body, self.peer, client,
                       scheme, self.server, event.http_version.decode("ascii", "replace"))

    async def _read_body(self, event: h11.Request, headers: list[tuple[str, str]]) -> bytes:
        limit = self.limits.max_body
        length = next((v for n, v in headers if n == "content-length"), None)
        if length is not None and length.strip().isdigit() and int(length) > limit:
            raise self._too_large(int(length))
        deadline = time.monotonic() + self.limits.body_timeout
        parts: list[bytes] = []
        size = 0
        while True:
            ev = self._next_event()
            if isinstance(ev, h11.Data):
                size += len(ev.data)
                if size > limit:
                    raise self._too_large(None)
                parts.append(bytes(ev.data))
            elif isinstance(ev, h11.EndOfMessage):
                return b"".join(parts)
            elif isinstance(ev, h11.ConnectionClosed):
                raise ClientGone
            else:
                if self.h11.client_is_waiting_for_100_continue:
                    await self._write(self.h11.send(h11.InformationalResponse(
                        status_code=100, headers=[])))
                try:
                    await self._receive(deadline, None)
                except ClientGone:
                    log.info("dropped %s: the request body did not arrive within %g s",
                             self.peer[0], self.limits.body_timeout)
                    raise

    def _too_large(self, length: int | None) -> PeerchangeError:
        size = f"{length:,} bytes" if length is not None else "too large"
        return QueryTooLarge(f"The request body is {size}; this endpoint accepts bodies of at "
                             f"most {self.limits.max_body:,} bytes (queries of at most "
                             f"{(self.limits.max_body - 4096) // 3:,} bytes).")

    # -- answering --

    async def _answer(self, request: Request) -> None:
        started, arrived = time.perf_counter(), time.time()
        try:
            refused, self._refused = self._refused, None
            if refused is not None:
                raise refused
            stored = self.dispatcher.replay(request)
            if stored is not None:
                await self._replay(request, stored, started, arrived)
                return
            answer = self.dispatcher.submit(request)
        except PeerchangeError as exc:  # 429 / 503: the request was read, keep the connection
            self._log_refusal(exc)
            status, headers, body = error_response(
                exc, request.header("accept"), request.header("origin"),
                self.limits.cors_origins)
            await self._send_whole(request, status, headers, body)
            return
        try:
            await self._stream(request, answer)
        finally:
            answer.close()  # an app thread still running writes into nothing

    async def _replay(self, request: Request, stored: Stored, started: float,
                      arrived: float) -> None:
        """Send a kept answer (serving/fast_lane) as :meth:`_stream` sent it."""
        try:
            if self.dispatcher.stopping:
                response = h11.Response(status_code=stored.status, reason=stored.reason,
                                        headers=self._closing(list(stored.headers)))
            else:  # made (and its headers checked) once
                response = stored.event or stored.made(h11.Response(
                    status_code=stored.status, headers=list(stored.headers),
                    reason=stored.reason))
            head = self.h11.send(response)
            body = self.h11.send(h11.Data(data=stored.body)) if stored.body else b""
            wire = head + (body or b"") + (self.h11.send(h11.EndOfMessage()) or b"")
            if (self._one_read is not None and not self.h11.trailing_data[0]
                    and self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE
                    and not self.dispatcher.stopping):  # kept alive: the same bytes again
                self.dispatcher.remember_raw(self._one_read, request, wire)
            await self._write(wire)
        finally:
            self.dispatcher.replayed(request, stored, started, arrived)

    async def _stream(self, request: Request, answer: Answer) -> None:
        begun = time.monotonic()
        # the head waits for the whole answer (then it has a Content-Length), or for enough
        # of it, or for a while
        while not answer.done and not (
                answer.status and (answer.pending >= FLUSH_BYTES
                                   or time.monotonic() - begun >= FLUSH_SECONDS)):
            answer.changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_SECONDS / 5):
                    await answer.changed.wait()
        if answer.failed:  # nothing has gone out yet: a whole 500 instead
            status, headers, body = error_response(
                QueryFailed("The server failed to answer; the error has been logged."),
                request.header("accept"), request.header("origin"), self.limits.cors_origins)
            await self._send_whole(request, status, headers, body)
            return
        answer.committed = True
        status = int(answer.status.split(" ", 1)[0])
        headers = list(answer.headers)
        if answer.done and not any(n.lower() == "content-length" for n, _ in headers) \
                and request.method != "HEAD" and status not in (204, 304):
            headers.append(("Content-Length", str(answer.written)))
        head = self.h11.send(h11.Response(
            status_code=status, headers=self._closing(headers),
            reason=answer.status.partition(" ")[2].encode("latin-1")))
        head_only = request.method == "HEAD" or status in (204, 304)
        if answer.done and answer.pending <= FLUSH_BYTES:  # the usual case: one write
            data = answer.take(FLUSH_BYTES)
            if request.lane_key is not None and answer.sent == answer.written:
                self.dispatcher.keep(request, answer, headers, data)
            body = self.h11.send(h11.Data(data=data)) if data and not head_only else b""
            await self._write(head + (body or b"") + (self.h11.send(h11.EndOfMessage())
                                                     or b""))
            return
        await self._write(head)
        while True:
            data = answer.take(READ_SIZE)
            if data:
                if not head_only:
                    await self._write(self.h11.send(h11.Data(data=data)))
                continue
            if answer.done:
                break
            answer.changed.clear()
            if answer.pending:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await answer.changed.wait()
        if answer.failed:  # cut in the middle: the client must not take it as whole
            raise ClientGone
        await self._write(self.h11.send(h11.EndOfMessage()))

    def _closing(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """``headers``, plus ``Connection: close`` when the worker is stopping: a client
        then sends its next request on a new connection (to another worker) instead of
        one this worker is about to close."""
        return [*headers, ("Connection", "close")] if self.dispatcher.stopping else headers

    async def _send_whole(self, request: Request, status: int, headers: list[tuple[str, str]],
                          body: bytes) -> None:
        head_only = request.method == "HEAD"
        headers = [*headers, ("Content-Length", str(len(body)))]
        await self._write(self.h11.send(h11.Response(status_code=status,
                                                     headers=self._closing(headers))))
        if body and not head_only:
            await self._write(self.h11.send(h11.Data(data=body)))
        await self._write(self.h11.send(h11.EndOfMessage()))

    async def _send_error_and_close(self, exc: PeerchangeError) -> None:
        """Answer a request we could not (or will not) read, then close the connection."""
        sniffed = exc.extra.pop("_sniffed", b"")
        head = self._pending_head
        if sniffed or head is None:
            raw = sniffed or self.h11.trailing_data[0]
            accept, origin = sniff(raw, b"accept"), sniff(raw, b"origin")
        else:
            accept = next((v for n, v in head if n == "accept"), None)
            origin = next((v for n, v in head if n == "origin"), None)
        status, headers, body = error_response(exc, accept, origin, self.limits.cors_origins)
        reason = http.HTTPStatus(status).phrase
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{n}: {v}" for n, v in headers),
                 f"Content-Length: {len(body)}", "Connection: close"]
        with contextlib.suppress(ClientGone, ConnectionError, OSError):
            await self._write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    async def _write(self, data: bytes | None) -> None:
        if not data:
            return
        self.writer.write(data)
        if not self.writer.transport.get_write_buffer_size():
            return  # all of it went to the socket: nothing to wait for
        try:
            async with asyncio.timeout(self.limits.send_timeout):
                await self.writer.drain()
        except TimeoutError:
            log.info("dropped %s: it did not read the answer within %g s", self.peer[0],
                     self.limits.send_timeout)
            raise ClientGone from None
        except (ConnectionError, OSError):
            raise ClientGone from None

    async def _close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)

    def close_if_idle(self) -> None:
        """At shutdown: close the connection if it is between requests (the worker calls
        it after a short drain, in which a request already on its way is still served).

        Left open: a connection before its first request (read within ``header_timeout``,
        answered with ``Connection: close``), and one whose next request's bytes the stream
        has received but not yet handed to a read (closing it would drop a sent request)."""
        if self.idle and self.answered and not getattr(self.reader, "_buffer", None):
            with contextlib.suppress(Exception):
                self.writer.close()
