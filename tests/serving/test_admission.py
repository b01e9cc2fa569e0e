"""The client table and who a client is, in this process (the live tests are in
test_fairness.py)."""

from __future__ import annotations

import os
import time

import pytest

from peerchange.core.config import Settings
from peerchange.core.errors import TooManyRequests
from peerchange.serving import admission
from peerchange.serving.admission import ClientTable, client_address, parse_networks

TRUSTED = parse_networks(["10.0.0.5", "192.168.1.0/24"])


@pytest.mark.parametrize(("peer", "xff", "client"), [
    ("10.0.0.5", "203.0.113.7", "203.0.113.7"),  # a trusted proxy's word is taken
    ("10.0.0.5", "1.1.1.1, 203.0.113.7", "203.0.113.7"),  # right-most: left is the client's
    ("10.0.0.5", "203.0.113.7, 192.168.1.9", "203.0.113.7"),  # through two trusted proxies
    ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # an untrusted peer's header is ignored
    ("10.0.0.5", None, "10.0.0.5"),
    ("10.0.0.5", "not-an-address", "10.0.0.5"),
    ("10.0.0.5", "192.168.1.2, 192.168.1.3", "192.168.1.2"),  # all trusted: the left-most
])
def test_client_address(peer, xff, client):
    assert client_address(peer, xff, TRUSTED) == client


def test_a_bad_trusted_proxy_entry_is_named():
    with pytest.raises(ValueError, match="not-a-net"):
        parse_networks(["10.0.0.1", "not-a-net"])


def table(**settings) -> ClientTable:
    return ClientTable(Settings(**settings), slots=64)


def test_concurrency_is_counted_per_client_and_given_back():
    clients = table(client_concurrency=2, client_seconds=0)
    leases = [clients.admit("a", "/sparql"), clients.admit("a", "/sparql")]
    with pytest.raises(TooManyRequests) as refused:
        clients.admit("a", "/sparql")
    assert refused.value.headers["Retry-After"]
    clients.admit("b", "/sparql")  # another client is not affected
    clients.admit("a", "/health")  # readiness probes are exempt
    for _ in range(4):  # and so are a page's static files, fetched at once by a browser
        clients.admit("a", "/static/vendor/yasgui.min.js")
    clients.release(leases[0], 0.1)
    clients.admit("a", "/sparql")


def test_seconds_in_the_window_are_a_budget_with_a_retry_after():
    clients = table(client_concurrency=0, client_seconds=2, client_window=60)
    clients.release(clients.admit("a", "/sparql"), 2.5)
    with pytest.raises(TooManyRequests) as refused:
        clients.admit("a", "/sparql")
    retry = int(refused.value.headers["Retry-After"])
    assert 50 <= retry <= 61  # the one bucket that holds the 2.5 s leaves the window then
    clients.admit("b", "/sparql")


def test_the_window_slides():
    clients = table(client_concurrency=0, client_seconds=1, client_window=1.2)
    clients.release(clients.admit("a", "/sparql"), 5)
    with pytest.raises(TooManyRequests):
        clients.admit("a", "/sparql")
    time.sleep(1.3)
    clients.admit("a", "/sparql")


def test_a_lease_of_a_dead_process_is_freed(monkeypatch):
    clients = table(client_concurrency=1, client_seconds=0)
    clients.admit("a", "/sparql")
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    # pretend the lease was taken by the process that is now gone
    slot = next(i for i in range(clients.slots) if clients._keys[i])
    clients._lease_pid[slot * clients.leases] = pid
    clients.admit("a", "/sparql")


def test_a_full_neighbourhood_shares_a_slot_strictly(monkeypatch):
    """More busy clients than probes in one place: the newcomer shares a budget (stricter,
    never looser)."""
    monkeypatch.setattr(admission, "_key", lambda address: 64 * (1 + len(address)))
    clients = table(client_concurrency=1, client_seconds=0)
    for n in range(admission.PROBES):
        clients.admit("x" * n, "/sparql")  # all hash to slot 0: they fill the probes
    with pytest.raises(TooManyRequests):
        clients.admit("x" * admission.PROBES, "/sparql")


def test_the_table_is_shared_with_forked_workers():
    clients = table(client_concurrency=1, client_seconds=0)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        clients.admit("a", "/sparql")
        os.write(write_fd, b"1")
        time.sleep(5)
        os._exit(0)
    try:
        assert os.read(read_fd, 1) == b"1"
        with pytest.raises(TooManyRequests):  # the child's request counts here
            clients.admit("a", "/sparql")
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    clients.admit("a", "/sparql")  # and is freed when the child is gone


def test_a_held_lock_holds_up_only_the_clients_of_its_part(monkeypatch):
    """A worker that stops while it holds the table's lock (descheduled, or waiting for
    its own interpreter lock) must not hold up every other worker's clients: only those
    whose slots share its part of the table wait (and, past LOCK_SECONDS, are let in
    without the table)."""
    monkeypatch.setattr(admission, "LOCK_SECONDS", 0.05)
    clients = table(client_concurrency=4, client_seconds=0)
    first = next(f"10.0.0.{n}" for n in range(256))
    other = next(f"10.0.1.{n}" for n in range(256) if clients._part(admission._key(
        f"10.0.1.{n}")) != clients._part(admission._key(first)))
    lock = clients._locks[clients._part(admission._key(first))]
    assert lock.acquire(timeout=1)  # as a stopped worker would hold it
    try:
        assert clients.admit(first, "/sparql").exempt  # waited, then let in without it
        lease = clients.admit(other, "/sparql")
        assert not lease.exempt  # its part's lock was free: counted as usual
        clients.release(lease, 0.0)
    finally:
        lock.release()
