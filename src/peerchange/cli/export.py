"""``peerchange export DIR``: write the full dumps to a folder for static publishing."""

from __future__ import annotations

from pathlib import Path

import click

from peerchange.cli.common import (
    extra_sources,
    handle_errors,
    indented,
    load_services,
    progress_printer,
)
from peerchange.core.namespaces import BASE

DEFAULT_BASE_URL = BASE


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.argument("extra_files", nargs=-1, type=click.Path(dir_okay=False, path_type=str))
@click.option("--graph", "graphs", multiple=True, metavar="IRI=FILE",
              help="Also load FILE into the named graph IRI (repeatable).")
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True, metavar="URL",
              help="The site the folder is published under: the VoID description's dump "
                   "and SPARQL URLs start with it (dumps at URL/dumps/...).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on standard error.")
@handle_errors
def export(directory: Path, extra_files: tuple[str, ...], graphs: tuple[str, ...],
           base_url: str, quiet: bool) -> None:
    """Write the full dumps to DIRECTORY for static publishing.

    Loads the shipped ontology and data (plus any EXTRA_FILES, as `serve` does) and writes
    the same files the server publishes under /dumps/: DIRECTORY/{release}/ and
    DIRECTORY/latest/, each with peerchange.ttl (Turtle), peerchange.nt.gz (N-Triples,
    gzip), peerchange.nq.gz (N-Quads, gzip, named graphs kept), peerchange.jsonld (JSON-LD
    compacted with the published context), graphs/{name}.ttl (one file per named graph),
    SHA256SUMS, manifest.json and void.ttl (a VoID/DCAT description whose URLs start with
    --base-url). The release is the ontology's owl:versionInfo. Both folders are replaced;
    nothing else in DIRECTORY is touched. Publish DIRECTORY as BASE-URL/dumps/.
    """
    from peerchange.core.config import Settings
    from peerchange.services.dumps import ExportError, export_dumps

    progress = progress_printer(quiet)
    if directory.exists() and not directory.is_dir():
        raise ExportError(f"{directory} is a file; give a folder to write the dumps into")
    if not base_url.endswith("/"):
        base_url += "/"
    progress("Loading the knowledge graph")
    services = load_services(Settings.from_env(), extra_sources(extra_files, graphs),
                             progress=indented(progress))
    graph = services.graph
    progress(f"Loaded {graph.triples:,} triples in {len(graph.graph_counts)} named graphs "
             f"(data version {graph.version})")
    dump_set, folders = export_dumps(services.sparql, directory, base_url=base_url,
                                     progress=indented(progress))
    progress(f"Done in {dump_set.seconds:.2f} s")
    for f in dump_set.files:
        click.echo(f"{f.size:>12,}  {f.name}")
    click.echo(f"Release {dump_set.release} written to "
               + " and ".join(str(folder) for folder in folders))
