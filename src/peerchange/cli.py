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
from peerchange.core.errors import PeerchangeError, error_view
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


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "PEERCHANGE"}
)
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


def _extra_sources(files: tuple[str, ...], graphs: tuple[str, ...]) -> list:
    return [extra_source(p) for p in files] + [parse_graph_option(spec) for spec in graphs]


@main.command()
@click.argument("extra_files", nargs=-1, type=click.Path(dir_okay=False, path_type=str))
@click.option("--graph", "graphs", multiple=True, metavar="IRI=FILE",
              help="Also load FILE into the named graph IRI (repeatable).")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="PEERCHANGE_HOST",
              help="Interface to listen on (0.0.0.0 for all).")
@click.option("--port", default=8000, show_default=True, type=int, envvar="PEERCHANGE_PORT")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              envvar="PEERCHANGE_WORKERS", help="gunicorn worker processes.")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=str),
              envvar="PEERCHANGE_STORE",
              help="Keep the graph in an on-disk store in this folder (built on first use, "
                   "then shared read-only by all workers).")
@click.option("--timeout", "query_timeout", type=float, envvar="PEERCHANGE_QUERY_TIMEOUT",
              help="Seconds a query may run before it is stopped (default 30; 0 = none).")
@click.option("--max-rows", type=int, envvar="PEERCHANGE_MAX_ROWS",
              help="Most rows or triples per answer (default 10000); longer answers are "
                   "cut and say so.")
@click.option("--max-query-bytes", type=click.IntRange(1), envvar="PEERCHANGE_MAX_QUERY_BYTES",
              help="Largest accepted query text in bytes (default 65536); larger ones get 413.")
@click.option("--allow-service", "service_allowlist", multiple=True, metavar="URL",
              envvar="PEERCHANGE_SERVICE_ALLOWLIST",
              help="A SPARQL endpoint that queries may call with SERVICE (repeatable; none by "
                   "default, so SERVICE is refused).")
@click.option("--dumps-dir", type=click.Path(file_okay=False, path_type=str),
              envvar="PEERCHANGE_DUMPS_DIR",
              help="Folder the full dumps are written to once and served from (default: a "
                   "cache folder per data version).")
@click.option("--reload", "dev_reload", is_flag=True,
              help="Development: Flask's server, restarting when code changes.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines or access log.")
@handle_errors
def serve(extra_files, graphs, host, port, workers, store_dir, query_timeout, max_rows,
          max_query_bytes, service_allowlist, dumps_dir, dev_reload, quiet) -> None:
    """Serve the knowledge graph: SPARQL 1.1 at /sparql, health at /health.

    Loads the shipped ontology and data plus any EXTRA_FILES (each into its own named
    graph; quad formats keep theirs) and serves them read-only. Every option can also be
    set with a PEERCHANGE_* environment variable (e.g. PEERCHANGE_PORT=9000).
    """
    from peerchange.core.config import Settings
    from peerchange.core.knowledge_graph import load_graph
    from peerchange.web import create_app

    progress = _progress(quiet)
    settings = Settings.from_env(query_timeout=query_timeout, max_rows=max_rows,
                                 max_query_bytes=max_query_bytes, store=store_dir,
                                 service_allowlist=list(service_allowlist) or None,
                                 dumps_dir=dumps_dir)
    extra = _extra_sources(extra_files, graphs)
    where = f"on disk: {store_dir}" if store_dir else "in memory"
    progress(f"Loading the knowledge graph ({where})")
    graph = load_graph(extra, store_path=store_dir, progress=lambda line: progress("  " + line))
    progress(f"Loaded {graph.triples:,} triples in {len(graph.graph_counts)} named graphs "
             f"in {graph.seconds:.2f} s (data version {graph.version})")
    app = create_app(settings, graph)
    base = f"http://{host}:{port}"
    progress(f"SPARQL endpoint: {base}/sparql")
    progress(f"Linked data: {base}/onto, {base}/id/..., {base}/dataset, {base}/dumps/")
    progress(f"Reviewer's trace: {base}/trace/trusting-relationships; canned queries: {base}/api")
    if dev_reload:
        app.run(host=host, port=port, debug=False, use_reloader=True)
        return
    from peerchange.server import run_gunicorn

    run_gunicorn(app, host=host, port=port, workers=workers,
                 timeout=settings.query_timeout, access_log=not quiet)


@main.command()
@click.argument("query")
@click.option("--endpoint", metavar="URL",
              help="Run against a remote SPARQL endpoint instead of the embedded graph.")
@click.option("--format", "fmt", default="table", show_default=True,
              type=click.Choice(["table", "csv", "tsv", "json", "xml", "turtle", "ntriples",
                                 "jsonld", "rdfxml"]),
              help="Output: a table in the terminal, or a SPARQL/RDF format.")
@click.option("--graph", "graphs", multiple=True, metavar="IRI=FILE",
              help="Also load FILE into the named graph IRI (embedded graph only).")
@click.option("--data", "extra_files", multiple=True, metavar="FILE",
              help="Also load this RDF file (embedded graph only; repeatable).")
@click.option("--timeout", "query_timeout", type=float, default=None,
              help="Seconds before the query is stopped (default 30).")
@handle_errors
def query(query, endpoint, fmt, graphs, extra_files, query_timeout) -> None:
    """Run a SPARQL QUERY (a query string, a .rq file, or - for standard input).

    Against the embedded graph (the shipped ontology and data) by default, or a remote
    SPARQL endpoint with --endpoint (through SPARQLWrapper). Prints a table, or the answer
    in a SPARQL results or RDF format with --format.
    """
    from peerchange.services.query_runner import read_query_argument, run_query

    text = read_query_argument(query)
    out = run_query(text, fmt=fmt, endpoint=endpoint,
                    extra=_extra_sources(tuple(extra_files), graphs),
                    timeout=query_timeout)
    click.echo(out, nl=not out.endswith("\n"))
main.add_command(__import__("peerchange.cli_trace", fromlist=["trace"]).trace)
main.add_command(__import__("peerchange.cli_export", fromlist=["export"]).export)
