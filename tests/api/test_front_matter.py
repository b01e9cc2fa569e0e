"""Every ``queries/api/*.rq`` documents itself: the API, the index and the OpenAPI document
are generated from this front matter, so it must be complete."""

from __future__ import annotations

import pytest

from peerchange.core.queryfiles import get_query
from peerchange.core.querytext import inspect_query
from peerchange.services.canned import PARAM_TYPES, RESERVED
from peerchange.services.canned import projection as canned_projection
from tests.api.conftest import (
    QUERIES,
    QUERY_IDS,
    is_claim_column,
    is_status_label_column,
    projection,
)

# every declared parameter of every query: (query, name, its front matter)
PARAMS = [(q, name, spec) for q in QUERIES
          for name, spec in (q.file.meta.get("params") or {}).items()]
PARAM_IDS = [f"{q.name}.{name}" for q, name, _ in PARAMS]
# the queries that return claims (links of the model)
CLAIM_QUERIES = [q for q in QUERIES if any(is_claim_column(v) for v in projection(q))]


def test_there_are_at_least_twelve_canned_queries():
    assert len(QUERIES) >= 12
    assert {"mechanism-theories", "paper-references", "theory-links"} <= set(QUERY_IDS)


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_summary_description_and_tags(query):
    meta = query.file.meta
    assert isinstance(meta.get("summary"), str) and meta["summary"].strip()
    assert "\n" not in meta["summary"].strip(), "the summary is one line"
    assert isinstance(meta.get("description"), str) and len(meta["description"].split()) >= 10
    assert isinstance(meta.get("tags"), list) and meta["tags"]
    assert all(isinstance(t, str) and t == t.lower() for t in meta["tags"])


def test_params_is_a_mapping_where_present():
    for query in QUERIES:
        assert isinstance(query.file.meta.get("params") or {}, dict), query.name
    assert PARAMS, "no canned query takes a parameter"


@pytest.mark.parametrize(("query", "name", "spec"), PARAMS, ids=PARAM_IDS)
def test_params_are_documented(query, name, spec):
    assert name not in RESERVED
    assert spec.get("type") in PARAM_TYPES, f"{name}: type"
    assert isinstance(spec.get("description"), str) and spec["description"].strip(), name
    # a required parameter needs an example; an optional one is omitted or defaulted
    if spec.get("required"):
        assert "example" in spec, f"{name}: a required parameter needs an example"
        assert "default" not in spec, f"{name}: required and defaulted"
    if "enum" in spec:
        assert isinstance(spec["enum"], list) and spec["enum"]
        assert spec.get("example", spec["enum"][0]) in spec["enum"]
    # the parameter binds the variable of the same name, which must be projected
    # (pyoxigraph substitutes only projected variables); a scoping parameter and the one
    # that turns the scope off are not bound in the query (see test_scoped_queries)
    scoped = query.scoped
    if scoped is not None and name in {scoped.param, *(scoped.unless or ())[:1]}:
        return
    assert name in projection(query), f"?{name} is not projected"


SCOPED = [q for q in QUERIES if q.scoped is not None]


@pytest.mark.parametrize("query", SCOPED, ids=[q.name for q in SCOPED])
def test_scoped_queries(query):
    """A scoped query's internal query answers with the same variables, then the scoping
    parameter (projected, as every parameter of a shipped query); ``also`` gives ``?also``
    for it; the value that turns the scope off is one the parameter allows."""
    scoped = query.scoped
    internal = get_query(scoped.query)
    assert canned_projection(internal.text, scoped.query) == [*projection(query), scoped.param]
    if scoped.also:
        also = get_query(scoped.also)
        assert canned_projection(also.text, scoped.also) == [scoped.param, "also"]
    if scoped.unless:
        name, value = scoped.unless
        param = query.param(name)
        assert param is not None and value in param.enum and param.default != value
    assert query.param(scoped.param).default is not None or query.param(scoped.param).required


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_every_canned_query_is_a_select(query):
    assert inspect_query(query.file.text).form == "SELECT"


@pytest.mark.parametrize("query", QUERIES, ids=QUERY_IDS)
def test_pagination_is_a_page_size(query):
    pagination = query.file.meta.get("pagination")
    assert pagination is None or (isinstance(pagination, int) and pagination > 0)


@pytest.mark.parametrize("query", CLAIM_QUERIES, ids=[q.name for q in CLAIM_QUERIES])
def test_links_come_with_their_evidence_status(query):
    """A query that returns claims (links of the model) returns each one's status label.
    (``tests/api/test_queries.py`` checks, on the answers of every query, that claims are
    only in such columns.)"""
    projected = projection(query)
    claims = [v for v in projected if is_claim_column(v)]
    statuses = [v for v in projected if is_status_label_column(v)]
    assert len(statuses) >= len(claims), f"{query.name}: a claim without its status"
