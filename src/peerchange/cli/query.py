"""``peerchange query``: run one query on the embedded graph or on a remote endpoint.

The embedded graph answers through the services' :class:`~peerchange.services.sparql.
SparqlService` (the query is parsed once: ``prepare`` then ``execute``); a remote endpoint
through :func:`peerchange.services.remote_query.query_remote`. The answer is printed as a
table (:mod:`peerchange.cli.query_output`) or in the SPARQL results / RDF format asked for.
"""

from __future__ import annotations

import json

import click

from peerchange.cli.common import extra_sources, handle_errors, load_services
from peerchange.cli.query_output import answer_format, read_query_argument, render_table
from peerchange.core.config import Settings
from peerchange.core.sources import Source

FORMATS = ["table", "csv", "tsv", "json", "xml", "turtle", "ntriples", "jsonld", "rdfxml"]
DEFAULT_TIMEOUT = 30.0


@click.command()
@click.argument("query")
@click.option("--endpoint", metavar="URL",
              help="Run against a remote SPARQL endpoint instead of the embedded graph.")
@click.option("--format", "fmt", default="table", show_default=True,
              type=click.Choice(FORMATS),
              help="Output: a table in the terminal, or a SPARQL/RDF format.")
@click.option("--graph", "graphs", multiple=True, metavar="IRI=FILE",
              help="Also load FILE into the named graph IRI (embedded graph only).")
@click.option("--data", "extra_files", multiple=True, metavar="FILE",
              help="Also load this RDF file (embedded graph only; repeatable).")
@click.option("--timeout", "query_timeout", type=float, default=None,
              help="Seconds before the query is stopped (default 30).")
@handle_errors
def query(query: str, endpoint: str | None, fmt: str, graphs: tuple[str, ...],
          extra_files: tuple[str, ...], query_timeout: float | None) -> None:
    """Run a SPARQL QUERY (a query string, a .rq file, or - for standard input).

    Against the embedded graph (the shipped ontology and data) by default, or a remote
    SPARQL endpoint with --endpoint (through SPARQLWrapper). Prints a table, or the answer
    in a SPARQL results or RDF format with --format.
    """
    text = read_query_argument(query)
    extra = extra_sources(extra_files, graphs)
    if endpoint:
        form, body = _run_remote(text, endpoint, fmt)
    else:
        timeout = DEFAULT_TIMEOUT if query_timeout is None else query_timeout
        form, body = _run_local(text, fmt, extra, timeout)
    if fmt == "table" and form in ("SELECT", "ASK"):
        out = render_table(json.loads(body))
    else:
        out = body.decode("utf-8")
    click.echo(out, nl=not out.endswith("\n"))


def _run_local(text: str, fmt: str, extra: list[Source], timeout: float) -> tuple[str, bytes]:
    """Run ``text`` on the embedded graph (plus ``extra``): the query form and the answer."""
    # every row: a terminal query is not cut at the server's answer limit
    settings = Settings(query_timeout=timeout, max_rows=0, max_answer_bytes=0)
    sparql = load_services(settings, extra).sparql
    prepared = sparql.prepare(text)
    return prepared.form, sparql.execute(prepared, answer_format(fmt, prepared.form)).body


def _run_remote(text: str, endpoint: str, fmt: str) -> tuple[str, bytes]:
    """Run ``text`` on the SPARQL endpoint ``endpoint``: the query form and the answer."""
    from peerchange.core.querytext import inspect_query
    from peerchange.services.remote_query import query_remote

    form = inspect_query(text).form or "SELECT"
    return form, query_remote(text, endpoint, answer_format(fmt, form))
