"""Content negotiation (``web.negotiation``) without a request: ``negotiate``,
``clean_accept`` and ``prefers_json``.

The HTTP tests (``tests/http/test_protocol.py``, ``tests/linkeddata/test_negotiation.py``)
check the same rules through the endpoint; these pin each rule alone.
"""

from __future__ import annotations

import pytest

from peerchange.core.errors import NotAcceptable
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, media_types
from peerchange.web.negotiation import clean_accept, negotiate, prefers_json

RESULTS, GRAPHS = RESULT_FORMATS, RDF_FORMATS


def pick(formats, accept=None, fmt=None) -> str:
    return negotiate(formats, accept=accept, format_param=fmt).name


# ------------------------------------------------------------------------ clean_accept

@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_accept_header(header):
    assert clean_accept(header) is None
    assert pick(RESULTS, header) == "json" and pick(GRAPHS, header) == "turtle"


@pytest.mark.parametrize(("header", "kept"), [
    ("text/csv;charset=utf-8", [("text/csv", 1)]),
    ("text/csv; charset=UTF-8", [("text/csv", 1)]),
    ('text/csv; charset="utf-8"', [("text/csv", 1)]),
    ("text/csv;charset=utf8;q=0.4", [("text/csv", 0.4)]),
    ("text/csv;charset=iso-8859-1", []),  # another charset: dropped
    ("text/csv;charset=latin1, text/tab-separated-values;q=0.3",
     [("text/tab-separated-values", 0.3)]),
    # other parameters are ignored, the media type is kept (lower-cased)
    ('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"',
     [("application/ld+json", 1)]),
    ("Text/Turtle;level=1", [("text/turtle", 1)]),
])
def test_clean_accept_normalises_parameters(header, kept):
    assert list(clean_accept(header)) == kept


def test_clean_accept_keeps_q_values_in_order_of_preference():
    parsed = clean_accept("text/csv;q=0.2, application/sparql-results+xml;q=0.9, */*;q=0.1")
    assert list(parsed) == [("application/sparql-results+xml", 0.9), ("text/csv", 0.2),
                            ("*/*", 0.1)]


# ------------------------------------------------------------------------ negotiate

@pytest.mark.parametrize(("accept", "results", "graphs"), [
    # q-values
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "xml", None),
    ("text/csv, application/sparql-results+xml;q=0.1", "csv", None),
    ("application/rdf+xml;q=0.5, application/n-triples", None, "ntriples"),
    ("*/*;q=0.1, application/n-quads", None, "nquads"),
    # q=0 means "not this one"
    ("application/sparql-results+json;q=0, */*", "xml", None),
    ("text/turtle;q=0, */*", None, "ntriples"),
    # wildcards: the first offered format that matches
    ("*/*", "json", "turtle"),
    ("text/*", "csv", "turtle"),
    ("application/*", "json", "ntriples"),
    # charset parameters: UTF-8 is fine, another charset is not what we send
    ("text/csv;charset=utf-8", "csv", None),
    ("text/csv;charset=iso-8859-1, application/sparql-results+xml;q=0.1", "xml", None),
    ("text/turtle;charset=UTF-8", None, "turtle"),
    # aliases as media types
    ("application/json", "json", "jsonld"),
    ("application/xml", "xml", "rdfxml"),
    ("text/xml", "xml", "rdfxml"),
    ("text/n3", None, "turtle"),
    ("application/x-turtle", None, "turtle"),
    ("text/plain", None, "ntriples"),
])
def test_accept(accept, results, graphs):
    assert results or graphs  # each case checks at least one kind of answer
    if results:
        assert pick(RESULTS, accept) == results
    if graphs:
        assert pick(GRAPHS, accept) == graphs


