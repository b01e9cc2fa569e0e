"""``/health``: liveness and readiness, with the triple count and versions."""

from __future__ import annotations

from flask import Blueprint, jsonify

from peerchange import __version__
from peerchange.web.state import services

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Answer 200 with what is served; the app only exists once its graph is loaded."""
    kg = services().graph
    resp = jsonify(
        status="ok",
        live=True,
        ready=True,
        triples=kg.triples,
        named_graphs=len(kg.graph_counts),
        data_version=kg.version,
        ontology_version=kg.ontology_version,
        software_version=__version__,
        loaded_at=kg.loaded_at.isoformat(timespec="seconds"),
        load_seconds=round(kg.seconds, 3),
        store="disk" if kg.store_path else "memory",
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp
