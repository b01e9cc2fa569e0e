"""The canned-query service without HTTP: front matter, parameter checking and binding."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from peerchange.core.errors import QueryFileError
from peerchange.core.queryfiles import QueryFile, parse_front_matter
from peerchange.services.canned import (
    BadParameter,
    CannedQueryService,
    Param,
    UnknownQuery,
    canned_query,
    expand_iri,
    plain_value,
)

XSD = "http://www.w3.org/2001/XMLSchema#"


def _file(front: str, body: str = "SELECT ?x WHERE { ?x ?p ?o }") -> QueryFile:
    text = front + body
    return QueryFile(name="api/test", text=text, meta=parse_front_matter(text))


@pytest.fixture
def service(app):
    return CannedQueryService(app.services.sparql)


def test_iri_parameter():
    p = Param("x", "iri", "an IRI")
    assert p.term("https://example.org/a") == ox.NamedNode("https://example.org/a")
    assert p.term("pcd:mechanism/engagement") == ox.NamedNode(
        "https://w3id.org/peerchange/id/mechanism/engagement")
    assert p.term("urn:isbn:0451450523") == ox.NamedNode("urn:isbn:0451450523")
    for bad in ["relative/path", "", "http://a b", "<https://x>", "https://x>y"]:
        with pytest.raises(BadParameter):
            p.term(bad)


def test_integer_parameter_is_xsd_integer():
    p = Param("n", "integer", "a number")
    assert p.term(" 2010 ") == ox.Literal("2010", datatype=ox.NamedNode(XSD + "integer"))
    assert p.term("+07") == ox.Literal("7", datatype=ox.NamedNode(XSD + "integer"))
    for bad in ["1e3", "2010.0", "two", ""]:
        with pytest.raises(BadParameter):
            p.term(bad)


def test_string_and_literal_parameters():
    assert Param("s", "string", "d").term("Bandura1977") == ox.Literal("Bandura1977")
    assert Param("l", "literal", "d", lang="en").term("hope") == ox.Literal("hope",
                                                                             language="en")
    typed = Param("l", "literal", "d", datatype="xsd:gYear").term("2015")
    assert typed == ox.Literal("2015", datatype=ox.NamedNode(XSD + "gYear"))


def test_enum_accepts_prefixed_names():
    p = Param("s", "iri", "d", enum=("https://w3id.org/peerchange/onto/StatedInSource",))
    assert p.term("pcm:StatedInSource").value.endswith("StatedInSource")
    with pytest.raises(BadParameter, match="must be one of"):
        p.term("pcm:CuratedInference")


def test_expand_iri_leaves_unknown_prefixes_and_urls():
    assert expand_iri("https://example.org/x") == "https://example.org/x"
    assert expand_iri("nope:x") == "nope:x"
    assert expand_iri("skos:closeMatch") == "http://www.w3.org/2004/02/skos/core#closeMatch"


def test_plain_values():
    assert plain_value(ox.Literal("10", datatype=ox.NamedNode(XSD + "nonNegativeInteger"))) == 10
    assert plain_value(ox.Literal("1.5", datatype=ox.NamedNode(XSD + "decimal"))) == 1.5
    assert plain_value(ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))) is True
    assert plain_value(ox.Literal("2015", datatype=ox.NamedNode(XSD + "gYear"))) == "2015"
    assert plain_value(ox.NamedNode("https://x.org/")) == "https://x.org/"
    assert plain_value(None) is None


@pytest.mark.parametrize("front", [
    "#+ summary: s\n#+ tags: [a]\n",  # no description
    "#+ summary: s\n#+ description: d\n",  # no tags
    "#+ summary: s\n#+ description: d\n#+ tags: [a]\n#+ params:\n#+   x:\n#+     type: uri\n"
    "#+     description: d\n",  # unknown type
    "#+ summary: s\n#+ description: d\n#+ tags: [a]\n#+ params:\n#+   x:\n#+     type: iri\n",
    "#+ summary: s\n#+ description: d\n#+ tags: [a]\n#+ params:\n#+   page:\n#+     type: iri\n"
    "#+     description: d\n",  # reserved name
    "#+ summary: s\n#+ description: d\n#+ tags: [a]\n#+ params:\n#+   x:\n#+     type: integer\n"
    "#+     description: d\n#+     example: many\n",  # example of the wrong type
    "#+ summary: s\n#+ description: d\n#+ tags: [a]\n#+ pagination: lots\n",
])
def test_malformed_front_matter_is_a_query_file_error(front):
    with pytest.raises(QueryFileError):
        canned_query(_file(front))


def test_front_matter_is_read():
    q = canned_query(_file(
        "#+ summary: s\n#+ description: >\n#+   a\n#+   b\n#+ tags: [x, y]\n#+ pagination: 5\n"
        "#+ params:\n#+   x:\n#+     type: iri\n#+     description: d\n#+     required: true\n"
        "#+     example: pcd:a\n"))
    assert (q.name, q.summary, q.description, q.tags, q.pagination) == (
        "test", "s", "a b", ("x", "y"), 5)
    assert q.params[0].required and q.example_values() == {"x": "pcd:a"}


def test_unknown_query(service):
    with pytest.raises(UnknownQuery) as info:
        service.get("nope")
    assert "mechanisms" in info.value.names


def test_defaults_are_applied(service):
    query = service.get("study-design")
    bindings, used = service.bind(query, {})
    assert used == {"study": "https://w3id.org/peerchange/id/study/gillard2015"}
    assert bindings["study"] == ox.NamedNode(used["study"])


def test_run_pages_without_editing_the_query(service):
    query = service.get("paper-references")
    text = query.file.text
    page = service.run("paper-references", {}, page="2", per_page="7")
    assert (page.page, page.per_page, page.total, page.pages) == (2, 7, 60, 9)
    assert len(page.rows) == 7
    assert query.file.text == text and "LIMIT" not in text and "OFFSET" not in text


def test_pages_of_one_answer_are_cut_from_one_evaluation(app):
    """The rows evaluated for one data version, query, bindings and row limit are kept:
    another page of the same answer runs no query and gives the rows of one evaluation;
    other bindings, or another data version, are evaluated afresh."""
    import dataclasses

    from peerchange.services.sparql import SparqlService
    from tests.api.conftest import CURATED, STATED

    # a data version of its own: a store-wide answer is shared by the services over one
    sparql = SparqlService(dataclasses.replace(app.services.sparql.graph,
                                               version="pages of one answer"))
    service = CannedQueryService(sparql)
    whole = service.run("claims-by-status", {"status": [STATED]}, per_page="1000").rows
    # one evaluation of the paper's claims: its companion papers, then their claims
    once = sparql.executed
    assert once in (1, 2) and len(whole) > 6
    second = service.run("claims-by-status", {"status": [STATED]}, page="2", per_page="3")
    assert sparql.executed == once
    assert second.rows == whole[3:6] and second.total == len(whole)
    service.run("claims-by-status", {"status": [CURATED]})
    assert sparql.executed == 2 * once
    service.run("claims-by-status", {"status": [STATED], "scope": ["store"]}, per_page="3")
    assert sparql.executed == 2 * once + 1
    sparql.graph = dataclasses.replace(sparql.graph, version="another version")
    again = service.run("claims-by-status", {"status": [STATED]}, page="2", per_page="3")
    assert sparql.executed == 3 * once + 1 and again.rows == second.rows
