"""The on-disk store folder (``--store DIR``): safe against concurrent starts, crashes
and damage.

Layout of ``DIR``::

    peerchange.lock               an exclusive lock (flock) held while a process opens,
                                  builds or cleans the folder
    peerchange-store.json         the pointer: which store folder is current, and its data
                                  version (replaced atomically, never edited)
    store-<version>-<random>/     a complete RocksDB store, with its own
                                  peerchange-store.json (version, counts) written last
    build-<pid>-<random>/         a build in progress; one found under the lock belongs to
                                  a process that died mid-build, and is removed

A build goes into its own ``build-*`` folder; when every source has loaded, the store is
flushed and closed, its marker written (and synced), the folder renamed to ``store-*``,
opened read-only and checked (quad count, then the caller's ``accept``), and only then does
the pointer name it (a new pointer file renamed over the old one). A crash at any point
leaves the pointer naming either the old complete store or the new one, never a half one.

Every process that holds a store open read-only also holds a shared lock on that store's
marker, inherited by forked workers (and their query processes). A ``store-*`` folder the
pointer no longer names (replaced by a reload, or damaged) is removed, under the folder
lock, only when nobody holds it: old workers keep reading the store they opened until they
exit. (RocksDB as used by pyoxigraph 0.5 opens every table file when a store is opened, so
a reader even survives its folder being removed; we do not rely on it.)

A store that cannot be used (the pointer unreadable, the folder missing, a table file
changed since the build — sizes and times are recorded, so this costs no reading —,
RocksDB failing to open it, a quad count that does not match) is reported in one
progress line and rebuilt. Reuse parses nothing again and reads no source: it checks the data
version (the sources' digest, or for large files their fingerprint:
:func:`peerchange.core.knowledge_graph.sources_digest`), the record and the table files'
sizes and times, and counts the quads again (which reads one whole index, checksums
included) only below ``VERIFY_QUADS`` (100,000: about 30 ms): a larger store is trusted on
its record, as counting costs about 0.3 s of CPU per million quads at each start (a damaged
block the count would have found still fails the query that reads it: RocksDB verifies
each block's checksum when it reads it, by default); the counts per graph always come from
the record. A new build is always counted. A folder that is not empty and holds no
peerchange store is refused, so that a mistyped path never has its files removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from peerchange.core.errors import SourceError

MARKER = "peerchange-store.json"
LOCK = "peerchange.lock"
LAYOUT = 2
# a store that its record says holds fewer quads than this is counted again when it is
# reused (a full scan of one index, which also checks its blocks); a larger one is trusted
# on its record and its files' sizes and times, so a restart at 10^6 or 10^7 reads no data
# (counting took 0.27 s of CPU at 10^6, a third of a restart)
VERIFY_QUADS = 100_000
STORE_PREFIX = "store-"
BUILD_PREFIX = "build-"
# the files of a store of layout 1 (RocksDB directly in DIR), removed when it is rebuilt
# the files of a store that never change once it is built: their sizes and times are
# recorded, so a file replaced, truncated or written over in place is noticed at start
# without reading the data
_FIXED_FILES = re.compile(r"^(\d+\.sst|MANIFEST-\d+|CURRENT)$")
_LAYOUT_1_FILES = re.compile(
    r"^(CURRENT|IDENTITY|LOCK|LOG(\.old\..*)?|MANIFEST-\d+|OPTIONS-\d+|\d+\.(sst|log|blob))$")

Progress = Callable[[str], None]
# builds a store in the given (new, empty) folder, closes it and returns
# (number of quads, quads per named graph)
Builder = Callable[[Path], tuple[int, dict[str, int]]]
# looks at the complete, read-only store before it becomes current; raises to refuse it
Accept = Callable[[ox.Store], None]


class StoreReader:
    """A shared lock on one store folder's marker: "this process reads the store".

    The descriptor is inherited by forked processes, which then hold the lock too;
    :meth:`release` closes this process's descriptor only (never unlocks for the others).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd: int | None = os.open(folder / MARKER, os.O_RDONLY)
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def release(self) -> None:
        """Stop holding the store in this process (forked copies keep holding it)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.release()


@dataclass
class OpenedStore:
    """A store opened read-only from ``DIR/store-*``, with what its marker records."""

    store: ox.Store
    path: Path
    version: str
    quads: int
    graph_counts: dict[str, int] = field(default_factory=dict)
    reader: StoreReader | None = field(default=None, repr=False)
    built: bool = False


def open_store(folder: Path, version: str, build: Builder, *,
               accept: Accept | None = None, progress: Progress = lambda _: None
               ) -> OpenedStore:
    """Return the store of data ``version`` in ``folder``, reusing it or building it.

    :param build: called, at most once, with a new empty folder to build the store in.
    :param accept: called with the complete store before it becomes current (and with a
        reused one); raising refuses it and leaves the current store in place.
    :raise SourceError: when the folder cannot be used (not ours, not writable), or what
        ``build`` or ``accept`` raise (nothing is changed then).
    """
    _check_ours(folder)
    with _locked(folder, progress):
        _clean(folder, progress)
        pointer = read_json(folder / MARKER)
        reason = ""
        if pointer.get("version") == version and pointer.get("layout") == LAYOUT:
            reused = _try_reuse(folder, pointer, progress)
            if reused is not None:
                _accept_or_release(reused, accept)
                return reused
        elif not pointer and (folder / MARKER).exists():
            progress(f"the record of the on-disk store in {folder} ({MARKER}) is unreadable: "
                     "rebuilding it")
        elif pointer and pointer.get("layout") != LAYOUT:
            progress(f"the on-disk store in {folder} has an earlier layout: rebuilding it")
            _remove_layout_1(folder)
        elif pointer:
            reason = f" (the sources changed: version {pointer.get('version')} → {version})"
        opened = _build(folder, version, build, accept, progress, reason)
        _clean(folder, progress)
        return opened


def _accept_or_release(opened: OpenedStore, accept: Accept | None) -> None:
    if accept is None:
        return
    try:
        accept(opened.store)
    except BaseException:
        if opened.reader:
            opened.reader.release()
        raise


def _check_ours(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        names = {p.name for p in folder.iterdir()}
    except NotADirectoryError:
        raise SourceError("--store must name a folder, not a file", path=str(folder)) from None
    except OSError as exc:
        raise SourceError(f"cannot use the store folder ({exc.strerror})",
                          path=str(folder)) from None
    if names and not names & {MARKER, LOCK}:
        raise SourceError(
            "refusing to build a store in a folder that is not empty and holds no peerchange "
            "store; give an empty or new folder",
            path=str(folder),
        )


@contextlib.contextmanager
def _locked(folder: Path, progress: Progress) -> Iterator[None]:
    """Hold the folder's exclusive lock (waiting for another process that holds it)."""
    try:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SourceError(f"cannot create the store's lock file ({exc.strerror})",
                          path=str(folder / LOCK)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"waiting for another peerchange process using the store in {folder}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        # unlock explicitly: a process forked meanwhile must not keep holding it
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _try_reuse(folder: Path, pointer: dict, progress: Progress) -> OpenedStore | None:
    """Open the store the pointer names, or say why it cannot be used and return None."""
    name = str(pointer.get("folder", ""))
    path = folder / name
    if not name.startswith(STORE_PREFIX) or "/" in name or not (path / MARKER).is_file():
        progress(f"the on-disk store in {folder} is missing its data folder {name!r}: "
                 "rebuilding it")
        return None
    marker = read_json(path / MARKER)
    changed = _changed_files(path, marker.get("files"))
    if changed:
        progress(f"the files of the on-disk store in {path} changed since it was built "
                 f"({', '.join(changed[:3])}): rebuilding it")
        return None
    quads = marker.get("quads")
    if not isinstance(quads, int):
        progress(f"the record of the on-disk store in {path} has no quad count: rebuilding it")
        return None
    reader = StoreReader(path)
    try:
        store = ox.Store.read_only(str(path))
        # counting reads every block of an index (RocksDB checks each block's checksum):
        # a second at 10^7 quads when cached, more from a cold disk, so only smaller stores
        # are counted again; opening reads the tables' metadata only
        counted = len(store) if quads < VERIFY_QUADS else quads
    except Exception as exc:  # noqa: BLE001 - RocksDB reports damage as several types
        reader.release()
        progress(f"the on-disk store in {path} cannot be opened ({_first_line(exc)}): "
                 "rebuilding it")
        return None
    if marker.get("version") != pointer.get("version"):
        reader.release()
        progress(f"the on-disk store in {path} is of another data version than its record "
                 "says: rebuilding it")
        return None
    if counted != quads:
        reader.release()
        progress(f"the on-disk store in {path} holds {counted:,} quads, not the "
                 f"{quads:,} it was built with: rebuilding it")
        return None
    progress(f"reusing the on-disk store in {folder} (version {pointer['version']})")
    return OpenedStore(store, path, str(pointer["version"]), quads,
                       dict(marker.get("graph_counts", {})), reader)


def _build(folder: Path, version: str, build: Builder, accept: Accept | None,
           progress: Progress, reason: str = "") -> OpenedStore:
    building = folder / f"{BUILD_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    done = folder / f"{STORE_PREFIX}{version}-{secrets.token_hex(4)}"
    progress(f"building an on-disk store in {folder}{reason}")
    try:
        building.mkdir()
        quads, counts = build(building)
        write_json_atomic(building / MARKER, {
            "layout": LAYOUT, "version": version, "quads": quads, "graph_counts": counts,
            "files": _fingerprint(building),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "pyoxigraph": ox.__version__,
        })
        building.rename(done)
        _sync_dir(folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    reader = StoreReader(done)
    try:
        store = ox.Store.read_only(str(done))
        if len(store) != quads:
            raise SourceError(f"the new store holds {len(store):,} quads instead of "
                              f"{quads:,}; the disk may be full or failing", path=str(done))
        if accept:
            accept(store)
    except BaseException:
        reader.release()
        shutil.rmtree(done, ignore_errors=True)
        raise
    write_json_atomic(folder / MARKER, {"layout": LAYOUT, "version": version, "folder": done.name,
                                  "quads": quads})
    return OpenedStore(store, done, version, quads, counts, reader, built=True)


def _fingerprint(path: Path) -> dict[str, list[int]]:
    """The size and modification time of each of the store's fixed files."""
    found: dict[str, list[int]] = {}
    for file in path.iterdir():
        if _FIXED_FILES.match(file.name):
            stat = file.stat()
            found[file.name] = [stat.st_size, stat.st_mtime_ns]
    return found


def _changed_files(path: Path, recorded: object) -> list[str]:
    """The fixed files that differ from the record (all of them when there is none)."""
    if not isinstance(recorded, dict):
        return ["no record of its files"]
    now = _fingerprint(path)
    names = sorted(set(now) | set(recorded))
    return [n for n in names if now.get(n) != recorded.get(n)]


def _clean(folder: Path, progress: Progress) -> None:
    """Remove unfinished builds and replaced stores that nobody reads (under the lock)."""
    current = read_json(folder / MARKER).get("folder")
    for path in sorted(folder.iterdir()):
        if path.name.startswith(BUILD_PREFIX) and path.is_dir():
            progress(f"removing an unfinished build left by a stopped process: {path.name}")
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(STORE_PREFIX) and path.is_dir() and path.name != current:
            if _nobody_reads(path):
                shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(f".{MARKER}.") and path.is_file():
            path.unlink(missing_ok=True)  # a pointer written by a process that died


def _nobody_reads(path: Path) -> bool:
    try:
        fd = os.open(path / MARKER, os.O_RDONLY)
    except FileNotFoundError:
        return True  # never finished: nobody can have opened it
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        raise
    finally:
        os.close(fd)


def _remove_layout_1(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file() and _LAYOUT_1_FILES.match(path.name):
            path.unlink(missing_ok=True)


def read_json(path: Path) -> dict:
    """The JSON object in ``path``, or ``{}`` when it is missing, unreadable or not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json_atomic(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically and durably (a temp file beside it, fsync,
    rename over ``path``): a reader sees the old content or the new, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _sync_dir(path.parent)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
