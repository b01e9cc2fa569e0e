"""The browser harness: Debian's Chromium driven by Playwright, a watch on every page, and
the data file with hostile labels. Shared by the browser tests (``conftest.py``) and the
screenshot script (``docs/screenshots/make.py``).

Playwright cannot download its own browser builds here, so it drives the system
``chromium`` (``apt-get install chromium``; ``tests/setup.sh`` installs it) through
``executable_path``; ``playwright install`` is never run. As root, Chromium needs
``--no-sandbox``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BROWSER_REASON = "the browser tests drive Debian's Chromium with Playwright"
VIEWPORT = {"width": 1280, "height": 900}

# The hostile label and IRI of the extra data file (:func:`write_hostile_data`).
SCRIPT_LABEL = "<script>alert(1)</script> hostile mechanism"
JAVASCRIPT_IRI = "javascript:alert(2)"
JAVASCRIPT_THEORY = "javascript:alert(3)"  # a node of the diagram
HOSTILE_SLUG = "browser-hostile"
HOSTILE_MECHANISM = f"https://w3id.org/peerchange/id/mechanism/{HOSTILE_SLUG}"
MODEL = "https://w3id.org/peerchange/id/model/peer-worker-change-model"

HOSTILE_TURTLE = f"""\
# Written by the browser tests: a mechanism of the paper's model whose label holds markup,
# which points at a javascript: IRI and is grounded in a theory named by one. Every page
# must show the label as text and must never turn such an IRI into a link.
@prefix pcm: <https://w3id.org/peerchange/onto/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

<{MODEL}> pcm:hasMechanism <{HOSTILE_MECHANISM}> .

<{HOSTILE_MECHANISM}>
    a pcm:ChangeMechanism ;
    rdfs:label "{SCRIPT_LABEL}"@en ;
    skos:definition "A mechanism made up by the browser tests; <b>not bold</b>."@en ;
    pcm:groundedIn <https://w3id.org/peerchange/id/theory/social-learning>,
        <{JAVASCRIPT_THEORY}> ;
    rdfs:seeAlso <{JAVASCRIPT_IRI}> .

<{JAVASCRIPT_THEORY}>
    a pcm:Theory ;
    rdfs:label "theory behind a javascript: IRI"@en .
"""


def write_hostile_data(folder: Path) -> Path:
    """Write the extra Turtle file into ``folder`` and return its path."""
    path = folder / "browser-hostile.ttl"
    path.write_text(HOSTILE_TURTLE, encoding="utf-8")
    return path


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    for module, package in (("playwright", "playwright"),
                            ("axe_playwright_python", "axe-playwright-python")):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {package} is not installed"
    if not shutil.which("chromium"):
        return "chromium is not installed"
    return None


def launch_chromium(playwright: Any) -> Any:
    """Launch the system Chromium headless (never a browser Playwright downloads)."""
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return playwright.chromium.launch(executable_path=shutil.which("chromium"), args=args,
                                      headless=True)


def new_context(browser: Any, base_url: str) -> Any:
    """A fresh browser context on ``base_url``: 1280 px wide, downloads accepted."""
    return browser.new_context(base_url=base_url, viewport=VIEWPORT, accept_downloads=True,
                               locale="en-GB")


FAILED_LOAD = "Failed to load resource"
LOCAL_SCHEMES = {"data", "blob", "about"}


@dataclass
class Watch:
    """What a page did: every request, console error, uncaught error and dialog."""

    origin: str  # scheme://host:port of the live server
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("dialog", self._dialog)

    def _console(self, msg: Any) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        text = f"{msg.text} (at {where})" if where else msg.text
        if msg.text.startswith(FAILED_LOAD):
            # an HTTP error status (a 404 page, a 400 from a bad query) is logged by
            # Chromium as a console error: kept apart, the tests that expect one allow it.
            # The browser's own request for /favicon.ico (made irregularly when a page
            # names no icon) is not the page's
            if urlsplit(where).path != "/favicon.ico":
                self.failed_loads.append(text)
            return
        self.console_errors.append(text)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def foreign_requests(self) -> list[str]:
        """Requests to anything but the live server."""
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if f"{parts.scheme}://{parts.netloc}" != self.origin:
                out.append(url)
        return out

    def problems(self, allow_failed_loads: bool = False) -> list[str]:
        found = [f"console error: {m}" for m in self.console_errors]
        if not allow_failed_loads:
            found += [f"console error: {m}" for m in self.failed_loads]
        found += [f"uncaught error: {m}" for m in self.page_errors]
        found += [f"dialog opened: {m}" for m in self.dialogs]
        found += [f"request to another host: {u}" for u in self.foreign_requests()]
        return found

    def check(self, allow_failed_loads: bool = False) -> None:
        problems = self.problems(allow_failed_loads)
        assert not problems, "\n".join(problems)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
