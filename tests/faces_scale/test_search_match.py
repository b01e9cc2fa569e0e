"""The search over the shipped data plus 30 synthetic studies: what the index holds, and
what a text matches, against the plain definition (each name of each entry scored in
turn), for exact and fuzzy texts of every kind; and the index read back from its file is
the index read from the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from rapidfuzz import fuzz, utils

from peerchange.services.search import (
    KINDS,
    MATCH_SCORE,
    MAX_HITS,
    MAX_SUGGESTIONS,
    SUGGEST_SCORE,
    normalise,
)
from peerchange.services.search_index import index_path, read_index_file

pytestmark = pytest.mark.slow  # the synthetic studies' app


def plain_score(entry, query: str) -> tuple[float, str]:
    """An entry's score and name by the definition: 95-99 when every word of the query is
    in a name (99 at its start, 97 as whole words), else the fuzzy score; the best name,
    the first of equals."""
    words = query.split()
    best: tuple[float, str] = (0.0, entry.label)
    for name in entry.names:
        folded = normalise(name)
        if all(w in folded for w in words):
            whole = all(w in folded.split() for w in words)
            score = 99.0 if folded.startswith(query) else 97.0 if whole else 95.0
        else:
            score = fuzz.WRatio(query, folded, processor=utils.default_process)
        if score > best[0]:
            best = (score, name)
    return best


def plain_search(entries, text: str):
    """What ``text`` matches by the definition: (exact, [(iri, score, name)...])."""
    query = normalise(text)
    exact = []
    for e in entries:
        for name in e.names:
            if normalise(name) == query:
                exact.append((e.iri, 100.0, name))
                break
    if exact:
        return True, exact[:MAX_HITS]
    scored = [(e, *plain_score(e, query)) for e in entries]

    def rank(row):
        return (-row[1], KINDS.index(row[0].kind), row[0].label.casefold())

    hits = sorted((r for r in scored if r[1] >= MATCH_SCORE), key=rank)[:MAX_HITS]
    if hits:
        return False, [(e.iri, s, n) for e, s, n in hits]
    near = sorted((r for r in scored if r[1] >= SUGGEST_SCORE), key=rank)[:MAX_SUGGESTIONS]
    return None, [(e.iri, s, n) for e, s, n in near]


def texts_of(entries) -> list[str]:
    """Texts of every kind: labels as written and shouted, a first word, a typo, a slug,
    a key, two words swapped, and a few of no resource."""
    texts = ["role modelling", "modeling rol", "sosial lurning", "theory", "e", "the",
             "xyzzy nothing", "synthetic", "outcme", "Study 3"]
    for kind in KINDS:
        of_kind = [e for e in entries if e.kind == kind]
        for e in of_kind[:: max(1, len(of_kind) // 3)][:3]:
            words = e.label.split()
            texts += [e.label, e.label.upper(), words[0], e.slug, e.label[:-1] + "q"]
            if e.key:
                texts.append(e.key)
            if len(words) > 1:
                texts.append(f"{words[1]} {words[0]}")
    return texts


def test_every_kind_is_in_the_index(scaled):
    entries = scaled.application.services.search.entries
    assert {e.kind for e in entries} == set(KINDS)
    assert any("synthetic" in e.label.casefold() for e in entries)


def test_a_search_answers_as_the_plain_definition(scaled):
    service = scaled.application.services.search
    entries = service.entries
    kinds = set()
    for text in texts_of(entries):
        found = service.search(text)
        exact, expected = plain_search(entries, text)
        if exact:
            got = [(h.entry.iri, h.score, h.name) for h in found.hits]
            assert all(h.exact for h in found.hits), text
        elif exact is False:
            got = [(h.entry.iri, h.score, h.name) for h in found.hits]
            assert not any(h.exact for h in found.hits), text
        else:
            assert not found.hits, text
            got = [(h.entry.iri, h.score, h.name) for h in found.suggestions]
        assert got == expected, text
        kinds |= {exact}
    assert kinds == {True, False, None}  # exact, partial and suggestions all tried


def test_the_kept_index_is_the_index_read_from_the_store(scaled):
    service = scaled.application.services.search
    path = index_path(service.sparql, Path(service.cache_dir or ""))
    assert service.entries  # built, hence written
    kept = read_index_file(path)
    assert kept is not None, path
    assert [(e.iri, e.kind, e.label, e.key, e.names, e.folded) for e in kept] == [
        (e.iri, e.kind, e.label, e.key, e.names, e.folded) for e in service.entries]


@pytest.mark.parametrize("text", ["role modelling", "Festinger1955", "sosial lurning"])
def test_the_search_page_answers(scaled, text):
    resp = scaled.get("/search", query_string={"q": text, "format": "json"})
    assert resp.status_code in (200, 303, 404)
    if resp.status_code != 303:
        assert resp.get_json()["query"] == text
