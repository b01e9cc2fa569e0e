"""``peerchange validate`` through the real command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import RDF, SH

from tests.conftest import FIXTURES

INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))


def expectation(path: Path) -> tuple[int, str, str]:
    """Read ``# expect: CODE FOCUS KEYWORD`` from a fixture's header."""
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#\s*expect:\s*(\d)\s+(\S+)\s+(.+?)\s*$", line)
        if m:
            return int(m.group(1)), m.group(2), m.group(3)
    raise AssertionError(f"{path.name} has no '# expect:' line")


@pytest.fixture(scope="module")
def shipped_report(cli, java):
    proc = cli("validate", "--format", "json")
    return proc, json.loads(proc.stdout)


def test_shipped_graph_conforms(shipped_report):
    proc, report = shipped_report
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["conforms"] is True
    assert report["violations"] == 0
    assert [p["name"] for p in report["phases"]] == ["shacl", "owl", "checks"]
    assert all(p["status"] == "passed" for p in report["phases"]), report["phases"]


def test_summary_counts(shipped_report):
    _, report = shipped_report
    s = report["summary"]
    assert s["references"] == 60
    assert s["mechanisms"] == 3
    assert s["theories"] >= 8
    assert s["triples"] > 1000
    assert s["classes"] >= 20
    by_status = s["claims_by_status"]
    assert set(by_status) == {
        "stated in the source",
        "reported in a companion paper",
        "curated inference",
    }
    assert all(n > 0 for n in by_status.values()), by_status
    assert s["claims"] == sum(by_status.values())


def test_progress_goes_to_stderr(shipped_report):
    proc, _ = shipped_report
    for phase in ("[1/3]", "[2/3]", "[3/3]"):
        assert phase in proc.stderr
    assert "loaded" in proc.stderr and "data/claims.ttl" in proc.stderr


def test_text_report(cli, java):
    proc = cli("validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CONFORMS" in proc.stdout
    for word in ("Summary", "triples", "claims by status", "references", "curated inference"):
        assert word in proc.stdout


def test_turtle_report_is_a_shacl_report(cli):
    proc = cli("validate", "--format", "turtle", "--no-reasoner", "-q")
    assert proc.returncode == 0, proc.stderr
    g = Graph().parse(data=proc.stdout, format="turtle")
    report = g.value(predicate=RDF.type, object=SH.ValidationReport, any=False)
    assert g.value(report, SH.conforms) == Literal(True)


def test_no_reasoner_is_reported_as_skipped(cli):
    proc = cli("validate", "--no-reasoner", "--format", "json", "-q")
    assert proc.returncode == 0, proc.stderr
    phases = {p["name"]: p for p in json.loads(proc.stdout)["phases"]}
    assert phases["owl"]["status"] == "skipped"
    assert "--no-reasoner" in phases["owl"]["note"]
    assert proc.stderr == ""


def test_at_least_twelve_invalid_fixtures():
    assert len(INVALID) >= 12


@pytest.mark.parametrize("fixture", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_is_rejected(cli, java, fixture):
    code, focus, keyword = expectation(fixture)
    proc = cli("validate", str(fixture))
    assert proc.returncode == code, proc.stdout + proc.stderr
    if code == 2:
        # could not run (``# expect: 2 line N``): the message names the file and the line
        assert focus == "line", fixture.name
        assert fixture.name in proc.stderr
        assert f"line {keyword}," in proc.stderr, proc.stderr
        assert "syntax error" in proc.stderr
        assert proc.stdout == ""
    else:
        assert "DOES NOT CONFORM" in proc.stdout
        assert focus in proc.stdout or _short(focus) in proc.stdout, proc.stdout
        assert keyword.lower() in proc.stdout.lower(), proc.stdout


def _short(iri: str) -> str:
    from peerchange.core.namespaces import shorten

    return shorten(iri)


def test_missing_file_exits_2(cli):
    proc = cli("validate", "--no-reasoner", "no/such/file.ttl")
    assert proc.returncode == 2
    assert "no/such/file.ttl: no such file" in proc.stderr


def test_unknown_extension_exits_2(cli, tmp_path):
    bad = tmp_path / "notes.docx"
    bad.write_text("hello")
    proc = cli("validate", "--no-reasoner", str(bad))
    assert proc.returncode == 2
    assert "unknown RDF file extension '.docx'" in proc.stderr


def test_bad_graph_option_exits_2(cli):
    proc = cli("validate", "--no-reasoner", "--graph", "not-an-iri")
    assert proc.returncode == 2
    assert "IRI=FILE" in proc.stderr


def test_extra_file_in_another_format_is_validated(cli, tmp_path):
    # a valid extra file in N-Triples loads into its own graph and still conforms
    extra = tmp_path / "note.nt"
    extra.write_text(
        '<https://example.org/x> <http://www.w3.org/2000/01/rdf-schema#label> "x"@en .\n'
    )
    proc = cli("validate", "--no-reasoner", "--format", "json", "-q", str(extra))
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["conforms"] is True
