"""HTTP caching helpers shared by the blueprints.

The graph is read-only, so every answer is a function of the data version and the
request: an ETag built from those stays valid until the data changes.
"""

from __future__ import annotations

import hashlib


def etag_for(*parts: object) -> str:
    """Return a strong ETag value (without quotes) for a response built from ``parts``.

    Pass the graph's data version first, then whatever else selects the answer (path,
    query text, dataset, format).
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:32]
