"""``peerchange serve FILE --store DIR`` as a user runs it: progress while a large source
loads (plain lines when standard error is not a terminal), nothing with ``-q``, and a
restart that serves the built store."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import free_port, start_server, stop_and_check
from tests.store.conftest import pointer, stores

# each test starts `peerchange serve` (seconds)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def serve(tmp_path, name, *args):
    port = free_port()
    return start_server(["--port", str(port), "--workers", "1", *args],
                        log=tmp_path / f"{name}.log", port=port, defaults=False)


def test_progress_lines_then_a_quiet_restart_on_the_built_store(synth_nt, tmp_path):
    folder = tmp_path / "store"
    first = serve(tmp_path, "first", str(synth_nt), "--store", str(folder))
    try:
        health = requests.get(first.health, timeout=10).json()
    finally:
        stop_and_check(first)
    log = first.output()
    assert f"loading {synth_nt}: 100% of" in log or "studies.nt: 100% of" in log
    assert "statements (" in log and "/s)" in log and "s left" in log
    assert "\r" not in log  # plain lines, not a terminal's bar
    built = pointer(folder), stores(folder)

    again = serve(tmp_path, "again", str(synth_nt), "--store", str(folder), "-q")
    try:
        health_again = requests.get(again.health, timeout=10).json()
    finally:
        stop_and_check(again)
    assert "loading" not in again.output()
    assert (pointer(folder), stores(folder)) == built
    assert health_again["triples"] == health["triples"]
    assert health_again["data_version"] == health["data_version"]
    assert health_again["named_graphs"] == health["named_graphs"]
