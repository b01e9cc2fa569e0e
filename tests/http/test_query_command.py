"""``peerchange query`` through the real command line: the embedded graph and, with
``--endpoint``, the live server (SPARQLWrapper is the client)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest
import rdflib

from tests.conftest import ROOT
from tests.http.conftest import clean_env, free_port

pytestmark = pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning"
)

MECHANISMS = (
    "PREFIX pcm: <https://w3id.org/peerchange/onto/>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "SELECT ?mechanism ?label WHERE { ?mechanism a pcm:ChangeMechanism ; rdfs:label ?label }\n"
    "ORDER BY ?mechanism"
)
PAPER = "https://w3id.org/peerchange/id/ref/Gillard2015"
CITATIONS = (
    "PREFIX cito: <http://purl.org/spar/cito/>\n"
    f"CONSTRUCT {{ <{PAPER}> cito:cites ?w }} WHERE {{ <{PAPER}> cito:cites ?w }}"
)


def peerchange(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "peerchange", *args], cwd=ROOT, env=clean_env(),
        input=stdin, capture_output=True, text=True, timeout=120,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def failed(proc: subprocess.CompletedProcess[str]) -> str:
    """A refused command: exit code 2, one clear message on standard error, no trace."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("Error: "), proc.stderr
    assert "Traceback" not in proc.stderr and 'File "' not in proc.stderr
    return proc.stderr


def table_rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    assert set(lines[1].replace(" ", "")) == {"-"}, "second line underlines the header"
    return [re.split(r"\s{2,}", line, maxsplit=1) for line in lines[2:-1]]


# ------------------------------------------------------------------ embedded graph

def test_table(tmp_path):
    out = ok(peerchange("query", MECHANISMS))
    lines = out.splitlines()
    assert lines[0].split() == ["mechanism", "label"]
    assert lines[-1] == "(3 rows)"
    rows = table_rows(out)
    assert len(rows) == 3
    assert all(r[0].startswith("pcd:mechanism/") for r in rows)  # IRIs shortened
    assert [r[0] for r in rows] == ["pcd:mechanism/engagement", "pcd:mechanism/role-modelling",
                                    "pcd:mechanism/trusting-relationships"]
    assert any(r[1].startswith("building trusting relationships") for r in rows)


def test_ask_table():
    assert ok(peerchange("query", f"ASK {{ <{PAPER}> ?p ?o }}")) == "true\n"
    assert ok(peerchange("query", "ASK { <http://example.org/nothing> ?p ?o }")) == "false\n"


def test_csv():
    rows = list(csv.reader(io.StringIO(ok(peerchange("query", MECHANISMS, "--format", "csv")))))
    assert rows[0] == ["mechanism", "label"]
    assert len(rows) == 4
    assert all(r[0].startswith("https://w3id.org/peerchange/id/mechanism/") for r in rows[1:])


def test_json():
    doc = json.loads(ok(peerchange("query", MECHANISMS, "--format", "json")))
    assert doc["head"]["vars"] == ["mechanism", "label"]
    assert len(doc["results"]["bindings"]) == 3


def test_turtle():
    graph = rdflib.Graph().parse(data=ok(peerchange("query", CITATIONS, "--format", "turtle")),
                                 format="turtle")
    assert len(graph) == 60


def test_table_of_a_graph_query_is_turtle():
    graph = rdflib.Graph().parse(data=ok(peerchange("query", CITATIONS)), format="turtle")
    assert len(graph) == 60


def test_a_format_that_does_not_fit_the_query():
    message = failed(peerchange("query", MECHANISMS, "--format", "turtle"))
    assert "--format turtle" in message and "SELECT" in message


def test_rq_file(tmp_path):
    path = tmp_path / "mechanisms.rq"
    path.write_text("#+ summary: the change mechanisms\n" + MECHANISMS, encoding="utf-8")
    out = ok(peerchange("query", str(path)))
    assert out.splitlines()[-1] == "(3 rows)"


def test_missing_rq_file(tmp_path):
    message = failed(peerchange("query", str(tmp_path / "nope.rq")))
    assert "nope.rq" in message and "no such query file" in message


