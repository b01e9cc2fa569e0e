"""The Flask app: ``create_app()`` builds it around one loaded knowledge graph.

Blueprints: ``sparql`` (the SPARQL 1.1 Protocol at ``/sparql``), ``health``, ``api``
(canned queries at ``/api``), ``linked_data`` (``/onto``, ``/id``, ``/graph``, ``/dataset``,
``/dumps``, also under ``/peerchange/...``), ``trace`` (``/trace``, ``/cited``,
``/references``), ``incoming`` (``/links/{path}``: what links to a resource, in
pages), ``site`` (the home page ``/``, ``/search``, the navigation and link
helpers of every template), ``metrics`` (``/metrics`` for allowed addresses; every request
is logged and counted, :mod:`peerchange.web.metrics`). Complete SPARQL answers are kept
per worker by their ETag (:class:`peerchange.web.caching.AnswerCache`) and answers and
pages from ``compress_min_bytes`` up are gzip-compressed for clients that accept it
(:mod:`peerchange.web.compression`). Every HTML answer carries the
:data:`CONTENT_SECURITY_POLICY`; the one stylesheet is ``/static/site.css``. See
``docs/architecture.md`` and ``docs/security.md``.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_cors import CORS
from werkzeug.routing import Rule

from peerchange.core.config import Settings
from peerchange.core.knowledge_graph import KnowledgeGraph, load_graph
from peerchange.core.sources import extra_source, parse_graph_option
from peerchange.services.assembly import build_services
from peerchange.web import compression, guards, metrics
from peerchange.web.caching import ANSWER_CACHE, AnswerCache
from peerchange.web.errors import register_error_handlers
from peerchange.web.state import PeerchangeApp

EXPOSED_HEADERS = [
    "ETag", "Link", "Content-Type", "Content-Length", "Vary", "Last-Modified",
    "Peerchange-Truncated", "Peerchange-Row-Limit", "Peerchange-Byte-Limit",
    "Content-Location", "Content-Range", "Accept-Ranges",
]
# What browser clients send: YASGUI's own requests (Accept, Content-Type, the conditional
# and Range headers of its bundled jQuery), X-Requested-With (jQuery-style clients, and
# custom headers set in YASGUI), the cache directives of fetch/XHR libraries.
ALLOWED_HEADERS = [
    "Accept", "Accept-Language", "Content-Language", "Content-Type", "If-None-Match",
    "If-Modified-Since", "Range", "X-Requested-With", "Cache-Control", "Pragma",
]
# Every HTML page: scripts and everything else from this site only, no inline script.
# style-src 'unsafe-inline' is the one relaxation: the query editor (YASGUI) and the inline
# SVG of the change-model diagram set style attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _content_security_policy(resp: Response) -> Response:
    """Add the Content-Security-Policy to an HTML answer (pages and error pages)."""
    if resp.mimetype in ("text/html", "application/xhtml+xml"):
        resp.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return resp


class LazyBuilderRule(Rule):
    """A URL rule whose URL builder (for ``url_for``) is compiled when first used.

    werkzeug compiles two small Python functions per rule when the rule is added (with
    ``ast`` and ``compile``): for our ~60 rules that was most of ``create_app``'s time, paid
    by every start, although a worker builds URLs for a handful of endpoints. Matching
    requests is unchanged (the rule's regular expression is still made when it is added);
    a builder is compiled the first time its rule builds a URL, in the process that builds
    it (so each worker compiles only what its pages use).
    """

    def _compile_builder(self, append_unknown: bool = True) -> Any:
        compile_builder = super()._compile_builder
        compiled: list[Any] = []

        def build(rule: Rule, /, **values: Any) -> Any:
            if not compiled:  # two threads racing compile it twice: the same function
                compiled.append(compile_builder(append_unknown).__get__(rule, None))
            return compiled[0](**values)

        return build


def create_app(settings: Settings | None = None, graph: KnowledgeGraph | None = None
               ) -> PeerchangeApp:
    """Build the app.

    :param settings: defaults to :meth:`Settings.from_env` (``PEERCHANGE_*`` variables).
    :param graph: an already loaded graph; by default the shipped ontology and data plus
        the settings' extra files and graphs are loaded, or, with ``settings.endpoint``,
        the remote store's publication record is read (nothing is loaded).
    :raise SourceError: when a data file cannot be loaded.
    :raise StoreUnavailable: the remote store cannot be reached.
    :raise NotPublished: the remote store holds no publication record.
    """
    settings = settings or Settings.from_env()
    if graph is None and settings.endpoint:
        from peerchange.core.remote_graph import connect_graph  # requests: --endpoint only

        graph = connect_graph(settings)  # a remote SPARQL store: nothing is loaded
    if graph is None:
        limit = settings.max_extra_bytes
        extra = [extra_source(p, max_bytes=limit) for p in settings.extra_files]
        extra += [parse_graph_option(spec, max_bytes=limit) for spec in settings.graphs]
        graph = load_graph(extra, store_path=settings.store or None)
    app = PeerchangeApp(__name__, static_folder="static", static_url_path="/static")
    app.url_rule_class = LazyBuilderRule  # the rules added from here on (every blueprint)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    metrics.register(app, settings, graph)  # /metrics, the access log, counts (first)
    # Bodies above this size are refused (413) before they are read; the exact query
    # size limit is applied after decoding (form encoding can triple a query's size).
    app.config["MAX_CONTENT_LENGTH"] = settings.max_query_bytes * 3 + 4096
    app.services = build_services(settings, graph)
    any_origin = settings.cors_origins.strip() == "*"
    CORS(
        app,
        origins="*" if any_origin else settings.cors_origins.split(),
        # "*" rather than an echo of the request's Origin: answers stay shareable by caches
        send_wildcard=any_origin,
        methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        supports_credentials=False,
        max_age=86400,
    )
    from peerchange.web import api, health, linked_data, sparql

    app.register_blueprint(sparql.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    linked_data.register(app)  # /onto, /id, /graph, /dataset, /dumps ... also under /peerchange
    from peerchange.web import trace

    app.register_blueprint(trace.bp)  # /trace, /cited, /references (the reviewer's trace)
    from peerchange.web import incoming

    app.register_blueprint(incoming.bp)  # /links/{path}: what links to a resource, paged
    from peerchange.web import site

    app.register_blueprint(site.bp)  # /, /search; the navigation and link helpers
    from peerchange.web import diagram

    app.register_blueprint(diagram.bp)  # /diagram.svg, .dot, .txt; neighbourhood_diagram()
    app.after_request(_content_security_policy)
    # complete SPARQL answers kept per worker (by ETag), and gzip for clients that ask
    app.extensions[ANSWER_CACHE] = AnswerCache(settings.answer_cache_mb * 1024 * 1024)
    compression.install(app, settings.compress_min_bytes)
    register_error_handlers(app)
    guards.install(app, settings)  # Host header (400), URL length (414), base URL
    return app
