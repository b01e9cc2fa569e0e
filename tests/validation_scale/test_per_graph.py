"""SHACL per graph gives the findings of one whole-graph pySHACL run; the OWL phase sees
only the ontology and the shipped data; the cache re-validates only changed graphs.

The data is ``peerchange synth`` output (one named graph per study), valid as written and
with violations injected into several study graphs (Core and SHACL-SPARQL rules, a
backwards path, a node stated about in two graphs).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from peerchange.core.sources import extra_source, shipped_sources
from peerchange.services.synth import generate
from peerchange.services.validation.owl import reasoned_sources
from peerchange.services.validation.shacl import run_shacl
from peerchange.services.validation.shacl_units import run_shacl_per_graph

pytestmark = pytest.mark.slow

PCM = "https://w3id.org/peerchange/onto/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"


def _graph(line: str) -> str:
    return line.rsplit(" ", 2)[-2]


def _study(n: int) -> str:
    return f"<https://w3id.org/peerchange/graph/synth/study-{n}>"


def _first(lines: list[str], predicate: str, graph: str | None = None) -> int:
    return next(
        i for i, line in enumerate(lines)
        if line.split(" ", 2)[1] == predicate and (graph is None or _graph(line) == graph)
    )


def inject(path: Path) -> Path:
    """Write a broken copy of a synth file: violations in studies 1, 2 and 3."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    drop = {
        _first(lines, f"<{PCM}hasCase>", _study(1)),  # a case of no study (backwards path)
        _first(lines, "<http://purl.org/spar/cito/citesAsAuthority>", _study(1)),
        _first(lines, LABEL, _study(2)),  # a missing label
        # a claim without its subject: its shortcut edge has no claim (SHACL-SPARQL)
        _first(lines, "<http://purl.obolibrary.org/obo/SEPIO_0000388>", _study(3)),
    }
    # a shortcut edge of study 2 removed from its evidence-status graph (SHACL-SPARQL)
    study2 = {line.split(" ", 1)[0] for line in lines if _graph(line) == _study(2)}
    drop.add(next(
        i for i, line in enumerate(lines)
        if line.split(" ", 2)[1] == f"<{PCM}activatesMechanism>"
        and line.split(" ", 1)[0] in study2 and _graph(line) != _study(2)
    ))
    work = lines[_first(lines, f"<{PCM}referenceKey>", _study(3))].split(" ", 1)[0]
    claim = next(
        line.split(" ", 1)[0] for line in lines
        if _graph(line) == _study(3) and line.split(" ", 2)[1] == RDF_TYPE
        and "Claim>" in line
    )
    case1 = lines[_first(lines, f"<{PCM}caseCode>", _study(1))].split(" ", 1)[0]
    added = [
        f'{work} <{PCM}referenceKey> "NotItsKey" {_study(3)} .\n',  # Core and SPARQL
        f"{claim} {RDF_TYPE} <{PCM}Study> {_study(3)} .\n",  # a claim typed as a study
        f'{case1} <{PCM}caseCode> "  two codes " {_study(3)} .\n',  # study 1's node, graph 3
    ]
    out = path.with_name("broken-" + path.name)
    out.write_text("".join(line for i, line in enumerate(lines) if i not in drop)
                   + "".join(added), "utf-8")
    return out


def _key(finding) -> tuple:
    focus = "_:" if finding.focus.startswith("_:") else finding.focus
    value = re.sub(r"_:\S+", "_:", finding.value or "")
    message = re.sub(r"_:\S+|\bN[0-9a-f]{32}\b", "_:", finding.message)
    return (focus, finding.path, finding.rule, finding.severity, value, message)


def _compare(path: Path, **options) -> Counter:
    sources = shipped_sources() + [extra_source(path)]
    whole = Counter(map(_key, run_shacl(sources).findings))
    per_graph = Counter(map(_key, run_shacl_per_graph(sources, **options).findings))
    assert per_graph == whole
    return whole


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "synth.nq"
    generate(path, 3, seed=11)
    return path


def test_valid_data_per_graph_equals_whole_graph(synth: Path) -> None:
    assert _compare(synth) == Counter()


def test_violations_across_graphs_per_graph_equals_whole_graph(synth: Path) -> None:
    found = _compare(inject(synth), jobs=2)
    rules = {rule for (_f, _p, rule, *_rest) in found}
    assert any("ShortcutEdge-hasClaim" in r for r in rules)
    assert any("Claim-shortcutTripleExists" in r for r in rules)
    assert any("MinCountConstraintComponent" in r for r in rules)
    assert len({focus for (focus, *_rest) in found}) >= 5


def test_cache_revalidates_only_the_changed_graph(synth: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    sources = shipped_sources() + [extra_source(synth)]
    first = run_shacl_per_graph(sources, cache_dir=cache)
    assert "0 unchanged" in first.note
    graphs = len(list(cache.glob("*.json")))
    again = run_shacl_per_graph(sources, cache_dir=cache)
    assert f"{graphs} unchanged" in again.note and again.findings == first.findings

    changed = synth.with_name("changed.nq")
    lines = synth.read_text("utf-8").splitlines(keepends=True)
    label = _first(lines, LABEL, _study(2))
    changed.write_text("".join(lines[:label] + lines[label + 1:]), "utf-8")
    progress: list[str] = []
    third = run_shacl_per_graph(shipped_sources() + [extra_source(changed)],
                                cache_dir=cache, progress=progress.append)
    assert f"{graphs - 1} unchanged" in third.note
    assert any("1/1 graphs" in line for line in progress)
    assert {f.focus for f in third.findings} == {lines[label].split(" ", 1)[0][1:-1]}


def test_owl_phase_sees_only_the_ontology_and_shipped_data(synth: Path) -> None:
    sources = shipped_sources() + [extra_source(synth)]
    assert reasoned_sources(sources) == shipped_sources()


def test_cli_reports_per_graph_and_owl_scope(synth: Path, cli) -> None:
    proc = cli("validate", "--no-reasoner", "--format", "json", "-j", "2", str(synth))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    shacl = next(p for p in report["phases"] if p["name"] == "shacl")
    assert "per graph" in shacl["note"]
    assert re.search(r"SHACL Core: \d+/\d+ graphs, [\d,]+ triples, [\d,]+ triples/s",
                     proc.stderr)
    broken = cli("validate", "--no-reasoner", str(inject(synth)))
    assert broken.returncode == 1
    assert "DOES NOT CONFORM" in broken.stdout


def test_owl_phase_note_says_extra_sources_were_left_out(synth: Path, java) -> None:
    from peerchange.services.validation.owl import run_owl

    phase = run_owl(shipped_sources() + [extra_source(synth)])
    assert phase.status == "passed"
    assert "shipped data only (1 extra source(s) not given to the reasoner)" in phase.note
