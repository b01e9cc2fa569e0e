"""Settings: one table of names, defaults and help, read from ``PEERCHANGE_*`` variables.

Each setting can come from (later wins): its default, the environment variable
``PEERCHANGE_{NAME}``, and an explicit value (a command-line option or a test).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any


def _split(value: str) -> list[str]:
    return [v for v in (part.strip() for part in value.replace(",", " ").split()) if v]


@dataclass
class Settings:
    """The server's settings (``PEERCHANGE_`` + the upper-case field name in the environment).

    :param query_timeout: seconds a query may run before it is stopped (503); 0 disables.
    :param max_rows: most rows (or triples) in one answer; longer answers are cut and say so.
    :param max_query_bytes: largest accepted query text or request body (413 beyond).
    :param service_allowlist: SERVICE endpoints queries may call (none by default).
    :param store: folder of an on-disk store (built on first use), or empty for memory.
    :param cors_origins: origins allowed by CORS (``*`` for any).
    :param extra_files: more RDF files to load, each into its own named graph.
    :param graphs: ``IRI=FILE`` pairs to load into named graphs.
    :param dumps_dir: folder where the full dumps are written once and served from; empty
        for the user's cache folder (``$XDG_CACHE_HOME/peerchange/dumps``).

    Limits that keep one client from taking the endpoint down (``docs/security.md``):

    :param max_answer_bytes: largest answer body; longer answers are cut and say so (0: no
        limit).
    :param query_memory_mb: how much a query may grow its query process (MiB) before it is
        stopped (503; 0: no limit).
    :param max_nesting: deepest nesting of ``{``/``(``/``[`` in a query text (400 beyond).
    :param header_timeout: seconds a client has to send a request's line and headers.
    :param body_timeout: seconds a client has to send a request's body.
    :param keepalive_timeout: seconds an idle kept-alive connection stays open.
    :param send_timeout: seconds a client may leave an answer unread before it is dropped.
    :param max_request_line: longest request line in bytes (414 beyond).
    :param max_header_bytes: largest total of request header lines in bytes (431 beyond).
    :param max_connections: open connections per server worker process.
    :param threads: requests one worker process works on at once (each with its own query
        process).
    :param answer_cache_mb: MiB of complete SPARQL answers each worker process keeps, by
        their ETag (data version, query, dataset, format, limits), to send again without
        running the query; cut and failed answers are never kept (0: no cache).
    :param compress_min_bytes: answers and pages of a text type from this size up are
        gzip-compressed for clients that accept it (``Accept-Encoding``; 0: never).
    :param lean_sparql: the server worker answers the common ``/sparql`` query requests
        itself, without Flask, exactly as the app would (``serving/lean``); anything else,
        and every error, still goes to the app (false: every request goes to the app).
    :param queue_size: requests that may wait for a free thread per worker (503 beyond).
    :param client_concurrency: requests one client may have queued or running at once
        (429 beyond).
    :param client_seconds: seconds of work one client may use per ``client_window`` (429
        beyond, with ``Retry-After``).
    :param client_window: the length in seconds of that window.
    :param trusted_proxies: addresses of proxies whose ``X-Forwarded-For`` is believed.
    :param allowed_hosts: ``Host`` header values accepted (400 otherwise); empty for the
        serving host, the loopback names and the host of ``base_url``.
    :param host: the interface ``peerchange serve`` listens on (``--host``), a ``Host``
        the server answers to (with ``allowed_hosts`` empty).
    :param base_url: the public base URL when served behind a proxy (e.g.
        ``https://peerchange.example.org``).
    :param metrics_allow: addresses or networks that may read ``/metrics``.
    :param log_clients: put client addresses in the access log.
    :param log_queries: put query texts in the access log.
    :param max_extra_bytes: largest extra data file accepted, and the most characters its
        literals may expand to.
    :param endpoint: the query URL of a remote SPARQL 1.1 store to serve from instead of
        the embedded store (``serve --endpoint``); empty for the embedded store.
    :param endpoint_user: the user name for that store, if it asks for one.
    :param endpoint_password_env: the name of the environment variable that holds that
        user's password (never the password itself).
    """

    query_timeout: float = 30.0
    max_rows: int = 10_000
    max_query_bytes: int = 64 * 1024
    service_allowlist: list[str] = field(default_factory=list)
    store: str = ""
    cors_origins: str = "*"
    extra_files: list[str] = field(default_factory=list)
    graphs: list[str] = field(default_factory=list)
    dumps_dir: str = ""
    max_answer_bytes: int = 16 * 1024 * 1024
    query_memory_mb: int = 1024
    max_nesting: int = 128
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keepalive_timeout: float = 5.0
    send_timeout: float = 30.0
    max_request_line: int = 8190
    max_header_bytes: int = 32 * 1024
    max_connections: int = 1000
    threads: int = 4
    answer_cache_mb: int = 16
    compress_min_bytes: int = 1024
    lean_sparql: bool = True
    queue_size: int = 64
    client_concurrency: int = 2
    client_seconds: float = 60.0
    client_window: float = 60.0
    trusted_proxies: list[str] = field(default_factory=list)
    allowed_hosts: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    base_url: str = ""
    metrics_allow: list[str] = field(default_factory=lambda: ["127.0.0.1", "::1"])
    log_clients: bool = False
    log_queries: bool = False
    max_extra_bytes: int = 256 * 1024 * 1024
    endpoint: str = ""
    endpoint_user: str = ""
    endpoint_password_env: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Return settings from ``PEERCHANGE_*`` variables, then ``overrides`` (non-``None``).

        :raise ValueError: for a variable whose value has the wrong type.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        defaults = cls()
        for f in fields(cls):
            raw = env.get(f"PEERCHANGE_{f.name.upper()}")
            if raw is None:
                continue
            default = getattr(defaults, f.name)
            try:
                values[f.name] = _coerce(raw, default)
            except ValueError:
                raise ValueError(
                    f"PEERCHANGE_{f.name.upper()}={raw!r} is not a valid {type(default).__name__}"
                ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, list):
        return _split(raw)
    return raw
