"""The SPARQL service (``services.sparql``) without the web: the rules of ``prepare``, the
query form, one scan per query, the dataset, the base IRI, row limits, shipped queries
with bindings as RDF terms, ``select``/``construct`` and the ``executed`` counter.

Most tests use a service with ``timeout=0`` (evaluation in this process: fast, and what it
counts is visible); those that pass a ``timeout`` go through the query executor as the
server does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from peerchange.core import querytext
from peerchange.core.errors import QueryFileError, QueryRefused, QuerySyntaxError, QueryTooLarge
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, find_format
from peerchange.core.queryfiles import QueryFile, get_query
from peerchange.services import sparql as sparql_module
from peerchange.services.sparql import Dataset, SparqlService
from tests.conftest import close_executors

ID = "https://w3id.org/peerchange/id/"
PCM = "https://w3id.org/peerchange/onto/"
GRAPH = "https://w3id.org/peerchange/graph/"
ONTOLOGY, CLAIMS, STATED, COMPANION, CURATED = (
    GRAPH + g for g in ("ontology", "claims", "stated", "companion", "curated"))
MECHANISMS = [ID + "mechanism/" + m for m in ("engagement", "role-modelling",
                                              "trusting-relationships")]
SELECT_MECHANISMS = f"SELECT ?m WHERE {{ ?m a <{PCM}ChangeMechanism> }} ORDER BY ?m"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
GRAPHS_USED = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
JSON = find_format("json", RESULT_FORMATS)
EXECUTOR_TIMEOUT = 30.0
# shipped-style files of the other forms (the internal queries change with the services)
NODE_FILE = QueryFile(name="internal/test/node",
                      text="CONSTRUCT { ?node ?p ?o } WHERE { ?node ?p ?o }")
DESCRIBE_FILE = QueryFile(name="internal/test/describe", text="DESCRIBE ?resource")


@pytest.fixture
def service(shipped_graph) -> SparqlService:
    """A service over the shipped graph that evaluates in this process."""
    return SparqlService(shipped_graph, timeout=0)


def run(service: SparqlService, text: str, dataset: Dataset | None = None, **kwargs):
    return service.execute(service.prepare(text, dataset, **kwargs))


def count(service: SparqlService, text: str = COUNT, dataset: Dataset | None = None) -> int:
    answer = run(service, text, dataset)
    return int(answer.rows[0][0].value)


def values(answer) -> list[str]:
    return [row[0].value for row in answer.rows]


# ------------------------------------------------------------------------ prepare's rules

def test_the_size_limit_counts_utf8_bytes(shipped_graph):
    service = SparqlService(shipped_graph, timeout=0, max_query_bytes=64)
    fits = "ASK {} #" + "x" * (64 - len("ASK {} #"))
    assert service.prepare(fits).form == "ASK"
    with pytest.raises(QueryTooLarge) as info:
        service.prepare(fits + "x")
    assert info.value.http_status == 413
    assert "65 bytes" in info.value.message and "at most 64 bytes" in info.value.message
    # 40 characters, 72 bytes
    with pytest.raises(QueryTooLarge, match="72 bytes"):
        service.prepare("ASK {} #" + "é" * 32)


@pytest.mark.parametrize("text", ["", " ", "\n\t \n"])
def test_an_empty_query_is_refused(service, text):
    with pytest.raises(QueryRefused, match="empty") as info:
        service.prepare(text)
    assert info.value.http_status == 400


@pytest.mark.parametrize(("text", "keyword"), [
    ("INSERT DATA { <http://e.org/s> <http://e.org/p> 1 }", "INSERT"),
    ("delete where { ?s ?p ?o }", "DELETE"),
    ("PREFIX e: <http://e.org/>\nINSERT DATA { e:s e:p e:o }", "INSERT"),
    ("LOAD <http://example.org/data.ttl>", "LOAD"),
    ("CLEAR ALL", "CLEAR"),
    ("DROP GRAPH <http://e.org/g>", "DROP"),
    ("WITH <http://e.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
    # an update after a query, in one request
    ("SELECT * WHERE { ?s ?p ?o } ; INSERT DATA { <http://e.org/s> <http://e.org/p> 1 }",
     "INSERT"),
])
def test_an_update_is_refused(service, text, keyword):
    with pytest.raises(QueryRefused) as info:
        service.prepare(text)
    assert info.value.http_status == 400
    assert f"({keyword})" in info.value.message and "read-only" in info.value.message


ELSEWHERE = "http://example.org/sparql"


@pytest.mark.parametrize(("text", "target"), [
    (f"SELECT * WHERE {{ SERVICE <{ELSEWHERE}> {{ ?s ?p ?o }} }}", ELSEWHERE),
    (f"SELECT * WHERE {{ SERVICE SILENT <{ELSEWHERE}> {{ ?s ?p ?o }} }}", ELSEWHERE),
    (f"select * where {{ optional {{ service <{ELSEWHERE}> {{ ?s ?p ?o }} }} }}", ELSEWHERE),
    ("PREFIX e: <http://example.org/>\nSELECT * WHERE { SERVICE e:sparql { ?s ?p ?o } }",
     ELSEWHERE),
    ("SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }", "?endpoint"),
    ("SELECT * WHERE { VALUES ?e { <http://example.org/a> } SERVICE ?e { ?s ?p ?o } }", "?e"),
])
def test_a_service_not_on_the_allow_list_is_refused(shipped_graph, text, target):
    for allowlist in ([], ["http://example.org/other"]):
        service = SparqlService(shipped_graph, timeout=0, service_allowlist=allowlist)
        with pytest.raises(QueryRefused) as info:
            service.prepare(text)
        assert info.value.http_status == 400
        message = info.value.message
        assert f"SERVICE {target} is not allowed" in message
        assert f"({', '.join(allowlist) or 'none'})" in message  # what is allowed


def test_an_allowed_service_passes_prepare(shipped_graph):
    service = SparqlService(shipped_graph, timeout=0, service_allowlist=[ELSEWHERE])
    for text in (f"SELECT * WHERE {{ SERVICE <{ELSEWHERE}> {{ ?s ?p ?o }} }}",
                 "PREFIX e: <http://example.org/>\n"
                 "SELECT * WHERE { SERVICE SILENT e:sparql { ?s ?p ?o } }"):
        prepared = service.prepare(text)  # not executed: that would call the service
        assert prepared.info.services == [ELSEWHERE]
    # a variable is never on the allow-list
    with pytest.raises(QueryRefused, match=r"SERVICE \?e is not allowed"):
        service.prepare("SELECT * WHERE { SERVICE ?e { ?s ?p ?o } }")


@pytest.mark.parametrize("text", [
    '# SERVICE <http://example.org/sparql>\nSELECT ("SERVICE <x>" AS ?x) WHERE {}',
    "SELECT ?x WHERE { BIND('''INSERT DATA { } SERVICE ?e''' AS ?x) }",
    "SELECT ?x WHERE { BIND(<http://example.org/SERVICE> AS ?x) }",
])
def test_keywords_in_strings_comments_and_iris_are_not_refused(service, text):
    assert run(service, text).form == "SELECT"


# ------------------------------------------------------------------------ form

@pytest.mark.parametrize(("text", "form"), [
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "SELECT"),
    ("select * { ?s ?p ?o } limit 1", "SELECT"),
    ("# a comment first\nASK { ?s ?p ?o }", "ASK"),
    ("PREFIX e: <http://e.org/>\nCONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "CONSTRUCT"),
    (f"BASE <{ID}>\nPREFIX e: <http://e.org/>\nDESCRIBE <mechanism/engagement>", "DESCRIBE"),
])
def test_the_form_is_found_and_decides_the_formats(service, text, form):
    prepared = service.prepare(text)
    assert prepared.form == form
    assert prepared.formats == (RESULT_FORMATS if form in ("SELECT", "ASK") else RDF_FORMATS)
    assert service.execute(prepared).form == form


# ------------------------------------------------------------------------ one scan

@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Count the scans of query text: ``services.sparql.inspect_query`` (the service's scan,
    counted in this process) and every tokenization (``core.querytext.tokens``) in this
    process or in a query executor forked while the test runs (each call appends its pid to
    a file). Returns ``() -> (service scans, [pids of tokenizations])``."""
    log = tmp_path / "tokenizations"
    log.touch()
    service_scans = []
    real_inspect, real_tokens = sparql_module.inspect_query, querytext.tokens

    def inspect(text):
        service_scans.append(text)
        return real_inspect(text)

    def tokens(text):
        with log.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real_tokens(text)

    close_executors()  # the executor forked during the test has the counting functions
    monkeypatch.setattr(sparql_module, "inspect_query", inspect)
    monkeypatch.setattr(querytext, "tokens", tokens)
    yield lambda: (len(service_scans), [int(pid) for pid in log.read_text().split()])
    close_executors()


