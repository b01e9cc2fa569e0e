"""The on-disk store folder (issue 8, row 8): locked, built aside, swapped by rename,
damage detected and rebuilt with a message, replaced stores kept while they are read.

These load the shipped graph into a temporary folder in this process (under a second
each); the same through ``peerchange serve`` is in ``test_store_serve.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from peerchange.core.errors import SourceError
from peerchange.core.knowledge_graph import load_graph
from peerchange.core.sources import extra_source
from peerchange.core.store_folder import MARKER, _fingerprint
from tests.conftest import ROOT, clean_env
from tests.store.conftest import builds, current, pointer, stores

pytestmark = pytest.mark.timeout(120)


def test_a_build_is_complete_and_then_reused(load, lines, tmp_path, shipped_graph):
    folder = tmp_path / "store"
    first = load(progress=lines)
    assert "building an on-disk store" in lines.text()
    assert first.version == shipped_graph.version
    assert first.triples == shipped_graph.triples
    assert Path(first.store_path) == current(folder)
    marker = json.loads((current(folder) / MARKER).read_text(encoding="utf-8"))
    assert marker["version"] == first.version and marker["quads"] == first.triples
    assert marker["graph_counts"] == shipped_graph.graph_counts
    assert stores(folder) == [current(folder).name] and builds(folder) == []

    lines.clear()
    recorded = (folder / MARKER).stat().st_mtime_ns
    again = load(progress=lines)
    assert "reusing the on-disk store" in lines.text()
    assert "building" not in lines.text()
    assert again.store_path == first.store_path
    assert again.graph_counts == shipped_graph.graph_counts
    assert (folder / MARKER).stat().st_mtime_ns == recorded  # nothing rewritten


def test_a_store_above_the_verify_size_is_reused_on_its_record(built, load, lines,
                                                               monkeypatch):
    """Counting a reused store reads one whole index (0.27 s of CPU at 10^6 quads): from
    ``VERIFY_QUADS`` quads on, a restart trusts the record (and the files' sizes and times)
    and reads no data; a smaller store is still counted (``quad count differs`` below)."""
    from peerchange.core import store_folder

    marker_path = current(built) / MARKER
    marker = json.loads(marker_path.read_text(encoding="utf-8"))
    marker["quads"] += 1  # what only a count would notice
    marker_path.write_text(json.dumps(marker), encoding="utf-8")
    monkeypatch.setattr(store_folder, "VERIFY_QUADS", marker["quads"])
    graph = load(progress=lines)
    assert "reusing the on-disk store" in lines.text(), lines.text()
    assert graph.triples == marker["quads"]  # the record's count: nothing was counted
    graph.release()


LOADER = """
import json, sys
from peerchange.core.knowledge_graph import load_graph
lines = []
graph = load_graph(store_path=sys.argv[1], progress=lines.append)
print(json.dumps({"version": graph.version, "triples": graph.triples,
                  "path": graph.store_path, "lines": lines}))
"""


@pytest.mark.slow  # subprocesses building real stores
def test_first_loads_at_the_same_moment_share_one_complete_store(tmp_path, shipped_graph):
    """Before the lock, two first starts built into one folder and left a corrupt store
    that looked finished."""
    folder = tmp_path / "store"
    procs = [subprocess.Popen([sys.executable, "-c", LOADER, str(folder)], cwd=ROOT,
                              env=clean_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=90) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    results = [json.loads(out) for out, _ in outputs]
    assert {r["version"] for r in results} == {shipped_graph.version}
    assert {r["triples"] for r in results} == {shipped_graph.triples}
    assert {r["path"] for r in results} == {str(current(folder))}
    built = [r for r in results if any("building" in line for line in r["lines"])]
    assert len(built) == 1, [r["lines"] for r in results]
    assert stores(folder) == [current(folder).name] and builds(folder) == []
    assert len(ox.Store.read_only(str(current(folder)))) == shipped_graph.triples


def _truncate_a_table(folder: Path) -> None:
    table = sorted(current(folder).glob("*.sst"))[0]
    with table.open("r+b") as fh:
        fh.truncate(100)


def _delete_a_table(folder: Path) -> None:
    sorted(current(folder).glob("*.sst"))[-1].unlink()


def _overwrite_a_block(folder: Path) -> None:
    table = max(current(folder).glob("*.sst"), key=lambda p: p.stat().st_size)
    with table.open("r+b") as fh:
        fh.seek(table.stat().st_size // 3)
        fh.write(b"\0" * 512)


def _garbage_current(folder: Path) -> None:
    (current(folder) / "CURRENT").write_text("garbage\n", encoding="utf-8")


def _garbage_record(folder: Path) -> None:
    (folder / MARKER).write_text("{not json", encoding="utf-8")


def _store_folder_deleted(folder: Path) -> None:
    shutil.rmtree(current(folder))


def _wrong_count(folder: Path) -> None:
    marker_path = current(folder) / MARKER
    marker = json.loads(marker_path.read_text(encoding="utf-8"))
    marker["quads"] += 1
    marker_path.write_text(json.dumps(marker), encoding="utf-8")


def _truncate_and_rewrite_the_record(folder: Path) -> None:
    """Damage that the record of sizes and times cannot see: RocksDB's own checks catch it
    when the store is opened."""
    _truncate_a_table(folder)
    marker_path = current(folder) / MARKER
    marker = json.loads(marker_path.read_text(encoding="utf-8"))
    marker["files"] = _fingerprint(current(folder))
    marker_path.write_text(json.dumps(marker), encoding="utf-8")


DAMAGE = {
    "truncated table file, record rewritten": (_truncate_and_rewrite_the_record,
                                               "cannot be opened"),
    "truncated table file": (_truncate_a_table, "changed since it was built"),
    "deleted table file": (_delete_a_table, "changed since it was built"),
    "overwritten block": (_overwrite_a_block, "changed since it was built"),
    "garbage CURRENT": (_garbage_current, "changed since it was built"),
    "unreadable record": (_garbage_record, "is unreadable"),
    "store folder deleted": (_store_folder_deleted, "missing its data folder"),
    "quad count differs": (_wrong_count, "not the"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_store_is_reported_and_rebuilt(damage, built, load, lines,
                                                 shipped_graph):
    folder = built
    damaged = current(folder)
    breaks, message = DAMAGE[damage]
    breaks(folder)

    graph = load(progress=lines)  # no exception: a message and a rebuild
    assert message in lines.text(), lines.text()
    assert "rebuilding it" in lines.text() or damage == "unreadable record"
    assert "building an on-disk store" in lines.text()
    assert graph.triples == shipped_graph.triples
    assert graph.graph_counts == shipped_graph.graph_counts
    assert Path(graph.store_path) == current(folder) != damaged
    assert not damaged.exists()  # nobody reads the damaged store: it is removed
    assert stores(folder) == [current(folder).name]


def test_stray_files_do_not_stop_reuse(built, load, lines, shipped_graph):
    folder = built
    (folder / "notes.txt").write_text("a stray file\n", encoding="utf-8")
    (current(folder) / "stray.bin").write_bytes(b"\0" * 100)
    graph = load(progress=lines)
    assert "reusing the on-disk store" in lines.text()
    assert graph.triples == shipped_graph.triples
    assert (folder / "notes.txt").exists()  # never removed: not ours


def test_a_folder_that_is_not_a_store_is_refused_untouched(load, tmp_path):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.txt").write_text("precious\n", encoding="utf-8")
    with pytest.raises(SourceError, match="not empty and holds no peerchange store"):
        load(folder=folder)
    assert [p.name for p in folder.iterdir()] == ["chapter1.txt"]


def test_a_store_of_the_earlier_layout_is_rebuilt(load, lines, tmp_path, shipped_graph):
    """Layout 1 (up to this version): RocksDB files directly in the folder."""
    folder = tmp_path / "store"
    old = ox.Store(str(folder))
    old.add(ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"),
                    ox.Literal("old")))
    old.flush()
    del old
    (folder / MARKER).write_text(json.dumps({"version": shipped_graph.version}),
                                 encoding="utf-8")
    graph = load(progress=lines)
    assert "earlier layout: rebuilding it" in lines.text()
    assert graph.triples == shipped_graph.triples
    assert not (folder / "CURRENT").exists()  # the old RocksDB files are gone
    assert pointer(folder)["folder"] == current(folder).name


def test_leftovers_of_a_crashed_build_are_removed(built, load, lines):
    folder = built
    (folder / "build-999999-deadbeef").mkdir()
    (folder / "build-999999-deadbeef" / "000001.sst").write_bytes(b"half")
    (folder / f".{MARKER}.999999-dead.tmp").write_text("{", encoding="utf-8")
    load(progress=lines)
    assert "removing an unfinished build left by a stopped process" in lines.text()
    assert builds(folder) == []
    assert not list(folder.glob(f".{MARKER}.*"))


def test_a_failed_or_refused_build_leaves_the_current_store(built, load, tmp_path):
    folder = built
    record = (folder / MARKER).read_text(encoding="utf-8")
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://example.org/a> <http://example.org/b> .\n", encoding="utf-8")
    with pytest.raises(SourceError, match="bad.ttl, line 1"):
        load([extra_source(bad)])
    good = tmp_path / "good.ttl"
    good.write_text("<http://example.org/a> <http://example.org/b> 1 .\n", encoding="utf-8")

    def refuse(_graph):
        raise SourceError("refused by the test")

    with pytest.raises(SourceError, match="refused by the test"):
        load_graph([extra_source(good)], store_path=str(folder), accept=refuse)
    assert (folder / MARKER).read_text(encoding="utf-8") == record
    assert stores(folder) == [current(folder).name] and builds(folder) == []


@pytest.mark.slow  # subprocesses building real stores
def test_a_replaced_store_is_kept_while_a_process_reads_it(load, tmp_path):
    """A reload swaps the folder's current store; a worker forked before (holding the old
    store's lock by inheritance) keeps reading the old folder until it exits."""
    folder = tmp_path / "store"
    extra = tmp_path / "extra.ttl"
    extra.write_text("<http://example.org/a> <http://example.org/b> 1 .\n", encoding="utf-8")
    old = load([extra_source(extra)])
    old_folder = Path(old.store_path)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # a "worker": holds what it inherited until told to exit
        os.close(write_end)
        os.read(read_end, 1)
        os._exit(0)
    os.close(read_end)
    try:
        old.release()  # the master lets go of the old graph
        extra.write_text("<http://example.org/a> <http://example.org/b> 2 .\n",
                         encoding="utf-8")
        new = load([extra_source(extra)])
        assert Path(new.store_path) == current(folder) != old_folder
        assert old_folder.is_dir()  # the forked reader still holds it
        old.reopen()  # as a worker forked from the old app would, after the swap
        assert len(old.store) == old.triples
    finally:
        os.write(write_end, b"x")
        os.close(write_end)
        os.waitpid(child, 0)
    load([extra_source(extra)])  # the next open cleans up: nobody reads it any more
    assert not old_folder.exists()
    assert stores(folder) == [current(folder).name]
