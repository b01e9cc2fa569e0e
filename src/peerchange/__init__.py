"""peerchange: a linked-data knowledge graph of the change model for peer worker
interventions in mental health services (Gillard et al. 2015), with validation and a
SPARQL 1.1 endpoint.

The package is layered (see ``docs/architecture.md``): ``peerchange.core`` holds the store,
query files, namespaces, errors and configuration; ``peerchange.services`` the features
shared by the command line and the web app; ``peerchange.cli`` and ``peerchange.web`` are
the two faces.

``__version__`` is read from the installed package's metadata when first asked for (a
module ``__getattr__``): ``importlib.metadata`` costs about 0.04 s of CPU to import, which
a restart's first answer (``peerchange.serving.launch``) does not pay.
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'peerchange' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("peerchange")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0+unknown"
    globals()["__version__"] = found
    return found
