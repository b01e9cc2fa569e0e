"""The search over a remote store (Virtuoso holding the shipped graphs) has the index and
the answers of the embedded store: the index query reads the same entries on both."""

from __future__ import annotations

import pytest

from tests.remote.conftest import published, remote_app  # noqa: F401 (fixtures)

TEXTS = ["role modelling", "Bandura1977", "engagement", "theory", "gillard", "hope",
         "sosial lurning", "modeling rol", "xyzzy-nothing", "Social Learning Theory"]


def answers(service, text: str):
    found = service.search(text)
    return ([(h.entry.iri, h.score, h.name, h.exact) for h in found.hits],
            [(h.entry.iri, h.score, h.name) for h in found.suggestions])


@pytest.mark.slow  # a Virtuoso
def test_the_remote_index_and_answers_are_the_embedded_ones(remote_app, app):  # noqa: F811
    remote, embedded = remote_app.services.search, app.services.search
    assert remote_app.services.graph.backend == "remote"
    assert [(e.iri, e.kind, e.label, e.key, e.names) for e in remote.entries] == [
        (e.iri, e.kind, e.label, e.key, e.names) for e in embedded.entries]
    for text in TEXTS:
        assert answers(remote, text) == answers(embedded, text), text
