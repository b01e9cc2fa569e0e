"""The buffering worker: a gunicorn worker class whose slow clients cost a coroutine only.

The worker's main thread runs an asyncio loop over gunicorn's listening sockets. It accepts
up to ``max_connections`` connections (beyond that it stops accepting, and the kernel's
backlog or another worker holds the rest), reads each request completely under deadlines
(:mod:`peerchange.serving.http`), admits it (the client's budget,
:mod:`peerchange.serving.admission`, then the worker's queue of ``queue_size``), and hands
it to one of ``threads`` app threads, which run the WSGI app into a spool
(:mod:`peerchange.serving.wsgi`) that the loop writes back at the client's pace. A request
identical to one whose answer the app marked replayable is answered by the loop itself
from the worker's fast lane (:mod:`peerchange.serving.fast_lane`), still admitted, logged
and counted; the common ``/sparql`` requests are answered by an app thread without Flask
(:mod:`peerchange.serving.lean`) and, when they came whole and plain, without h11
(:mod:`peerchange.serving.lean_wire`).

Its heartbeat (``notify``) runs on the loop every half second. On SIGTERM (gunicorn's
graceful stop) it stops accepting, answers what arrives on open connections (also those
accepted just before, whose task has not started yet) for a moment more
(:data:`DRAIN_SECONDS`, each answer with ``Connection: close``), then closes the idle ones
and lets the requests in hand finish within ``graceful_timeout``; then it stops its query
processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import socket
import threading
import time
from typing import Any

from gunicorn.workers.base import Worker

from peerchange.core import execution, metrics
from peerchange.core.config import Settings
from peerchange.core.errors import ServerBusy
from peerchange.services import memo
from peerchange.serving import lean_wire
from peerchange.serving.admission import (
    ClientTable,
    client_address,
    is_trusted,
    parse_networks,
)
from peerchange.serving.fast_lane import FastLane, Stored
from peerchange.serving.http import Connection, Limits, log
from peerchange.serving.lean import LeanJob, LeanSparql, Made
from peerchange.serving.wsgi import Answer, Request, environ_for, run_app
from peerchange.web import access_log
from peerchange.web.caching import FAST_LANE
from peerchange.web.sparql import EXECUTED

ACCEPT_BATCH = 16  # connections accepted per wake-up, so the workers share new clients
TICK = 0.5  # seconds between heartbeats and looks at the stop flag
DRAIN_SECONDS = 1.0  # at shutdown, idle kept-alive connections are closed after this


class BufferingWorker(Worker):  # type: ignore[misc]
    """gunicorn worker class (``worker_class``); see the module docstring."""

    stopping = False

    # -- set-up (in the worker process, after the fork) --

    def _setup(self) -> None:
        serving_log = logging.getLogger("peerchange.serving")
        if not serving_log.handlers:  # this layer's lines go where gunicorn's go
            for handler in self.log.error_log.handlers:
                serving_log.addHandler(handler)
            serving_log.setLevel(self.log.error_log.level)
            serving_log.propagate = False
        services = getattr(self.wsgi, "services", None)
        self.settings: Settings = (getattr(self.app, "settings", None)
                                   or getattr(services, "settings", None)
                                   or Settings.from_env())
        s = self.settings
        config = getattr(self.wsgi, "config", {}) or {}
        max_body = config.get("MAX_CONTENT_LENGTH") or s.max_query_bytes * 3 + 4096
        self.limits = Limits.from_settings(s, int(max_body))
        self.clients: ClientTable = getattr(self.app, "clients", None) or ClientTable(s)
        self.trusted = parse_networks(s.trusted_proxies)
        self.threads = max(1, s.threads)
        self.capacity = self.threads + max(0, s.queue_size)
        self.busy = 0
        self.busy_lock = threading.Lock()
        self.jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.connections: set[Connection] = set()
        # one task per accepted connection, from the accept on (a connection joins
        # ``connections`` only once its streams are set up, a loop turn or two later)
        self.handlers: set[asyncio.Task[None]] = set()
        self.accepting = False
        graph = getattr(services, "graph", None)
        # answers the app marked replayable, sent again by the loop (serving/fast_lane)
        self.lane = FastLane(s.answer_cache_mb * 1024 * 1024, getattr(graph, "version", None))
        # the common /sparql requests answered without Flask (serving/lean)
        self.lean = LeanSparql.for_app(self.wsgi, s)
        start_pool = getattr(execution, "start_pool", None)
        # a remote store's queries are I/O, run in the app threads: no query processes
        if start_pool is not None and graph is not None and graph.store is not None:
            start_pool(graph.store, self.threads)
        for n in range(self.threads):
            threading.Thread(target=self._app_thread, name=f"app-{n}", daemon=True).start()

    def run(self) -> None:
        self._setup()
        try:
            asyncio.run(self._main())
        finally:
            for _ in range(self.threads):
                self.jobs.put(None)
            stop_all = getattr(execution, "stop_all", None)
            if stop_all is not None:
                stop_all()

    # -- the app threads --

    def _app_thread(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            request, answer, lease = job
            released = False

            def release(seconds: float, lease=lease) -> None:
                nonlocal released
                released = True
                self.clients.release(lease, seconds)
                with self.busy_lock:
                    self.busy -= 1

            try:
                if answer.closed:  # the client left while its request waited: skip it
                    release(0.0)
                    answer.finish()
                else:
                    self._run_request(request, answer, release)
            except Exception:  # noqa: BLE001 - a fault of ours: logged, the thread goes on
                log.exception("could not run %s %s", request.method, request.path)
                if not released:
                    release(0.0)
                answer.finish(failed=True)

    # -- the lean path (serving/lean), in the app threads and on the loop --

    def _run_request(self, request: Request, answer: Answer | LeanJob, release) -> None:
        """Answer ``request`` on the lean path (serving/lean) or else with the app (its
        client charged from here: a query the lean path ran before it counts)."""
        begun = time.perf_counter()
        release = self._charged_from(begun, release)
        if isinstance(answer, LeanJob):  # the loop awaits what comes of it
            made = self.lean.make(request, answer.note, release)  # type: ignore[union-attr]
            if isinstance(made, Made):
                answer.resolve(made)
                return
            job, answer = answer, Answer(answer.loop)
            answer.note = job.note
            job.resolve(answer)  # the loop streams it as the app writes it
            try:
                self._run_app(request, answer, release, made)
            except Exception:
                answer.finish(failed=True)
                raise
            return
        extra = {} if self.lean is None else self.lean.handle(request, answer, answer.note,
                                                              release)
        if extra is not None:
            self._run_app(request, answer, release, extra)

    @staticmethod
    def _charged_from(begun: float, release):
        """``release`` charging the client the time since ``begun`` in this app thread,
        less what it spent on work that is the same for every reader (the search index,
        the label table...: :func:`peerchange.services.memo.shared_seconds`), which the
        first request after a start or a reload would otherwise pay for alone."""
        memo.shared_seconds()  # what an earlier request of this thread left uncollected
        return lambda _seconds: release(
            max(0.0, time.perf_counter() - begun - memo.shared_seconds()))

    def _run_app(self, request: Request, answer: Answer, release, extra: dict) -> None:
        environ = environ_for(request)
        if answer.note is not None:
            environ[FAST_LANE] = answer.note
        environ.update(extra)
        try:
            run_app(self.wsgi, environ, answer, release)
        finally:
            unused = environ.get(EXECUTED)  # the view answered without it (its cache)
            close = getattr(getattr(unused, "answer", None), "chunks", None)
            if close is not None and hasattr(close, "close"):
                close.close()

    def lean_request(self, data: bytes, peer: tuple[str, int], server: tuple[str, int]
                     ) -> Request | None:
        """The request these bytes (one whole read) are, when the lean path may answer it
        without h11 (``serving/lean_wire``) and the fast lane does not know it."""
        if self.lean is None:
            return None
        limits = self.limits
        parsed = lean_wire.parse(data, limits.max_request_line, limits.max_header_bytes,
                                 limits.max_body)
        if parsed is None:
            return None
        method, target, headers, body = parsed
        client, scheme = self.client_of(peer[0], headers)
        request = Request(method, target, headers, body, peer, client, scheme, server)
        key = self.lane.key(request)
        if key is not None and key in self.lane.entries:
            return None  # replayed through h11
        request.lane_key = key
        return request

    def submit_lean(self, request: Request) -> LeanJob:
        """Admit ``request`` as :meth:`submit` does and queue it for the lean path.

        :raise TooManyRequests: the client is over its budget (429).
        :raise ServerBusy: every thread is busy and the queue is full (503).
        """
        lease = self._admit(request)
        job = LeanJob(asyncio.get_running_loop(), {} if request.lane_key is not None else None)
        self.jobs.put((request, job, lease))
        return job

    def keep_made(self, request: Request, made: Made) -> bool:
        """Keep a lean answer in the fast lane when it may be replayed; whether it was."""
        note = made.note
        if request.lane_key is None or not note or not note.get("replayable") \
                or "access" not in note:
            return False
        status, _, reason = made.status.partition(" ")
        return self.lane.put(request.lane_key, int(status), reason.encode("latin-1"),
                             made.headers, made.body, note["access"])

    def submit(self, request: Request) -> Answer:
        """Admit ``request`` and queue it for an app thread (the :class:`Dispatcher` call).

        :raise TooManyRequests: the client is over its budget (429).
        :raise ServerBusy: every thread is busy and the queue is full (503).
        """
        lease = self._admit(request)
        answer = Answer(asyncio.get_running_loop())
        if request.lane_key is not None:
            answer.note = {}
        self.jobs.put((request, answer, lease))
        return answer

    def _admit(self, request: Request) -> Any:
        """The client's lease for ``request``, and a place in the worker's queue.

        :raise TooManyRequests: the client is over its budget (429).
        :raise ServerBusy: every thread is busy and the queue is full (503).
        """
        self.nr += 1
        lease = self.clients.admit(request.client, request.path)
        with self.busy_lock:
            full = self.busy >= self.capacity
            if not full:
                self.busy += 1
        if full:
            self.clients.release(lease, 0.0)
            metrics.count("refusals", reason="queue_full")
            raise ServerBusy(
                f"The server is busy: {self.threads} requests are running and "
                f"{self.capacity - self.threads} waiting in this worker. Try again shortly.",
                headers={"Retry-After": "5"})
        return lease

    # -- the fast lane (serving/fast_lane), on the loop --

    def replay(self, request: Request) -> Stored | None:
        """The kept answer to a request with exactly these words, its client admitted and
        charged as for any request; or ``None`` (then ``request.lane_key`` is set when the
        app's answer may be kept).

        :raise TooManyRequests: the client is over its budget (429).
        """
        key = self.lane.key(request)
        if key is None:
            return None
        stored = self.lane.get(key)
        request.lane_key = key
        if stored is not None:
            self.admit_replay(request)
        return stored

    def admit_replay(self, request: Request) -> None:
        """Count a replayed request against its client's budget, as any request.

        :raise TooManyRequests: the client is over its budget (429).
        """
        started = time.perf_counter()
        self.nr += 1
        lease = self.clients.admit(request.client, request.path)
        self.clients.release(lease, time.perf_counter() - started)

    def replay_raw(self, data: bytes, peer: tuple[str, int]
                   ) -> tuple[Request, Stored, bytes] | None:
        """The request that these bytes (one whole read) were before, its kept answer and
        that answer's bytes; ``None`` when they are not known (then they are parsed)."""
        hit = self.lane.raw_hit(data)
        if hit is None:
            return None
        raw, stored = hit
        client, scheme = self.client_of(peer[0], raw.headers)
        if scheme != raw.key[4]:
            return None
        request = Request(raw.key[1], raw.key[2], raw.headers, raw.key[6], peer, client,
                          scheme, http_version=raw.key[3])
        return request, stored, raw.wire

    def remember_raw(self, data: bytes, request: Request, wire: bytes) -> None:
        """Note that ``data`` (a whole request) was ``request``, answered with ``wire``."""
        self.lane.remember_raw(data, request, wire)

    def replayed(self, request: Request, stored: Stored, started: float, arrived: float
                 ) -> None:
        """Count and log a replayed answer as the app would have (see
        :func:`peerchange.web.access_log.replayed`)."""
        metrics.count("answers_replayed")
        access_log.replayed(stored.access, request.client, started, arrived,
                            len(stored.body))

    def keep(self, request: Request, answer: Answer, headers: list[tuple[str, str]],
             body: bytes) -> None:
        """Keep a whole answer the app marked replayable, as it went out."""
        note = answer.note
        if (request.lane_key is None or not note or not note.get("replayable")
                or "access" not in note or answer.failed):
            return
        status, _, reason = answer.status.partition(" ")
        if status in ("200", "304"):
            self.lane.put(request.lane_key, int(status), reason.encode("latin-1"), headers,
                          body, note["access"])

    def client_of(self, peer: str, headers: list[tuple[str, str]]) -> tuple[str, str]:
        """The client address and URL scheme of a request from ``peer`` (the
        ``X-Forwarded-*`` headers count only from a trusted proxy)."""
        if not is_trusted(peer, self.trusted):
            return peer, "http"
        forwarded = ", ".join(v for n, v in headers if n == "x-forwarded-for") or None
        proto = next((v for n, v in reversed(headers) if n == "x-forwarded-proto"), "")
        scheme = "https" if proto.split(",")[-1].strip().lower() == "https" else "http"
        return client_address(peer, forwarded, self.trusted), scheme

    # -- the loop --

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        self.loop = loop
        self._resume_accepting()
        while self.alive:
            self.notify()
            if os.getppid() != self.ppid:
                self.log.info("Parent changed, shutting down: %s", self)
                break
            if self.nr >= self.max_requests:
                self.log.info("Autorestarting worker after current request.")
                break
            await asyncio.sleep(TICK)
        await self._shutdown()

    def _resume_accepting(self) -> None:
        if self.accepting or self.stopping:
            return
        self.accepting = True
        for listener in self.sockets:
            self.loop.add_reader(listener.sock.fileno(), self._accept, listener.sock)

    def _pause_accepting(self) -> None:
        if not self.accepting:
            return
        self.accepting = False
        for listener in self.sockets:
            with contextlib.suppress(Exception):
                self.loop.remove_reader(listener.sock.fileno())

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):
            if len(self.connections) >= self.settings.max_connections:
                self._pause_accepting()
                return
            try:
                client, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and the like: try again at the next wake-up
                log.warning("accept failed: %s", exc)
                return
            client.setblocking(False)
            if client.family in (socket.AF_INET, socket.AF_INET6):
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            handler = self.loop.create_task(self._handle(client))
            self.handlers.add(handler)
            handler.add_done_callback(self.handlers.discard)

    async def _handle(self, client: socket.socket) -> None:
        try:
            reader, writer = await asyncio.open_connection(sock=client, limit=1 << 20)
        except OSError:
            client.close()
            return
        connection = Connection(reader, writer, self.limits, self, self.client_of)
        self.connections.add(connection)
        try:
            await connection.serve()
        except Exception:  # noqa: BLE001 - a fault of ours: logged, the worker goes on
            log.exception("connection from %s failed", connection.peer[0])
        finally:
            self.connections.discard(connection)
            if len(self.connections) < self.settings.max_connections:
                self._resume_accepting()

    async def _shutdown(self) -> None:
        """Stop accepting, close idle connections, let the requests in hand finish.

        Every connection accepted is served, including one accepted just before the stop
        whose task has not started yet (not yet in ``connections``): it is waited for as
        a handler. Its client may have sent its request already: closing the socket unread
        would reset the connection, an error the client cannot safely retry.
        """
        self.stopping = True
        self._pause_accepting()
        now = time.monotonic()
        deadline = now + max(1.0, self.cfg.graceful_timeout - 1.0)
        # a request may be on its way on an idle kept-alive connection: it is served (with
        # "Connection: close") if it arrives within the drain; then idle ones are closed
        drained = now + min(DRAIN_SECONDS, self.settings.keepalive_timeout)
        while self.handlers and time.monotonic() < deadline:
            if time.monotonic() >= drained:
                for connection in list(self.connections):
                    connection.close_if_idle()
            self.notify()
            await asyncio.sleep(0.1)
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()

