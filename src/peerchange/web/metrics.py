"""``/metrics``: the server's metrics in the Prometheus text format, for allowed clients only.

:func:`register` sets everything up from ``create_app``: the multi-process folder (before
anything imports prometheus-client, see :func:`peerchange.core.metrics.prepare_multiprocess`),
the blueprint, the access log and request counts (:mod:`peerchange.web.access_log`) and the
store size. The metrics themselves are the table :data:`peerchange.core.metrics.METRICS`.

``/metrics`` answers only clients whose address (``REMOTE_ADDR``: the peer, or the client a
trusted proxy reports, as the serving layer resolved it) is in ``settings.metrics_allow``
(addresses or networks; loopback by default). Anyone else gets the same 404 as any unknown
path, so it does not show that the page exists. The answer is never shared with other
origins (its ``Access-Control-Allow-Origin`` is the server's own) nor cached.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from flask import Blueprint, Flask, Response, abort, current_app, request

from peerchange.core import metrics
from peerchange.core.config import Settings
from peerchange.core.errors import PeerchangeError
from peerchange.core.knowledge_graph import KnowledgeGraph
from peerchange.web import access_log

bp = Blueprint("metrics", __name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_ALLOW = "peerchange.metrics_allow"


def parse_allow(entries: Iterable[str]) -> list[Network]:
    """The networks of ``settings.metrics_allow`` (an address is a network of one).

    :raise PeerchangeError: for an entry that is neither an address nor a network.
    """
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise PeerchangeError(
                f"PEERCHANGE_METRICS_ALLOW: {entry!r} is not an IP address or network; give "
                "addresses or networks such as 127.0.0.1 ::1 10.0.0.0/8."
            ) from None
    return networks


def is_allowed(address: str | None, networks: Iterable[Network]) -> bool:
    """Whether a client at ``address`` may read ``/metrics`` (an IPv4 address written as
    IPv6, ``::ffff:127.0.0.1``, counts as the IPv4 one)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    candidates = [ip] if mapped is None else [ip, mapped]
    return any(c.version == net.version and c in net for c in candidates for net in networks)


@bp.get("/metrics")
def metrics_page() -> Response:
    """The metrics in the Prometheus text format (OpenMetrics when asked for), or 404."""
    if not is_allowed(request.remote_addr, current_app.extensions.get(_ALLOW, ())):
        abort(404)
    body, media_type = metrics.exposition(request.headers.get("Accept"))
    resp = Response(body, content_type=media_type)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Vary"] = "Accept"
    # the CORS extension skips an answer that already has this header: scripts of other
    # origins (a page open in an operator's browser) cannot read the metrics
    resp.headers["Access-Control-Allow-Origin"] = request.host_url.rstrip("/")
    return resp


def register(app: Flask, settings: Settings, graph: KnowledgeGraph) -> None:
    """Serve ``/metrics`` on ``app``, log and count its requests, record the store size.

    :raise PeerchangeError: for a ``metrics_allow`` entry that is not an address or network.
    """
    metrics.prepare_multiprocess()
    app.extensions[_ALLOW] = parse_allow(settings.metrics_allow)
    app.register_blueprint(bp)
    access_log.install(app, log_clients=settings.log_clients,
                       log_queries=settings.log_queries)
    metrics.create_all()
    metrics.observe("store_triples", graph.triples)
