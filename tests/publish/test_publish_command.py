"""``peerchange publish`` through the real command line, into a real Virtuoso."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, free_port
from tests.publish.conftest import (
    PASSWORD_VARIABLE,
    RECORD,
    graph_counts,
    publish_args,
    record,
    select,
    snapshot,
)

pytestmark = pytest.mark.slow

GENID = "https://w3id.org/peerchange/.well-known/genid/"
LOGIN = {PASSWORD_VARIABLE: "dba"}
INVALID = FIXTURES / "invalid" / "claim-without-status.ttl"


def test_insert_data_batches_publish_the_shipped_graph(cli, store, shipped_graph):
    proc = cli(*publish_args(store, "--batch-triples", "400"), env=LOGIN)
    assert proc.returncode == 0, proc.stderr
    # each graph as the embedded store counts it, and the record last
    assert graph_counts(store) == {**shipped_graph.graph_counts, RECORD: 2 + 2 * len(
        shipped_graph.graph_counts)}
    published = record(store)
    assert published["version"] == shipped_graph.version
    assert published["parts"] == shipped_graph.graph_counts
    # blank nodes became well-known IRIs: none is left, the ontology's restrictions have some
    ontology = "https://w3id.org/peerchange/graph/ontology"
    blank = select(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ontology}> {{ ?s ?p ?o "
                          "FILTER(isBlank(?s) || isBlank(?o)) } }")
    assert blank == [{"n": "0"}]
    genid = select(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{ontology}> "
                          f"{{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), \"{GENID}\")) }} }}")
    assert int(genid[0]["n"]) > 0
    # progress per graph on stderr: triples and rate
    assert f"{ontology}: {shipped_graph.graph_counts[ontology]:,} triples" in proc.stderr
    assert "triples/s" in proc.stderr
    assert "SPARQL Update batches, at most 400 triples" in proc.stderr


def test_graph_store_publishes_an_extra_file_and_drops_it_when_it_is_gone(
        cli, store, shipped_graph, tmp_path):
    extra = tmp_path / "note.nt"
    extra.write_text('<https://example.org/x> <http://www.w3.org/2000/01/rdf-schema#label> '
                     '"x"@en .\n', encoding="utf-8")
    extra_graph = "https://w3id.org/peerchange/graph/extra/note"
    proc = cli(*publish_args(store, str(extra), gsp=True), env=LOGIN)
    assert proc.returncode == 0, proc.stderr
    assert "Graph Store Protocol PUT" in proc.stderr
    counts = graph_counts(store)
    assert counts[extra_graph] == 1
    assert record(store)["parts"] == {**shipped_graph.graph_counts, extra_graph: 1}
    assert record(store)["version"] != shipped_graph.version

    proc = cli(*publish_args(store, "-q", gsp=True), env=LOGIN)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    counts = graph_counts(store)
    assert extra_graph not in counts
    assert counts == {**shipped_graph.graph_counts, RECORD: 2 + 2 * len(
        shipped_graph.graph_counts)}
    assert record(store)["version"] == shipped_graph.version


def test_invalid_data_is_refused_with_the_report_and_nothing_is_written(cli, store):
    before = snapshot(store)
    proc = cli(*publish_args(store, str(INVALID)), env=LOGIN)
    assert proc.returncode == 1, proc.stderr
    assert "Violation" in proc.stderr or "violation" in proc.stderr
    assert "nothing was published" in proc.stderr
    assert snapshot(store) == before


def test_an_unreachable_store_is_a_clear_error(cli):
    url = f"http://127.0.0.1:{free_port()}/sparql"
    proc = cli("publish", "--no-reasoner", "-q", "--endpoint", url, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert f"Cannot reach the store at {url}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_refused_login_names_the_url_and_the_variable(cli, store):
    before = snapshot(store)
    proc = cli(*publish_args(store, "-q"), env={PASSWORD_VARIABLE: "not-the-password"})
    assert proc.returncode == 2, proc.stderr
    assert store.sparql_auth in proc.stderr
    assert PASSWORD_VARIABLE in proc.stderr and "refused the login of 'dba'" in proc.stderr
    assert snapshot(store) == before


def test_a_missing_password_variable_is_refused_before_loading(cli, store):
    proc = cli("publish", "--endpoint", store.sparql, "--user", "dba", "--password-env",
               "PEERCHANGE_TEST_NO_SUCH_VARIABLE")
    assert proc.returncode == 2
    assert "PEERCHANGE_TEST_NO_SUCH_VARIABLE is not set" in proc.stderr
