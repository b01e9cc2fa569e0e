"""Row 15 of issue 8: an extra RDF/XML file with nested entities (an 844-byte "billion
laughs" made a 300 M-character literal, 945 MB resident) is refused before it is parsed,
by ``serve``, ``validate`` and ``query`` alike: a clear message and exit code 2, no trace,
no memory. Extra files larger than ``PEERCHANGE_MAX_EXTRA_BYTES`` are refused too; Turtle,
N-Triples and JSON-LD still load, and a JSON-LD ``@context`` URL is never fetched.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from peerchange.core.errors import SourceError
from peerchange.core.sources import extra_source
from peerchange.core.store import source_ntriples

ENTITY_MESSAGE = "entity declarations are not accepted in RDF/XML"


def laughs(levels: int = 9) -> str:
    """The classic billion laughs as RDF/XML: ``levels`` entities, each ten of the last."""
    decls = ['<!ENTITY l0 "ha">'] + [
        f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10))}">'
        for i in range(1, levels)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + "\n".join(decls) + "\n]>\n"
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">\n'
            '<rdf:Description rdf:about="https://example.org/laugh">'
            f"<rdfs:label>&l{levels - 1};</rdfs:label></rdf:Description>\n</rdf:RDF>\n")


PLAIN_RDFXML = ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF>\n'
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                'xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">\n'
                '<rdf:Description rdf:about="https://example.org/plain">'
                "<rdfs:label>plain &amp; fine</rdfs:label></rdf:Description>\n</rdf:RDF>\n")


@pytest.fixture
def bomb(tmp_path: Path) -> Path:
    path = tmp_path / "laughs.rdf"
    path.write_text(laughs(), encoding="utf-8")
    assert path.stat().st_size < 1200
    return path


def test_the_bomb_is_refused_before_parsing(bomb):
    with pytest.raises(SourceError) as info:
        extra_source(bomb).read_bytes()
    assert ENTITY_MESSAGE in str(info.value)
    assert "laughs.rdf" in str(info.value)


@pytest.mark.parametrize("decl", ['<!ENTITY e SYSTEM "file:///etc/passwd">',
                                  '<!ENTITY % p "x">', '<!ENTITY a "one">'])
def test_every_entity_declaration_is_refused(tmp_path, decl):
    for suffix in (".rdf", ".owl", ".xml", ".rdf.gz"):
        text = PLAIN_RDFXML.replace("<!DOCTYPE rdf:RDF>", f"<!DOCTYPE rdf:RDF [{decl}]>")
        path = tmp_path / f"entity{suffix}"
        data = text.encode()
        path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
        with pytest.raises(SourceError, match=ENTITY_MESSAGE):
            list(source_ntriples([extra_source(path)]))


def test_rdfxml_without_entities_still_loads(tmp_path):
    path = tmp_path / "plain.rdf"
    path.write_text(PLAIN_RDFXML, encoding="utf-8")
    lines = list(source_ntriples([extra_source(path)]))
    assert any('"plain & fine"' in line for line in lines)


def test_a_file_over_the_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.ttl"
    path.write_text('<https://example.org/a> <https://example.org/b> "' + "x" * 2000
                    + '" .\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"at most 1,000 bytes"):
        extra_source(path, max_bytes=1000).read_bytes()
    monkeypatch.setenv("PEERCHANGE_MAX_EXTRA_BYTES", "1000")
    with pytest.raises(SourceError, match="PEERCHANGE_MAX_EXTRA_BYTES"):
        extra_source(path).read_bytes()
    monkeypatch.setenv("PEERCHANGE_MAX_EXTRA_BYTES", "lots")
    with pytest.raises(SourceError, match="not a valid int"):
        extra_source(path)


def test_a_gzip_bomb_is_refused_without_decompressing_it(tmp_path):
    path = tmp_path / "zeros.nt.gz"
    with gzip.open(path, "wb") as fh:  # 64 MB of zeros: about 64 KB on disk
        for _ in range(64):
            fh.write(b"\0" * 1_000_000)
    assert path.stat().st_size < 200_000
    with pytest.raises(SourceError, match="decompresses to more bytes"):
        extra_source(path, max_bytes=1_000_000).read_bytes()


def test_a_corrupt_gzip_file_is_a_clear_error(tmp_path):
    data = gzip.compress(b"<https://example.org/a> <https://example.org/b> <c:d> .\n" * 500)
    cases = {"flipped.nt.gz": data[:20] + bytes(b ^ 0xFF for b in data[20:60]) + data[60:],
             "cut.nt.gz": data[:30], "plain.nt.gz": b"not gzip"}
    for name, raw in cases.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(SourceError, match=f"{name}: not a valid gzip file"):
            extra_source(tmp_path / name).read_bytes()


def test_jsonld_remote_context_is_never_fetched(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    connections: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            connections.append(conn)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        path = tmp_path / "remote.jsonld"
        path.write_text(json.dumps({"@context": f"http://127.0.0.1:{port}/context.jsonld",
                                    "@id": "https://example.org/x", "name": "x"}))
        with pytest.raises(SourceError, match="remote.jsonld"):
            list(source_ntriples([extra_source(path)]))
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()
    assert connections == []


def test_other_formats_still_load(make_app, tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    (folder / "t.ttl").write_text('<https://example.org/t> <https://example.org/p> "turtle" .')
    (folder / "n.nt").write_text('<https://example.org/n> <https://example.org/p> "nt" .\n')
    (folder / "j.jsonld").write_text('{"@id": "https://example.org/j", '
                                     '"https://example.org/p": "jsonld"}')
    (folder / "x.rdf").write_text(PLAIN_RDFXML)
    client = make_app(extra_files=[str(folder / n) for n in
                                   ("t.ttl", "n.nt", "j.jsonld", "x.rdf")]).test_client()
    resp = client.post("/sparql", data={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g "
                                        "{ ?s ?p ?o } FILTER(STRSTARTS(STR(?s), "
                                        "'https://example.org/')) } GROUP BY ?g"},
                       headers={"Accept": "application/sparql-results+json"})
    graphs = {b["g"]["value"].rsplit("/", 1)[-1]
              for b in resp.get_json()["results"]["bindings"]}
    assert graphs == {"t", "n", "j", "x"}


# -- the three commands, as a user runs them ---------------------------------------------

# run the command as `python -m peerchange` does, then record this process's own peak
# resident memory (VmHWM starts again at exec; getrusage's RUSAGE_CHILDREN would keep the
# largest child the test worker ever waited for, whatever test ran it)
RUN_AND_RECORD_PEAK = """
import atexit, os, re, sys
from pathlib import Path

