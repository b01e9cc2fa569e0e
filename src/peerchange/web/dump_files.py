"""Serving one dump file, with the compressed dumps negotiated for RDF clients.

A compressed dump (``peerchange.nt.gz``, ``peerchange.nq.gz``) has two faces:

- **the file**, ``application/gzip``, byte for byte what ``SHA256SUMS`` lists: for mirrors,
  ``curl -O``, ``wget`` and browsers, and for any client that asks for nothing better than
  ``*/*`` or for ``application/gzip``;
- **the RDF**, ``application/n-triples`` (``application/n-quads``), for a client whose
  ``Accept`` prefers that media type (or an alias: ``text/plain``, ``text/x-nquads``) to
  ``application/gzip``, as RDF clients do (rdflib's ``parse(URL)``, Comunica). The stored
  gzip bytes go out with ``Content-Encoding: gzip`` when the client accepts gzip
  (``Accept-Encoding``: requests, browsers, Node's fetch decode it transparently); a client
  that does not say so (Python's ``urllib``, hence rdflib) gets the plain N-Triples,
  decompressed as they are sent.

Each face has its own ETag (the file's SHA-256, with ``-gzip`` or ``-identity`` for the RDF
faces) and every answer says ``Vary: Accept, Accept-Encoding``. The VoID/DCAT description
states the same (``services/dataset_description``).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from flask import Request, Response, send_file

from peerchange.services.dumps import DumpFile

GZIP = "application/gzip"
CHUNK = 1 << 16
# the media types a client may name for a compressed dump's content (first: the one answered)
ALIASES = {
    "application/n-triples": ("application/n-triples", "text/plain"),
    "application/n-quads": ("application/n-quads", "text/x-nquads"),
}


def wants_rdf(info: DumpFile, request: Request) -> bool:
    """Whether the client prefers the compressed dump's RDF media type to the gzip file."""
    if not info.compressed or not request.headers.get("Accept"):
        return False
    accept = request.accept_mimetypes
    rdf = max(accept.quality(t) for t in ALIASES.get(info.media_type, (info.media_type,)))
    return rdf > accept.quality(GZIP)


def _gunzipped(path: Path) -> Iterator[bytes]:
    """The decompressed bytes of ``path``, in chunks (not a file object: a server's
    sendfile would send the compressed bytes)."""
    with gzip.open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def _gunzipped_size(path: Path) -> int | None:
    """The decompressed size from the gzip trailer (ISIZE, modulo 2**32), when the file is
    one member under 4 GiB; else ``None`` (sent chunked)."""
    size = path.stat().st_size
    if size >= 2**32:
        return None
    with path.open("rb") as f:
        f.seek(-4, 2)
        return int.from_bytes(f.read(4), "little")


def send_dump(info: DumpFile, path: Path, request: Request) -> Response:
    """Answer ``info`` (stored at ``path``): the file, or a compressed dump's RDF."""
    if not info.compressed:
        # werkzeug adds charset=utf-8 to text types itself
        mimetype = info.content_type.split(";", 1)[0]
        return send_file(path, mimetype=mimetype, conditional=True, etag=info.sha256,
                         max_age=None)
    if not wants_rdf(info, request):
        resp = send_file(path, mimetype=GZIP, conditional=True, etag=info.sha256,
                         max_age=None)
    elif request.accept_encodings.quality("gzip") > 0:
        resp = send_file(path, mimetype=info.media_type, conditional=True,
                         etag=f"{info.sha256}-gzip", max_age=None)
        resp.headers["Content-Encoding"] = "gzip"
    else:
        resp = Response(_gunzipped(path), mimetype=info.media_type)
        size = _gunzipped_size(path)
        if size is not None:
            resp.content_length = size
        resp.set_etag(f"{info.sha256}-identity")
        resp.last_modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        resp.cache_control.no_cache = True
        resp = resp.make_conditional(request)
    resp.headers["Content-Type"] = f"{resp.mimetype}; charset=utf-8" if (
        resp.mimetype != GZIP) else GZIP
    resp.vary.update(("Accept", "Accept-Encoding"))
    return resp


__all__ = ["send_dump", "wants_rdf"]
