"""``peerchange export DIR`` writes the same dumps for static publishing."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest

from tests.linkeddata.conftest import parse_rdf, quads_per_graph

EXPECTED = ["peerchange.ttl", "peerchange.nt.gz", "peerchange.nq.gz", "peerchange.jsonld",
            "SHA256SUMS", "manifest.json", "void.ttl"]


@pytest.fixture(scope="module")
def exported(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "site"
    result = cli("export", str(out), "--base-url", "https://data.example.org/peerchange/",
                 timeout=300)
    assert result.returncode == 0, result.stderr
    return out, result


def test_export_writes_release_and_latest(exported, app):
    out, result = exported
    release = app.test_client().get("/health").get_json()["ontology_version"]
    for folder in (release, "latest"):
        for name in EXPECTED:
            assert (out / folder / name).is_file(), f"{folder}/{name}"
        assert any((out / folder / "graphs").glob("*.ttl"))
    assert (out / release / "peerchange.nq.gz").read_bytes() == \
        (out / "latest" / "peerchange.nq.gz").read_bytes()


def test_export_shows_progress_and_a_summary(exported):
    _, result = exported
    assert "wrote peerchange.ttl" in result.stderr
    assert "[1/" in result.stderr  # numbered steps
    assert "peerchange.nq.gz" in result.stdout


def test_exported_files_parse_and_match_the_server(exported, client):
    out, _ = exported
    folder = out / "latest"
    health = client.get("/health").get_json()
    turtle = parse_rdf((folder / "peerchange.ttl").read_bytes(), "text/turtle")
    ntriples = parse_rdf(gzip.decompress((folder / "peerchange.nt.gz").read_bytes()),
                         "application/n-triples")
    jsonld = parse_rdf((folder / "peerchange.jsonld").read_bytes(), "application/ld+json")
    assert len(turtle) == len(ntriples) == len(jsonld) == health["triples"]
    quads = quads_per_graph(gzip.decompress((folder / "peerchange.nq.gz").read_bytes()))
    assert sum(quads.values()) == health["triples"]
    assert len(quads) == health["named_graphs"]
    # the same dumps as the server's
    with client.get("/dumps/latest/peerchange.nt.gz") as resp:
        assert resp.data == (folder / "peerchange.nt.gz").read_bytes()


def test_exported_checksums_and_void(exported):
    out, _ = exported
    folder = out / "latest"
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    manifest = json.loads((folder / "manifest.json").read_text())
    void = (folder / "void.ttl").read_text()
    assert f"<https://data.example.org/peerchange/dumps/{manifest['release']}/peerchange.ttl>" \
        in void
    assert len(parse_rdf(void, "text/turtle")) > 100


def test_export_again_replaces_the_files(cli, tmp_path):
    out = tmp_path / "site"
    (out / "latest").mkdir(parents=True)
    (out / "latest" / "stale.txt").write_text("old")
    (out / "keep.txt").write_text("not ours")
    result = cli("export", str(out), "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert not (out / "latest" / "stale.txt").exists()
    assert (out / "keep.txt").read_text() == "not ours"


def test_export_to_a_file_fails_clearly(cli, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    result = cli("export", str(target))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(target) in result.stderr


def test_export_help(cli):
    result = cli("export", "--help")
    assert result.returncode == 0
    assert "static" in result.stdout
