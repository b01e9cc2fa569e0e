"""Pages of a reverse trace: a work every study cites (Bandura 1977 is cited by about
every claim grounding a mechanism in social learning theory) has a reverse trace that
grows with the store by definition (a 15.5 MB page and 57 s of CPU at 10^7 triples).
The web serves it in pages of :data:`PAGE_SIZE` claims, in the IRI order of the claims
the reverse trace walks (``cited-claims.rq``); each page reads the neighbourhood of its
own claims (``cited-page.rq``) and the work's (``cited-work.rq``). A reverse trace that
fits on one page is the whole reverse trace, built as before (``cited.rq``).

Where a page stands (:class:`Page`) is the arithmetic every paged answer shares
(:mod:`peerchange.services.paging`); what the page's RDF says of it, Hydra's
``PartialCollectionView``, is :func:`peerchange.services.trace.documents.page_view`.
"""

from __future__ import annotations

from peerchange.services.paging import PageWindow

#: Claims per page of a reverse trace.
PAGE_SIZE = 200

#: Page ``number`` (from 1) of the ``total`` claims a reverse trace walks, ``size`` a page.
Page = PageWindow

__all__ = ["PAGE_SIZE", "Page"]
