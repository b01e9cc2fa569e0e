"""Bibliography downloads, read back with real parsers: bibtexparser, rispy, citeproc-py."""

from __future__ import annotations

import json

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts

from tests.trace.conftest import MISSION_THEORIES


@pytest.fixture(scope="module")
def reference_keys(app) -> list[str]:
    doc = app.test_client().get("/references.json").get_json()
    assert doc["count"] == 60
    return [w["key"] for w in doc["works"]]


def parse_bibtex(text: str):
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert library.failed_blocks == []
    return library


def test_full_bibtex_export_parses_and_has_all_60_references(client, reference_keys):
    resp = client.get("/references.bib")
    assert resp.status_code == 200
    assert resp.content_type == "application/x-bibtex; charset=utf-8"
    library = parse_bibtex(resp.get_data(as_text=True))
    assert len(library.entries) == 60
    assert sorted(e.key for e in library.entries) == sorted(reference_keys)
    by_key = {e.key: e for e in library.entries}
    festinger = by_key["Festinger1955"]
    assert festinger.entry_type == "article"
    assert festinger["doi"] == "10.1177/001872675400700202"
    assert festinger["journal"] == "Human Relations"
    assert "1954" in festinger["annote"]  # the correction note travels with the entry
    assert by_key["Bandura1977"].entry_type == "book"
    assert by_key["Bandura1977"]["publisher"] == "Prentice-Hall"
    assert by_key["MRC2008"].entry_type == "techreport"
    assert by_key["Rusch2014"]["author"].startswith("Rüsch, N.")
    # names as BibTeX splits them: an organisation stays one name, initials are given names
    names = bibtexparser.parse_string(
        resp.get_data(as_text=True), append_middleware=[SeparateCoAuthors(), SplitNameParts()])
    authors = {e.key: e["author"] for e in names.entries}
    assert [(n.last, n.first) for n in authors["MRC2008"]] == [
        (["{Medical Research Council}"], [])]
    assert (authors["VanDerPost2013"][0].last, authors["VanDerPost2013"][0].first) == (
        ["{Van der Post}"], ["L.", "F."])
    assert "doi" not in by_key["Bandura1977"].fields_dict


def test_full_ris_export_parses_and_has_all_60_references(client, reference_keys):
    resp = client.get("/references.ris")
    assert resp.status_code == 200
    assert resp.content_type.startswith("application/x-research-info-systems")
    records = rispy.loads(resp.get_data(as_text=True))
    assert len(records) == 60
    assert sorted(r["id"] for r in records) == sorted(reference_keys)
    by_key = {r["id"]: r for r in records}
    assert by_key["Festinger1955"]["type_of_reference"] == "JOUR"
    assert by_key["Festinger1955"]["doi"] == "10.1177/001872675400700202"
    assert any("1954" in n for n in by_key["Festinger1955"]["notes"])
    assert by_key["Bowlby1973"]["type_of_reference"] == "BOOK"
    assert by_key["Bowlby1973"]["authors"] == ["Bowlby, J."]


def test_full_csl_json_export_has_60_items_with_keys_as_ids(client, reference_keys):
    resp = client.get("/references.csl.json")
    assert resp.status_code == 200
    assert resp.content_type.startswith("application/vnd.citationstyles.csl+json")
    items = json.loads(resp.data)
    assert len(items) == 60
    assert [i["id"] for i in items] == reference_keys
    for item in items:
        assert item["type"] in {"article-journal", "book", "report"}
        assert item["title"] and item["issued"]["date-parts"][0][0] > 1900
    by_id = {i["id"]: i for i in items}
    assert by_id["Festinger1955"]["DOI"] == "10.1177/001872675400700202"
    assert by_id["MRC2008"]["author"] == [{"literal": "Medical Research Council"}]


def test_csl_json_renders_with_citeproc(client):
    """citeproc-py reads the CSL-JSON and formats every reference with a CSL style."""
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    items = json.loads(client.get("/references.csl.json").data)
    for item in items:  # CSL 1.0.2's citation-key is newer than citeproc-py's model
        item.pop("citation-key")
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bib = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for item in items:
        bib.register(Citation([CitationItem(item["id"])]))
    rendered = [str(entry) for entry in bib.bibliography()]
    assert len(rendered) == 60
    assert any(r.startswith("Bandura, A. (1977) Social Learning Theory") for r in rendered)


@pytest.mark.parametrize(("slug", "keys"), [
    ("role-modelling", {"Bandura1977", "Festinger1955"}),
    ("trusting-relationships", {"Bordin1979", "Bowlby1973"}),
    ("engagement", {"Bowlby1973"}),
])
def test_trace_bibliographies_contain_the_founding_texts(client, json_traces, slug, keys):
    expected = {w["key"] for w in json_traces[slug]["works"]}
    assert keys <= expected
    bib = client.get(f"/trace/{slug}/bibliography.bib")
    assert bib.status_code == 200
    assert "attachment" in bib.headers["Content-Disposition"]
    assert {e.key for e in parse_bibtex(bib.get_data(as_text=True)).entries} == expected
    ris = rispy.loads(client.get(f"/trace/{slug}/bibliography.ris").get_data(as_text=True))
    assert {r["id"] for r in ris} == expected
    csl = json.loads(client.get(f"/trace/{slug}/bibliography.csl.json").data)
    assert {i["id"] for i in csl} == expected


def test_the_four_founding_texts_are_in_the_union_of_trace_bibliographies(client):
    keys = set()
    for slug in ("role-modelling", "trusting-relationships", "engagement"):
        library = parse_bibtex(
            client.get(f"/trace/{slug}/bibliography.bib").get_data(as_text=True))
        keys |= {e.key for e in library.entries}
    assert set(MISSION_THEORIES.values()) <= keys


def test_unknown_bibliography_file_is_404(client):
    assert client.get("/trace/engagement/bibliography.doc").status_code == 404
    assert client.get("/references.doc").status_code == 404
    resp = client.get("/trace/xyzzy/bibliography.bib")
    assert resp.status_code == 404


def test_references_page_shows_printed_text_and_corrections(client):
    html = client.get("/references").get_data(as_text=True)
    assert "Reference list of Gillard et al. (2015)" in html
    assert "Printed as 1955, pages 117142" in html
    assert 'href="https://doi.org/10.1177/001872675400700202"' in html
