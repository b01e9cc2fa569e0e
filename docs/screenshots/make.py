"""Make the screenshots in this folder: the home page, the change-model diagram, a trace page
and the query editor with results, each a PNG 1280 px wide.

Run from the repository root, in the virtual environment with the test extra installed
(``sh tests/setup.sh``)::

    python docs/screenshots/make.py

It starts ``peerchange serve`` (the shipped graph only) on a free port and drives Debian's
Chromium with Playwright exactly as the browser tests do (:mod:`tests.browser.harness`).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.harness import (  # noqa: E402
    launch_chromium,
    missing_browser,
    new_context,
)
from tests.conftest import start_server  # noqa: E402

TRACE = "/trace/role-modelling"


def shoot(page, name: str, height: int | None = None) -> Path:
    """The top of the page: the viewport, or ``height`` px of the full page."""
    path = HERE / f"{name}.png"
    clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}
    page.screenshot(path=str(path), full_page=height is not None,
                    clip=clip if height else None)
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def shoot_region(page, top: str, bottom: str, name: str, margin: float = 16) -> Path:
    """The page's full width (1280 px) from the top of ``top`` to the bottom of ``bottom``."""
    boxes = []
    for selector in (top, bottom):
        box = page.locator(selector).first.bounding_box()
        if box is None:
            raise SystemExit(f"{selector} is not on {page.url}")
        boxes.append(box)
    y = max(0.0, boxes[0]["y"] - margin)
    height = boxes[1]["y"] + boxes[1]["height"] + margin - y
    path = HERE / f"{name}.png"
    page.screenshot(path=str(path), full_page=True,
                    clip={"x": 0, "y": y, "width": page.viewport_size["width"], "height": height})
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def main() -> int:
    why = missing_browser()
    if why:
        print(f"cannot make screenshots: {why}; run sh tests/setup.sh", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(["--dumps-dir", str(Path(tmp) / "dumps")],
                              log=Path(tmp) / "serve.log")
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                context = new_context(browser, server.base)
                page = context.new_page()

                page.goto("/", wait_until="networkidle")
                shoot(page, "home")
                shoot_region(page, "figure#change-model", "figure#change-model svg", "diagram")

                page.goto(TRACE, wait_until="networkidle")
                shoot(page, "trace", height=1800)

                page.goto("/sparql", wait_until="networkidle")
                page.locator(".yasqe .CodeMirror").click()
                page.keyboard.press("Control+Enter")
                page.locator(".yasr table tbody tr").first.wait_for()
                page.wait_for_load_state("networkidle")
                shoot_region(page, "body", "#downloads", "editor")
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
