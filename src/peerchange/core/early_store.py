"""Is the ``--store`` folder already built from these sources? Decided cheaply, for the
restart's early answerer (:mod:`peerchange.serving.early`), before anything heavy is
imported.

:func:`find_built` makes the decision :func:`peerchange.core.knowledge_graph.load_graph`
makes when it reuses a store (:func:`peerchange.core.store_folder.open_store`), with the
standard library alone: the data version is :func:`~peerchange.core.knowledge_graph.
sources_digest` of the shipped sources plus the extra files (files of
``PEERCHANGE_DIGEST_BYTES`` or more by their fingerprint, the others by a digest of their
bytes), the pointer must name that version and layout, the store's record must exist,
hold a quad count and the same version, and its fixed table files must have the sizes and
times recorded. :func:`open_read_only` opens it (the early answerer does that while
the decision is made, from :func:`current_folder`) and :func:`counts_as_recorded`
counts it, below ``VERIFY_QUADS`` quads, as the reuse does. Anything this module does not
decide exactly as ``load_graph`` (a ``.gz`` or RDF/XML extra file, which the digest reads
through its checks; a file over ``PEERCHANGE_MAX_EXTRA_BYTES``; a folder another process
holds locked) answers "not known to be built", and the normal start decides.

The constants and rules mirror :mod:`peerchange.core.sources`,
:mod:`peerchange.core.knowledge_graph` and :mod:`peerchange.core.store_folder`; the unit
tests (``tests/unit/test_early_store.py``) hold them equal.
"""

from __future__ import annotations

import fcntl
import os

from peerchange.core.json_text import loads

try:  # the built-in SHA-256: hashlib would load OpenSSL first (5 ms at each start)
    from _sha256 import sha256
except ImportError:  # another Python (3.12: _sha2)
    from hashlib import sha256

MARKER = "peerchange-store.json"
LOCK = "peerchange.lock"
LAYOUT = 2
VERIFY_QUADS = 100_000
STORE_PREFIX = "store-"
DIGEST_BYTES = 64 * 1024 * 1024
MAX_EXTRA_BYTES = 256 * 1024 * 1024
GRAPH = "https://w3id.org/peerchange/graph/"
# extension -> (the format's name as ``str(pyoxigraph.RdfFormat.X)`` writes it, quads?)
FORMATS = {
    ".ttl": ("Turtle", False), ".turtle": ("Turtle", False),
    ".nt": ("N-Triples", False), ".ntriples": ("N-Triples", False),
    ".nq": ("N-Quads", True), ".nquads": ("N-Quads", True),
    ".trig": ("TriG", True),
    ".jsonld": ("JSON-LD", False), ".json": ("JSON-LD", False),
    ".n3": ("N3", False),
}
_CHUNK = 1024 * 1024


class BuiltStore:
    """A store folder known to be built from the sources: its path, version and quads, and
    the shared lock on its record that keeps it from being removed while it is read (the
    descriptor is inherited by forked processes)."""

    def __init__(self, path: str, version: str, quads: int, reader_fd: int) -> None:
        self.path = path
        self.version = version
        self.quads = quads
        self.reader_fd = reader_fd

    def release(self) -> None:
        """Close this process's descriptor of the shared lock (forked copies keep it)."""
        if self.reader_fd >= 0:
            try:  # noqa: SIM105 - no contextlib on the first answer's path
                os.close(self.reader_fd)
            except OSError:
                pass
            self.reader_fd = -1


def resource_root() -> str | None:
    """The folder holding ``ontology/`` and ``data/`` (as ``core.resources``)."""
    here = os.path.dirname(os.path.realpath(__file__))
    packaged = os.path.join(os.path.dirname(here), "resources")
    if os.path.isdir(os.path.join(packaged, "ontology")):
        return packaged
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    if os.path.isdir(os.path.join(checkout, "ontology")) and \
            os.path.isfile(os.path.join(checkout, "pyproject.toml")):
        return checkout
    return None


def _ttl_files(folder: str) -> list[str]:
    names = sorted(n for n in os.listdir(folder) if n.endswith(".ttl"))
    return [os.path.join(folder, n) for n in names]


def _sources(extra_files: list[str]) -> list[tuple[str, str, str]] | None:
    """(path, graph as the digest writes it, format name) of every source, or ``None``
    when one is not decided here."""
    root = resource_root()
    if root is None:
        return None
    out = [(p, GRAPH + "ontology", "Turtle") for p in _ttl_files(os.path.join(root, "ontology"))]
    out += [(p, GRAPH + os.path.basename(p)[:-4], "Turtle")
            for p in _ttl_files(os.path.join(root, "data"))]
    for path in extra_files:
        name = os.path.basename(path)
        dot = name.rfind(".")
        fmt = FORMATS.get(name[dot:].lower()) if dot > 0 else None
        if fmt is None:  # .gz, RDF/XML, an unknown extension: the normal start decides
            return None
        graph = "None" if fmt[1] else GRAPH + "extra/" + (name.split(".")[0] or "file")
        out.append((path, graph, fmt[0]))
    return out


