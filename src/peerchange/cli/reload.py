"""``peerchange reload``: make a running server re-read its data, and say what became of it.

It sends SIGHUP to the server whose pid is in the pid file (``serve --pid-file FILE``) and
waits for the outcome the server writes next to it (``FILE.reload.json``, see
:mod:`peerchange.core.reload_status`).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import click

from peerchange.cli.common import handle_errors, progress_printer
from peerchange.core.errors import PeerchangeError
from peerchange.core.reload_status import FINAL_STATES, read_status

EXIT = {"done": 0, "refused": 1, "failed": 2}
POLL_SECONDS = 0.1


@click.command()
@click.option("--pid-file", required=True, type=click.Path(dir_okay=False, path_type=str),
              envvar="PEERCHANGE_PID_FILE",
              help="The pid file the server writes (serve --pid-file FILE).")
@click.option("--timeout", default=600.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds to wait for the outcome (a large extra file may take minutes "
                   "to load and validate).")
@click.option("-q", "--quiet", is_flag=True, help="No progress line on standard error.")
@handle_errors
def reload(pid_file: str, timeout: float, quiet: bool) -> None:
    """Reload the data of a running server: the shipped ontology and data and the same
    extra files it was started with, read again.

    The new data is loaded beside the old and served only once it has loaded completely
    (and, with serve --validate-on-reload, passed validation); otherwise the old data
    keeps being served. Queries are answered throughout. SIGHUP to the server does the
    same; this command also waits for the outcome and prints it.

    Exit codes: 0 the new data is served (or it was unchanged), 1 the new data was refused
    (the parse error or the validation report is printed), 2 could not reload (no or a
    stale pid file, no answer within --timeout).
    """
    progress = progress_printer(quiet)
    pid = _server_pid(Path(pid_file))
    sent = time.time()
    os.kill(pid, signal.SIGHUP)
    progress(f"Asked the server (pid {pid}) to reload its data; waiting for the outcome")
    status = _wait(Path(pid_file), pid, sent, timeout)
    state = status["state"]
    if state == "done":
        click.echo(f"Reloaded: {status.get('message', '')}")
    elif state == "refused":
        click.echo(f"Refused: {status.get('message', '')}", err=True)
        if status.get("report"):
            click.echo(str(status["report"]).rstrip("\n"))
    else:
        click.echo(f"Error: {status.get('message', '')}", err=True)
    sys.exit(EXIT[state])


def _server_pid(pid_file: Path) -> int:
    """The pid in ``pid_file``, checked to be a running peerchange server."""
    try:
        text = pid_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise PeerchangeError(
            f"no pid file at {pid_file}: is the server running, started with "
            f"'peerchange serve --pid-file {pid_file}'?") from None
    except OSError as exc:
        raise PeerchangeError(f"cannot read the pid file {pid_file} ({exc.strerror})") from None
    try:
        pid = int(text)
    except ValueError:
        raise PeerchangeError(f"the pid file {pid_file} holds no process id ({text[:40]!r})"
                              ) from None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise PeerchangeError(
            f"stale pid file {pid_file}: no process {pid} is running; start the server "
            "again (it rewrites the file)") from None
    except PermissionError:
        raise PeerchangeError(f"process {pid} (from {pid_file}) belongs to another user"
                              ) from None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if pid <= 1 or (cmdline.exists() and b"peerchange" not in _read(cmdline)):
        raise PeerchangeError(
            f"stale pid file {pid_file}: process {pid} is not a peerchange server") from None
    return pid


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _wait(pid_file: Path, pid: int, sent: float, timeout: float) -> dict:
    """The first final status of a reload that began after ``sent``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read_status(pid_file)
        if (status.get("pid") == pid and status.get("state") in FINAL_STATES
                and float(status.get("started") or 0) >= sent):
            return status
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            raise PeerchangeError(f"the server (pid {pid}) stopped during the reload"
                                  ) from None
        time.sleep(POLL_SECONDS)
    raise PeerchangeError(
        f"no outcome from the server (pid {pid}) within {timeout:g} s; its log says what "
        f"it is doing (the outcome goes to {pid_file}.reload.json)")
