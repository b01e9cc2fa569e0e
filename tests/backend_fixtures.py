"""The one parametrised fixture of the HTTP-facing tests: :func:`backend`, and the app, its
client and ``make_app`` over it (see :mod:`tests.backends`, which says what each backend is).

``tests/http``, ``tests/linkeddata``, ``tests/trace`` and ``tests/api`` import these in their
``conftest.py``, so the fixtures are those folders' own: pytest resolves a fixture from the
test's folder, and the other folders keep ``tests/conftest.py``'s app and client and run once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.backends import BACKENDS, Backend
from tests.conftest import app_settings


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """The backend under test: the embedded store, or Virtuoso filled by ``peerchange
    publish`` (started only when a ``virtuoso`` case runs)."""
    if request.param == "embedded":
        return Backend("embedded")
    return Backend("virtuoso", request.getfixturevalue("published_virtuoso"))


@pytest.fixture(scope="session")
def make_app(backend: Backend, shipped_graph, dumps_dir: Path,
             tmp_path_factory: pytest.TempPathFactory, published_stores) -> Callable[..., Any]:
    """``make(**settings)`` as in ``tests/conftest.py``, over ``backend``: over Virtuoso the
    app is ``create_app(Settings(endpoint=...))`` (loads nothing), with a dump folder of
    its own; extra files or graphs are published into a Virtuoso of their own."""
    from peerchange.web import create_app

    remote_dumps = tmp_path_factory.mktemp("dumps-virtuoso") if backend.remote else None
    apps: dict[str, Any] = {}

    def make(**overrides: Any):
        key = repr(sorted(overrides.items()))
        if key in apps:
            return apps[key]
        if not backend.remote:
            settings = app_settings(dumps_dir, **overrides)
            own_graph = settings.extra_files or settings.graphs or settings.store
            app = create_app(settings, None if own_graph else shipped_graph)
        else:
            extra = list(overrides.pop("extra_files", []) or [])
            for pair in overrides.pop("graphs", []) or []:
                extra += ["--graph", pair]
            overrides.pop("store", None)  # an on-disk store is the embedded backend's
            store = published_stores(*extra) if extra else backend.store
            app = create_app(app_settings(remote_dumps, endpoint=store.sparql, **overrides))
        app.config["TESTING"] = True
        apps[key] = app
        return app

    return make


@pytest.fixture(scope="session")
def app(make_app: Callable[..., Any]):
    """The app over the shipped data on ``backend`` (built once per backend)."""
    return make_app()


@pytest.fixture(scope="session")
def client(app):
    """A Flask test client of :func:`app`."""
    return app.test_client()

