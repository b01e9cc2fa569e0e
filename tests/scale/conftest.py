"""Synthetic data for the loading tests, made with ``peerchange synth`` (never the big
files of a benchmark run): 20 studies, about 31,000 lines and 5 MB, enough for the bulk
loader and the progress meter (4 MB) to be used."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import write_synth

STUDIES = "20"


@pytest.fixture(scope="session")
def synth_nt(tmp_path_factory: pytest.TempPathFactory, cli) -> Path:
    """An N-Triples file of 20 synthetic studies (read-only: copy it to change it)."""
    return write_synth(cli, tmp_path_factory.mktemp("synth") / "studies.nt", STUDIES, "7")


@pytest.fixture(scope="session")
def synth_gz(tmp_path_factory: pytest.TempPathFactory, cli) -> Path:
    """The same studies, gzip-compressed N-Triples."""
    return write_synth(cli, tmp_path_factory.mktemp("synth-gz") / "studies.nt.gz", STUDIES, "7")


@pytest.fixture
def data_file(synth_nt: Path, tmp_path: Path) -> Path:
    """A copy of the N-Triples file that a test may change."""
    copy = tmp_path / "data" / "studies.nt"
    copy.parent.mkdir()
    shutil.copyfile(synth_nt, copy)
    return copy


def line_count(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh)
