"""The search index is kept in the dumps' folder across restarts of ``peerchange serve``:
a server over the same data reads the file the last one wrote (shown by a name written
into that file, which the store does not hold), and a server over other data builds its
own."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, start_server, stop_and_check, write_synth

MARKER = "kept index marker"


def serve(data: Path, dumps: Path, log: Path):
    port = free_port()
    return start_server(["--port", str(port), "--workers", "1", "-q", str(data)],
                        defaults=False, port=port, log=log,
                        env={"PEERCHANGE_DUMPS_DIR": str(dumps)})


def search(srv, text: str) -> requests.Response:
    return requests.get(srv.base + "/search", params={"q": text, "format": "json"},
                        allow_redirects=False, timeout=120)


@pytest.mark.slow  # three servers
def test_a_restart_reads_the_kept_index_until_the_data_changes(cli, tmp_path):
    dumps = tmp_path / "dumps"
    data = write_synth(cli, tmp_path / "studies.nq", "2", "5")
    first = serve(data, dumps, tmp_path / "first.log")
    try:
        assert search(first, "role modelling").status_code in (200, 303)
    finally:
        stop_and_check(first)
    kept = sorted(dumps.glob("search-*.json.gz"))
    assert len(kept) == 1, kept
    # a name only the file holds: found after a restart means the file was read
    with gzip.open(kept[0], "rt", encoding="utf-8") as f:
        doc = json.load(f)
    iri = doc["entries"][0][0]
    doc["entries"][0][4].append(MARKER)
    with gzip.open(kept[0], "wt", encoding="utf-8") as f:
        json.dump(doc, f)

    again = serve(data, dumps, tmp_path / "again.log")
    try:
        resp = search(again, MARKER)
        assert resp.status_code == 303, resp.text
        assert iri.rsplit("/", 1)[-1] in resp.headers["Location"]
    finally:
        stop_and_check(again)

    # other data: another data version, its own index (read from the store)
    other = write_synth(cli, tmp_path / "other.nq", "2", "6")
    changed = serve(other, dumps, tmp_path / "changed.log")
    try:
        assert search(changed, MARKER).status_code == 404
    finally:
        stop_and_check(changed)
    assert len(list(dumps.glob("search-*.json.gz"))) == 2
