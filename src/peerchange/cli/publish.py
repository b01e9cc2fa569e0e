"""``peerchange publish``: validate the graph, then load it into a SPARQL 1.1 store."""

from __future__ import annotations

import os
import sys

import click

from peerchange.cli.common import extra_sources, handle_errors, progress_printer
from peerchange.core.errors import PeerchangeError


class PasswordMissing(PeerchangeError):
    """``--password-env`` names a variable that is not set, or a login is half given."""

    exit_code = 2
    title = "No password"


@click.command()
@click.argument("extra_files", nargs=-1, type=click.Path(dir_okay=False, path_type=str))
@click.option("--graph", "graphs", multiple=True, metavar="IRI=FILE",
              help="Also publish FILE as the named graph IRI (repeatable).")
@click.option("--endpoint", required=True, metavar="QUERY_URL",
              help="The store's SPARQL query endpoint.")
@click.option("--update-endpoint", metavar="UPDATE_URL",
              help="The store's SPARQL Update endpoint (default: the query endpoint).")
@click.option("--graph-store", metavar="GSP_URL",
              help="The store's Graph Store Protocol endpoint: load each graph with one PUT "
                   "instead of SPARQL Update batches.")
@click.option("--user", metavar="NAME", help="The user name, if the store asks for a login.")
@click.option("--password-env", metavar="VAR",
              help="The environment variable holding the password (never on the command line).")
@click.option("--batch-triples", type=click.IntRange(min=1), default=1_000, show_default=True,
              help="At most this many triples in one SPARQL Update request.")
@click.option("--batch-bytes", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="At most this many bytes of triples in one SPARQL Update request.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=300.0,
              show_default=True, help="Seconds to wait for the store's answer to one request.")
@click.option("--strict", is_flag=True, help="Validation warnings refuse the data too.")
@click.option("--no-reasoner", is_flag=True,
              help="Skip the OWL phase of the validation (HermiT needs Java).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on standard error.")
@handle_errors
def publish(extra_files: tuple[str, ...], graphs: tuple[str, ...], endpoint: str,
            update_endpoint: str | None, graph_store: str | None, user: str | None,
            password_env: str | None, batch_triples: int, batch_bytes: int, timeout: float,
            strict: bool, no_reasoner: bool, quiet: bool) -> None:
    """Validate the shipped data plus any EXTRA_FILES, then publish it to a SPARQL store.

    The data is validated as `peerchange validate` does; data that does not conform is
    refused with the report and nothing is written. Each named graph is then loaded into a
    staging graph (one Graph Store Protocol PUT with --graph-store, else SPARQL 1.1 Update
    requests of bounded size, blank nodes skolemised), its triple count checked,
    and only then moved over its target (MOVE), so no half-loaded graph is ever visible.
    Last comes the publication record (graph .../graph/publication) that
    `peerchange serve --endpoint` reads; graphs published before but absent now are
    dropped. Publishing twice leaves the same store.

    Exit codes: 0 published, 1 the data does not conform or the store refused a request
    (the graph concerned is left as it was), 2 could not run (bad file, store unreachable,
    login refused).
    """
    from peerchange.services.publish import BatchLimits, prepare
    from peerchange.services.publish import publish as run_publish
    from peerchange.services.publish_http import StoreWriter
    from peerchange.services.validation.report import render_text

    _check_login(user, password_env)
    progress = progress_printer(quiet)
    prepared = prepare(extra_sources(extra_files, graphs), reasoner=not no_reasoner,
                       progress=progress)
    if not prepared.report.conforms(strict=strict):
        click.echo(render_text(prepared.report, strict=strict), nl=False, err=True)
        click.echo("Error: the data does not conform; nothing was published.", err=True)
        sys.exit(prepared.report.exit_code(strict=strict))
    writer = StoreWriter(endpoint, update_endpoint, graph_store, user=user or "",
                         password_env=password_env or "", timeout=timeout)
    run_publish(writer, prepared, limits=BatchLimits(batch_triples, batch_bytes),
                progress=progress)


def _check_login(user: str | None, variable: str | None) -> None:
    """Refuse a half-given login, or a password variable that is not set, before loading
    (the store's session reads the password from the variable when the store asks)."""
    if not user and not variable:
        return
    if not user or not variable:
        raise PasswordMissing("Give both --user NAME and --password-env VAR (the environment "
                              "variable holding the password), or neither.")
    if os.environ.get(variable) is None:
        raise PasswordMissing(f"The environment variable {variable} is not set; it should "
                              f"hold the password of {user!r}.")
