"""The harness's parts that need no server: the varied mix's parameters and the report.

The varied queries are checked against a real store (pyoxigraph over a small synthetic file
and the shipped files, as the servers load them), the report against the committed results
(written before the varied mix existed) and against a result shaped as a run now writes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.harness import mix
from bench.harness.report import markdown
from bench.harness.servers import shipped_files
from pyoxigraph import QueryBoolean, RdfFormat, Store

from peerchange.services.synth import generate

ROOT = Path(__file__).resolve().parents[2]


def test_parameters_are_substituted_as_terms() -> None:
    ask = mix.templates()["ask-mechanism"]
    text = mix.substitute(ask, {"mechanism": "https://example.org/m1"})
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert "<https://example.org/m1> a pcm:ChangeMechanism" in "\n".join(body)
    assert not any("$" in line for line in body)
    assert text.splitlines()[0] == ask.splitlines()[0]  # comments are left alone
    with pytest.raises(ValueError):  # not an IRI: never pasted into the text
        mix.substitute(ask, {"mechanism": "x> ?p ?o } #"})
    with pytest.raises(KeyError):  # $model unbound
        mix.substitute(mix.templates()["lookup-model-mechanisms"],
                       {"mechanism": "https://example.org/m1"})


def test_draws_are_seeded_and_every_client_gets_its_own_start() -> None:
    assert mix.draws(50, seed=3, count=20) == mix.draws(50, seed=3, count=20)
    assert mix.draws(50, seed=3, count=20) != mix.draws(50, seed=4, count=20)
    params = mix.draws(50, seed=0, count=8)
    first = [next(mix.varied_schedule(params, 4)(k)).query for k in range(4)]
    assert len(set(first)) == 4


def test_the_varied_queries_answer_on_a_synthetic_file(tmp_path: Path) -> None:
    data = tmp_path / "synth-3.nt"
    generate(data, 3)
    assert mix.study_count(data) == 3
    store = Store()
    store.bulk_load(path=str(data), format=RdfFormat.N_TRIPLES)
    for path in shipped_files():  # as every server serves them (the theories' labels)
        store.bulk_load(path=str(path), format=RdfFormat.TURTLE)
    for bindings in mix.draws(3, seed=0, count=6):
        for request in mix.varied(bindings):
            answer = store.query(request.query)
            if isinstance(answer, QueryBoolean):
                assert bool(answer), request.name
            else:
                assert list(answer), f"{request.name}: no rows for {bindings}"


def test_the_report_reads_old_and_new_results() -> None:
    old = json.loads((ROOT / "bench" / "results" / "harness.json").read_text())
    assert "| fixed mix, 10,974 lines" in markdown(old)
    mix_result = {"requests": 100, "distinct_requests": 40, "errors": 0, "req_per_s": 10.0,
                  "p50_ms": 5.0, "p95_ms": 8.0, "p99_ms": 9.0, "load_average_1m": 1.5,
                  "server_cpu_ms_per_request": 3.2,
                  "per_query": {"trace-join": {"p50_ms": 5.0, "p99_ms": 9.0}}}
    server = {"ready_s": 2.0, "peak_memory_mb": 10.0, "peak_pss_mb": 5.0, "disk_mb": 1.0,
              "mix": mix_result, "mix_varied": mix_result}
    new = {"date": "d", "machine": "m", "commit": "c", "clients": 4, "seconds": 10,
           "sizes": [{"file": "synth-7.nt", "lines": 10974,
                      "varied": {"studies": 7, "seed": 0, "parameter_sets": 4096,
                                 "distinct_mechanisms": 21},
                      "servers": {"peerchange": server,
                                  "peerchange-nocache": {"on_built_store": True,
                                                         "start_s": 1.0, "mix": mix_result,
                                                         "mix_varied": mix_result},
                                  "oxigraph": server},
                      "validate": {"file": "synth-7.nq", "mode": "default", "seconds": 10.0,
                                   "cpu_s": 12.0, "exit_code": 0},
                      "validate_whole_graph": {"file": "synth-7.nq", "mode": "--whole-graph",
                                               "seconds": 90.0, "cpu_s": 80.0,
                                               "exit_code": "stopped after 90 s"}}]}
    text = markdown(new)
    assert "| varied mix, 10,974 lines, 4 clients | Oxigraph server" in text
    assert "40 of 100" in text and "| 3.20 |" in text and "| 1.50 |" in text
    assert "at least 9.0x faster" in text
