"""The reload status file: how a server tells ``peerchange reload`` what became of a reload.

The server started with ``serve --pid-file FILE`` writes ``FILE.reload.json`` (replaced
atomically, so a reader never sees half of it)::

    {"state": "running" | "done" | "refused" | "failed",
     "pid": the server's (gunicorn master's) pid,
     "started": when this reload began (seconds since the epoch),
     "time": when this status was written,
     "version": the data version served once it is done (the old one when refused),
     "message": one line for a person,
     "report": the parse error or the validation report of a refused reload, or null}

``done`` means the new data is served (the old workers have stopped); ``refused`` means
the new data failed to parse or to validate and the old data is still served; ``failed``
means the reload could not finish for another reason (the old data is still served).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from peerchange.core.store_folder import read_json, write_json_atomic

STATES = ("running", "done", "refused", "failed")
FINAL_STATES = ("done", "refused", "failed")
SUFFIX = ".reload.json"


def status_path(pid_file: str | Path) -> Path:
    """The status file that goes with ``pid_file``."""
    return Path(str(pid_file) + SUFFIX)


def write_status(pid_file: str | Path, *, state: str, pid: int, started: float,
                 version: str | None = None, message: str = "",
                 report: str | None = None) -> None:
    """Replace the status file of ``pid_file`` (atomically)."""
    if state not in STATES:
        raise ValueError(f"unknown reload state {state!r}")
    write_json_atomic(status_path(pid_file), {
        "state": state, "pid": pid, "started": started, "time": time.time(),
        "version": version, "message": message, "report": report,
    })


def read_status(pid_file: str | Path) -> dict[str, Any]:
    """The status last written for ``pid_file``, or ``{}`` when there is none (yet)."""
    return read_json(status_path(pid_file))