def _limit(name: str, default: int) -> int | None:
    raw = os.environ.get(name)
    if raw is None:
        return default
    raw = raw.strip()
    return int(raw) if raw.isdigit() else None


def data_version(extra_files: list[str]) -> str | None:
    """The data version ``load_graph`` computes for the shipped sources plus
    ``extra_files`` (each into its own graph), or ``None`` when it is not decided here."""
    sources = _sources(extra_files)
    digest_raw = os.environ.get("PEERCHANGE_DIGEST_BYTES", "")
    limit = int(digest_raw) if digest_raw.strip().isdigit() else DIGEST_BYTES
    most = _limit("PEERCHANGE_MAX_EXTRA_BYTES", MAX_EXTRA_BYTES)
    if sources is None or most is None:
        return None
    shipped = len(sources) - len(extra_files)
    h = sha256()
    for i, (path, graph, fmt) in enumerate(sources):
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not os.path.isfile(path) or (i >= shipped and limit > st.st_size > most):
            return None
        h.update(f"{graph}\0{fmt}\0".encode())
        if st.st_size >= limit:
            ident = f"{os.path.realpath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"
            h.update(sha256(ident.encode()).digest())
            continue
        inner = sha256()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    inner.update(chunk)
        except OSError:
            return None
        h.update(inner.digest())
    return h.hexdigest()[:16]


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = loads(fh.read())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _fixed(name: str) -> bool:
    """``store_folder._FIXED_FILES``: ``N.sst``, ``MANIFEST-N``, ``CURRENT``."""
    if name == "CURRENT":
        return True
    if name.startswith("MANIFEST-"):
        return name[9:].isdecimal() and name[9:].isascii()
    return name.endswith(".sst") and name[:-4].isdecimal() and name[:-4].isascii()


def _unchanged(path: str, recorded: object) -> bool:
    if not isinstance(recorded, dict):
        return False
    now: dict[str, list[int]] = {}
    for entry in os.scandir(path):
        if _fixed(entry.name):
            st = entry.stat()
            now[entry.name] = [st.st_size, st.st_mtime_ns]
    return now == recorded


def current_folder(store_dir: str) -> str | None:
    """The store folder the pointer of ``store_dir`` names (not yet known to be usable:
    :func:`find_built` decides), or ``None``."""
    name = str(_read_json(os.path.join(store_dir, MARKER)).get("folder", ""))
    if not name.startswith(STORE_PREFIX) or "/" in name:
        return None
    return os.path.join(store_dir, name)


def read_lock(path: str) -> int:
    """A shared lock on the record of the store folder ``path`` (its descriptor), as
    every reader holds (``store_folder.StoreReader``); ``-1`` when it cannot be taken."""
    try:
        fd = os.open(os.path.join(path, MARKER), os.O_RDONLY)
    except OSError:
        return -1
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError:
        os.close(fd)
        return -1
    return fd


def find_built(store_dir: str, extra_files: list[str]) -> BuiltStore | None:
    """The store in ``store_dir`` if ``load_graph`` would reuse it for these sources
    (see the module docstring), holding the shared lock on its record; else ``None``."""
    version = data_version(extra_files)
    if version is None:
        return None
    try:
        lock_fd = os.open(os.path.join(store_dir, LOCK), os.O_RDWR)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None  # another process opens or builds it: the normal start waits
        try:
            return _reusable(store_dir, version)
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
    finally:
        os.close(lock_fd)


def _reusable(store_dir: str, version: str) -> BuiltStore | None:
    pointer = _read_json(os.path.join(store_dir, MARKER))
    if pointer.get("version") != version or pointer.get("layout") != LAYOUT:
        return None
    name = str(pointer.get("folder", ""))
    path = os.path.join(store_dir, name)
    if not name.startswith(STORE_PREFIX) or "/" in name \
            or not os.path.isfile(os.path.join(path, MARKER)):
        return None
    marker = _read_json(os.path.join(path, MARKER))
    quads = marker.get("quads")
    if not isinstance(quads, int) or marker.get("version") != version \
            or not _unchanged(path, marker.get("files")):
        return None
    fd = read_lock(path)
    return BuiltStore(path, version, quads, fd) if fd >= 0 else None


def open_read_only(path: str):  # noqa: ANN201 - a pyoxigraph Store, imported here
    """The store in ``path`` opened read-only, or ``None`` when RocksDB cannot open it."""
    import pyoxigraph as ox

    try:
        return ox.Store.read_only(path)
    except Exception:  # noqa: BLE001 - RocksDB reports damage as several types
        return None


def counts_as_recorded(store, quads: int) -> bool:  # noqa: ANN001 - a pyoxigraph Store
    """Whether the reuse would accept ``store``: below ``VERIFY_QUADS`` quads it is
    counted again and must hold the number recorded."""
    try:
        return quads >= VERIFY_QUADS or len(store) == quads
    except Exception:  # noqa: BLE001 - a damaged block
        return False
