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
