"""Where the counts go: prometheus-client's multi-process folder, chosen before anything
imports it (each case in a fresh interpreter, as ``peerchange serve`` starts)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from peerchange.core.metrics import MULTIPROC_ENV, PRIVATE_PREFIX
from tests.conftest import ROOT, clean_env

pytestmark = pytest.mark.timeout(120)


def _python(code: str, env: dict[str, str] | None = None) -> list[str]:
    environ = clean_env(env)
    if env is None or MULTIPROC_ENV not in env:
        environ.pop(MULTIPROC_ENV, None)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


PREPARE = """
import os
from peerchange.core import metrics
folder = metrics.prepare_multiprocess()
metrics.count("requests", route="sparql", status="200")
print(folder, metrics.multiprocess_dir(), os.path.isdir(folder),
      len(os.listdir(folder)) > 0)
"""


def test_a_private_folder_is_made_and_removed_at_exit():
    folder, active, existed, files = _python(PREPARE)
    assert Path(folder).name.startswith(PRIVATE_PREFIX)
    assert Path(folder).parent == Path(tempfile.gettempdir())
    assert active == folder and existed == "True" and files == "True"
    assert not Path(folder).exists()


def test_the_operators_folder_is_used_and_kept(tmp_path):
    folder, active, _, files = _python(PREPARE, {MULTIPROC_ENV: str(tmp_path / "m")})
    assert folder == active == str(tmp_path / "m") and files == "True"
    assert list((tmp_path / "m").glob("counter_*.db"))


def test_a_private_folder_of_another_process_is_not_shared(tmp_path):
    other = tmp_path / f"{PRIVATE_PREFIX}1-abc"  # as a parent peerchange would have made
    other.mkdir()
    folder, active, _, _ = _python(PREPARE, {MULTIPROC_ENV: str(other)})
    assert folder == active != str(other)
    assert not list(other.iterdir())


def test_forked_workers_leave_the_folder_to_the_process_that_made_it():
    code = PREPARE + """
pid = os.fork()
if pid == 0:
    metrics.count("requests", route="sparql", status="200")
    raise SystemExit(0)  # a worker's exit runs the exit hooks it inherited
os.waitpid(pid, 0)
print(os.path.isdir(folder), len([f for f in os.listdir(folder) if f.startswith("counter_")]))
"""
    *_, still_there, counter_files = _python(code)
    assert still_there == "True" and counter_files == "2"


@pytest.mark.slow  # loads the graph in a fresh interpreter: 2-5 s
def test_nothing_imports_prometheus_client_before_create_app():
    """``peerchange serve`` loads the graph before ``create_app`` chooses the folder: if
    anything on that path counted a metric, every worker would count alone."""
    code = """
import sys
from peerchange.cli import main
from peerchange.cli import serve
from peerchange.core.config import Settings
from peerchange.core.knowledge_graph import load_graph
from peerchange.web import create_app
from peerchange.serving import gunicorn_app
graph = load_graph()
before = "prometheus_client" in sys.modules
app = create_app(Settings(), graph)
from peerchange.core import metrics
print(before, metrics.multiprocess_dir() is not None)
"""
    assert _python(code) == ["False", "True"]


def test_metrics_answer_in_the_test_process_whatever_the_mode(client):
    """In the test process the folder may or may not be set (whoever imported
    prometheus-client first decided); either way ``/metrics`` answers."""
    from peerchange.core import metrics

    active = metrics.multiprocess_dir()
    assert active is None or os.path.isdir(active)
    body, media_type = metrics.exposition()
    assert media_type.startswith("text/plain") and b"peerchange_store_triples" in body


def test_an_unusable_operator_folder_is_a_message_not_a_trace(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = """
from peerchange.core import metrics
from peerchange.core.errors import PeerchangeError
try:
    metrics.prepare_multiprocess()
except PeerchangeError as exc:
    print(exc.message)
"""
    message = " ".join(_python(code, {MULTIPROC_ENV: str(blocker / "inside")}))
    assert message.startswith(f"{MULTIPROC_ENV}='{blocker / 'inside'}' cannot be used")
    assert message.endswith("or unset it.")
