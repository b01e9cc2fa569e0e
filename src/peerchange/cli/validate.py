"""``peerchange validate``: SHACL, OWL and the quality check queries over the graph."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from peerchange.cli.common import extra_sources, handle_errors, progress_printer


@click.command()
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
@click.option(
    "--whole-graph",
    is_flag=True,
    help="SHACL as one pySHACL run over the union graph (slow; the reference the "
    "engine validator is measured and tested against).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Deprecated, ignored: SHACL runs on the engine in one process.",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Deprecated, ignored: the engine validates the whole graph in seconds, with "
    "no cache.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on standard error.")
@handle_errors
def validate(
    extra_files: tuple[str, ...],
    graphs: tuple[str, ...],
    fmt: str,
    strict: bool,
    no_reasoner: bool,
    whole_graph: bool,
    jobs: int | None,
    cache_dir: Path | None,
    quiet: bool,
) -> None:
    """Validate the shipped ontology and data, plus any EXTRA_FILES.

    Runs three checks and prints one report: SHACL shapes (SHACL Core and SHACL-SPARQL
    as queries on the engine, once per shape over all its focus nodes), OWL
    consistency and class satisfiability (owlready2 + HermiT, over the ontology and the
    shipped data only, never the EXTRA_FILES), and the quality check queries
    (queries/checks/*-violation.rq). Progress (phase times) goes to standard error.
    Extra files are Turtle, N-Triples, N-Quads, TriG, RDF/XML or JSON-LD (by extension,
    optionally gzipped); each loads into its own graph.

    Exit codes: 0 conforms (warnings are listed but pass unless --strict), 1 violations
    found, 2 could not run (a bad file, a syntax error, no Java for HermiT).
    """
    from peerchange.services.validation import validate as run_validation
    from peerchange.services.validation.report import render_json, render_text, render_turtle

    extra = extra_sources(extra_files, graphs)
    for given, flag in ((jobs, "-j/--jobs"), (cache_dir, "--cache")):
        if given is not None:
            click.echo(f"Warning: {flag} is deprecated and ignored: SHACL runs on the "
                       "engine, in one process, without a cache.", err=True)
    report = run_validation(
        extra,
        reasoner=not no_reasoner,
        progress=progress_printer(quiet),
        whole_graph=whole_graph,
    )
    renderer = {"text": render_text, "json": render_json, "turtle": render_turtle}[fmt]
    click.echo(renderer(report, strict=strict), nl=False)
    sys.exit(report.exit_code(strict=strict))