@pytest.mark.parametrize(("accept", "fmt", "formats", "expected"), [
    ("text/csv", "json", RESULTS, "json"),
    ("application/sparql-results+json", "tsv", RESULTS, "tsv"),
    ("image/png", "xml", RESULTS, "xml"),  # Accept is not even looked at
    ("text/turtle", "application/ld+json", GRAPHS, "jsonld"),
    ("text/turtle", ["nt"], GRAPHS, "ntriples"),
    # several values (SPARQLWrapper sends two): the first offered one is used
    ("text/csv", ["tsv", "text/tab-separated-values"], RESULTS, "tsv"),
    ("text/csv", ["nonsense", "xml"], RESULTS, "xml"),
    # empty values are no parameter: Accept decides
    ("text/csv", "", RESULTS, "csv"),
    ("text/csv", ["", " "], RESULTS, "csv"),
])
def test_the_format_parameter_wins_over_accept(accept, fmt, formats, expected):
    assert pick(formats, accept, fmt) == expected


@pytest.mark.parametrize(("value", "formats", "expected"), [
    ("srj", RESULTS, "json"),
    ("application/json", RESULTS, "json"),
    ("srx", RESULTS, "xml"),
    ("JSON", RESULTS, "json"),  # case does not matter
    ("text/csv; charset=utf-8", RESULTS, "csv"),
    ("ttl", GRAPHS, "turtle"),
    ("n3", GRAPHS, "turtle"),
    ("text/n3", GRAPHS, "turtle"),
    ("nt", GRAPHS, "ntriples"),
    ("rdf", GRAPHS, "rdfxml"),
    ("xml", GRAPHS, "rdfxml"),
    ("json-ld", GRAPHS, "jsonld"),
    ("json", GRAPHS, "jsonld"),
    ("nq", GRAPHS, "nquads"),
])
def test_format_aliases(value, formats, expected):
    assert pick(formats, fmt=value) == expected


def test_a_format_parameter_naming_nothing_offered_is_406_listing_the_offers():
    with pytest.raises(NotAcceptable) as info:
        negotiate(RESULTS, accept="text/csv", format_param=["yaml", "turtle"],
                  what="a SELECT answer")
    error = info.value
    assert error.http_status == 406
    message = error.message
    assert "'yaml', 'turtle'" in message and "a SELECT answer" in message
    assert "json, xml, csv, tsv" in message  # the names to use instead ...
    for media in media_types(RESULTS):  # ... and the media types
        assert media in message


@pytest.mark.parametrize(("accept", "formats"), [
    ("image/png", RESULTS),
    ("text/html", RESULTS),
    ("text/turtle", RESULTS),  # a graph format for a SELECT answer
    ("application/sparql-results+json", GRAPHS),  # a results format for a graph
    ("text/csv;charset=iso-8859-1", RESULTS),  # offered, but not in that charset
    ("text/csv;q=0", RESULTS),
])
def test_nothing_acceptable_is_406_listing_the_offers(accept, formats):
    with pytest.raises(NotAcceptable) as info:
        negotiate(formats, accept=accept, what="this answer")
    message = info.value.message
    assert info.value.http_status == 406
    assert f"({accept})" in message and "this answer" in message
    offered = message.split("Offered: ", 1)[1]
    assert offered.rstrip(".").split(", ") == media_types(formats)


# ------------------------------------------------------------------------ prefers_json

@pytest.mark.parametrize(("accept", "expected"), [
    (None, False),
    ("", False),
    ("application/json", True),
    ("application/sparql-results+json", True),
    ("application/ld+json", True),
    ("application/json, text/plain", True),  # as good as text: JSON
    ("application/json, text/plain;q=0.5", True),
    ("text/plain, application/json;q=0.5", False),
    ("text/plain;q=0.5, application/json", True),
    ("application/json;q=0", False),
    ("application/json;charset=iso-8859-1", False),  # dropped: not UTF-8
    ("application/json;charset=utf-8", True),
    ("*/*", False),  # no JSON named: text
    ("text/html", False),
    ("text/csv", False),
])
def test_prefers_json(accept, expected):
    assert prefers_json(accept) is expected
