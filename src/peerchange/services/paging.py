"""Where one page stands among the pages of a list: the arithmetic every paged answer
shares (the canned API's pages of rows, :class:`peerchange.services.canned.Page`; a
reverse trace's pages of claims, :mod:`peerchange.services.trace.pages`).

The links between pages (RFC 8288 relations, the URLs) are the web's
(:mod:`peerchange.web.paging`); what a page of RDF says of its place (Hydra's
``PartialCollectionView``) is the trace documents'.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageWindow:
    """Page ``number`` (from 1) of ``total`` items, ``size`` a page."""

    number: int
    total: int
    size: int

    @property
    def count(self) -> int:
        """How many pages there are (one for no items)."""
        return max(1, -(-self.total // self.size))

    @property
    def paged(self) -> bool:
        """Whether the items take more than one page."""
        return self.count > 1

    @property
    def exists(self) -> bool:
        """Whether there is such a page (the one page of no items included)."""
        return 1 <= self.number <= self.count

    @property
    def start(self) -> int:
        """The index of the page's first item (from 0)."""
        return (self.number - 1) * self.size

    @property
    def stop(self) -> int:
        """The index after the page's last item."""
        return min(self.total, self.start + self.size)

    @property
    def previous(self) -> int | None:
        """The number of the page before, if any."""
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        """The number of the page after, if any."""
        return self.number + 1 if self.number < self.count else None
