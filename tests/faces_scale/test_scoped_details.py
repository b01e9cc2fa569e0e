"""The trace reads the details of what it shows (labels, works, mechanisms, the reference
list) for those IRIs only, in VALUES blocks the service fills: over the shipped data plus
synthetic studies, every scoped lookup gives what the store-wide tables give, and a trace
built from them is the trace built from the tables."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from peerchange.services.terms import labels
from peerchange.services.trace import TraceService, builder, lookup, scoped
from peerchange.services.trace.batched import select_values
from peerchange.services.trace.neighbourhood import Neighbourhood, row_iris

pytestmark = pytest.mark.slow

ID = "https://w3id.org/peerchange/id/"


@pytest.fixture(scope="module")
def svc(scaled_app) -> TraceService:
    return TraceService(scaled_app.services.sparql)


def test_every_mechanism_named_by_slug_or_iri_is_the_one_the_list_gives(svc):
    mechanisms = svc.mechanisms()
    assert len(mechanisms) > 100  # the synthetic studies' too
    for m in mechanisms:
        for text in (m.ref.slug, m.iri, m.ref.slug.upper()):
            assert svc.find_mechanism(text) == lookup.find_mechanism(mechanisms, text), text


def test_every_work_named_by_key_is_the_one_the_table_gives(svc):
    works = svc.all_works()
    assert len(works) > 200
    for key, work in works.items():
        assert scoped.work_by_key(svc.sparql, key) == work, key
        assert svc.find_work(key) == work
    assert scoped.work_by_key(svc.sparql, "no such key") is None
    assert svc.find_work("bandura1977") == works["Bandura1977"]  # the table decides


def test_the_details_of_many_iris_are_the_tables_and_the_labels(svc, scaled_app):
    works = svc.all_works()
    iris = [ox.NamedNode(w.iri) for w in works.values()]
    iris += [ox.NamedNode(m.iri) for m in svc.mechanisms()]
    iris += [ox.NamedNode(ID + "no/such/thing")]
    found = scoped.details(svc.sparql, iris)
    assert found.works == works
    assert {m.iri for m in found.mechanisms} == {m.iri for m in svc.mechanisms()}
    assert sorted(found.mechanisms, key=lambda m: (m.label, m.iri)) == sorted(
        svc.mechanisms(), key=lambda m: (m.label, m.iri))
    lookup_labels = labels(scaled_app.services.sparql)
    for iri in iris[::23]:
        expected = {(t.predicate.value, t.object) for t in lookup_labels.of([iri])}
        assert set(found.labels.get(iri.value, [])) == expected, iri


def test_batches_give_the_rows_of_one_query(svc):
    iris = [ox.NamedNode(w.iri) for w in svc.all_works().values()][:300]
    one = select_values(svc.sparql, "internal/trace/details-of", "resource", iris,
                        batch=1000)
    many = select_values(svc.sparql, "internal/trace/details-of", "resource", iris, batch=7)
    assert sorted(map(_row_key, one)) == sorted(map(_row_key, many))
    assert select_values(svc.sparql, "internal/trace/details-of", "resource", []) == []


def test_reference_list_membership_is_the_lists(svc):
    listed = set(svc.reference_keys())
    for key in list(svc.all_works())[::11] + ["Bandura1977", "Gillard2015"]:
        assert scoped.in_reference_list(svc.sparql, key) == (key in listed), key


@pytest.mark.parametrize("slug", ["role-modelling", "engagement", "synth-1-m1",
                                  "synth-17-m2", "synth-30-m1"])
def test_a_trace_from_scoped_details_is_the_trace_from_the_tables(svc, scaled_app, slug):
    mechanism = svc.find_mechanism(slug).iri
    rows = svc.sparql.select("internal/trace/trace", {"mechanism": ox.NamedNode(mechanism)})
    lookup_labels = labels(scaled_app.services.sparql)
    label_rows: dict[str, list] = {}
    for t in lookup_labels.of(row_iris(rows)):
        label_rows.setdefault(t.subject.value, []).append((t.predicate.value, t.object))
    hood = Neighbourhood(rows, svc.statuses(), svc.all_works(), label_rows)
    from_tables = builder.build_trace(mechanism, hood, svc.statuses(), svc.all_works(),
                                      svc.all_gaps())
    assert svc.trace(mechanism) == from_tables


@pytest.mark.parametrize("key", ["Bandura1977", "Bowlby1973", "Gillard2015"])
def test_a_reverse_trace_from_scoped_details_is_the_one_from_the_tables(svc, key):
    work = svc.all_works()[key]
    rows = svc.sparql.select("internal/trace/cited", {"work": ox.NamedNode(work.iri)})
    found = scoped.details(svc.sparql, row_iris(rows))
    hood = Neighbourhood(rows, svc.statuses(), svc.all_works(), found.labels)
    from_tables = builder.build_reverse_trace(work, hood, svc.statuses(), svc.mechanisms(),
                                              svc.all_gaps(), svc.reference_keys())
    assert svc.cited(key) == from_tables


def _row_key(row: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in row.items()))
