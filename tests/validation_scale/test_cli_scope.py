"""``peerchange validate`` at scale: SHACL on the engine by default (the deprecated -j and
--cache are accepted and said to be ignored), the OWL phase over the ontology and the
shipped data only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from peerchange.core.sources import extra_source, shipped_sources
from peerchange.services.synth import generate
from peerchange.services.validation.owl import reasoned_sources
from tests.validation_scale.test_engine import inject_every_component

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "synth.nq"
    generate(path, 3, seed=11)
    return path


def test_owl_phase_sees_only_the_ontology_and_shipped_data(synth: Path) -> None:
    sources = shipped_sources() + [extra_source(synth)]
    assert reasoned_sources(sources) == shipped_sources()


def test_cli_validates_on_the_engine(synth: Path, cli, tmp_path: Path) -> None:
    proc = cli("validate", "--no-reasoner", "--format", "json", str(synth))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    shacl = next(p for p in report["phases"] if p["name"] == "shacl")
    assert "on the engine" in shacl["note"]
    assert re.search(r"SHACL Core: \d+ shapes in \d+ queries on the engine in [\d.]+ s "
                     r"\(CPU [\d.]+ s\)", proc.stderr)
    assert "pySHACL for" not in proc.stderr  # every shipped shape compiles
    broken = cli("validate", "--no-reasoner", "-j", "2", "--cache", str(tmp_path / "c"),
                 str(inject_every_component(synth)))
    assert broken.returncode == 1
    assert "DOES NOT CONFORM" in broken.stdout
    assert "-j/--jobs is deprecated and ignored" in broken.stderr
    assert "--cache is deprecated and ignored" in broken.stderr


def test_owl_phase_note_says_extra_sources_were_left_out(synth: Path, java) -> None:
    from peerchange.services.validation.owl import run_owl

    phase = run_owl(shipped_sources() + [extra_source(synth)])
    assert phase.status == "passed"
    assert "shipped data only (1 extra source(s) not given to the reasoner)" in phase.note
