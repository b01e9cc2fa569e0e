"""Remember what a service derives from one version of the data.

The labels, the JSON-LD context and the service description are functions of the data
(and of a few hashable arguments), however many service objects ask for them: keyed by
the data version (a digest of the loaded sources), they are computed once and shared by
every service over the same data, and a graph loaded from other sources never gets
another's.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import Any, Concatenate, ParamSpec, TypeVar

from peerchange.services.sparql import SparqlService

P = ParamSpec("P")
R = TypeVar("R")


def per_data_version(maxsize: int = 8) -> Callable[
        [Callable[Concatenate[SparqlService, P], R]],
        Callable[Concatenate[SparqlService, P], R]]:
    """Decorate ``f(sparql, *args)`` to compute once per (data version, ``args``).

    ``args`` must be hashable; the oldest answer is dropped beyond ``maxsize``. One thread
    computes a key at a time: others asking for it meanwhile wait for its answer instead of
    computing it again (on a large store some of these take minutes, e.g. the search index).
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
