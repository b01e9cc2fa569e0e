"""A value of one data version kept in a file of the cache folder, so that the other
gunicorn workers and a restart over the same data read the file instead of the store.

The folder is the dumps folder (``--dumps-dir``, else
:func:`peerchange.services.dumps.default_cache_dir`; over a remote store, ``--endpoint``,
the same folder and the published data version). A file's name holds everything its
value is a function of: ``{stem}-{data version}-{layout}-{digest}{suffix}``, where the
layout is the producing module's number for its code and the digest one of the query
files' text (:func:`version_file`), so other data, other code or another query never
reads it.

:func:`kept` reads the file, else builds the value under an exclusive lock on
``.{file name}.lock`` (one worker builds while the others wait, then read what it wrote)
and writes it atomically (a temporary file renamed: a reader never sees half a file).
The lock is a POSIX record lock (``lockf``) plus a thread lock per file: a query process
forked while it is held (:mod:`peerchange.core.executor`, a long-lived child) does not
hold it, where it would hold a ``flock`` (the lock of an open file, which the child's
copy of the descriptor keeps) for as long as it lives, and every other worker would
wait for it. A
file that is missing, unreadable, cut short or of another version or layout reads as
``None`` and the value is built again; a folder that cannot be written only costs the
file. :func:`read_json` (:func:`read_document`) and :func:`json_writer` read and write
the gzipped JSON documents most of these files are (data, not pickles: reading one runs
no code).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")

_locks: dict[Path, threading.Lock] = {}  # per file: the threads of this process
_locks_lock = threading.Lock()


def digest(texts: Iterable[str]) -> str:
    """A short digest of ``texts`` (the query files a value is read with), in order."""
    h = hashlib.sha256()
    for n, text in enumerate(texts):
        if n:
            h.update(b"\0")
        h.update(text.encode())
    return h.hexdigest()[:12]


def version_file(cache_dir: str | Path, stem: str, version: str, layout: str,
                 texts: Iterable[str], suffix: str) -> Path:
    """Where the value named ``stem`` of data ``version`` is kept in ``cache_dir``."""
    return Path(cache_dir) / f"{stem}-{version}-{layout}-{digest(texts)}{suffix}"


def kept(path: Path | None, read: Callable[[Path], T | None], build: Callable[[], T],
         write: Callable[[IO[bytes], T], None]) -> T:
    """The value kept in ``path`` (``read`` it: ``None`` when it is not there or not
    usable), else ``build`` it and ``write`` it there, one process at a time (see the
    module docstring). ``path`` ``None``: no file, only ``build``."""
    if path is None:
        return build()
    if (found := read(path)) is not None:
        return found
    lock_path = path.parent / f".{path.name}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path.touch()
    except OSError:
        return build()
    with exclusive(lock_path):  # another worker's build: wait, then read it
        if (found := read(path)) is not None:
            return found
        value = build()
        write_atomically(path, lambda f: write(f, value))
    return value


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold ``lock_path`` exclusively against the other threads of this process and the
    other processes: a thread lock per path, then a POSIX record lock (``lockf``), which
    a process forked meanwhile (a query process) does not inherit (see the module
    docstring).

    :raise OSError: ``lock_path`` cannot be opened for appending.
    """
    with _locks_lock:
        in_process = _locks.setdefault(lock_path, threading.Lock())
    with in_process, lock_path.open("a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        yield


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write`` into a temporary file of its folder, then rename
    it; a folder that cannot be written is left alone."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name.split('-', 1)[0]}-", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as raw:
            write(raw)
        os.replace(tmp, path)
    except OSError:
        pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_json(path: Path, layout: str, version: str | None = None) -> dict[str, Any] | None:
    """The gzipped JSON document in ``path`` when it is readable, whole and of ``layout``
    (and of data ``version``, when given: its ``data_version``); else ``None``."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError, EOFError):
        return None
    if not isinstance(doc, dict) or doc.get("layout") != layout:
        return None
    if version is not None and doc.get("data_version") != version:
        return None
    return doc


def read_document(path: Path, layout: str, version: str | None,
                  make: Callable[[dict[str, Any]], T]) -> T | None:
    """``make`` applied to :func:`read_json`'s document; ``None`` when there is none or
    ``make`` finds it malformed (a ``KeyError``, ``TypeError``, ``ValueError``,
    ``IndexError`` or ``AttributeError``)."""
    doc = read_json(path, layout, version)
    if doc is None:
        return None
    try:
        return make(doc)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None


def json_writer(doc: Any) -> Callable[[IO[bytes]], None]:
    """Write ``doc`` as gzipped JSON (UTF-8, compact, no time stamp: the same document
    gives the same bytes)."""
    def write(raw: IO[bytes]) -> None:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5, mtime=0) as f:
            f.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())
    return write


__all__ = ["digest", "json_writer", "kept", "read_document", "read_json", "version_file",
           "write_atomically"]
