"""Both backends for the HTTP-facing tests: the embedded store and a real Virtuoso.

``tests/http``, ``tests/linkeddata``, ``tests/trace`` and ``tests/api`` run every test that
reaches the app or a server twice, once per :data:`BACKENDS` entry, through one
parametrised session fixture, ``backend`` (its id is in the test name:
``test_x[embedded]``, ``test_x[virtuoso]``). Those folders' ``conftest.py`` import
``backend``, ``make_app``, ``app`` and ``client`` from :mod:`tests.backend_fixtures`, so
the fixtures are *their own* (other folders keep ``tests/conftest.py``'s and run once),
and their live-server fixtures start ``peerchange serve`` with :meth:`Backend.serve_args`.
Tests that reach neither (front matter, the CLI over local files) run once. This module is
a plugin of ``tests/conftest.py`` (``pytest_plugins``): its stores are the session's, one
for all four folders.

The Virtuoso side is honest end to end: the session's ``virtuoso`` fixture
(``tests/conftest.py``) receives the shipped data through the real ``peerchange publish``
(a subprocess, Graph Store Protocol path, once per session), and the app is
``create_app(Settings(endpoint=...))`` with a dump folder of its own (the dumps are
rebuilt from the store, never shared with the embedded app's). A data set other than the
shipped one (``--graph IRI=FILE``, extra files) is published into a Virtuoso of its own
(:func:`published_stores`), started once per data set in the session (about ten seconds).

Where an answer legitimately differs between the backends, the test says so with
:func:`expected_for` and a comment giving the reason; nothing is skipped for Virtuoso.
Without Virtuoso installed the ``virtuoso`` cases are skipped locally and fail under
``CI=true`` (``require_tool`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from tests.conftest import ROOT

BACKENDS = ("embedded", "virtuoso")
PASSWORD_VARIABLE = "PEERCHANGE_TEST_STORE_PASSWORD"
T = TypeVar("T")


@dataclass(frozen=True)
class Backend:
    """Which store the app or server under test answers from."""

    name: str
    store: Any = None  # the tests.virtuoso.Virtuoso holding the data, for "virtuoso"

    @property
    def remote(self) -> bool:
        return self.store is not None

    @property
    def endpoint(self) -> str | None:
        """The store's query URL (``serve --endpoint``), ``None`` for the embedded store."""
        return self.store.sparql if self.store is not None else None

    def serve_args(self) -> list[str]:
        """What ``peerchange serve`` needs to answer from this backend."""
        return ["--endpoint", self.store.sparql] if self.remote else []


def expected_for(backend: Backend | str, *, embedded: T, virtuoso: T) -> T:
    """The expected value on ``backend``: for a difference the standard allows (say why
    next to the call)."""
    name = backend if isinstance(backend, str) else backend.name
    return {"embedded": embedded, "virtuoso": virtuoso}[name]


def publish(store: Any, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``peerchange publish`` of the shipped data plus ``args`` (extra files, ``--graph``)
    into ``store``, as a user runs it (Graph Store Protocol, Digest login). The OWL phase of
    the validation is left out: ``tests/cli/test_validate.py`` and ``tests/publish`` run it."""
    command = [sys.executable, "-m", "peerchange", "publish", "-q", "--no-reasoner",
               "--endpoint", store.sparql, "--update-endpoint", store.sparql_auth,
               "--graph-store", store.graph_store, "--user", "dba",
               "--password-env", PASSWORD_VARIABLE, *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERCHANGE_")}
    env[PASSWORD_VARIABLE] = "dba"
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"peerchange publish {' '.join(args)} exited with {done.returncode}:\n"
                    f"{done.stdout}\n{done.stderr}", pytrace=False)
    return done


# Virtuoso's SPARQL account may not call other endpoints (SERVICE) until it is granted
# the federation views: the configuration a Virtuoso user gives ``serve --endpoint
# --allow-service`` (our own allow-list still refuses everything else before sending).
FEDERATION_GRANTS = ('GRANT SELECT ON DB.DBA.SPARQL_SINV_2 TO "SPARQL"; '
                     'GRANT EXECUTE ON DB.DBA.SPARQL_SINV_IMP TO "SPARQL";')


def allow_federation(store: Any) -> None:
    """Let ``store``'s SPARQL account evaluate ``SERVICE`` (Virtuoso's ``isql``)."""
    done = subprocess.run(["isql-vt", str(store.sql_port), "dba", "dba",
                           f"exec={FEDERATION_GRANTS}"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0 or "Error" in done.stdout + done.stderr:
        pytest.fail(f"isql-vt could not grant federation:\n{done.stdout}\n{done.stderr}",
                    pytrace=False)


@pytest.fixture(scope="session")
def published_virtuoso(virtuoso) -> Any:
    """The session's Virtuoso with the shipped data published into it (once), allowed to
    federate (:func:`allow_federation`)."""
    publish(virtuoso)
    allow_federation(virtuoso)
    return virtuoso


PublishedStore = Callable[..., Any]


@pytest.fixture(scope="session")
def published_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublishedStore]:
    """Return ``store(*publish_args)``: a Virtuoso of its own holding the shipped data plus
    ``publish_args`` (``--graph IRI=FILE``, extra files), started and published once per
    distinct set of arguments; all stopped at the end of the session."""
    from tests.virtuoso import running_virtuoso

    stores: dict[tuple[str, ...], Any] = {}
    with contextlib.ExitStack() as running:

        def store(*args: str) -> Any:
            if args not in stores:
                stores[args] = running.enter_context(
                    running_virtuoso(tmp_path_factory, "virtuoso-data"))
                publish(stores[args], *args)
            return stores[args]

        yield store


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``virtuoso`` cases are slow: they need a Virtuoso started and published into
    (seconds), which the fast inner loop leaves out (``-m "not slow"``)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if (callspec is not None and callspec.params.get("backend") == "virtuoso"
                and not item.get_closest_marker("slow")):
            item.add_marker(pytest.mark.slow)
