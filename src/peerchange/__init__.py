"""peerchange: a linked-data knowledge graph of the change model for peer worker
interventions in mental health services (Gillard et al. 2015), with validation and a
SPARQL 1.1 endpoint.

The package is layered (see ``docs/architecture.md``): ``peerchange.core`` holds the store,
query files, namespaces, errors and configuration; ``peerchange.services`` the features
shared by the command line and the web app; ``peerchange.cli`` and ``peerchange.web`` are
the two faces.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("peerchange")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
