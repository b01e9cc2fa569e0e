"""Fair sharing: who a client is, and each client's budget, shared by every worker process.

A client is the connection's peer address, or, when the peer is one of
``settings.trusted_proxies``, the right-most address of ``X-Forwarded-For`` that is not a
trusted proxy (:func:`client_address`); a header sent by any other peer is never believed.

:class:`ClientTable` holds, per client, the requests it has queued or running
(``client_concurrency``) and the seconds of app time it used in the last ``client_window``
seconds (``client_seconds``). It lives in shared memory (``multiprocessing`` raw arrays and
locks) made by the gunicorn master before it forks, so every worker sees the same
budgets. Its size is fixed: :data:`SLOTS` clients (about 4 MB at the default
concurrency), in :data:`STRIPES` parts with a lock each: a client's part and its slot in
it are found by a hash of its address, with :data:`PROBES` linear probes inside the part;
a slot whose client has nothing running and no time left in the window is reused.
When all probed slots are held by other busy clients (more than :data:`SLOTS` busy
clients, or a hash collision), the client shares the first probed slot, and so its
budget, with the client there: budgets then err on the strict side, never the lenient.
Each request takes its part's lock twice (admitted, released): with one lock for the whole
table, a worker that lost the processor (or its own interpreter lock) while holding it
held up every other worker's requests, whoever their clients; now only requests of clients
in the same part wait for each other.

A running request is a *lease* (the worker's pid and the lease's start): a worker that dies
(killed, crashed) leaves leases whose pid is gone, and they are freed at the next look, so a
killed worker never locks its clients out.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import multiprocessing
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from peerchange.core import metrics
from peerchange.core.config import Settings
from peerchange.core.errors import TooManyRequests

SLOTS = 4096
PROBES = 8
STRIPES = 64  # the table's parts, each with its own lock (64 slots each by default)
BUCKETS = 12  # the window is kept as this many buckets (a sliding window of 1/12 steps)
MAX_LEASES = 64  # the most concurrent requests one client can be allowed (per slot)
LOCK_SECONDS = 1.0  # a lock not got in this time: admit without the table (fail open)
# not counted against a client's share: probes, and the site's static files (a browser
# fetches a page's scripts and stylesheets at once; they cost no query)
EXEMPT_PATHS = frozenset({"/health", "/metrics", "/favicon.ico"})
EXEMPT_PREFIXES = ("/static/",)


# ------------------------------------------------------------------------ who is the client

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Sequence[str]) -> list[Network]:
    """``trusted_proxies`` entries (addresses or networks) as networks.

    :raise ValueError: for an entry that is neither, naming it.
    """
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"PEERCHANGE_TRUSTED_PROXIES: {entry!r} is not an IP address or "
                             "network (e.g. 10.0.0.5 or 10.0.0.0/24)") from None
    return out


def is_trusted(address: str, networks: Sequence[Network]) -> bool:
    """Whether ``address`` is in one of ``networks`` (the trusted proxies)."""
    if not networks:  # the default: no proxy is trusted (and no address parsed per request)
        return False
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The client behind a connection from ``peer`` that sent ``X-Forwarded-For``.

    Only a trusted peer's header counts; from it, the right-most address that is not a
    trusted proxy is the client (the left part of the list is what the client itself sent,
    so it is never believed). An unreadable entry stops the walk at the last trusted hop.
    """
    if not forwarded_for or not trusted or not is_trusted(peer, trusted):
        return peer
    client = peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        try:
            ipaddress.ip_address(hop.strip("[]"))
        except ValueError:
            return client
        client = hop.strip("[]")
        if not is_trusted(client, trusted):
            return client
    return client


# ------------------------------------------------------------------------ the shared table

@lru_cache(maxsize=1024)
def _key(address: str) -> int:
    digest = hashlib.blake2b(address.encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True) or 1  # 0 marks a free slot


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Lease:
    """A request admitted for a client: give it back with :meth:`ClientTable.release`."""

    slot: int
    index: int
    started: float
    exempt: bool = False


