"""Store-wide answers kept per data version in the cache folder
(:mod:`peerchange.services.version_files`): the home page's summary and a scoped canned
query's ``scope=store`` answer are written beside the dumps by the first worker, and
another worker or a restart over the same data reads the file (no query) and answers the
same bytes; a file of another version or layout, or cut short, is ignored."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pyoxigraph as ox

from peerchange.services import answer_files, canned, home, version_files
from peerchange.services.sparql import SparqlService
from tests.conftest import at_once

STORE_WIDE = ("/api/claims-by-status?status=https%3A%2F%2Fw3id.org%2Fpeerchange%2Fonto%2F"
              "StatedInSource&scope=store")
URLS = ("/", STORE_WIDE, STORE_WIDE + "&format=csv", STORE_WIDE + "&per_page=3&page=2")

# a worker of its own: the app over the shipped data with a dumps folder, nothing
# remembered in memory; prints the answers and the queries it evaluated
WORKER = """
import json, sys
from peerchange.core.config import Settings
from peerchange.services.sparql import SparqlService
from peerchange.web import create_app
ran = []
execute = SparqlService.execute
def spying(self, prepared, fmt=None, **kwargs):
    ran.append(prepared.name)
    return execute(self, prepared, fmt, **kwargs)
SparqlService.execute = spying
client = create_app(Settings(dumps_dir=sys.argv[1])).test_client()
answers = {}
for url in sys.argv[2:]:
    reply = client.get(url)
    answers[url] = [reply.status_code, reply.data.decode()]
print(json.dumps({"ran": ran, "answers": answers}))
"""


def _worker(dumps: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERCHANGE_")}
    done = subprocess.run([sys.executable, "-c", WORKER, str(dumps), *URLS], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _fresh(graph):
    return dataclasses.replace(graph, version=f"kept-{uuid.uuid4()}")


def test_another_worker_reads_the_files_and_answers_the_same_bytes(tmp_path):
    first = _worker(tmp_path)
    assert set(home.SUMMARY_QUERIES) <= set(first["ran"])
    assert "api/claims-by-status" in first["ran"]
    names = sorted(p.name.split("-", 1)[0] for p in tmp_path.iterdir()
                   if not p.name.startswith("."))
    assert names == ["answer", "home"]
    second = _worker(tmp_path)  # another worker, or the server restarted
    assert not set(home.SUMMARY_QUERIES) & set(second["ran"])
    assert "api/claims-by-status" not in second["ran"]
    assert second["answers"] == first["answers"]
    assert all(status == 200 for status, _ in first["answers"].values())
    assert "\"total\": 12" in first["answers"][STORE_WIDE][1]


def test_a_file_of_another_version_layout_or_cut_short_is_not_read(shipped_graph, tmp_path):
    sparql = SparqlService(_fresh(shipped_graph))
    build = home._summary.__wrapped__
    computed = build(sparql, str(tmp_path))
    path = home.summary_path(sparql, tmp_path)
    good = path.read_bytes()
    assert home.read_summary_file(path, sparql.graph.version) == computed
    doc = json.loads(gzip.decompress(good))
    for bad in ({**doc, "data_version": "another"}, {**doc, "layout": "0"},
                {**doc, "counts": []}):
        path.write_bytes(gzip.compress(json.dumps(bad).encode()))
        assert home.read_summary_file(path, sparql.graph.version) is None
    path.write_bytes(good[:-20])  # cut short
    assert home.read_summary_file(path, sparql.graph.version) is None
    before = sparql.executed
    assert build(sparql, str(tmp_path)) == computed  # read from the store again
    assert sparql.executed > before
    assert path.read_bytes() == good  # and written again
    before = sparql.executed
    assert build(sparql, str(tmp_path)) == computed
    assert sparql.executed == before  # read from the file


def test_a_store_wide_answer_comes_back_with_the_same_terms(shipped_graph, tmp_path):
    sparql = SparqlService(_fresh(shipped_graph))
    status = ox.NamedNode(canned.catalogue()["claims-by-status"].params[0].example
                          or "https://w3id.org/peerchange/onto/StatedInSource")
    bindings = (("status", status),)
    build = canned._store_wide_answer.__wrapped__
    computed = build(sparql, "claims-by-status", bindings, sparql.max_rows, str(tmp_path))
    assert len(computed[1]) > 3
    before = sparql.executed
    again = build(sparql, "claims-by-status", bindings, sparql.max_rows, str(tmp_path))
    assert sparql.executed == before
    assert again[:3] == computed[:3]
    assert [[type(t) for t in row] for row in again[1]] == \
        [[type(t) for t in row] for row in computed[1]]
    # another row limit or binding is another file
    build(sparql, "claims-by-status", bindings, 5, str(tmp_path))
    assert sparql.executed > before
    files = [p for p in tmp_path.iterdir() if p.name.startswith("answer-")]
    assert len(files) == 2


def test_terms_round_trip():
    terms = [ox.NamedNode("https://example.org/a"), ox.BlankNode("b1"), None,
             ox.Literal("plain"), ox.Literal("3", datatype=ox.NamedNode(
                 "http://www.w3.org/2001/XMLSchema#integer")),
             ox.Literal("chat", language="fr"),
             ox.Literal("שלום", language="he", direction=ox.BaseDirection.RTL)]
    back = [answer_files.decode(json.loads(json.dumps(answer_files.encode(t))))
            for t in terms]
    assert back == terms
    assert [str(t) for t in back] == [str(t) for t in terms]
    for bad in (["x", "a"], ["i"], ["l", "a", None], ["i", "not an iri"], 3):
        try:
            answer_files.decode(bad)
        except (ValueError, TypeError):
            continue
        raise AssertionError(f"decoded {bad!r}")


def test_one_process_builds_while_the_others_wait_and_read(tmp_path):
    path = version_files.version_file(tmp_path, "test", "v1", "1", ["q"], ".json.gz")
    builds: list[int] = []

    def build() -> dict:
        builds.append(1)
        time.sleep(0.3)  # the others arrive meanwhile
        return {"value": 42}

    def read(p: Path):
        doc = version_files.read_json(p, "1", "v1")
        return None if doc is None else doc["value"]

    def write(f, value):
        version_files.json_writer({"layout": "1", "data_version": "v1", "value": 42})(f)

    got, _ = at_once(lambda n: version_files.kept(path, read, lambda: build()["value"], write),
                     3, 30)
    assert builds == [1] and got == [42, 42, 42]
    assert not [p for p in tmp_path.iterdir()  # no temporary file left
                if p.name.startswith(".test-") and not p.name.endswith(".lock")]


# another process builds: it holds the lock, writes the file, and lets go
HOLDER = """
import fcntl, sys, time
from pathlib import Path
from peerchange.services import version_files
path = Path(sys.argv[1])
with (path.parent / f".{path.name}.lock").open("a") as lock:
    fcntl.lockf(lock, fcntl.LOCK_EX)
    print("locked", flush=True)
    time.sleep(1.0)
    version_files.write_atomically(path, version_files.json_writer(
        {"layout": "1", "data_version": "v1", "value": 7}))
