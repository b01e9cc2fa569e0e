"""The query executor (``core.execution``): time limit, a dying child, errors, both answer
modes and the row limit, without the service or the web in between.

The executor is a child process forked once per (process, store) and thread (a pool, used
one query at a time here, so it holds one); these tests reach it through
:func:`run_with_timeout` as the service does, and look at the
:class:`~peerchange.core.executor.Executor` object only to find its child's pid.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time

import pyoxigraph as ox
import pytest

from peerchange.core import execution
from peerchange.core.errors import QueryFailed, QuerySyntaxError, QueryTimeout, error_view
from peerchange.core.execution import QueryJob, evaluate, run_with_timeout
from peerchange.core.formats import RDF_FORMATS, RESULT_FORMATS, find_format
from peerchange.core.results import TRUNCATION_LINK
from tests.conftest import ENGINE_FAILURE, kill_and_wait_dead

ID = "https://w3id.org/peerchange/id/"
PCM = "https://w3id.org/peerchange/onto/"
MECHANISMS = [ID + "mechanism/" + m for m in ("engagement", "role-modelling",
                                              "trusting-relationships")]
SELECT_MECHANISMS = (
    f"SELECT ?m WHERE {{ ?m a <{PCM}ChangeMechanism> }} ORDER BY ?m"
)
CONSTRUCT_LABELS = (
    "CONSTRUCT { ?m <http://www.w3.org/2000/01/rdf-schema#label> ?l } WHERE { "
    f"?m a <{PCM}ChangeMechanism> ; <http://www.w3.org/2000/01/rdf-schema#label> ?l }}"
)
# a 4-way cross product of the whole graph, sorted: it would run for days
RUNAWAY = "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } ORDER BY ?l ?i ?f ?c"
JSON = find_format("json", RESULT_FORMATS)
NTRIPLES = find_format("ntriples", RDF_FORMATS)
TIMEOUT = 0.5
GENEROUS = 30.0  # a limit no healthy query here comes near
# the name of an exception type ("RuntimeError", "ValueError: ...") in a message
TYPE_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b")


def job(text: str, form: str = "SELECT", **kwargs) -> QueryJob:
    return QueryJob(text=text, form=form, **kwargs)


def mechanisms(store) -> list[str]:
    """Run the mechanisms query through the executor: proof that it works."""
    answer = run_with_timeout(store, job(SELECT_MECHANISMS), GENEROUS)
    return [row[0].value for row in answer.rows]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def executor(shipped_store):
    """The executor of this process for the shipped store, with its child running."""
    from tests.conftest import close_executors

    close_executors()
    mechanisms(shipped_store)
    [ex] = execution._executor_for(shipped_store).members
    assert ex.pid and alive(ex.pid)
    return ex


def child_pid(store) -> int:
    """The pid of the (one) query process of this process for ``store``."""
    [pid] = execution._executor_for(store).pids
    return pid


# ------------------------------------------------------------------------ the time limit

def test_a_query_past_its_timeout_is_stopped_and_the_executor_replaced(shipped_store, executor):
    child = executor.pid
    start = time.perf_counter()
    with pytest.raises(QueryTimeout) as info:
        run_with_timeout(shipped_store, job(RUNAWAY), TIMEOUT)
    elapsed = time.perf_counter() - start
    assert TIMEOUT <= elapsed < TIMEOUT + 2.0, elapsed
    assert info.value.http_status == 503
    assert f"{TIMEOUT:g} s" in info.value.message
    # the child that ran it is gone (killed and reaped) ...
    assert executor.pid == 0 and not alive(child)
    # ... and the next query forks a new one and answers
    assert mechanisms(shipped_store) == MECHANISMS
    assert executor.pid not in (0, child)


def test_a_killed_idle_executor_is_replaced_and_the_query_answers(shipped_store, executor):
    """Row 16: the idle query process killed (as the OOM killer would): the next query
    starts another and answers, at once."""
    child = executor.pid
    kill_and_wait_dead(child)
    start = time.perf_counter()
    assert mechanisms(shipped_store) == MECHANISMS
    assert time.perf_counter() - start < GENEROUS / 2  # noticed, not at the deadline
    assert executor.pid not in (0, child)
    gone = time.monotonic() + 10  # reaped: on a loaded machine possibly a moment later
    while alive(child) and time.monotonic() < gone:
        time.sleep(0.05)
    assert not alive(child)


def test_timeout_zero_evaluates_in_this_process(shipped_store, monkeypatch):
    def no_executor(store):
        raise AssertionError("timeout 0 must not use the executor")

    monkeypatch.setattr(execution, "_executor_for", no_executor)
    answer = run_with_timeout(shipped_store, job(SELECT_MECHANISMS), 0)
    assert [row[0].value for row in answer.rows] == MECHANISMS
    # and so does evaluate() itself, which is what the executor's child runs
    assert evaluate(shipped_store, job(SELECT_MECHANISMS)).count == 3


# ------------------------------------------------------------------------ errors

@pytest.mark.parametrize("timeout", [GENEROUS, 0], ids=["executor", "in-process"])
def test_a_syntax_error_is_query_syntax_error(shipped_store, timeout):
    with pytest.raises(QuerySyntaxError) as info:
        run_with_timeout(shipped_store, job("SELECT ?x WHERE { ?x ?y }"), timeout)
    assert info.value.http_status == 400
    assert info.value.message.startswith("The query does not parse:")
    assert "1:" in info.value.message  # the engine's position (line:column)
    assert mechanisms(shipped_store) == MECHANISMS  # the executor is still there


def test_an_engine_failure_is_generic_for_the_client_and_detailed_in_the_log(
        shipped_store, failing_engine, caplog):
    caplog.set_level(logging.ERROR, logger="peerchange.core.execution")
    mechanisms(shipped_store)  # the executor runs (forked after the patch)
    child = child_pid(shipped_store)
    with pytest.raises(QueryFailed) as info:
        run_with_timeout(shipped_store, job(SELECT_MECHANISMS + "\n" + failing_engine),
                         GENEROUS)
    error = info.value
    assert error.http_status == 500
    # the client's message: generic, no Python type, not the engine's words
    for public in (error.message, str(error), json.dumps(error_view(error).as_dict())):
        assert not TYPE_NAME.search(public), public
        assert ENGINE_FAILURE not in public
    assert "logged" in error.message
    # the detail: in log_detail and in the server's log
    assert error.log_detail == f"RuntimeError: {ENGINE_FAILURE}"
    logged = [r.getMessage() for r in caplog.records if r.name == "peerchange.core.execution"]
    assert any(ENGINE_FAILURE in line and "RuntimeError" in line for line in logged), logged
    # the executor reported the failure and goes on: the same child answers the next query
    assert mechanisms(shipped_store) == MECHANISMS
    assert child_pid(shipped_store) == child



def test_an_engine_failure_in_process_is_the_same_query_failed(
        shipped_store, failing_engine, caplog):
    """With no time limit (timeout 0) the query runs in this process: a failure of the
    engine still becomes a QueryFailed with a generic message, never a bare exception."""
    caplog.set_level(logging.ERROR, logger="peerchange.core.execution")
    with pytest.raises(QueryFailed) as info:
        run_with_timeout(shipped_store, job(SELECT_MECHANISMS + "\n" + failing_engine), 0)
    assert not TYPE_NAME.search(info.value.message)
    assert info.value.log_detail == f"RuntimeError: {ENGINE_FAILURE}"
    assert any(ENGINE_FAILURE in r.getMessage() for r in caplog.records)

# ------------------------------------------------------------------------ answers

@pytest.mark.parametrize("timeout", [GENEROUS, 0], ids=["executor", "in-process"])
def test_terms_mode_returns_pyoxigraph_terms(shipped_store, timeout):
    select = run_with_timeout(shipped_store, job(
        SELECT_MECHANISMS.replace("?m WHERE", "?m ?missing WHERE")), timeout)
    assert (select.form, select.fmt, select.body) == ("SELECT", None, b"")
    assert select.variables == ["m", "missing"]
    assert select.rows == [(ox.NamedNode(m), None) for m in MECHANISMS]
    assert select.count == 3 and not select.truncated

    graph = run_with_timeout(shipped_store, job(CONSTRUCT_LABELS, "CONSTRUCT"), timeout)
    assert graph.form == "CONSTRUCT" and graph.count == len(graph.triples) >= 3
    assert all(isinstance(t, ox.Triple) and isinstance(t.object, ox.Literal)
               for t in graph.triples)
    assert {t.subject.value for t in graph.triples} == set(MECHANISMS)

    yes = run_with_timeout(shipped_store, job(f"ASK {{ ?m a <{PCM}ChangeMechanism> }}",
                                              "ASK"), timeout)
    no = run_with_timeout(shipped_store, job(f"ASK {{ ?m a <{PCM}NoSuchClass> }}", "ASK"),
                          timeout)
    assert (yes.form, yes.boolean, no.boolean) == ("ASK", True, False)


def test_substitutions_bind_variables_as_terms(shipped_store):
    bound = job(SELECT_MECHANISMS, substitutions={"m": ox.NamedNode(MECHANISMS[1])})
    answer = run_with_timeout(shipped_store, bound, GENEROUS)
    assert answer.rows == [(ox.NamedNode(MECHANISMS[1]),)]


@pytest.mark.parametrize("timeout", [GENEROUS, 0], ids=["executor", "in-process"])
@pytest.mark.parametrize(("max_rows", "rows", "truncated"), [
    (2, 2, True),  # cut: says so
    (3, 3, False),  # exactly the limit: nothing was cut
    (4, 3, False),
    (0, 3, False),  # no limit
])
def test_bytes_mode_honours_the_row_limit_and_says_when_it_cut(
        shipped_store, timeout, max_rows, rows, truncated):
    answer = run_with_timeout(shipped_store, job(SELECT_MECHANISMS, fmt=JSON,
                                                 max_rows=max_rows), timeout)
    assert answer.fmt == JSON and (answer.count, answer.truncated) == (rows, truncated)
    doc = json.loads(answer.body)
    assert [b["m"]["value"] for b in doc["results"]["bindings"]] == MECHANISMS[:rows]
    assert (TRUNCATION_LINK in doc["head"].get("link", [])) is truncated
    assert doc.get("peerchange", {}).get("truncated", False) is truncated
    assert answer.rows == []  # bytes mode carries no terms


@pytest.mark.parametrize("max_rows", [1, 0])
def test_bytes_mode_row_limit_for_graphs(shipped_store, max_rows):
    answer = run_with_timeout(shipped_store, job(CONSTRUCT_LABELS, "CONSTRUCT", fmt=NTRIPLES,
                                                 max_rows=max_rows), GENEROUS)
    lines = answer.body.decode().splitlines()
    triples = [line for line in lines if line and not line.startswith("#")]
    assert len(triples) == answer.count
    if max_rows:
        assert answer.truncated and answer.count == max_rows
        assert "# truncated" in answer.body.decode()
    else:
        assert not answer.truncated and answer.count >= 3
        assert "truncated" not in answer.body.decode()


def test_the_executor_holds_no_inherited_pipe_or_socket(shipped_store):
    """The child closes its parent's sockets and pipes (a listening socket, a pipe to another
    program) but keeps its own two pipes, so nothing waits on it for ever."""
    import socket

    from tests.conftest import close_executors

    close_executors()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    read_end, write_end = os.pipe()
    try:
        mechanisms(shipped_store)  # forks a fresh executor now, with both open
        child = child_pid(shipped_store)
        held = {os.readlink(f"/proc/{child}/fd/{fd}") for fd in os.listdir(f"/proc/{child}/fd")}
        ours = {os.readlink(f"/proc/self/fd/{fd}") for fd in (listener.fileno(), write_end)}
        assert not held & ours, held & ours
        assert sum(link.startswith("pipe:") for link in held) >= 2  # its own two pipes
        assert mechanisms(shipped_store) == MECHANISMS
    finally:
        listener.close()
        os.close(read_end)
        os.close(write_end)
        close_executors()


def test_query_processes_label_template_blank_nodes_apart(shipped_store):
    """Two query processes forked from one thread must not label the blank nodes of a
    CONSTRUCT template alike: the engine's label generator is per thread and a fork keeps
    its state, so the children answer in a thread of their own. (Put together, as the
    dataset description puts its CONSTRUCTs together, alike labels merged a class
    partition with a prefix declaration.)"""
    import pyoxigraph as ox

    from peerchange.core.executor import Executor

    ox.BlankNode()  # this thread's generator is in use, as a loading server's is
    template = job("CONSTRUCT { _:a <http://example.org/p> 1 } WHERE {}", form="CONSTRUCT")
    labels = []
    executors = [Executor(shipped_store, execution._work) for _ in range(2)]
    try:
        for ex in executors:
            ex.spawn()
        for ex in executors:
            [triple] = ex.run(template, GENEROUS).triples
            labels.append(triple.subject.value)
    finally:
        for ex in executors:
            ex.close()
    assert labels[0] != labels[1]
