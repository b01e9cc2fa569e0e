"""Fixtures of the ``peerchange publish`` tests: a Virtuoso of their own, and ways to read it.

The publish tests write the shipped graphs' IRIs, add and drop graphs and change the
publication record, so they get a Virtuoso of their own (:mod:`tests.virtuoso`, started once
for this folder) rather than the session's ``virtuoso`` that the remote-backend tests serve
from. Skipped locally without Virtuoso, a failure under ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from peerchange.core.namespaces import BASE
from tests.virtuoso import running_virtuoso

PASSWORD_VARIABLE = "PEERCHANGE_TEST_STORE_PASSWORD"
RECORD = BASE + "graph/publication"


@pytest.fixture(scope="package")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Virtuoso for the publish tests only, with an empty database."""
    with running_virtuoso(tmp_path_factory, "publish-virtuoso") as server:
        yield server


def select(store: Any, query: str) -> list[dict[str, str]]:
    """Rows of a SELECT asked of the store's public endpoint, as ``{variable: value}``."""
    answer = requests.post(store.sparql, data={"query": query},
                           headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert answer.status_code == 200, answer.text
    return [{k: v["value"] for k, v in row.items()}
            for row in answer.json()["results"]["bindings"]]


def graph_counts(store: Any) -> dict[str, int]:
    """Triples per graph under our namespace (Virtuoso has graphs of its own)."""
    rows = select(store, f"""
        SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
          FILTER(STRSTARTS(STR(?g), "{BASE}") || STRSTARTS(STR(?g), "https://example.org/"))
        }} GROUP BY ?g""")
    return {row["g"]: int(row["n"]) for row in rows}


def record(store: Any) -> dict[str, Any]:
    """The publication record: version, time, parts and ``void:triples`` per part."""
    rows = select(store, f"""
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX void: <http://rdfs.org/ns/void#>
        SELECT ?version ?time ?part ?n WHERE {{ GRAPH <{RECORD}> {{
          <{RECORD}> dcterms:hasVersion ?version ; prov:generatedAtTime ?time .
          OPTIONAL {{ <{RECORD}> dcterms:hasPart ?part . ?part void:triples ?n }} }} }}""")
    if not rows:
        return {}
    return {"version": rows[0]["version"], "time": rows[0]["time"],
            "parts": {row["part"]: int(row["n"]) for row in rows if "part" in row}}


def snapshot(store: Any) -> tuple[dict[str, int], dict[str, Any]]:
    """What a failed publication must leave as it was: the counts and the record."""
    return graph_counts(store), record(store)


def publish_args(store: Any, *extra: str, gsp: bool = False) -> list[str]:
    """The command line of ``peerchange publish`` to ``store`` (without the validation's
    OWL phase, which ``tests/cli/test_validate.py`` covers)."""
    args = ["publish", "--no-reasoner", "--endpoint", store.sparql, "--update-endpoint",
            store.sparql_auth, "--user", "dba", "--password-env", PASSWORD_VARIABLE]
    if gsp:
        args += ["--graph-store", store.graph_store]
    return [*args, *extra]
