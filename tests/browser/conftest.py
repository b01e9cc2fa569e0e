"""Fixtures of the browser tests: one live server and one Chromium per session (per xdist
worker), a fresh browser context per test.

- ``site``: ``peerchange serve`` (gunicorn, via ``start_live_server``) of the shipped graph
  plus the hostile data file (:mod:`tests.browser.harness`);
- ``browser``: Debian's Chromium under Playwright; without it (or without the Python
  packages) the tests are skipped locally with the reason, and fail when ``CI=true``,
  as the ``java`` fixture does;
- ``page``: a new page at the live server (1280 px wide) whose requests, console errors,
  uncaught errors and dialogs are recorded in ``page.watch`` (:class:`Watch`).

Every test module marks itself ``browser`` and ``slow``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import (
    BROWSER_REASON,
    Watch,
    launch_chromium,
    missing_browser,
    new_context,
    origin_of,
    write_hostile_data,
)
from tests.conftest import IN_CI, Server


def require_browser() -> None:
    """Skip when Chromium or the Python packages are missing locally; fail under CI."""
    why = missing_browser()
    if why is None:
        return
    message = f"{why} ({BROWSER_REASON}); tests/setup.sh installs it"
    if IN_CI:
        pytest.fail(message + " — CI must install it", pytrace=False)
    pytest.skip(message)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser"):
        require_browser()


@pytest.fixture(scope="session")
def hostile_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extra Turtle file with a ``<script>`` label and a ``javascript:`` IRI."""
    return write_hostile_data(tmp_path_factory.mktemp("browser-data"))


@pytest.fixture(scope="session")
def site(start_live_server, hostile_data: Path) -> Server:
    """The live server the browser visits: the shipped graph plus the hostile file."""
    return start_live_server(str(hostile_data))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site: Server) -> Iterator[Any]:
    """A page in a fresh context, watched (``page.watch``)."""
    context = new_context(browser, site.base)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.watch = Watch(origin_of(site.base))
    tab.watch.attach(tab)
    yield tab
    context.close()
