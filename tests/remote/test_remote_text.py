"""How a shipped query's parameters reach a remote store: as terms, written from the RDF
terms at the places the lexical scan finds the variable (no store needed: fast)."""

from __future__ import annotations

import pyoxigraph as ox

from peerchange.core.execution import QueryJob
from peerchange.core.remote_execution import BOUND_BLANK, parse_select, remote_text
from peerchange.core.remote_store import StoreReply

X = ox.NamedNode("http://example.org/x")


def _text(query: str, form: str = "SELECT", **bindings) -> str:
    return remote_text(QueryJob(text=query, form=form, substitutions=bindings))


def test_a_selected_variable_keeps_its_column():
    text = _text("SELECT ?s ?o WHERE { ?s ?p ?o }", s=X)
    assert text == "SELECT (<http://example.org/x> AS ?s) ?o WHERE { <http://example.org/x> ?p ?o }"
    assert ox.Store().query(text).variables == [ox.Variable("s"), ox.Variable("o")]


def test_a_constant_leaves_group_by_and_order_by_keeps_the_column():
    text = _text("SELECT ?g ?t (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s a ?t } } GROUP BY ?g ?t "
                 "ORDER BY ?g", g=X)
    assert text.endswith("GROUP BY  ?t ORDER BY ?g")
    ox.Store().query(text)  # standard SPARQL (Virtuoso refuses constant group keys)
    alone = _text("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                  g=X)
    assert "GROUP" not in alone
    ox.Store().query(alone)


def test_a_literal_is_escaped_by_its_term_not_by_hand():
    evil = ox.Literal('x" } ; DROP ALL #\n', language="en")
    store = ox.Store()
    store.add(ox.Quad(X, X, evil))
    text = _text("SELECT ?s ?o WHERE { ?s ?p ?o }", o=evil)
    rows = list(store.query(text))
    assert [(r["s"], r["o"]) for r in rows] == [(X, evil)]


def test_a_variable_in_a_values_list_falls_back_to_a_values_block():
    text = _text("SELECT ?a WHERE { VALUES (?a ?b) { (1 2) } }", b=ox.Literal("2"))
    assert text.index("VALUES (?b)") < text.index("VALUES (?a ?b)")
    ox.Store().query(text)


def test_describe_without_where():
    assert _text("DESCRIBE ?r", form="DESCRIBE", r=X) == "DESCRIBE <http://example.org/x>"


def test_a_blank_node_travels_as_a_skolem_iri_and_comes_back_blank():
    text = _text("SELECT ?s WHERE { ?s ?p ?o }", s=ox.BlankNode("svc"))
    assert f"<{BOUND_BLANK}svc>" in text
    body = ('{"head": {"vars": ["s", "b", "t"]}, "results": {"bindings": [{"s": {"type": '
            f'"uri", "value": "{BOUND_BLANK}svc"}}, "b": {{"type": "bnode", "value": '
            '"nodeID://b1007"}, "t": {"type": "typed-literal", "datatype": '
            '"http://www.w3.org/2001/XMLSchema#boolean", "value": "1"}}]}}')
    variables, rows = parse_select(StoreReply(body.encode(), "application/json"))
    assert variables == ["s", "b", "t"]
    s, b, t = rows[0]
    assert s == ox.BlankNode("svc")
    assert isinstance(b, ox.BlankNode)
    assert t == ox.Literal("true", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#boolean"))
