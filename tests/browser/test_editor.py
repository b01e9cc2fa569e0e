"""The query editor at ``/sparql`` (YASGUI) in a real browser: the opening query runs with
Ctrl+Enter into a table, a bad query shows the endpoint's message, results download as
CSV, and IRIs in the results link only when they are http(s)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.browser.harness import HOSTILE_MECHANISM, JAVASCRIPT_IRI, SCRIPT_LABEL
from tests.browser.pages import (
    DOWNLOAD,
    EDITOR,
    ERROR,
    ROWS,
    RUN,
    TABLE,
    assert_markup_stays_text,
    goto,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BAD_QUERY = "SELECT ?x WHERE { ?x ?y }"
# what the endpoint says about it (the 400 answer of /sparql)
BAD_QUERY_MESSAGE = "does not parse"
SEE_ALSO_QUERY = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?seeAlso ?label WHERE {{ <{HOSTILE_MECHANISM}> rdfs:seeAlso ?seeAlso ; rdfs:label ?label }}
"""


def open_editor(page):
    goto(page, "/sparql")
    page.wait_for_selector(EDITOR)


def query_text(page) -> str:
    return page.evaluate("(s) => document.querySelector(s).CodeMirror.getValue()", EDITOR)


def set_query(page, text: str) -> None:
    page.evaluate("([s, q]) => document.querySelector(s).CodeMirror.setValue(q)", [EDITOR, text])


def run_with_ctrl_enter(page) -> None:
    page.locator(EDITOR).click()
    page.keyboard.press("Control+Enter")


def wait_for_rows(page, at_least: int = 1):
    from playwright.sync_api import expect

    rows = page.locator(ROWS)
    expect(rows.nth(at_least - 1)).to_be_visible()
    return rows


def test_opening_query_runs_with_ctrl_enter(page) -> None:
    open_editor(page)
    opening = query_text(page)
    assert "PREFIX" in opening and "ChangeMechanism" in opening, opening
    run_with_ctrl_enter(page)
    rows = wait_for_rows(page, 4)  # the three mechanisms and the extra one
    text = page.locator(TABLE).inner_text()
    assert "role-modelling individual recovery" in text
    assert SCRIPT_LABEL in text  # as text, not as markup
    assert_markup_stays_text(page, shows_label=True)
    # the mechanisms' IRIs link to their pages on this server
    hrefs = [a.get_attribute("href") or "" for a in rows.locator("a[href]").all()]
    assert any("/mechanism/role-modelling" in h or "/trace/role-modelling" in h
               for h in hrefs), hrefs
    page.watch.check()


def test_run_button_and_bad_query_shows_the_endpoint_message(page) -> None:
    from playwright.sync_api import expect

    open_editor(page)
    set_query(page, BAD_QUERY)
    page.click(RUN)
    error = page.locator(ERROR)
    expect(error).to_be_visible()
    expect(error).to_contain_text(BAD_QUERY_MESSAGE)
    page.watch.check(allow_failed_loads=True)  # the 400 answer itself


def test_javascript_iri_in_results_is_not_a_link(page) -> None:
    open_editor(page)
    set_query(page, SEE_ALSO_QUERY)
    run_with_ctrl_enter(page)
    wait_for_rows(page, 1)
    assert JAVASCRIPT_IRI in page.locator(TABLE).inner_text()
    assert_markup_stays_text(page, shows_label=True)
    page.watch.check()


# YASR's own download of the table, and the page's link that asks the endpoint for CSV
CSV_DOWNLOADS = {"table": DOWNLOAD, "endpoint": "#download-links a[data-format=csv]"}


@pytest.mark.parametrize("source", CSV_DOWNLOADS)
def test_results_download_as_csv(page, source: str) -> None:
    open_editor(page)
    run_with_ctrl_enter(page)
    wait_for_rows(page, 4)
    with page.expect_download() as info:
        page.locator(CSV_DOWNLOADS[source]).first.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    body = Path(download.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(body)))
    variables = re.findall(r"\?(\w+)", query_text(page).split("WHERE")[0])
    assert table[0] == variables, table[:2]
    assert len(table) >= 5, table  # the header and a row per mechanism
    assert any(SCRIPT_LABEL in cell for row in table for cell in row)
    page.watch.check()


def test_typing_asks_no_other_host(page) -> None:
    """YASQE's autocompleters (prefixes, classes, properties) would ask services on other
    hosts: typing a prefix and prefixed names must send nothing off the server."""
    open_editor(page)
    set_query(page, "")
    page.locator(EDITOR).click()
    for text in ("PREFIX foa", "f: <http://xmlns.com/foaf/0.1/>\n",
                 "SELECT * WHERE { ?s a foaf:Pe", "rson ; foaf:na"):
        page.keyboard.type(text, delay=10)
        page.wait_for_timeout(300)  # the autocompleters ask after a pause
        page.keyboard.press("Escape")
    page.wait_for_load_state("networkidle")
    page.watch.check()


def test_permalink_opens_its_query(page) -> None:
    goto(page, "/sparql#query=" + quote(SEE_ALSO_QUERY, safe=""))
    page.wait_for_selector(EDITOR)
    queries = page.evaluate(
        "(s) => [...document.querySelectorAll(s)].map(e => e.CodeMirror.getValue())", EDITOR)
    assert any("rdfs:seeAlso ?seeAlso" in q for q in queries), queries
    page.watch.check()
