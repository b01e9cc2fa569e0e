"""Pieces shared by the ``peerchange`` commands.

:func:`handle_errors` turns a :class:`~peerchange.core.errors.PeerchangeError` into a
message on standard error and the error's exit code; :func:`progress_printer` prints
progress lines; :func:`extra_sources` parses EXTRA_FILES and ``--graph IRI=FILE`` into
sources; :func:`load_services` loads the graph and builds the services over it with
:func:`peerchange.services.assembly.build_services`, the one place services are made.
This module imports no command module: the commands import it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from peerchange.core.errors import PeerchangeError, error_view
from peerchange.core.sources import Source, extra_source, parse_graph_option

if TYPE_CHECKING:
    from peerchange.core.config import Settings
    from peerchange.services.assembly import Services

F = TypeVar("F", bound=Callable[..., Any])

Progress = Callable[[str], None]


def handle_errors(func: F) -> F:
    """Turn a :class:`PeerchangeError` into a message on stderr and its exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PeerchangeError as exc:
            view = error_view(exc)
            click.echo(f"Error: {exc.message}", err=True)
            if exc.detail:
                click.echo(exc.detail, err=True)
            if view.suggestions:
                width = max(len(s.id) for s in view.suggestions)
                click.echo("Did you mean:", err=True)
                for s in view.suggestions:
                    click.echo(f"  {s.id.ljust(width)}  {s.label}", err=True)
            sys.exit(view.exit_code)

    return wrapper  # type: ignore[return-value]


def progress_printer(quiet: bool) -> Progress:
    """A function printing one progress line on standard error (nothing when ``quiet``)."""
    if quiet:
        return lambda _: None
    return lambda line: click.echo(line, err=True)


def indented(progress: Progress) -> Progress:
    """``progress`` with each line indented by two spaces (for the steps of a step)."""
    return lambda line: progress("  " + line)


def extra_sources(files: Iterable[str], graphs: Iterable[str]) -> list[Source]:
    """The sources named by EXTRA_FILES (each into its own graph) and ``--graph IRI=FILE``."""
    return [extra_source(p) for p in files] + [parse_graph_option(spec) for spec in graphs]


def load_services(settings: Settings, extra: Iterable[Source] = (), *,
                  store_path: str | None = None,
                  progress: Progress = lambda _: None) -> Services:
    """Load the shipped ontology and data plus ``extra`` and build the services over them
    (:func:`peerchange.services.assembly.build_services`) with the limits of ``settings``.

    :raise SourceError: when a source cannot be read or parsed.
    """
    from peerchange.core.knowledge_graph import load_graph
    from peerchange.services.assembly import build_services

    graph = load_graph(extra, store_path=store_path, progress=progress)
    return build_services(settings, graph)
