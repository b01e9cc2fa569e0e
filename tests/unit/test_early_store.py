"""The restart's early answerer decides and answers as the full server: the cheap copies
of the store decision, the settings and the headers are held equal to the originals
(``core/early_store.py``, ``serving/launch.py``, ``serving/early.py``)."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import parse_qsl

import pyoxigraph as ox
import pytest

from peerchange.core import early_store, knowledge_graph, sources, store_folder
from peerchange.core.config import Settings
from peerchange.core.early_answer import Unanswered, Unparsable, answer, screen
from peerchange.core.sources import extra_source, shipped_sources
from peerchange.serving import early, early_request, launch
from peerchange.web import EXPOSED_HEADERS
from tests.conftest import ROOT, clean_env


def test_constants_are_the_store_folders():
    assert early_store.MARKER == store_folder.MARKER
    assert early_store.LOCK == store_folder.LOCK
    assert early_store.LAYOUT == store_folder.LAYOUT
    assert early_store.VERIFY_QUADS == store_folder.VERIFY_QUADS
    assert early_store.STORE_PREFIX == store_folder.STORE_PREFIX
    assert early_store.DIGEST_BYTES == knowledge_graph.DIGEST_BYTES
    assert Settings().max_extra_bytes == early_store.MAX_EXTRA_BYTES
    for name in ("1.sst", "000123.sst", "MANIFEST-000005", "CURRENT", "LOG", "x.sst",
                 "OPTIONS-000007", "MANIFEST-", "12.sst.bak"):
        assert early_store._fixed(name) == bool(store_folder._FIXED_FILES.match(name)), name


def test_formats_are_the_loaders():
    for ext, (name, quads) in early_store.FORMATS.items():
        assert str(sources.FORMATS[ext]) == name
        assert (sources.FORMATS[ext] in sources.QUAD_FORMATS) == quads
    left_out = set(sources.FORMATS) - set(early_store.FORMATS)
    assert {str(sources.FORMATS[e]) for e in left_out} == {"RDF/XML"}


def test_data_version_is_load_graphs(tmp_path, monkeypatch):
    monkeypatch.delenv("PEERCHANGE_DIGEST_BYTES", raising=False)
    monkeypatch.delenv("PEERCHANGE_MAX_EXTRA_BYTES", raising=False)
    nt = tmp_path / "extra.data.nt"
    nt.write_text("<http://a.example/s> <http://a.example/p> <http://a.example/o> .\n")
    nq = tmp_path / "quads.nq"
    nq.write_text("<http://a.example/s> <http://a.example/p> <http://a.example/o> "
                  "<http://a.example/g> .\n")
    files = [str(nt), str(nq)]

    def digest() -> str:
        return knowledge_graph.sources_digest(shipped_sources() + [extra_source(f)
                                                                    for f in files])

    assert early_store.data_version([]) == knowledge_graph.sources_digest(shipped_sources())
    assert early_store.data_version(files) == digest()
    monkeypatch.setenv("PEERCHANGE_DIGEST_BYTES", "50")  # the fingerprint of larger files
    assert early_store.data_version(files) == digest()
    for other in ("x.rdf", "x.nt.gz", "x.unknown", str(tmp_path / "missing.nt")):
        assert early_store.data_version([other]) is None


def test_a_built_store_is_found_only_as_load_graph_reuses_it(tmp_path):
    folder = tmp_path / "st"
    graph = knowledge_graph.load_graph(store_path=str(folder))
    graph.release()
    built = early_store.find_built(str(folder), [])
    assert built is not None and built.version == graph.version
    assert early_store.current_folder(str(folder)) == built.path
    store = early_store.open_read_only(built.path)
    assert store is not None and len(store) == graph.triples
    assert early_store.counts_as_recorded(store, built.quads)
    assert not early_store.counts_as_recorded(store, built.quads + 1)
    built.release()
    assert early_store.find_built(str(folder), [str(ROOT / "tests" / "missing.ttl")]) is None
    assert early_store.find_built(str(tmp_path / "nothing"), []) is None


def test_limits_default_to_the_settings():
    limits, settings = early_request.Limits(), Settings()
    for name, value in vars(limits).items():
        if hasattr(settings, name):
            assert getattr(settings, name) == value, name
    assert limits.max_body == settings.max_query_bytes * 3 + 4096
    assert ", ".join(sorted(EXPOSED_HEADERS)) == early.EXPOSED


@pytest.mark.parametrize(("argv", "env", "taken"), [
    (["serve", "--store", "d"], {}, True),
    (["serve", "a.nt", "--store=d", "-q", "--port", "9", "--timeout", "2", "--max-rows",
      "5", "--allow-service", "http://x.example/", "--workers", "3", "--threads", "2"], {},
     True),
    (["serve"], {"PEERCHANGE_STORE": "d", "PEERCHANGE_MAX_ROWS": "7"}, True),
    (["serve"], {}, False),
    (["serve", "--store", "d", "--help"], {}, False),
    (["serve", "--store", "d", "--graph", "http://g.example/=x.nt"], {}, False),
    (["serve", "--store", "d", "--reload"], {}, False),
    (["serve", "--store", "d", "--bogus"], {}, False),
    (["serve", "--store", "d", "--port", "x"], {}, False),
    (["serve", "--store", "d", "--workers", "0"], {}, False),
    (["serve", "--store", "d", "--"], {}, False),
    (["--version"], {}, False),
    (["query", "--store", "d"], {}, False),
    (["serve", "--store", "d"], {"PEERCHANGE_ENDPOINT": "http://x.example/"}, False),
    (["serve", "--store", "d"], {"PEERCHANGE_SERVE_QUIET": "1"}, False),
    (["serve", "--store", "d"], {"PEERCHANGE_CORS_ORIGINS": "https://x.example"}, False),
    (["serve", "--store", "d"], {"PEERCHANGE_MAX_ROWS": "many"}, False),
])
def test_the_launcher_takes_only_what_it_understands(argv, env, taken):
    assert (launch.parse(argv, env) is not None) == taken


def test_the_launchers_values():
    values, files = launch.parse(["serve", "a.nt", "b.nq", "--store", "d", "-q", "--timeout",
                                  "2.5"], {"PEERCHANGE_MAX_ROWS": "7", "PEERCHANGE_PORT": "9"})
    assert files == ["a.nt", "b.nq"]
    assert values == {"STORE": "d", "QUIET": True, "QUERY_TIMEOUT": 2.5, "MAX_ROWS": 7,
                      "PORT": 9}


def _imported_of(imports: str, names: set[str]) -> str:
    """Which of the top-level modules ``names`` a fresh interpreter has loaded after
    running ``imports``, as the sorted list it prints."""
    code = (f"import sys\n{imports}\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(names)!r})))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=clean_env(), cwd=ROOT, check=True).stdout.strip()


def test_the_entry_imports_no_framework():
    assert _imported_of(
        "from peerchange.serving import launch, early\n"
        "from peerchange.core import early_answer, early_store",
        {"click", "flask", "gunicorn", "werkzeug", "jinja2", "dataclasses", "yaml"}) == "[]"


def test_the_first_answers_path_imports_no_python_module_it_can_do_without():
    # each of these costs 1-5 ms at every restart before the first answer (json's decoder
    # and the console script import re; socket, signal and re build enums)
    assert _imported_of(
        "import peerchange.__main__\n"
        "from peerchange.serving import launch, early, early_request, fd_channel\n"
        "from peerchange.core import early_answer, early_store, json_text",
        {"re", "json", "enum", "socket", "signal", "contextlib", "collections", "functools",
         "selectors", "typing", "hashlib", "urllib"}) == "[]"


@pytest.mark.parametrize("raw", [
    "query=ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D", "query=a+b&x=", "a=%zz%4&&b", "q=%C3%A9",
    "=x&y", "query=SELECT+*+WHERE+%7B%3Fs%3Fp%3Fo%7D&format=json", ""])
def test_form_decoding_is_parse_qsl(raw):
    expected = parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="strict")
    assert early_request.form_params(raw.encode()) == expected


def test_screen():
    assert screen("ASK { ?s ?p ?o }", 128) is None
    assert screen("  ", 128)
    assert screen("SELECT * FROM <http://g.example/> WHERE { ?s ?p ?o }", 128)
    assert screen("SELECT * WHERE { SERVICE <http://x.example/> { ?s ?p ?o } }", 128)
    assert screen("INSERT DATA { <http://a.example/> <http://b.example/> 1 }", 128)
    assert screen("DESCRIBE <http://a.example/>", 128)
    assert screen("ASK { ((((?s)))) ?p ?o }", 3)
    # a whole-line comment is not looked at: a harness query says "with" in its comment
    assert screen("# the mechanisms, with their labels, from one model\n"
                  "  # (( a comment ((\nASK { ?s ?p ?o }", 3) is None
    assert screen("# a comment\nASK { ?s ?p ?o } # with", 128)


def test_answer_subset():
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://a.example/s"), ox.NamedNode("http://a.example/p"),
                      ox.Literal("x"), ox.NamedNode("http://a.example/g")))
    kwargs = {"base_iri": "http://h/sparql", "max_rows": 10, "max_bytes": 10**6}
    ctype, body, rows = answer(store, "SELECT ?o WHERE { ?s ?p ?o }", accept=None, **kwargs)
    assert (ctype, rows) == ("application/sparql-results+json", 1)
    assert body == b'{"head": {"vars": ["o"]}, "results": {"bindings": [{"o": {"type": ' \
                   b'"literal", "value": "x"}}]}}'
    with pytest.raises(Unanswered):
        answer(store, "SELECT ?o WHERE { ?s ?p ?o }", accept="text/csv", **kwargs)
    with pytest.raises(Unanswered):
        answer(store, "SELECT ?o WHERE { ?s ?p ?o }", accept=None, base_iri="http://h/",
               max_rows=0, max_bytes=100)
    with pytest.raises(Unparsable):
        answer(store, "SELECT ?o WHERE {", accept=None, **kwargs)
