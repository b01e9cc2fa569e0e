"""``peerchange reload``: the pid file checked before any signal is sent, the outcome waited
for and turned into the exit code (0 served, 1 refused, 2 could not reload).

A stand-in server (a small Python process that answers SIGHUP by writing the status file
as the real one does) keeps these fast; the real server is in ``test_reload_server.py``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from peerchange.cli import main
from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(60)

# a stand-in server: on SIGHUP it writes STATE (with REPORT) as the reload's outcome
STAND_IN = """
import os, signal, sys, time
from peerchange.core.reload_status import write_status
pid_file, state = sys.argv[1], sys.argv[2]
REPORT = "extra.ttl, line 1, column 3: syntax error"
def hup(*_):
    started = time.time()
    if state != "silent":
        write_status(pid_file, state=state, pid=os.getpid(), started=started,
                     version="v2", message=f"the stand-in says {state}",
                     report=REPORT if state == "refused" else None)
signal.signal(signal.SIGHUP, hup)
open(pid_file, "w").write(f"{os.getpid()}\\n")
print("ready", flush=True)
time.sleep(30)
"""


def reload(*args: str):
    return CliRunner().invoke(main, ["reload", *args])


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator:
    procs: list[subprocess.Popen[str]] = []

    def start(state: str) -> tuple[subprocess.Popen[str], Path]:
        pid_file = tmp_path / f"{state}.pid"
        proc = subprocess.Popen([sys.executable, "-c", STAND_IN, str(pid_file), state],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc, pid_file

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def test_served_new_data_exits_0(stand_in):
    _proc, pid_file = stand_in("done")
    result = reload("--pid-file", str(pid_file), "--timeout", "20")
    assert result.exit_code == 0, result.output
    assert "Reloaded: the stand-in says done" in result.output


def test_refused_data_exits_1_with_the_report(stand_in):
    _proc, pid_file = stand_in("refused")
    result = reload("--pid-file", str(pid_file), "--timeout", "20")
    assert result.exit_code == 1, result.output
    assert "Refused: the stand-in says refused" in result.output
    assert "extra.ttl, line 1, column 3: syntax error" in result.output


def test_no_answer_within_the_timeout_exits_2(stand_in):
    proc, pid_file = stand_in("silent")
    result = reload("--pid-file", str(pid_file), "--timeout", "0.5")
    assert result.exit_code == 2
    assert f"no outcome from the server (pid {proc.pid}) within 0.5 s" in result.output


def test_a_missing_pid_file_exits_2(tmp_path):
    result = reload("--pid-file", str(tmp_path / "none.pid"))
    assert result.exit_code == 2
    assert "no pid file at" in result.output and "--pid-file" in result.output


def test_a_pid_file_without_a_pid_exits_2(tmp_path):
    (tmp_path / "bad.pid").write_text("not a number\n", encoding="utf-8")
    result = reload("--pid-file", str(tmp_path / "bad.pid"))
    assert result.exit_code == 2 and "holds no process id" in result.output


def test_a_stale_pid_file_exits_2(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True, timeout=30)
    (tmp_path / "stale.pid").write_text(gone.stdout, encoding="utf-8")
    result = reload("--pid-file", str(tmp_path / "stale.pid"))
    assert result.exit_code == 2 and "stale pid file" in result.output


def test_a_pid_that_is_not_a_peerchange_server_gets_no_signal(tmp_path):
    other = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / "other.pid").write_text(f"{other.pid}\n", encoding="utf-8")
        result = reload("--pid-file", str(tmp_path / "other.pid"))
        assert result.exit_code == 2 and "is not a peerchange server" in result.output
        assert other.poll() is None  # SIGHUP would have ended it
    finally:
        other.kill()
        other.wait(timeout=10)
