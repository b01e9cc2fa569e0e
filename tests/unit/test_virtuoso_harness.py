"""The Virtuoso the remote-store tests use starts, answers and keeps our caps."""

from __future__ import annotations

import requests


def test_virtuoso_answers_with_raised_caps(virtuoso):
    answer = requests.get(virtuoso.sparql, params={"query": "ASK {}"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["boolean"] is True
    ini = (virtuoso.folder / "virtuoso.ini").read_text()
    assert "ResultSetMaxRows           = 10000000" in ini
    assert str(virtuoso.http_port) in ini
