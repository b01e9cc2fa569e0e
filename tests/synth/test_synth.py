"""``peerchange synth``: deterministic, shape-valid, linear in N, streamed in flat memory."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from peerchange.cli import main
from peerchange.core.sources import extra_source
from peerchange.services.synth import generate


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first, second, other = (tmp_path / f"{n}.nq" for n in ("a", "b", "c"))
    generate(first, 5, seed=7)
    generate(second, 5, seed=7)
    generate(other, 5, seed=8)
    assert _digest(first) == _digest(second)
    assert _digest(first) != _digest(other)


def _cli(*args: str):
    return CliRunner().invoke(main, ["synth", *args])


def test_cli_writes_the_file_and_reports_progress(tmp_path: Path) -> None:
    out = tmp_path / "synth.nq"
    proc = _cli("--studies", "2", "--seed", "3", "-o", str(out))
    assert proc.exit_code == 0, proc.stderr
    assert proc.stdout == ""
    assert "quads/s" in proc.stderr and "2 studies" in proc.stderr
    generate(tmp_path / "again.nq", 2, seed=3)
    assert _digest(out) == _digest(tmp_path / "again.nq")


def test_every_line_is_a_quad_in_a_synthetic_or_status_graph(tmp_path: Path) -> None:
    out = tmp_path / "s.nq"
    result = generate(out, 2, seed=1)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == result.quads
    graphs = {line.rsplit(" ", 2)[1] for line in lines}
    base = "<https://w3id.org/peerchange/graph/"
    assert graphs == {base + "synth/study-1>", base + "synth/study-2>", base + "stated>",
                      base + "companion>", base + "curated>"}
    text = "\n".join(lines)
    for status in ("StatedInSource", "ReportedInCompanionPaper", "CuratedInference"):
        assert f"evidenceStatus> <https://w3id.org/peerchange/onto/{status}>" in text
    assert "Synthetic study 1" in text and "not a real study" in text


@pytest.mark.slow  # pySHACL and the checks over the shipped data plus 3 studies: 10-40 s
def test_three_studies_with_the_shipped_data_conform(tmp_path: Path) -> None:
    from peerchange.services.validation import validate

    out = tmp_path / "synth.nq"
    generate(out, 3, seed=0)
    report = validate([extra_source(str(out))], reasoner=False)
    assert report.count("Violation") == 0, [str(f) for f in report.findings()][:5]
    assert report.exit_code(strict=True) == 0, [str(f) for f in report.findings()][:5]


def test_quads_scale_linearly_with_studies(tmp_path: Path) -> None:
    counts = {n: generate(tmp_path / f"{n}.nq", n, seed=0).quads for n in (1, 10, 100)}
    per_study = counts[100] / 100
    assert 1000 < per_study < 2500
    assert abs(counts[10] / 10 - per_study) / per_study < 0.25
    assert abs(counts[100] - 10 * counts[10]) / counts[100] < 0.2
    assert counts[1] > 0


# the peak resident memory of this process alone: VmHWM starts again at exec, while
# getrusage's ru_maxrss keeps the forking parent's peak across it (a test worker's hundreds
# of MiB would count)
MEASURE = """
import json, re, sys, time
from pathlib import Path
from peerchange.services.synth import generate
start = time.monotonic()
result = generate(Path(sys.argv[1]), int(sys.argv[2]), seed=1)
status = Path("/proc/self/status").read_text()
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
print(json.dumps({"quads": result.quads, "seconds": time.monotonic() - start,
                  "peak_rss_kib": peak}))
"""


def _measure(path: Path, studies: int) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(path), str(studies)],
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_a_million_quads_in_bounded_memory(tmp_path: Path) -> None:
    small = _measure(tmp_path / "small.nq", 65)  # about 10^5 quads
    large = _measure(tmp_path / "large.nq", 650)  # about 10^6 quads
    print(f"\nsynth 10^5: {small}\nsynth 10^6: {large}")
    assert large["quads"] >= 1_000_000
    assert large["peak_rss_kib"] < 200 * 1024
    # flat: ten times the quads, at most a few MiB more resident memory
    assert large["peak_rss_kib"] - small["peak_rss_kib"] < 16 * 1024


def test_n_triples_and_gzip(tmp_path: Path) -> None:
    import gzip

    quads = generate(tmp_path / "s.nq", 2, seed=4)
    triples = generate(tmp_path / "s.nt.gz", 2, seed=4)
    assert triples.quads == quads.quads
    lines = gzip.decompress((tmp_path / "s.nt.gz").read_bytes()).decode().splitlines()
    stripped = [q.rsplit(" ", 2)[0] + " ." for q in
                (tmp_path / "s.nq").read_text(encoding="utf-8").splitlines()]
    assert lines == stripped
    generate(tmp_path / "again.nt.gz", 2, seed=4)
    assert _digest(tmp_path / "again.nt.gz") == _digest(tmp_path / "s.nt.gz")


def test_cli_refuses_another_format(tmp_path: Path) -> None:
    proc = _cli("--studies", "1", "-o", str(tmp_path / "x.ttl"))
    assert proc.exit_code == 2
    assert ".nq" in proc.stderr
