"""Loading that scales, through the loader the server uses (``load_graph``): sources are
streamed to the engine's bulk loader (gzip included), the counts come from one query and
are kept in the store's record, a failed load keeps the store it would have replaced."""

from __future__ import annotations

import gzip
import os

import pyoxigraph as ox
import pytest

from peerchange.core.errors import SourceError
from peerchange.core.knowledge_graph import load_graph, sources_digest
from peerchange.core.sources import extra_source, shipped_sources
from tests.scale.conftest import line_count
from tests.store.conftest import Lines, current, pointer, stores

COUNT_PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def counted(store: ox.Store) -> tuple[int, dict[str, int]]:
    """What the engine counts, by a query of the test's own."""
    total = int(next(iter(store.query(COUNT_ALL)))["n"].value)
    per_graph = {row["g"].value: int(row["n"].value) for row in store.query(COUNT_PER_GRAPH)}
    return total, per_graph


@pytest.mark.slow  # loads 36,000 triples twice
def test_a_gzip_source_is_streamed_and_counted_as_a_count_query_counts(synth_gz, synth_nt,
                                                                       tmp_path):
    lines = Lines()
    on_disk = load_graph([extra_source(synth_gz)], store_path=str(tmp_path / "store"),
                         progress=lines)
    total, per_graph = counted(on_disk.store)
    assert on_disk.triples == total > line_count(synth_nt) // 2
    assert on_disk.graph_counts == per_graph
    assert pointer(tmp_path / "store")["quads"] == total
    # the same data in memory: the same counts
    in_memory = load_graph([extra_source(synth_gz)])
    assert (in_memory.triples, in_memory.graph_counts) == (total, per_graph)
    assert "counted" in lines.text()


def test_a_gzip_source_larger_than_the_limit_is_refused_while_it_is_read(tmp_path):
    bomb = tmp_path / "bomb.nt.gz"
    line = b"<http://example.org/s> <http://example.org/p> \"%d\" .\n"
    with gzip.open(bomb, "wb") as fh:
        for i in range(20_000):
            fh.write(line % i)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(SourceError, match="decompresses to more bytes"):
        load_graph([extra_source(bomb, max_bytes=200_000)])


@pytest.mark.slow  # builds a store twice
def test_a_large_file_is_reused_without_being_read(data_file, tmp_path, monkeypatch):
    """The file is overwritten in place with bytes that do not parse, keeping its size,
    inode and modification time: a restart that read it would fail or rebuild."""
    monkeypatch.setenv("PEERCHANGE_DIGEST_BYTES", str(1024 * 1024))
    folder = tmp_path / "store"
    first = load_graph([extra_source(data_file)], store_path=str(folder))
    stat = data_file.stat()
    with data_file.open("r+b") as fh:  # same inode
        fh.write(b"not RDF " * (stat.st_size // 8))
    os.utime(data_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (data_file.stat().st_size, data_file.stat().st_ino) == (stat.st_size, stat.st_ino)

    lines = Lines()
    again = load_graph([extra_source(data_file)], store_path=str(folder), progress=lines)
    assert "reusing the on-disk store" in lines.text()
    assert "building" not in lines.text()
    assert (again.version, again.triples, again.graph_counts) == (
        first.version, first.triples, first.graph_counts)
    assert again.store_path == first.store_path


@pytest.mark.slow  # builds a store twice
def test_a_changed_large_file_is_rebuilt_with_a_new_version(data_file, tmp_path,
                                                           monkeypatch):
    monkeypatch.setenv("PEERCHANGE_DIGEST_BYTES", str(1024 * 1024))
    folder = tmp_path / "store"
    first = load_graph([extra_source(data_file)], store_path=str(folder))
    with data_file.open("ab") as fh:
        fh.write(b"<http://example.org/new> <http://example.org/p> \"added\" .\n")
    lines = Lines()
    second = load_graph([extra_source(data_file)], store_path=str(folder), progress=lines)
    assert "the sources changed" in lines.text()
    assert second.version != first.version
    assert second.triples == first.triples + 1
    assert counted(second.store)[0] == second.triples


@pytest.mark.slow  # builds a store, then fails a second build
def test_bad_syntax_deep_in_a_large_file_names_the_line_and_keeps_the_store(
        data_file, tmp_path, monkeypatch):
    monkeypatch.setenv("PEERCHANGE_DIGEST_BYTES", str(1024 * 1024))
    folder = tmp_path / "store"
    good = load_graph([extra_source(data_file)], store_path=str(folder))
    kept, names = pointer(folder), stores(folder)
    good.release()
    bad_line = line_count(data_file) + 1
    with data_file.open("ab") as fh:
        fh.write(b"<http://example.org/s> <http://example.org/p> .\n")
    with pytest.raises(SourceError) as caught:
        load_graph([extra_source(data_file)], store_path=str(folder))
    assert caught.value.line == bad_line
    assert caught.value.column is not None
    assert "studies.nt" in str(caught.value.path)
    assert pointer(folder) == kept and stores(folder) == names
    store = ox.Store.read_only(str(current(folder)))
    assert counted(store)[0] == good.triples


def test_small_files_are_versioned_by_their_bytes_large_ones_by_fingerprint(
        tmp_path, monkeypatch):
    small = tmp_path / "small.nt"
    small.write_bytes(b"<http://example.org/s> <http://example.org/p> \"1\" .\n")
    sources = [extra_source(small)]
    version = sources_digest(sources)
    os.utime(small, ns=(1, 1))  # a new time, the same bytes: the same version
    assert sources_digest(sources) == version
    # the shipped data is always hashed: its version does not depend on file times
    assert sources_digest(shipped_sources()) == sources_digest(shipped_sources())
    monkeypatch.setenv("PEERCHANGE_DIGEST_BYTES", "1")
    large = sources_digest(sources)
    os.utime(small, ns=(2, 2))  # fingerprinted: a new time is a new version
    assert sources_digest(sources) != large


def test_a_missing_source_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        load_graph([extra_source(tmp_path / "gone.nt")], store_path=str(tmp_path / "s"))


def test_sources_stream_to_the_parser(tmp_path):
    """``Source.open`` gives the parser a stream: chunks, counted as they are read."""
    path = tmp_path / "few.nt"
    path.write_bytes(b"".join(b"<http://e.org/%d> <http://e.org/p> \"x\" .\n" % i
                              for i in range(3000)))
    seen: list[tuple[int, int]] = []
    source = extra_source(path)
    with source.open(lambda read, lines: seen.append((read, lines))) as stream:
        assert len(list(ox.parse(stream, format=source.fmt))) == 3000
    assert seen[-1][0] == path.stat().st_size
    assert sum(n for _, n in seen) == 3000
