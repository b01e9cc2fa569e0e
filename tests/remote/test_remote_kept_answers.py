"""Over a remote store (``--endpoint``) the home page's summary and a store-wide canned
answer are kept in the dumps folder under the published data version, as over the
embedded store: a second app over the same folder reads them and sends the store none of
their queries, and answers the same bytes."""

from __future__ import annotations

import pytest

from peerchange.services import home
from peerchange.services.sparql import SparqlService

pytestmark = pytest.mark.slow

STORE_WIDE = ("/api/claims-by-status?status=https%3A%2F%2Fw3id.org%2Fpeerchange%2Fonto%2F"
              "StatedInSource&scope=store")
URLS = ("/", STORE_WIDE, STORE_WIDE + "&format=csv")


def test_a_second_app_reads_the_kept_answers(published, tmp_path, monkeypatch):
    from peerchange.web import create_app
    from tests.conftest import app_settings

    folder = tmp_path / "dumps"
    folder.mkdir()
    (tmp_path / "link").symlink_to(folder)  # the same folder under another name: another
    # key of the in-process memo, as in another worker
    ran: list[str] = []
    execute = SparqlService.execute

    def spying(self, prepared, fmt=None, **kwargs):
        ran.append(prepared.name)
        return execute(self, prepared, fmt, **kwargs)

    monkeypatch.setattr(SparqlService, "execute", spying)
    first = create_app(app_settings(folder, endpoint=published.sparql)).test_client()
    answers = [first.get(url) for url in URLS]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert set(home.SUMMARY_QUERIES) <= set(ran) and "api/claims-by-status" in ran
    version = first.application.services.graph.version
    kept = sorted(p.name.split("-")[0] for p in folder.iterdir() if version in p.name
                  and not p.name.startswith("."))
    assert kept == ["answer", "home"]
    ran.clear()
    second = create_app(app_settings(tmp_path / "link", endpoint=published.sparql)
                        ).test_client()
    again = [second.get(url) for url in URLS]
    assert not set(home.SUMMARY_QUERIES) & set(ran) and "api/claims-by-status" not in ran
    assert [a.data for a in again] == [a.data for a in answers]
