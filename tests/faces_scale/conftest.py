"""Every face over the shipped data plus other studies: 30 synthetic studies (about 45,000
quads, one named graph each) made with ``peerchange synth`` once per session, loaded next
to the shipped study in an app of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write_synth

STUDIES = "30"


@pytest.fixture(scope="session")
def synth_nq(tmp_path_factory: pytest.TempPathFactory, cli) -> Path:
    """An N-Quads file of 30 synthetic studies (read-only)."""
    return write_synth(cli, tmp_path_factory.mktemp("faces-synth") / "studies.nq", STUDIES, "11")


@pytest.fixture(scope="session")
def scaled_app(make_app, synth_nq: Path):
    """The app over the shipped data plus the synthetic studies."""
    return make_app(extra_files=[str(synth_nq)])


@pytest.fixture(scope="session")
def scaled(scaled_app):
    return scaled_app.test_client()
