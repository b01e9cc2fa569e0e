"""The ``peerchange`` command line.

Exit codes follow pySHACL: 0 success (or conforms), 1 the data does not conform,
2 the command could not run (bad file, bad syntax, missing tool), with a message that
names the file and line where it can.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from peerchange import __version__
from peerchange.core.errors import PeerchangeError
from peerchange.core.sources import extra_source, parse_graph_option

F = TypeVar("F", bound=Callable[..., Any])


def _progress(quiet: bool) -> Callable[[str], None]:
    if quiet:
        return lambda _: None
    return lambda line: click.echo(line, err=True)


def handle_errors(func: F) -> F:
    """Turn a :class:`PeerchangeError` into a message on stderr and its exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PeerchangeError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            if exc.detail:
                click.echo(exc.detail, err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "PEERCHANGE"})
@click.version_option(__version__, prog_name="peerchange")
def main() -> None:
    """peerchange: the knowledge graph of the change model for peer worker
    interventions in mental health services (Gillard et al. 2015)."""


@main.command()
@click.argument("extra_files", nargs=-1, type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--graph",
    "graphs",
    multiple=True,
    metavar="IRI=FILE",
    help="Also load FILE into the named graph IRI (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="Report format on standard output.",
)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit code 1).")
@click.option(
    "--no-reasoner",
    is_flag=True,
    help="Skip the OWL phase (HermiT needs Java); the report says it was skipped.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on standard error.")
@handle_errors
def validate(
    extra_files: tuple[str, ...],
    graphs: tuple[str, ...],
    fmt: str,
    strict: bool,
    no_reasoner: bool,
    quiet: bool,
) -> None:
    """Validate the shipped ontology and data, plus any EXTRA_FILES.

    Runs three checks and prints one report: SHACL shapes (pySHACL), OWL consistency and
    class satisfiability (owlready2 + HermiT), and the quality check queries
    (queries/checks/*-violation.rq). Extra files are Turtle, N-Triples, N-Quads, TriG,
    RDF/XML or JSON-LD (by extension, optionally gzipped); each loads into its own graph.

    Exit codes: 0 conforms (warnings are listed but pass unless --strict), 1 violations
    found, 2 could not run (a bad file, a syntax error, no Java for HermiT).
    """
    from peerchange.services.validation import validate as run_validation
    from peerchange.services.validation.report import render_json, render_text, render_turtle

    extra = [extra_source(path) for path in extra_files]
    extra += [parse_graph_option(spec) for spec in graphs]
    report = run_validation(extra, reasoner=not no_reasoner, progress=_progress(quiet))
    renderer = {"text": render_text, "json": render_json, "turtle": render_turtle}[fmt]
    click.echo(renderer(report, strict=strict), nl=False)
    sys.exit(report.exit_code(strict=strict))