@pytest.mark.parametrize("timeout", [EXECUTOR_TIMEOUT, 0], ids=["executor", "in-process"])
def test_a_client_query_is_scanned_once(shipped_graph, scans, timeout):
    service = SparqlService(shipped_graph, timeout=timeout)
    answer = service.execute(service.prepare(SELECT_MECHANISMS), JSON)
    assert json.loads(answer.body)["results"]["bindings"]
    service_scans, tokenizations = scans()
    assert service_scans == 1
    assert tokenizations == [os.getpid()]  # once, here: the executor scans nothing


def test_a_refused_query_is_scanned_at_most_once_and_a_too_large_one_never(shipped_graph,
                                                                           scans):
    service = SparqlService(shipped_graph, timeout=0, max_query_bytes=32)
    with pytest.raises(QueryTooLarge):
        service.prepare("SELECT * WHERE { ?s ?p ?o } # " + "x" * 32)
    assert scans() == (0, [])
    with pytest.raises(QueryRefused):
        service.prepare("CLEAR ALL")
    assert scans() == (1, [os.getpid()])


def test_a_shipped_query_is_scanned_once_per_process(service, scans):
    first = service.prepare_file("api/mechanisms")
    service.execute(first)
    after_first = scans()
    assert after_first[0] <= 1  # once, unless an earlier test already did it
    service.execute(service.prepare_file("api/mechanisms"))
    assert scans() == after_first