def test_a_folder_is_refused_in_one_line(tmp_path):
    for folder in (tmp_path, tmp_path / "queries.rq"):
        folder.mkdir(exist_ok=True)
        message = failed(peerchange("query", str(folder)))
        assert message.splitlines() == [
            f"Error: {folder}: is a folder; give a query, a query file or - for standard input"]


def test_an_unreadable_query_file_is_refused_in_one_line(tmp_path):
    not_a_folder = tmp_path / "plain.txt"
    not_a_folder.write_text("x", encoding="utf-8")
    message = failed(peerchange("query", str(not_a_folder / "q.rq")))
    assert message.splitlines() == [
        f"Error: {not_a_folder / 'q.rq'}: cannot read the query file: Not a directory"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_a_query_file_without_read_permission(tmp_path):
    path = tmp_path / "secret.rq"
    path.write_text(MECHANISMS, encoding="utf-8")
    path.chmod(0)
    message = failed(peerchange("query", str(path)))
    assert message.splitlines() == [
        f"Error: {path}: cannot read the query file: Permission denied"]


def test_stdin():
    out = ok(peerchange("query", "-", "--format", "csv", stdin=MECHANISMS))
    assert len(list(csv.reader(io.StringIO(out)))) == 4


def test_syntax_error_exits_2_with_the_position():
    message = failed(peerchange("query", "SELECT ?x WHERE { ?x ?y }"))
    assert "does not parse" in message and "1:" in message


def test_update_is_refused():
    update = "INSERT DATA { <http://a.example/s> <http://a.example/p> 1 }"
    message = failed(peerchange("query", update))
    assert "updates are not accepted" in message


def test_timeout():
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # flat memory
    message = failed(peerchange("query", query, "--timeout", "1"))
    assert "did not finish within" in message


# ------------------------------------------------------------------ remote endpoint

def test_endpoint_table_matches_the_embedded_graph(server):
    remote = ok(peerchange("query", MECHANISMS, "--endpoint", server.sparql))
    assert remote == ok(peerchange("query", MECHANISMS))


@pytest.mark.parametrize("fmt", ["csv", "json", "tsv", "xml"])
def test_endpoint_result_formats(server, fmt):
    remote = ok(peerchange("query", MECHANISMS, "--format", fmt, "--endpoint", server.sparql))
    if fmt == "json":
        assert len(json.loads(remote)["results"]["bindings"]) == 3
    elif fmt == "csv":
        assert len(list(csv.reader(io.StringIO(remote)))) == 4
    elif fmt == "tsv":
        assert len(remote.splitlines()) == 4
    else:
        assert remote.count("<result>") == 3


@pytest.mark.parametrize(("fmt", "parser"), [("turtle", "turtle"), ("ntriples", "nt"),
                                             ("rdfxml", "xml"), ("jsonld", "json-ld")])
def test_endpoint_graph_formats(server, fmt, parser):
    out = ok(peerchange("query", CITATIONS, "--format", fmt, "--endpoint", server.sparql))
    assert len(rdflib.Graph().parse(data=out, format=parser)) == 60


def test_endpoint_syntax_error(server):
    message = failed(peerchange("query", "SELECT ?x WHERE { ?x ?y }", "--endpoint", server.sparql))
    assert server.sparql in message and "400" in message and "1:" in message
    assert "b'" not in message  # the server's text, not a bytes repr


def test_endpoint_refusals_carry_the_servers_message(server):
    query = "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    message = failed(peerchange("query", query, "--endpoint", server.sparql))
    assert "SERVICE" in message and "allow-list" in message


def test_endpoint_timeout(limited_server):
    # a count over a cross product: endless, but flat in memory (an ORDER BY over one can
    # reach the memory limit before the time limit on a fast machine)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    message = failed(peerchange("query", query, "--endpoint", limited_server.sparql))
    assert "503" in message and "did not finish within" in message


def test_unreachable_endpoint():
    url = f"http://127.0.0.1:{free_port()}/sparql"
    message = failed(peerchange("query", "ASK {}", "--endpoint", url))
    assert "cannot reach" in message and url in message
