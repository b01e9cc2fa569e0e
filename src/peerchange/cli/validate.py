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
    "per-graph run is measured and tested against).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Processes for the per-graph SHACL Core runs.",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep per-graph SHACL results in this folder; unchanged graphs are not validated "
    "again.",
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
    jobs: int,
    cache_dir: Path | None,
    quiet: bool,
) -> None:
    """Validate the shipped ontology and data, plus any EXTRA_FILES.

    Runs three checks and prints one report: SHACL shapes (SHACL Core by pySHACL graph by
    graph, in --jobs processes; SHACL-SPARQL as queries over the whole graph), OWL
    consistency and class satisfiability (owlready2 + HermiT, over the ontology and the
    shipped data only, never the EXTRA_FILES), and the quality check queries
    (queries/checks/*-violation.rq). Progress (graphs done, triples/s) goes to standard
    error. Extra files are Turtle, N-Triples, N-Quads, TriG,
    RDF/XML or JSON-LD (by extension, optionally gzipped); each loads into its own graph.

    Exit codes: 0 conforms (warnings are listed but pass unless --strict), 1 violations
    found, 2 could not run (a bad file, a syntax error, no Java for HermiT).
    """
    from peerchange.services.validation import validate as run_validation
    from peerchange.services.validation.report import render_json, render_text, render_turtle

    extra = extra_sources(extra_files, graphs)
    report = run_validation(
        extra,
        reasoner=not no_reasoner,
        progress=progress_printer(quiet),
        whole_graph=whole_graph,
        jobs=jobs,
        cache_dir=cache_dir,
    )
    renderer = {"text": render_text, "json": render_json, "turtle": render_turtle}[fmt]
    click.echo(renderer(report, strict=strict), nl=False)
    sys.exit(report.exit_code(strict=strict))
