"""The services, built once around one loaded knowledge graph.

:func:`build_services` is called by ``create_app`` (the web face) and by the CLI commands
that need more than one service, so both faces hold the same objects built the same way;
views and commands receive a :class:`Services` and never build a service themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from peerchange.core.config import Settings
from peerchange.core.knowledge_graph import KnowledgeGraph
from peerchange.services.canned import CannedQueryService
from peerchange.services.dataset_description import DatasetDescriptionService
from peerchange.services.diagram import DiagramService
from peerchange.services.dumps import DumpService, default_cache_dir
from peerchange.services.home import HomeService
from peerchange.services.resources import ResourceService
from peerchange.services.search import SearchService
from peerchange.services.sitemap import SitemapService
from peerchange.services.sparql import SparqlService
from peerchange.services.trace import TraceService


@dataclass
class Services:
    """Everything a face needs: the settings, the graph and the services over it."""

    settings: Settings
    graph: KnowledgeGraph
    sparql: SparqlService
    canned: CannedQueryService
    trace: TraceService
    resources: ResourceService
    description: DatasetDescriptionService
    dumps: DumpService
    diagram: DiagramService
    search: SearchService
    home: HomeService
    sitemap: SitemapService


def build_services(settings: Settings, graph: KnowledgeGraph) -> Services:
    """Build every service once over ``graph`` with the limits of ``settings``."""
    sparql = SparqlService(
        graph,
        timeout=settings.query_timeout,
        max_rows=settings.max_rows,
        max_query_bytes=settings.max_query_bytes,
        service_allowlist=settings.service_allowlist,
        max_answer_bytes=settings.max_answer_bytes,
        query_memory_mb=settings.query_memory_mb,
        max_nesting=settings.max_nesting,
    )
    cache_dir = settings.dumps_dir or default_cache_dir()
    resources = ResourceService(sparql, cache_dir)
    description = DatasetDescriptionService(sparql)
    return Services(
        settings=settings,
        graph=graph,
        sparql=sparql,
        canned=CannedQueryService(sparql, cache_dir=cache_dir),
        trace=TraceService(sparql),
        resources=resources,
        description=description,
        dumps=DumpService(sparql, settings.dumps_dir or None),
        diagram=DiagramService(sparql),
        search=SearchService(sparql, cache_dir),
        home=HomeService(sparql, cache_dir),
        sitemap=SitemapService(resources, description),
    )
