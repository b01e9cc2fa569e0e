"""Where the shipped ontology, data, shapes and queries live.

An installed wheel carries them inside the package (``peerchange/resources/...``); a
source checkout (or an editable install) uses the top-level folders of the repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

KINDS = ("ontology", "data", "shapes", "queries")


@cache
def resource_root() -> Path:
    """Return the folder that holds ``ontology/``, ``data/``, ``shapes/`` and ``queries/``."""
    packaged = Path(__file__).resolve().parent.parent / "resources"
    if (packaged / "ontology").is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "ontology").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout
    raise FileNotFoundError(
        "peerchange cannot find its ontology/data/shapes/queries folders: "
        f"neither {packaged} nor {checkout} holds them. Reinstall the package."
    )


def resource_dir(kind: str) -> Path:
    """Return the folder of one kind of shipped resource (``ontology``, ``data``, ...)."""
    if kind not in KINDS:
        raise ValueError(f"unknown resource kind {kind!r}; expected one of {KINDS}")
    return resource_root() / kind


def resource_files(kind: str, pattern: str = "*.ttl") -> list[Path]:
    """Return the shipped files of one kind matching ``pattern``, sorted by name."""
    return sorted(resource_dir(kind).glob(pattern))
