"""Remember what a service derives from one version of the data.

The labels, the JSON-LD context and the service description are functions of the data
(and of a few hashable arguments), however many service objects ask for them: keyed by
the data version (a digest of the loaded sources), they are computed once and shared by
every service over the same data, and a graph loaded from other sources never gets
another's.

Some of them are the same for every reader (``shared=True``: the search index, the label
table, the home page's counts): the request that happens to come first pays for them, on
a large store for minutes. :func:`shared_seconds` says how long the calling thread spent
on such work (computing it, or waiting for another thread that computes it) since it last
asked, so the serving layer can leave that time out of the client's budget.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Concatenate, ParamSpec, TypeVar

from peerchange.services.sparql import SparqlService

P = ParamSpec("P")
R = TypeVar("R")

_shared = threading.local()  # per thread: seconds spent on shared work, and its depth


def shared_seconds() -> float:
    """The seconds this thread spent on shared per-data-version work (computing an answer
    of a ``shared=True`` function, or waiting for the thread computing it) since the last
    call; the count starts again at 0. Nested shared work is counted once."""
    seconds = getattr(_shared, "seconds", 0.0)
    _shared.seconds = 0.0
    return seconds


def per_data_version(maxsize: int = 8, *, shared: bool = False) -> Callable[
        [Callable[Concatenate[SparqlService, P], R]],
        Callable[Concatenate[SparqlService, P], R]]:
    """Decorate ``f(sparql, *args)`` to compute once per (data version, ``args``).

    ``args`` must be hashable; the oldest answer is dropped beyond ``maxsize``. One thread
    computes a key at a time: others asking for it meanwhile wait for its answer instead of
    computing it again (on a large store some of these take minutes, e.g. the search index).
    ``shared``: the answer is the same for every reader (not one request's work): the time
    spent on it is reported by :func:`shared_seconds`.
    """

    def decorate(f: Callable[Concatenate[SparqlService, P], R]
                 ) -> Callable[Concatenate[SparqlService, P], R]:
        answers: dict[tuple[Hashable, ...], R] = {}
        computing: dict[tuple[Hashable, ...], threading.Lock] = {}
        lock = threading.Lock()

        @functools.wraps(f)
        def cached(sparql: SparqlService, *args: P.args, **kwargs: P.kwargs) -> R:
            key: tuple[Any, ...] = (sparql.graph.version, *args, *sorted(kwargs.items()))
            with lock:
                if key in answers:
                    return answers[key]
                flight = computing.setdefault(key, threading.Lock())
            if not shared:
                return _compute(key, flight, sparql, *args, **kwargs)
            depth = getattr(_shared, "depth", 0)
            _shared.depth = depth + 1
            began = time.perf_counter()
            try:
                return _compute(key, flight, sparql, *args, **kwargs)
            finally:
                _shared.depth = depth
                if depth == 0:  # the outermost shared work: counted once
                    _shared.seconds = (getattr(_shared, "seconds", 0.0)
                                       + time.perf_counter() - began)

        def _compute(key: tuple[Any, ...], flight: threading.Lock, sparql: SparqlService,
                     *args: P.args, **kwargs: P.kwargs) -> R:
            with flight:
                with lock:
                    if key in answers:  # computed by the thread this one waited for
                        return answers[key]
                try:
                    answer = f(sparql, *args, **kwargs)
                except BaseException:
                    with lock:
                        computing.pop(key, None)
                    raise
                with lock:
                    while len(answers) >= maxsize:
                        answers.pop(next(iter(answers)))
                    answers[key] = answer
                    computing.pop(key, None)
            return answer

        return cached

    return decorate