# ------------------------------------------------------------------------ dataset

@pytest.fixture(scope="module")
def union_count(shipped_store) -> int:
    """Triples in the union of all graphs, counted by the store itself."""
    solutions = shipped_store.query(COUNT, use_default_graph_as_union=True)
    return int(next(iter(solutions))["n"].value)


@pytest.mark.parametrize("timeout", [EXECUTOR_TIMEOUT, 0], ids=["executor", "in-process"])
def test_default_graph_uri_from_and_the_union(shipped_graph, union_count, timeout):
    service = SparqlService(shipped_graph, timeout=timeout)
    graphs = shipped_graph.graph_counts
    # no dataset: the union of all graphs
    assert count(service) == union_count > graphs[ONTOLOGY]
    # the protocol's default-graph-uri
    assert count(service, dataset=Dataset(default_graphs=[ONTOLOGY])) == graphs[ONTOLOGY]
    # several default graphs merge
    both = Dataset(default_graphs=[STATED, COMPANION])
    assert count(service, dataset=both) == graphs[STATED] + graphs[COMPANION]
    # the query's FROM
    from_ontology = COUNT.replace("WHERE", f"FROM <{ONTOLOGY}> WHERE")
    assert service.prepare(from_ontology).info.from_graphs == [ONTOLOGY]
    assert count(service, from_ontology) == graphs[ONTOLOGY]
    # default-graph-uri overrides FROM
    assert count(service, from_ontology, Dataset(default_graphs=[CLAIMS])) == graphs[CLAIMS]
    # a graph the store does not hold is empty (and nothing is fetched)
    assert count(service, dataset=Dataset(default_graphs=["http://example.org/none"])) == 0
    assert count(service, COUNT.replace("WHERE", "FROM <http://example.org/none> WHERE")) == 0


def test_named_graph_uri_and_from_named(service, shipped_graph):
    every = values(run(service, GRAPHS_USED))
    assert every == sorted(shipped_graph.graph_counts)
    from_named = GRAPHS_USED.replace("WHERE", f"FROM NAMED <{STATED}> WHERE")
    assert service.prepare(from_named).info.from_named == [STATED]
    assert values(run(service, from_named)) == [STATED]
    # named-graph-uri overrides FROM NAMED
    assert values(run(service, from_named, Dataset(named_graphs=[CURATED]))) == [CURATED]
    # named graphs only: the default graph is empty
    assert count(service, dataset=Dataset(named_graphs=[CURATED])) == 0


# ------------------------------------------------------------------------ base IRI

@pytest.mark.parametrize("timeout", [EXECUTOR_TIMEOUT, 0], ids=["executor", "in-process"])
def test_relative_iris_resolve_against_the_base_iri(shipped_graph, timeout):
    service = SparqlService(shipped_graph, timeout=timeout)
    relative = "SELECT ?x WHERE { BIND(<rel> AS ?x) }"
    prepared = service.prepare(relative, base_iri="http://example.org/sparql")
    assert prepared.base_iri == "http://example.org/sparql"
    assert values(service.execute(prepared)) == ["http://example.org/rel"]
    # the query's own BASE wins
    own = service.prepare("BASE <http://other.example/>\n" + relative,
                          base_iri="http://example.org/sparql")
    assert values(service.execute(own)) == ["http://other.example/rel"]
    # without a base, a relative IRI is the client's error
    with pytest.raises(QuerySyntaxError):
        service.execute(service.prepare(relative))


# ------------------------------------------------------------------------ row limits

def test_client_queries_get_the_row_limit_shipped_queries_none(shipped_graph):
    service = SparqlService(shipped_graph, timeout=0, max_rows=5)
    client = service.prepare("SELECT * WHERE { ?s ?p ?o }")
    assert client.max_rows == 5
    answer = service.execute(client)
    assert (answer.count, answer.truncated, len(answer.rows)) == (5, True, 5)

    shipped = service.prepare_file("api/paper-references")
    assert shipped.max_rows == 0 and shipped.name == "api/paper-references"
    answer = service.execute(shipped)
    assert (answer.count, answer.truncated) == (60, False)
    # a caller can ask for a limit (the canned API passes the service's)
    limited = service.execute(service.prepare_file("api/paper-references", max_rows=5))
    assert (limited.count, limited.truncated) == (5, True)