class ClientTable:
    """Per-client budgets in shared memory (see the module docstring).

    Make it in the gunicorn master before the workers fork; :meth:`admit` before a request
    is queued, :meth:`release` when it is answered.
    """

    def __init__(self, settings: Settings, slots: int = SLOTS) -> None:
        self.slots = slots
        self.concurrency = max(0, settings.client_concurrency)
        self.leases = min(self.concurrency, MAX_LEASES) if self.concurrency else 0
        self.seconds = settings.client_seconds
        self.window = max(settings.client_window, 1e-3)
        self.width = self.window / BUCKETS
        self.stripes = max(1, min(STRIPES, slots // PROBES))
        self.part = slots // self.stripes  # slots per part (any remainder is not used)
        self._locks = [multiprocessing.Lock() for _ in range(self.stripes)]
        self._keys = multiprocessing.RawArray("q", slots)
        self._lease_pid = multiprocessing.RawArray("q", slots * max(self.leases, 1))
        self._bucket_id = multiprocessing.RawArray("q", slots * BUCKETS)
        self._used = multiprocessing.RawArray("d", slots * BUCKETS)

    # -- reading a slot (the lock held) --

    def _live_leases(self, slot: int) -> int:
        base = slot * self.leases
        live = 0
        for i, pid in enumerate(self._lease_pid[base:base + self.leases], base):
            if pid and not _alive(pid):
                self._lease_pid[i] = 0
            elif pid:
                live += 1
        return live

    def _window(self, slot: int, now_bucket: int) -> list[tuple[int, float]]:
        """(bucket id, seconds) of the buckets still in the window, oldest first."""
        base = slot * BUCKETS
        ids, used = self._bucket_id[base:base + BUCKETS], self._used[base:base + BUCKETS]
        return sorted((bucket, seconds) for bucket, seconds in zip(ids, used, strict=True)
                      if seconds > 0 and bucket > now_bucket - BUCKETS)

    def _idle(self, slot: int, now_bucket: int) -> bool:
        return self._live_leases(slot) == 0 and not self._window(slot, now_bucket)

    def _part(self, key: int) -> int:
        return (key & 0x7FFFFFFFFFFFFFFF) % self.stripes

    def _slot(self, key: int, now_bucket: int) -> int:
        base = self._part(key) * self.part
        offset = ((key & 0x7FFFFFFFFFFFFFFF) // self.stripes) % self.part
        start = base + offset
        probes = [base + (offset + i) % self.part for i in range(min(PROBES, self.part))]
        for slot in probes:
            if self._keys[slot] == key:
                return slot
        for slot in probes:
            if self._keys[slot] == 0 or self._idle(slot, now_bucket):
                self._clear(slot, key)
                return slot
        return start  # shared with a busy client: see the module docstring

    def _clear(self, slot: int, key: int) -> None:
        self._keys[slot] = key
        for i in range(slot * self.leases, (slot + 1) * self.leases):
            self._lease_pid[i] = 0
        for i in range(slot * BUCKETS, (slot + 1) * BUCKETS):
            self._bucket_id[i] = 0
            self._used[i] = 0.0

    # -- the two calls --

    def admit(self, client: str, path: str) -> Lease:
        """Admit a request of ``client`` for ``path`` or refuse it.

        :raise TooManyRequests: (429, with ``Retry-After``) when the client has
            ``client_concurrency`` requests queued or running, or used ``client_seconds``
            of app time in the last ``client_window`` seconds.
        """
        now = time.monotonic()
        if (path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)
                or (not self.leases and self.seconds <= 0)):
            return Lease(-1, -1, now, exempt=True)
        key = _key(client)
        lock = self._locks[self._part(key)]
        if not lock.acquire(timeout=LOCK_SECONDS):
            return Lease(-1, -1, now, exempt=True)
        try:
            now_bucket = int(now / self.width)
            slot = self._slot(key, now_bucket)
            if self.seconds > 0:
                buckets = self._window(slot, now_bucket)
                used = sum(s for _, s in buckets)
                if used >= self.seconds:
                    raise self._over_time(buckets, used, now)
            index = -1
            if self.leases:
                if self._live_leases(slot) >= self.leases:
                    metrics.count("refusals", reason="client_concurrency")
                    raise TooManyRequests(
                        f"You already have {self.concurrency} requests running or waiting "
                        "here; send the next one when one of them has been answered.",
                        headers={"Retry-After": "2"})
                base = slot * self.leases
                index = next(i for i in range(base, base + self.leases)
                             if not self._lease_pid[i])
                self._lease_pid[index] = os.getpid()
            return Lease(slot, index, now)
        finally:
            lock.release()

    def _over_time(self, buckets: list[tuple[int, float]], used: float,
                   now: float) -> TooManyRequests:
        # wait until enough of the oldest buckets leave the window to get under budget
        wait_until = now + self.window
        for bucket_id, seconds in buckets:
            used -= seconds
            if used < self.seconds:
                wait_until = (bucket_id + BUCKETS) * self.width
                break
        retry = max(1, math.ceil(wait_until - now))
        metrics.count("refusals", reason="client_seconds")
        return TooManyRequests(
            f"You used {self.seconds:g} seconds of query time in the last "
            f"{self.window:g} seconds, this endpoint's share per client; try again in "
            f"{retry} s.", headers={"Retry-After": str(retry)})

    def release(self, lease: Lease, seconds: float) -> None:
        """Give back ``lease`` and charge ``seconds`` of app time to its client."""
        if lease.exempt:
            return
        lock = self._locks[lease.slot // self.part]
        if not lock.acquire(timeout=LOCK_SECONDS):
            return
        try:
            if lease.index >= 0 and self._lease_pid[lease.index] == os.getpid():
                self._lease_pid[lease.index] = 0
            if self.seconds > 0 and seconds > 0:
                now_bucket = int(time.monotonic() / self.width)
                base = lease.slot * BUCKETS
                i = base + now_bucket % BUCKETS
                if self._bucket_id[i] != now_bucket:
                    self._bucket_id[i] = now_bucket
                    self._used[i] = 0.0
                self._used[i] += seconds
        finally:
            lock.release()

