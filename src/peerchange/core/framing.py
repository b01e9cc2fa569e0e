"""Length-prefixed frames over a pipe, between a server process and its query processes.

A frame is an 8-byte big-endian length and that many bytes. The first byte of every frame
says what it carries (:data:`JOB`, :data:`HEADER`, :data:`DATA`, :data:`END`,
:data:`ERROR`); see :mod:`peerchange.core.executor` for the conversation.

Reading waits with ``select`` in slices of at most :data:`POLL_SECONDS`, calling a ``check``
function between slices (the parent samples the child's memory there), until a deadline.
"""

from __future__ import annotations

import os
import select
import struct
import time
from collections.abc import Callable

JOB = b"J"  # parent -> child: a pickled QueryJob
HEADER = b"H"  # child -> parent: a pickled Answer (without its body) or error
DATA = b"D"  # child -> parent: a piece of the answer's body
END = b"E"  # child -> parent: the body is complete
ERROR = b"X"  # child -> parent: writing the body failed (a pickled error)

POLL_SECONDS = 0.05
CHUNK_BYTES = 64 * 1024  # the size of the body pieces the child sends
READ_BYTES = 1 << 20  # the most a FrameReader takes from the pipe at once

_LEN = struct.Struct("!Q")


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    """One frame's bytes."""
    return _LEN.pack(len(payload) + 1) + kind + payload


def write_frame(fd: int, kind: bytes, payload: bytes = b"") -> None:
    """Write one frame (may raise ``BrokenPipeError`` when the reader is gone)."""
    write_all(fd, frame(kind, payload))


def write_all(fd: int, data: bytes) -> None:
    """Write ``data`` (frames) whole."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class FrameReader:
    """Reads frames from ``fd`` through a buffer: as many bytes as the pipe holds at each
    read, so a small answer (its header, body and end, written at once) costs one wait and
    one read, not two of each per frame."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def read(self, deadline: float | None,
             check: Callable[[], None] | None = None) -> tuple[bytes, bytes]:
        """Like :func:`read_frame`."""
        while True:
            if len(self.buffer) >= _LEN.size:
                (length,) = _LEN.unpack_from(self.buffer)
                end = _LEN.size + length
                if len(self.buffer) >= end:
                    kind = bytes(self.buffer[_LEN.size:_LEN.size + 1])
                    payload = bytes(self.buffer[_LEN.size + 1:end])
                    del self.buffer[:end]
                    return kind, payload
            if deadline is not None or check is not None:
                _wait_readable(self.fd, deadline, check)
            chunk = os.read(self.fd, READ_BYTES)
            if not chunk:
                raise EOFError
            self.buffer += chunk


def read_frame(fd: int, deadline: float | None,
               check: Callable[[], None] | None = None) -> tuple[bytes, bytes]:
    """Read one frame: its kind and its payload.

    :param deadline: a ``time.monotonic()`` value, or ``None`` to wait for ever.
    :param check: called at least every :data:`POLL_SECONDS` while waiting; it may raise.
    :raise TimeoutError: when the deadline passes.
    :raise EOFError: when the writer closed the pipe (or died).
    """
    (length,) = _LEN.unpack(_read_exactly(fd, _LEN.size, deadline, check))
    frame = _read_exactly(fd, length, deadline, check)
    return frame[:1], frame[1:]


def _read_exactly(fd: int, n: int, deadline: float | None,
                  check: Callable[[], None] | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None or check is not None:
            _wait_readable(fd, deadline, check)
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _wait_readable(fd: int, deadline: float | None, check: Callable[[], None] | None) -> None:
    while True:
        wait = POLL_SECONDS if check is not None else None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            wait = remaining if wait is None else min(wait, remaining)
        ready, _, _ = select.select([fd], [], [], wait)
        if ready:
            return
        if check is not None:
            check()


class FrameSink:
    """A binary writer (``write``/``flush``) that sends what it is given as :data:`DATA`
    frames of about :data:`CHUNK_BYTES`.

    ``prefix`` (the answer's header frame) goes out with the first piece, and
    :meth:`finish` sends what is left with the closing frame: a body under
    :data:`CHUNK_BYTES` crosses the pipe in one write with its header and end.
    """

    def __init__(self, fd: int, prefix: bytes = b"") -> None:
        self.fd = fd
        self.prefix = prefix
        self.buffer = bytearray()
        self.sent = 0

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK_BYTES:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buffer:
            self._send(frame(DATA, bytes(self.buffer)))
            self.sent += len(self.buffer)
            self.buffer.clear()

    def send_prefix(self) -> None:
        """Send the prefix now, if it has not gone yet."""
        self._send(b"")

    def finish(self, kind: bytes = END, payload: bytes = b"") -> None:
        """Send the rest of the body and the closing frame, at once."""
        rest = frame(DATA, bytes(self.buffer)) if self.buffer else b""
        self.sent += len(self.buffer)
        self.buffer.clear()
        self._send(rest + frame(kind, payload))

    def _send(self, data: bytes) -> None:
        if self.prefix:
            data, self.prefix = self.prefix + data, b""
        if data:
            write_all(self.fd, data)
