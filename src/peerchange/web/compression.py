"""gzip for answers and pages, negotiated by ``Accept-Encoding``.

An answer is compressed when the client accepts gzip (``Accept-Encoding: gzip``, or ``*``;
``gzip;q=0`` refuses it) and its body is at least ``compress_min_bytes`` (below that the
gzip header and the work cost more than they save; a streamed body of unknown size is
compressed as it goes). Text-like media types only (RDF, SPARQL results, JSON, HTML, CSS,
JavaScript, SVG); never an answer that already has a ``Content-Encoding``, a file sent as
it is (``send_file``: the dumps, static files), a ``Range`` answer, or one whose view
negotiated the encoding itself (it says ``Accept-Encoding`` in ``Vary``: the gzip dumps).

Every answer that could have been compressed says ``Vary: Accept-Encoding``, whichever
encoding it got. A compressed answer's ETag is made weak (``W/"..."``, as nginx does): the
two encodings are the same representation byte for byte once decoded, and a client's
``If-None-Match`` with either form still gets its 304 (the views compare weakly), which
carries the view's own (strong) ETag and ``Vary: Accept-Encoding``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

from flask import Flask, Request, Response, request

COMPRESSOR = "peerchange.compressor"  # the app's Compressor, in ``app.extensions``
LEVEL = 6  # zlib's default: about 5x on SPARQL JSON at a few hundred MB/s
_TEXT_TYPES = ("text/", "application/sparql-results", "application/json",
               "application/ld+json", "application/n-triples", "application/n-quads",
               "application/trig", "application/rdf+xml", "application/xml",
               "application/javascript", "image/svg+xml", "application/x-turtle",
               "application/turtle", "application/problem+json", "application/openmetrics")


def compressible(mimetype: str | None) -> bool:
    """Whether a body of this media type is worth compressing (text-like)."""
    mimetype = (mimetype or "").lower()
    return mimetype.startswith(_TEXT_TYPES) or mimetype.endswith(("+json", "+xml"))


def accepts_gzip(req: Request) -> bool:
    """Whether the request's ``Accept-Encoding`` allows gzip (``q=0`` refuses it)."""
    if "Accept-Encoding" not in req.headers:
        return False
    return req.accept_encodings.quality("gzip") > 0


def gzip_bytes(data: bytes, level: int = LEVEL) -> bytes:
    """``data`` as one gzip member (no file name, time 0: the same bytes every time)."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


def gzip_stream(chunks: Iterable[bytes], level: int = LEVEL) -> Iterator[bytes]:
    """Compress ``chunks`` as they come; closing this closes ``chunks``."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)
    try:
        for chunk in chunks:
            out = packer.compress(chunk)
            if out:
                yield out
        yield packer.flush()
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def negotiated(resp: Response) -> bool:
    """Whether the encoding of ``resp`` is settled (by its view, or by this module)."""
    return ("Content-Encoding" in resp.headers or resp.direct_passthrough
            or "Accept-Encoding" in resp.vary or "Content-Range" in resp.headers)


def set_gzipped(resp: Response, body: bytes) -> None:
    """Make ``resp`` the gzip form ``body`` of its representation (headers and ETag)."""
    resp.set_data(body)
    resp.headers["Content-Encoding"] = "gzip"
    _weaken_etag(resp)


def _weaken_etag(resp: Response) -> None:
    etag, weak = resp.get_etag()
    if etag and not weak:
        resp.set_etag(etag, weak=True)


class Compressor:
    """The ``after_request`` step that compresses answers (see the module docstring)."""

    def __init__(self, min_bytes: int, level: int = LEVEL) -> None:
        self.min_bytes = min_bytes
        self.level = level

    def __call__(self, resp: Response) -> Response:
        if resp.status_code == 304:
            if self.min_bytes > 0 and "Content-Encoding" not in resp.headers:
                resp.vary.add("Accept-Encoding")  # as the 200 would (its size is unknown)
            return resp
        if self.min_bytes <= 0 or resp.status_code != 200 or negotiated(resp):
            return resp
        # every 200 says it, as its 304 does (the 304 knows neither type nor size)
        resp.vary.add("Accept-Encoding")
        if not compressible(resp.mimetype):
            return resp
        if resp.is_streamed:
            if accepts_gzip(request):
                resp.response = gzip_stream(resp.response, self.level)
                resp.headers.pop("Content-Length", None)
                resp.headers["Content-Encoding"] = "gzip"
                _weaken_etag(resp)
            return resp
        data = resp.get_data()
        if len(data) < self.min_bytes:
            return resp
        if accepts_gzip(request):
            set_gzipped(resp, gzip_bytes(data, self.level))
        return resp


def install(app: Flask, min_bytes: int, level: int = LEVEL) -> Compressor:
    """Compress the app's answers from ``min_bytes`` up (0: never)."""
    compressor = app.extensions[COMPRESSOR] = Compressor(min_bytes, level)
    app.after_request(compressor)
    return compressor
