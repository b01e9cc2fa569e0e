"""``peerchange trace`` as a user runs it: ``python -m peerchange trace ...`` in a subprocess."""

from __future__ import annotations

import json
import re

import bibtexparser
import pytest
import rdflib
import rispy
from rdflib.compare import isomorphic

from tests.trace.conftest import ID, MECHANISMS, MISSION_THEORIES, STATUS_LABELS, walk_claims

LINK_LINE = re.compile(r"^[│├└─ ]*[├└]── [→←] ")
STATUS_TAG = re.compile(
    r"  \[(stated in the source|reported in a companion paper|curated inference)\]$")


@pytest.fixture(scope="module")
def text_traces(cli) -> dict[str, str]:
    out = {}
    for slug in MECHANISMS:
        proc = cli("trace", slug, "--width", "100")
        assert proc.returncode == 0, proc.stderr
        out[slug] = proc.stdout
    return out


def link_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if LINK_LINE.match(line)]


@pytest.mark.parametrize("slug", MECHANISMS)
def test_every_link_in_the_tree_says_its_status(text_traces, json_traces, slug):
    lines = link_lines(text_traces[slug])
    claims = list(walk_claims(json_traces[slug]))
    assert len(lines) == len(claims)  # the tree shows every claim the JSON trace has
    for line in lines:
        assert STATUS_TAG.search(line), line
    curated_lines = [ln for ln in lines if ln.endswith("[curated inference]")]
    assert len(curated_lines) == sum(1 for c in claims if c["curated"])
    # the rationale of a curated link is printed under it
    assert text_traces[slug].count("rationale (curated inference): ") == len(curated_lines)


def test_the_three_trees_show_the_four_theories_with_founding_texts(text_traces):
    for theory, key in MISSION_THEORIES.items():
        hits = []
        for slug, text in text_traces.items():
            lines = text.splitlines()
            for i, line in enumerate(lines):
                if LINK_LINE.match(line) and f"grounded in: {theory}  [" in line:
                    depth = line.index("── ")
                    end = next((j for j in range(i + 1, len(lines))
                                if LINK_LINE.match(lines[j]) and lines[j].index("── ") <= depth),
                               len(lines))
                    block = "\n".join(lines[i:end])  # the link and what hangs under it
                    assert f"founding text: {key}" in block
                    assert f"cites as authority: {key}" in block
                    assert STATUS_TAG.search(line)
                    hits.append(slug)
        assert hits, theory


def test_fuzzy_lookup_by_label_slug_and_iri(cli):
    by_label = cli("trace", "Role Modelling", "--format", "json")
    assert by_label.returncode == 0, by_label.stderr
    assert json.loads(by_label.stdout)["mechanism"]["iri"] == ID + "mechanism/role-modelling"
    by_iri = cli("trace", ID + "mechanism/engagement", "--format", "json")
    assert json.loads(by_iri.stdout)["mechanism"]["slug"] == "engagement"
    by_words = cli("trace", "trusting relationships", "--format", "json")
    assert json.loads(by_words.stdout)["mechanism"]["slug"] == "trusting-relationships"


def test_cli_json_is_the_web_json(cli, json_traces):
    proc = cli("trace", "engagement", "--format", "json")
    web = dict(json_traces["engagement"])
    web.pop("links")
    assert json.loads(proc.stdout) == web


def test_unknown_mechanism_exits_2_with_suggestions(cli):
    proc = cli("trace", "xyzzy")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "No change mechanism matches 'xyzzy'" in proc.stderr
    assert "Did you mean" in proc.stderr
    for slug in MECHANISMS:
        assert slug in proc.stderr
    assert "Traceback" not in proc.stderr
    assert cli("trace").returncode == 2


def test_bibtex_and_ris_of_a_trace(cli):
    bib = cli("trace", "role modelling", "--format", "bibtex")
    assert bib.returncode == 0, bib.stderr
    library = bibtexparser.parse_string(bib.stdout)
    assert library.failed_blocks == []
    keys = {e.key for e in library.entries}
    assert {"Bandura1977", "Festinger1955", "Gillard2015"} <= keys
    ris = rispy.loads(cli("trace", "role modelling", "--format", "ris").stdout)
    assert {r["id"] for r in ris} == keys