def record():
    status = Path("/proc/self/status").read_text()
    kib = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
    Path(os.environ["PEAK_FILE"]).write_text(str(kib))

atexit.register(record)
from peerchange.cli import main
sys.argv = ["peerchange", *sys.argv[1:]]
main()
"""


def _run_measured(args: list[str], env: dict[str, str], peak_file) -> tuple:
    import subprocess

    done = subprocess.run([sys.executable, "-c", RUN_AND_RECORD_PEAK, *args],
                          env={**os.environ, **env, "PEAK_FILE": str(peak_file)},
                          capture_output=True, text=True, timeout=120)
    return done, int(peak_file.read_text()) / 1024


@pytest.mark.slow
@pytest.mark.parametrize("command", [["validate", "--no-reasoner"],
                                     ["query", "ASK {}", "--data"],
                                     ["serve", "--port", "0"]])
def test_every_command_refuses_the_bomb(bomb, command):
    args = [*command, str(bomb)]
    started = time.monotonic()
    done, peak_mb = _run_measured(args, {"PEERCHANGE_DUMPS_DIR": str(bomb.parent / "dumps")},
                                  bomb.parent / f"peak-{command[0]}")
    seconds = time.monotonic() - started
    assert done.returncode == 2, done.stdout + done.stderr
    assert ENTITY_MESSAGE in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert seconds < 60
    # the command's own peak; the bomb alone took 945 MB
    assert peak_mb < 900
