"""The dumps of a graph with other studies: streamed from the store (the writing process's
peak memory grows by less than one dump's size), complete, and written once per data
version however many requests and workers ask at once."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest

from peerchange.services.dumps import DumpsBuilding, DumpService, read_dump_set

pytestmark = pytest.mark.slow

# Run in a fresh process: load, warm up, reset the peak (VmHWM), write the dumps, report.
MEASURE = """
import json, sys
from pathlib import Path
from peerchange.core.config import Settings
from peerchange.core.knowledge_graph import load_graph
from peerchange.core.sources import extra_source
from peerchange.services.assembly import build_services
from peerchange.services.dumps import write_dumps

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

graph = load_graph([extra_source(sys.argv[1])])
services = build_services(Settings(), graph)
before = status("VmRSS")
try:
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
    reset = True
except OSError:
    reset = False
dump_set = write_dumps(services.sparql, Path(sys.argv[2]))
print(json.dumps({"before": before, "peak": status("VmHWM"), "reset": reset,
                  "quads": graph.triples,
                  "sizes": {f.name: f.size for f in dump_set.files}}))
"""


@pytest.fixture(scope="module")
def measured(synth_nq: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("streamed")
    done = subprocess.run([sys.executable, "-c", MEASURE, str(synth_nq), str(folder)],
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["folder"] = folder
    return result


def test_dumps_are_streamed_not_built_in_memory(measured):
    if not measured["reset"]:
        pytest.skip("this kernel cannot reset the peak resident size (/proc/self/clear_refs)")
    growth = measured["peak"] - measured["before"]
    ttl = measured["sizes"]["peerchange.ttl"]
    assert measured["quads"] > 40_000
    assert growth < ttl, f"peak grew by {growth:,} bytes writing a {ttl:,}-byte dump"


def test_streamed_dumps_hold_every_triple_and_quad(measured, scaled_app):
    store = scaled_app.services.graph.store
    folder: Path = measured["folder"]
    quads = set(ox.parse(gzip.decompress((folder / "peerchange.nq.gz").read_bytes()),
                         format=ox.RdfFormat.N_QUADS))
    assert len(quads) == len(store)
    union = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    ntriples = list(ox.parse(gzip.decompress((folder / "peerchange.nt.gz").read_bytes()),
                             format=ox.RdfFormat.N_TRIPLES))
    assert len(ntriples) == len(union)  # each distinct triple once
    turtle = set(ox.parse(path=folder / "peerchange.ttl"))
    assert turtle == set(ntriples)
    jsonld = list(ox.parse(path=folder / "peerchange.jsonld", format=ox.RdfFormat.JSON_LD))
    assert len(jsonld) == len(union)
    manifest = json.loads((folder / "manifest.json").read_text())
    study = next(f for f in manifest["files"] if f["name"] == "graphs/synth/study-1.ttl")
    assert study["statements"] == len(list(ox.parse(path=folder / study["name"])))


def test_one_build_per_version_under_concurrent_requests(scaled_app, tmp_path):
    """Eight requests in each of two workers (two services over one cache folder) ask at
    once: one set is written, and all get it."""
    sparql = scaled_app.services.sparql
    workers = [DumpService(sparql, tmp_path, wait=None) for _ in range(2)]
    got: list[Path] = []
    errors: list[BaseException] = []

    def ask(service: DumpService) -> None:
        try:
            got.append(service.ensure().folder)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(w,)) for w in workers for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(w.builds for w in workers) == 1
    assert len(set(got)) == 1 and len(got) == 16
    assert read_dump_set(got[0]) is not None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".building-")]


def test_a_request_during_a_long_build_gets_503_with_retry_after(scaled_app, tmp_path):
    service = DumpService(scaled_app.services.sparql, tmp_path, wait=0)
    with pytest.raises(DumpsBuilding) as caught:
        service.ensure()
    assert caught.value.http_status == 503
    assert int(caught.value.headers["Retry-After"]) > 0
    assert service.ensure(wait=None).folder.is_dir()  # the same build, finished
    assert service.builds == 1
