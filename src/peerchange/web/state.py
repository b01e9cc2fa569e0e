"""What the app holds: settings, the knowledge graph and the services built on it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from peerchange.core.config import Settings
from peerchange.core.knowledge_graph import KnowledgeGraph
from peerchange.services.sparql import SparqlService


@dataclass
class AppState:
    settings: Settings
    graph: KnowledgeGraph
    sparql: SparqlService


def state() -> AppState:
    """Return the state of the current app."""
    return current_app.extensions["peerchange"]
