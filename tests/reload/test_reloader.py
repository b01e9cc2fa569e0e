"""The Reloader, called directly as the gunicorn master calls it on SIGHUP: a new app only
for new data that loaded (and validated), the old app untouched, the outcome reported.

Through a real server and ``peerchange reload``: ``test_reload_server.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from peerchange.core.knowledge_graph import load_graph
from peerchange.core.reload_status import read_status, status_path
from peerchange.core.sources import extra_source
from peerchange.serving.reload import Reloader
from peerchange.web import create_app
from tests.conftest import FIXTURES, app_settings
from tests.reload.conftest import BROKEN, ask, client_get, triple
from tests.store.conftest import builds, current, pointer, stores

pytestmark = pytest.mark.timeout(120)

INVALID = FIXTURES / "invalid" / "authorship-position-zero.ttl"


class Setup:
    """An app over the shipped graph plus ``extra`` (in memory or on disk), and its
    reloader."""

    def __init__(self, tmp_path: Path, extra: Path, dumps: Path, *, disk: bool,
                 validate: bool = False, pid_file: bool = True, progress=None) -> None:
        self.folder = tmp_path / "store" if disk else None
        self.settings = app_settings(dumps, store=str(self.folder or ""))
        self.sources = [extra_source(extra)]
        graph = load_graph(self.sources, store_path=str(self.folder) if disk else None)
        self.app = create_app(self.settings, graph)
        self.pid_file = tmp_path / "server.pid" if pid_file else None
        self.reloader = Reloader(self.settings, self.sources, validate=validate,
                                 pid_file=str(self.pid_file) if pid_file else None,
                                 progress=progress if progress is not None else (lambda _: None),
                                 reasoner=False)

    def status(self) -> dict:
        return read_status(self.pid_file)


def reloads(outcome: str) -> float:
    return REGISTRY.get_sample_value("peerchange_reloads_total", {"outcome": outcome}) or 0.0


@pytest.mark.parametrize("disk", [False, True], ids=["memory", "disk"])
def test_new_data_gives_a_new_app_and_the_old_one_keeps_its_answers(
        disk, tmp_path, extra_file, dumps_dir, lines):
    setup = Setup(tmp_path, extra_file, dumps_dir, disk=disk, progress=lines)
    old = ask(client_get(setup.app))
    assert old.values == ["1"]
    done = reloads("done")

    extra_file.write_text(triple(2), encoding="utf-8")
    new_app = setup.reloader(setup.app)
    assert new_app is not None and new_app is not setup.app
    new = ask(client_get(new_app))
    assert new.values == ["2"] and new.etag != old.etag
    assert ask(client_get(setup.app)) == old  # nothing changed under the old app
    status = setup.status()
    assert status["state"] == "done" and status["version"] == new_app.services.graph.version
    assert status["report"] is None and "now serving data version" in status["message"]
    assert reloads("done") == done + 1
    assert "Reloaded: now serving data version" in lines.text()
    if disk:
        old_folder = Path(setup.app.services.graph.store_path)
        assert Path(new_app.services.graph.store_path) == current(setup.folder) != old_folder
        assert builds(setup.folder) == []


@pytest.mark.parametrize("disk", [False, True], ids=["memory", "disk"])
def test_data_that_does_not_parse_is_refused_and_the_old_app_kept(
        disk, tmp_path, extra_file, dumps_dir):
    setup = Setup(tmp_path, extra_file, dumps_dir, disk=disk)
    before = ask(client_get(setup.app))
    record = pointer(setup.folder) if disk else None
    refused = reloads("refused")

    extra_file.write_text(BROKEN, encoding="utf-8")
    assert setup.reloader(setup.app) is None
    status = setup.status()
    assert status["state"] == "refused"
    assert "extra.ttl, line 1" in status["report"] and "syntax error" in status["report"]
    assert status["version"] == setup.app.services.graph.version
    assert "still serving data version" in status["message"]
    assert reloads("refused") == refused + 1
    assert ask(client_get(setup.app)) == before
    if disk:
        assert pointer(setup.folder) == record
        assert builds(setup.folder) == [] and stores(setup.folder) == [record["folder"]]


def test_unchanged_data_keeps_the_app_and_its_etags(tmp_path, extra_file, dumps_dir):
    setup = Setup(tmp_path, extra_file, dumps_dir, disk=False)
    before = ask(client_get(setup.app))
    extra_file.write_text(triple(1), encoding="utf-8")  # rewritten, same bytes
    assert setup.reloader(setup.app) is setup.app
    status = setup.status()
    assert status["state"] == "done" and "unchanged" in status["message"]
    assert ask(client_get(setup.app)) == before


@pytest.mark.slow  # pySHACL over the whole graph, twice: 10-30 s
@pytest.mark.parametrize("disk", [False, True], ids=["memory", "disk"])
def test_with_validation_shape_invalid_data_is_refused_with_the_report(
        disk, tmp_path, extra_file, dumps_dir):
    setup = Setup(tmp_path, extra_file, dumps_dir, disk=disk, validate=True)
    before = ask(client_get(setup.app))
    record = pointer(setup.folder) if disk else None

    shutil.copyfile(INVALID, extra_file)
    assert setup.reloader(setup.app) is None
    status = setup.status()
    assert status["state"] == "refused"
    assert "does not pass validation" in status["message"]
    assert "authorPosition" in status["report"] and "DOES NOT CONFORM" in status["report"]
    assert ask(client_get(setup.app)) == before
    if disk:  # the refused store never became current, and is gone
        assert pointer(setup.folder) == record
        assert stores(setup.folder) == [record["folder"]] and builds(setup.folder) == []

    extra_file.write_text(triple(3), encoding="utf-8")  # valid data passes
    new_app = setup.reloader(setup.app)
    assert new_app is not None and ask(client_get(new_app)).values == ["3"]


def test_without_a_pid_file_it_still_reloads(tmp_path, extra_file, dumps_dir):
    setup = Setup(tmp_path, extra_file, dumps_dir, disk=False, pid_file=False)
    extra_file.write_text(triple(4), encoding="utf-8")
    new_app = setup.reloader(setup.app)
    assert new_app is not None and ask(client_get(new_app)).values == ["4"]
    assert not list(tmp_path.glob("*.reload.json"))


def test_a_missing_extra_file_is_refused(tmp_path, extra_file, dumps_dir):
    setup = Setup(tmp_path, extra_file, dumps_dir, disk=False)
    extra_file.unlink()
    assert setup.reloader(setup.app) is None
    status = setup.status()
    assert status["state"] == "refused" and "no such file" in status["report"]
    assert status_path(setup.pid_file).name == "server.pid.reload.json"
