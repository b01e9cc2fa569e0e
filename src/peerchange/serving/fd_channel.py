"""The launcher's decision handed to the early answerer: one message and one descriptor
(the listening socket) over a Unix socket pair.

:func:`send` and :func:`receive` are ``socket.send_fds`` / ``socket.recv_fds`` for one
descriptor, on ``_socket`` objects: :mod:`socket` builds its enums at import (with
:mod:`enum`), which a restart's first answer would wait for. The message
(:func:`decision`, read back by :func:`decided`) is the built store's path, quad count and
data version, separated by NUL bytes (a path holds none).
"""

from __future__ import annotations

import _socket
import os
import sys

_INT = 4  # the C int of SCM_RIGHTS


def decision(path: str, quads: int, version: str) -> bytes:
    """The message saying "the store in ``path`` is built from these sources"."""
    return b"\0".join((os.fsencode(path), str(quads).encode(), version.encode()))


def decided(message: bytes) -> tuple[str, int, str] | None:
    """(path, quads, version) of a :func:`decision`, or ``None`` when it is not one."""
    parts = message.split(b"\0")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return os.fsdecode(parts[0]), int(parts[1]), parts[2].decode("ascii", "replace")


def send(sock: _socket.socket, message: bytes, fd: int) -> None:
    """Send ``message`` with the descriptor ``fd`` (``socket.send_fds``)."""
    sock.sendmsg([message], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS,
                              fd.to_bytes(_INT, sys.byteorder, signed=True))])


def receive(sock: _socket.socket, size: int) -> tuple[bytes, int]:
    """(message, descriptor) as :func:`send` sent them; descriptor ``-1`` when none came
    (the sender closed its end: no decision). ``socket.recv_fds`` for one descriptor.

    :raise OSError: the socket fails.
    """
    message, ancillary, _, _ = sock.recvmsg(size, _socket.CMSG_LEN(_INT))
    fd = -1
    for level, kind, data in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS and len(data) >= _INT:
            fd = int.from_bytes(data[:_INT], sys.byteorder, signed=True)
    return message, fd