"""


def test_another_process_building_is_waited_for_and_read(tmp_path):
    path = version_files.version_file(tmp_path, "test", "v1", "1", ["q"], ".json.gz")
    builds: list[int] = []

    def read(p: Path):
        doc = version_files.read_json(p, "1", "v1")
        return None if doc is None else doc["value"]

    with subprocess.Popen([sys.executable, "-c", HOLDER, str(path)],
                          stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        got = version_files.kept(path, read, lambda: builds.append(1) or 0,
                                 lambda f, value: None)
        assert holder.wait(30) == 0
    assert got == 7 and builds == []


def test_a_folder_that_cannot_be_written_only_costs_the_file(shipped_graph, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    sparql = SparqlService(_fresh(shipped_graph))
    summary = home._summary.__wrapped__(sparql, str(blocked / "dumps"))
    assert summary.counts["triples"] > 0


def test_a_process_forked_under_the_build_lock_does_not_keep_it(tmp_path):
    """A query process forked while a worker builds (a dump set, a kept file) lives on
    after the build; with a ``flock`` its copy of the descriptor kept the lock and every
    other worker waited for it for ever. The lock the builds take (``exclusive``, used
    by the dumps too) is gone when the builder leaves it."""
    from peerchange.services.version_files import exclusive

    lock_path = tmp_path / ".dumps.lock"
    lock_path.touch()
    with exclusive(lock_path):
        child = os.fork()
        if child == 0:  # the long-lived query process
            time.sleep(30)
            os._exit(0)
    try:
        other_worker = (
            "import sys\n"
            "from pathlib import Path\n"
            "from peerchange.services.version_files import exclusive\n"
            "with exclusive(Path(sys.argv[1])):\n"
            "    print('held')\n"
        )
        done = subprocess.run([sys.executable, "-c", other_worker, str(lock_path)],
                              capture_output=True, text=True, timeout=15, check=False)
        assert done.stdout == "held\n", done.stderr
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