def test_reverse_trace_and_whole_reference_list(cli):
    proc = cli("trace", "--cited", "Bandura1977")
    assert proc.returncode == 0, proc.stderr
    assert "Mechanisms it leads back to (1)" in proc.stdout
    assert "(peerchange trace role-modelling)" in proc.stdout
    for line in proc.stdout.splitlines():
        if " → " in line and "[" in line:
            assert STATUS_TAG.search(line), line
    missing = cli("trace", "--cited", "Bandura1987")
    assert missing.returncode == 2 and "Bandura1977" in missing.stderr
    refs = cli("trace", "--references", "--format", "bibtex")
    assert len(bibtexparser.parse_string(refs.stdout).entries) == 60
    ris = cli("trace", "--references", "--format", "ris")
    assert len(rispy.loads(ris.stdout)) == 60


def test_status_labels_are_the_ontologys(json_traces):
    legend = {s["key"]: s["label"] for s in json_traces["engagement"]["legend"]}
    assert legend == STATUS_LABELS


# ---------------------------------------------------------------------------
# one renderer per format: the command line prints what the web serves
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "url"), [
    (("engagement",), "/trace/engagement"),
    (("--cited", "Bandura1977"), "/cited/Bandura1977"),
])
def test_cli_and_web_give_the_same_json_and_turtle(cli, client, backend, args, url):
    turtle = cli("trace", *args, "--format", "turtle")
    assert turtle.returncode == 0, turtle.stderr
    web_turtle = client.get(f"{url}.ttl").data
    if backend.remote:
        # the command reads the embedded store, the web Virtuoso: the same triples, written
        # in the order each store returned its rows (an answer without ORDER BY has none),
        # so the same graph and the same header, not the same bytes
        assert isomorphic(rdflib.Graph().parse(data=turtle.stdout, format="turtle"),
                          rdflib.Graph().parse(data=web_turtle, format="turtle"))
        header = turtle.stdout.split("\n@prefix", 1)[0]
        assert web_turtle.decode().startswith(header)
    else:
        assert turtle.stdout.encode() == web_turtle
    printed = cli("trace", *args, "--format", "json")
    assert printed.returncode == 0, printed.stderr
    web = client.get(f"{url}.json")
    doc = web.get_json()
    links = doc.pop("links")  # the web's alternates: the only addition, and the last key
    assert json.loads(printed.stdout) == doc
    assert list(web.get_json())[-1] == "links" and links
    # the same text, written by the same renderer
    assert web.get_data(as_text=True) == json.dumps(
        {**json.loads(printed.stdout), "links": links}, ensure_ascii=False, indent=1) + "\n"


def test_the_reverse_trace_turtle_has_one_title(cli, client):
    title = "# Reverse trace of the work Bandura1977: the claims that cite it"
    printed = cli("trace", "--cited", "Bandura1977", "--format", "turtle")
    assert printed.stdout.splitlines()[0] == title
    web = client.get("/cited/Bandura1977", headers={"Accept": "text/turtle"})
    assert web.get_data(as_text=True).splitlines()[0] == title
    forward = cli("trace", "role modelling", "--format", "turtle").stdout.splitlines()[0]
    assert forward == client.get("/trace/role-modelling.ttl").get_data(
        as_text=True).splitlines()[0]
    assert forward.startswith("# Trace of the change mechanism 'role-modelling")


def test_cli_and_web_bibliographies_are_the_same(cli, client):
    for fmt, ext in (("bibtex", "bib"), ("ris", "ris"), ("csl-json", "csl.json")):
        printed = cli("trace", "engagement", "--format", fmt)
        assert printed.stdout.encode() == client.get(
            f"/trace/engagement/bibliography.{ext}").data, fmt
    refs = cli("trace", "--references", "--format", "bibtex")
    assert refs.stdout.encode() == client.get("/references.bib").data
