"""The page types the browser tests visit, and how to tell markup stayed text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.browser.harness import HOSTILE_SLUG, SCRIPT_LABEL


@dataclass(frozen=True)
class PageType:
    name: str
    path: str
    status: int = 200
    shows_label: bool = False  # shows the hostile mechanism's label


PAGE_TYPES = (
    PageType("home", "/", shows_label=True),
    PageType("editor", "/sparql"),
    PageType("resource", "/id/theory/social-learning"),
    PageType("hostile-resource", f"/id/mechanism/{HOSTILE_SLUG}", shows_label=True),
    PageType("trace", "/trace/role-modelling"),
    PageType("hostile-trace", f"/trace/{HOSTILE_SLUG}", shows_label=True),
    PageType("trace-index", "/trace", shows_label=True),
    PageType("references", "/references"),
    PageType("cited", "/cited/Bandura1977"),
    PageType("search", "/search?q=hostile", shows_label=True),
    PageType("dataset", "/dataset"),
    PageType("dumps", "/dumps/"),
    PageType("not-found", "/id/mechanism/no-such-mechanism", status=404),
    PageType("diagram", "/diagram.svg", shows_label=True),
)
BY_NAME = {p.name: p for p in PAGE_TYPES}

# The query editor (YASGUI) at /sparql
EDITOR = ".yasqe .CodeMirror"
RUN = ".yasqe_queryButton"
TABLE = ".yasr table"
ROWS = ".yasr table tbody tr"
ERROR = ".yasr .errorResult"
DOWNLOAD = ".yasr_downloadIcon"

# Markup of a label that became markup: a script element holding the label's code, an
# element made from the definition's <b>, a link to the javascript: IRI (HTML or SVG).
INJECTED = """() => {
  // the embedded JSON-LD is a data block, never run: it may hold a label's text, as long
  // as it is still one whole JSON document (markup in the data did not close it)
  const isData = s => s.type === 'application/ld+json'
    && (() => { try { JSON.parse(s.textContent); return true; } catch (e) { return false; } })();
  const scripts = [...document.querySelectorAll('script')]
    .filter(s => s.textContent.includes('alert(') && !isData(s));
  const links = [...document.querySelectorAll('a')].filter(a => {
    const h = a.getAttribute('href') || a.getAttributeNS('http://www.w3.org/1999/xlink', 'href')
      || '';
    return h.trim().toLowerCase().startsWith('javascript:');
  });
  return {scripts: scripts.map(s => s.outerHTML), links: links.map(a => a.outerHTML)};
}"""


def goto(page: Any, path: str, status: int = 200) -> Any:
    """Open ``path`` and check the status of the page's response."""
    response = page.goto(path, wait_until="load")
    assert response is not None, path
    assert response.status == status, f"{path}: {response.status}"
    return response


def assert_markup_stays_text(page: Any, shows_label: bool) -> None:
    """No script or ``javascript:`` link came from the data; the label is shown as text."""
    found = page.evaluate(INJECTED)
    assert not found["scripts"], f"a label became a script: {found['scripts']}"
    assert not found["links"], f"a javascript: IRI became a link: {found['links']}"
    if shows_label:
        # compared without spaces: the diagram wraps a label over several <text> lines
        text = "".join(page.evaluate("() => document.documentElement.textContent").split())
        assert "".join(SCRIPT_LABEL.split()) in text, f"{SCRIPT_LABEL!r} is not shown as text"
