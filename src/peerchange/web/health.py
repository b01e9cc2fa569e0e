"""``/health``: liveness and readiness, with the triple count and versions.

Over a remote SPARQL store (``serve --endpoint``) the answer names the store and asks it
a cheap ``ASK`` first: a store that does not answer within two seconds makes the server
not ready (503, ``Retry-After``); it is ready again by itself once the store answers.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from peerchange import __version__
from peerchange.web.state import services

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Answer 200 with what is served (the app only exists once its graph is loaded or
    its store's publication record read); 503 when the remote store does not answer."""
    kg = services().graph
    ready = kg.remote is None or kg.remote.probe()
    extra = {}
    if kg.remote is not None:
        extra = {"endpoint": kg.remote.url, "endpoint_server": kg.remote.server or None,
                 "endpoint_answers": ready}
    resp = jsonify(
        status="ok" if ready else "unavailable",
        live=True,
        ready=ready,
        triples=kg.triples,
        named_graphs=len(kg.graph_counts),
        data_version=kg.version,
        ontology_version=kg.ontology_version,
        software_version=__version__,
        loaded_at=kg.loaded_at.isoformat(timespec="seconds"),
        load_seconds=round(kg.seconds, 3),
        store=kg.backend,
        **extra,
    )
    resp.headers["Cache-Control"] = "no-store"
    if not ready:
        resp.status_code = 503
        resp.headers["Retry-After"] = "5"
    return resp