def test_bytes_when_a_format_is_given_terms_when_not(service):
    prepared = service.prepare(SELECT_MECHANISMS)
    data = service.execute(prepared, JSON)
    assert data.fmt == JSON and data.rows == []
    assert [b["m"]["value"] for b in json.loads(data.body)["results"]["bindings"]] == MECHANISMS
    terms = service.execute(prepared)
    assert terms.fmt is None and terms.body == b""
    assert terms.rows == [(ox.NamedNode(m),) for m in MECHANISMS]


# ------------------------------------------------------------------------ shipped queries

def test_bindings_are_terms_never_text(service):
    file = get_query("api/work-citations")
    prepared = service.prepare_file("api/work-citations", {"key": ox.Literal("Bandura1977")})
    assert prepared.text == file.text  # the text is not edited
    assert prepared.bindings == {"key": ox.Literal("Bandura1977")}
    rows = service.execute(prepared)
    key = rows.variables.index("key")
    assert rows.count == 4 and {r[key] for r in rows.rows} == {ox.Literal("Bandura1977")}
    # a value that would change the query if it were pasted into the text is only a value
    hostile = ox.Literal('Bandura1977" } UNION { ?work ?p ?key } #')
    assert service.execute(service.prepare_file("api/work-citations", {"key": hostile})).rows \
        == []


def test_select_gives_rows_of_terms_without_unbound_variables(service):
    rows = service.select("api/mechanisms")
    assert {r["mechanism"] for r in rows} == {ox.NamedNode(m) for m in MECHANISMS}
    assert all(isinstance(term, ox.NamedNode | ox.Literal | ox.BlankNode)
               for r in rows for term in r.values())
    engagement = [r for r in rows if r["mechanism"].value.endswith("/engagement")]
    assert len(engagement) == 1 and "component" not in engagement[0]  # unbound: left out
    one = service.select("api/mechanisms", {"mechanism": ox.NamedNode(MECHANISMS[1])})
    assert {r["mechanism"].value for r in one} == {MECHANISMS[1]}


def test_construct_gives_triples(service, shipped_store):
    node = ox.NamedNode(MECHANISMS[0])
    triples = service.construct(NODE_FILE, {"node": node})
    assert triples and all(isinstance(t, ox.Triple) and t.subject == node for t in triples)
    stored = {(q.predicate, q.object) for q in shipped_store.quads_for_pattern(node, None, None)}
    assert {(t.predicate, t.object) for t in triples} == stored
    # DESCRIBE: the resource's triples, and the labels of what it links to
    described = service.construct(DESCRIBE_FILE, {"resource": node})
    assert {(t.predicate, t.object) for t in described if t.subject == node} == stored
    linked = {t.subject for t in described if t.subject != node}
    assert linked and {t.predicate.value for t in described if t.subject in linked} == {
        "http://www.w3.org/2000/01/rdf-schema#label"}


def test_select_and_construct_check_the_form(service):
    with pytest.raises(QueryFileError, match="not a SELECT query"):
        service.select(NODE_FILE, {"node": ox.NamedNode(MECHANISMS[0])})
    with pytest.raises(QueryFileError, match="not a CONSTRUCT query"):
        service.construct("api/mechanisms")


def test_a_missing_or_update_query_file_is_a_query_file_error(service):
    with pytest.raises(QueryFileError, match="no query file"):
        service.prepare_file("api/no-such-query")
    update = QueryFile(name="internal/test-update",
                       text="INSERT DATA { <http://e.org/s> <http://e.org/p> 1 }", meta={})
    with pytest.raises(QueryFileError, match="is an update"):
        service.prepare_file(update)


# ------------------------------------------------------------------------ executed

def test_executed_counts_evaluations_not_preparations(service):
    assert service.executed == 0
    prepared = service.prepare(SELECT_MECHANISMS)
    service.prepare_file("api/mechanisms")
    with pytest.raises(QueryRefused):
        service.prepare("CLEAR ALL")
    assert service.executed == 0
    service.execute(prepared)
    service.execute(prepared, JSON)
    assert service.executed == 2
    service.select("api/mechanisms")
    service.construct(NODE_FILE, {"node": ox.NamedNode(MECHANISMS[0])})
    assert service.executed == 4


def test_each_service_counts_its_own(shipped_graph, service):
    other = SparqlService(shipped_graph, timeout=0)
    run(service, SELECT_MECHANISMS)
    assert (service.executed, other.executed) == (1, 0)
