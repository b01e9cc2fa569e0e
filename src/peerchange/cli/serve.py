"""``peerchange serve``: load the graph and serve the web app (SPARQL endpoint, linked
data, trace, canned queries) with gunicorn, or Flask's reloading server with --reload."""

from __future__ import annotations

import click

from peerchange.cli.common import extra_sources, handle_errors, indented, progress_printer


@click.command()
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
@click.option("--threads", type=click.IntRange(1, 256), envvar="PEERCHANGE_THREADS",
              help="Requests one worker process works on at once (default 4).")
@click.option("--pid-file", type=click.Path(dir_okay=False, path_type=str),
              help="Write the server's process id here (removed at exit), for "
                   "'peerchange reload --pid-file FILE' or 'kill -HUP'.")
@click.option("--validate-on-reload", is_flag=True,
              help="On reload (SIGHUP), refuse new data that fails validation, as with "
                   "'peerchange validate'.")
@click.option("--endpoint", metavar="QUERY_URL", envvar="PEERCHANGE_ENDPOINT",
              help="Serve from this remote SPARQL 1.1 store (its query URL) instead of "
                   "loading the graph: run 'peerchange publish --endpoint' first. Not "
                   "with EXTRA_FILES, --graph or --store.")
@click.option("--endpoint-user", metavar="NAME", envvar="PEERCHANGE_ENDPOINT_USER",
              help="The user name, when the store asks for a login (Digest or Basic).")
@click.option("--endpoint-password-env", metavar="VAR",
              envvar="PEERCHANGE_ENDPOINT_PASSWORD_ENV",
              help="The environment variable that holds that user's password.")
@click.option("--reload", "dev_reload", is_flag=True,
              help="Development: Flask's server, restarting when code changes.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines or access log.")
@handle_errors
def serve(extra_files: tuple[str, ...], graphs: tuple[str, ...], host: str, port: int,
          workers: int, store_dir: str | None, query_timeout: float | None,
          max_rows: int | None, max_query_bytes: int | None,
          service_allowlist: tuple[str, ...], dumps_dir: str | None, threads: int | None,
          pid_file: str | None, validate_on_reload: bool, endpoint: str | None,
          endpoint_user: str | None, endpoint_password_env: str | None, dev_reload: bool,
          quiet: bool) -> None:
    """Serve the knowledge graph: SPARQL 1.1 at /sparql, health at /health.

    Loads the shipped ontology and data plus any EXTRA_FILES (each into its own named
    graph; quad formats keep theirs) and serves them read-only. Every option can also be
    set with a PEERCHANGE_* environment variable (e.g. PEERCHANGE_PORT=9000).
    """
    from peerchange.core.config import Settings
    from peerchange.core.knowledge_graph import load_graph
    from peerchange.web import create_app

    progress = progress_printer(quiet)
    settings = Settings.from_env(host=host, query_timeout=query_timeout, max_rows=max_rows,
                                 max_query_bytes=max_query_bytes, store=store_dir,
                                 service_allowlist=list(service_allowlist) or None,
                                 dumps_dir=dumps_dir, threads=threads)
    settings.endpoint = endpoint or ""
    settings.endpoint_user = endpoint_user or settings.endpoint_user
    settings.endpoint_password_env = endpoint_password_env or settings.endpoint_password_env
    if settings.endpoint:
        if extra_files or graphs or store_dir:
            raise click.UsageError(
                "--endpoint serves what 'peerchange publish' put into the store: it does not "
                "take EXTRA_FILES, --graph or --store (publish those files instead).")
        from peerchange.core.remote_graph import connect_graph

        extra = []
        progress(f"Reading the publication record of {settings.endpoint}")
        graph = connect_graph(settings)
        progress(f"Serving {graph.triples:,} triples in {len(graph.graph_counts)} named "
                 f"graphs from {graph.remote.description if graph.remote else ''} "
                 f"(data version {graph.version})")
    else:
        extra = extra_sources(extra_files, graphs)
        where = f"on disk: {store_dir}" if store_dir else "in memory"
        progress(f"Loading the knowledge graph ({where})")
        from peerchange.core.load_progress import load_meter

        graph = load_graph(extra, store_path=store_dir, progress=indented(progress),
                           meter=load_meter(quiet, indented(progress)))
        progress(f"Loaded {graph.triples:,} triples in {len(graph.graph_counts)} named "
                 f"graphs in {graph.seconds:.2f} s (data version {graph.version})")
    app = create_app(settings, graph)  # builds the services (build_services)
    base = f"http://{host}:{port}"
    progress(f"SPARQL endpoint: {base}/sparql")
    progress(f"Linked data: {base}/onto, {base}/id/..., {base}/dataset, {base}/dumps/")
    progress(f"Reviewer's trace: {base}/trace/trusting-relationships; canned queries: {base}/api")
    if dev_reload:
        app.run(host=host, port=port, debug=False, use_reloader=True)
        return
    from peerchange.serving.gunicorn_app import run_gunicorn

    run_gunicorn(app, settings=settings, host=host, port=port, workers=workers,
                 access_log=not quiet, pid_file=pid_file,
                 reloader=_reloader(settings, extra, validate_on_reload, pid_file, progress))


def _reloader(settings, extra, validate: bool, pid_file: str | None, progress):
    """The SIGHUP reloader, where this version has one (``peerchange.serving.reload``)."""
    try:
        from peerchange.serving.reload import Reloader
    except ImportError:
        return None
    return Reloader(settings, extra, validate=validate, pid_file=pid_file, progress=progress)
