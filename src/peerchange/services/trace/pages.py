"""Pages of a reverse trace: a work every study cites (Bandura 1977 is cited by about
every claim grounding a mechanism in social learning theory) has a reverse trace that
grows with the store by definition (a 15.5 MB page and 57 s of CPU at 10^7 triples).
The web serves it in pages of :data:`PAGE_SIZE` claims, in the IRI order of the claims
the reverse trace walks (``cited-claims.rq``); each page reads the neighbourhood of its
own claims (``cited-page.rq``) and the work's (``cited-work.rq``). A reverse trace that
fits on one page is the whole reverse trace, built as before (``cited.rq``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Claims per page of a reverse trace.
PAGE_SIZE = 200


@dataclass(frozen=True)
class Page:
    """Page ``number`` (from 1) of ``total`` items, ``size`` a page."""

    number: int
    total: int
    size: int = PAGE_SIZE

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
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.count else None
