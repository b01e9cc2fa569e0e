"""A reader's path through the site: the home page's diagram to a mechanism, on to a theory
and a work it cites; the search box; the skip link."""

from __future__ import annotations

import re

import pytest

from tests.browser.harness import HOSTILE_SLUG, SCRIPT_LABEL
from tests.browser.pages import assert_markup_stays_text, goto

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIGURE = "figure#change-model"
MECHANISM_NODES = f"{FIGURE} svg g.node.mechanism"
WORK_LINKS = "main a[href*='/cited/'], main a[href*='/id/ref/']"
WORK_PAGE = re.compile(r"/(cited/[^/.]+|id/ref/[^/]+\.html)$")


def test_diagram_to_mechanism_theory_and_cited_work(page) -> None:
    from playwright.sync_api import expect

    goto(page, "/")
    node = page.locator(MECHANISM_NODES).filter(has_text="role-modelling").locator("a").first
    expect(node).to_be_visible()
    node.click()
    page.wait_for_url(re.compile(r"/trace/role-modelling$"))
    expect(page.locator("h1")).to_contain_text("role-modelling")

    theory = page.locator("section:has(#theories) a[href*='/id/theory/']").first
    expect(theory).to_be_visible()
    theory.click()
    page.wait_for_url(re.compile(r"/id/theory/[^/]+\.html$"))
    expect(page.locator("h1")).to_contain_text("theory")

    # a work the theory rests on: its page of citing claims (/cited/{Key}, as the contract
    # has it) or, where a page links the work's IRI, the work's record (/id/ref/{Key})
    work = page.locator(WORK_LINKS).first
    expect(work).to_be_visible()
    title = work.inner_text()
    work.click()
    page.wait_for_url(WORK_PAGE)
    expect(page.locator("h1")).to_be_visible()
    assert title.split(":")[0].split()[0] in page.locator("main").inner_text()
    page.watch.check()


def test_diagram_shows_the_extra_mechanism_as_text(page) -> None:
    goto(page, "/")
    # a node's label may be wrapped over several <text> lines: compare without spaces
    labels = ["".join(t.split()) for t in page.locator(MECHANISM_NODES).all_text_contents()]
    assert any("".join(SCRIPT_LABEL.split()) in t for t in labels), labels
    link = page.locator(MECHANISM_NODES).filter(has_text="hostile").locator("a").first
    href = link.get_attribute("href") or link.get_attribute("xlink:href")
    assert href is not None and href.endswith(f"/trace/{HOSTILE_SLUG}"), href
    # the theory named by a javascript: IRI is drawn, but not as a link
    theory = page.locator(f"{FIGURE} svg g.node.theory").filter(has_text="javascript: IRI")
    assert theory.count() == 1
    assert not theory.locator("a[href], a[*|href]").count()
    assert_markup_stays_text(page, shows_label=True)
    page.watch.check()


def test_diagram_text_equivalent_links_the_same_pages(page) -> None:
    goto(page, "/")
    text_links = page.locator(f"{FIGURE} #diagram-text a")
    hrefs = {a.get_attribute("href") for a in text_links.all()}
    assert any(h and h.endswith("/trace/role-modelling") for h in hrefs), hrefs


def test_search_box_finds_a_theory(page) -> None:
    goto(page, "/trace")
    page.fill("#site-search", "social learning theory")
    page.press("#site-search", "Enter")
    page.wait_for_load_state("load")
    if "/search" in page.url:  # a result list: the theory is offered
        page.locator("main a[href*='/id/theory/social-learning']").first.click()
    page.wait_for_url(re.compile(r"/id/theory/social-learning\.html$"))
    page.watch.check()


def test_skip_link_comes_first(page) -> None:
    goto(page, "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.getAttribute('href')")
    assert focused == "#main"
