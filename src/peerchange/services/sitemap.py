"""The sitemap of every page the server has (the Sitemaps protocol 0.9, sitemaps.org).

Its URLs: the dataset page, then the page of every resource of the graph in the order of
their paths (:meth:`ResourceService.page_paths`: read once per data version and shared by
every request and thread), each ``{site root}{path}.html``, with the dataset's
``dcterms:modified`` as ``<lastmod>`` when it has one.

The protocol allows a sitemap file at most :data:`MAX_URLS` URLs and :data:`MAX_BYTES`
bytes (uncompressed). While every URL fits in one file, ``/sitemap.xml`` is that
``<urlset>``; above, it is a ``<sitemapindex>`` of parts ``/sitemap-1.xml`` ...
``/sitemap-{n}.xml``, each a ``<urlset>`` of consecutive URLs. The site root (the host a
request came in on) counts toward the bytes, so where the parts end is computed per root
length (once, remembered): at most :data:`MAX_URLS` URLs each, fewer only where the bytes
would pass :data:`MAX_BYTES` (URLs of a thousand bytes on average). Tests lower the two
limits (module attributes, read at each call) to see the index on small data.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import chain
from xml.sax.saxutils import escape

from peerchange.core.errors import NotFound
from peerchange.services.dataset_description import DatasetDescriptionService
from peerchange.services.page_list import PagePaths
from peerchange.services.resources import ResourceService

#: The protocol's most URLs in one sitemap file (and sitemaps in one index).
MAX_URLS = 50_000
#: The protocol's most bytes of one sitemap file, uncompressed (50 MiB).
MAX_BYTES = 50 * 1024 * 1024
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
DATASET_PATH = "dataset"  # the first URL: the dataset page

_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">\n'
_TAIL = "</urlset>\n"
_INDEX_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NAMESPACE}">\n'
_INDEX_TAIL = "</sitemapindex>\n"


def sitemap_limits() -> tuple[int, int]:
    """The limits of one file in force: (:data:`MAX_URLS`, :data:`MAX_BYTES`)."""
    return MAX_URLS, MAX_BYTES


class _Urls(Sequence[str]):
    """The paths of the sitemap's URLs: the dataset page, then ``pages`` (no copy)."""

    def __init__(self, pages: PagePaths) -> None:
        self.pages = pages

    def __len__(self) -> int:
        return len(self.pages) + 1

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            start, stop, _ = i.indices(len(self))
            head = [DATASET_PATH] if start == 0 and stop > 0 else []
            return head + list(self.pages[max(start - 1, 0):max(stop - 1, 0)])
        return DATASET_PATH if i == 0 else self.pages[i - 1]


def _entry_bytes(path: str) -> int:
    return len(escape(path).encode("utf-8"))


def split(lengths: Sequence[int], overhead: int, max_urls: int, max_bytes: int
          ) -> list[int]:
    """Where each part starts, for URLs whose entries take ``lengths[i] + overhead`` bytes:
    at most ``max_urls`` entries and ``max_bytes`` bytes (with the file's head and tail)
    each; an entry too large for any file still gets one of its own."""
    frame = len(_HEAD.encode()) + len(_TAIL.encode())
    starts = [0]
    count, size = 0, frame
    for i, length in enumerate(lengths):
        entry = length + overhead
        if count and (count == max_urls or size + entry > max_bytes):
            starts.append(i)
            count, size = 0, frame
        count += 1
        size += entry
    return starts


class SitemapService:
    """The sitemap files of one loaded graph (see the module docstring)."""

    def __init__(self, resources: ResourceService,
                 description: DatasetDescriptionService) -> None:
        self.resources = resources
        self.description = description
        self._splits: dict[tuple[object, ...], list[int]] = {}
        self._lock = threading.Lock()

    # -- what the files hold ------------------------------------------------

    @property
    def lastmod(self) -> str:
        """The ``<lastmod>`` element of every URL: the ontology's ``dcterms:modified``,
        else nothing (the load time is not a modification)."""
        modified = self.description.modified
        return f"<lastmod>{escape(modified)}</lastmod>" if modified else ""

    def _urls(self) -> _Urls:
        return _Urls(self.resources.page_paths())

    def starts(self, base: str) -> list[int]:
        """Where each file of URLs under ``base`` starts (``[0]``: one file)."""
        urls = self._urls()
        lastmod = self.lastmod
        overhead = len(f"<url><loc>{escape(base)}.html</loc>{lastmod}</url>\n".encode())
        key = (self.resources.graph.version, overhead, MAX_URLS, MAX_BYTES)
        with self._lock:
            found = self._splits.get(key)
        if found is not None:
            return found
        pages = urls.pages
        if pages.text.isascii() and not any(c in pages.text for c in "&<>"):
            lengths = [len(DATASET_PATH), *pages.lengths()]  # escaping changes nothing
        else:
            lengths = [_entry_bytes(p) for p in chain((DATASET_PATH,), pages)]
        longest = max(lengths) + overhead
        frame = len(_HEAD.encode()) + len(_TAIL.encode())
        if longest * MAX_URLS + frame <= MAX_BYTES:  # the byte limit cannot bind
            starts = list(range(0, len(urls), MAX_URLS))
        else:
            starts = split(lengths, overhead, MAX_URLS, MAX_BYTES)
        with self._lock:
            if len(self._splits) >= 16:  # a few site roots at most, in practice
                self._splits.clear()
            self._splits[key] = starts
        return starts

    def parts(self, base: str) -> int:
        """How many part files the sitemap under ``base`` has (``0``: it is one file)."""
        starts = self.starts(base)
        return len(starts) if len(starts) > 1 else 0

    # -- the files ----------------------------------------------------------

    def sitemap(self, base: str) -> str:
        """``/sitemap.xml``: every URL in a ``<urlset>``, or the ``<sitemapindex>`` of the
        parts when they do not fit in one file."""
        starts = self.starts(base)
        if len(starts) == 1:
            return self._urlset(base, self._urls()[:])
        lastmod = self.lastmod
        entries = "".join(f"<sitemap><loc>{escape(base)}sitemap-{n}.xml</loc>{lastmod}"
                          "</sitemap>\n" for n in range(1, len(starts) + 1))
        return _INDEX_HEAD + entries + _INDEX_TAIL

    def part_number(self, base: str, name: str) -> int:
        """The number of the part called ``name`` (``"1"`` ... ``"n"``).

        :raise NotFound: the sitemap is one file, or ``name`` is not the number of a part
            (``0``, past the last, a leading zero, not a number).
        """
        starts = self.starts(base)
        index = f"{base}sitemap.xml"
        if len(starts) == 1:
            raise NotFound(f"The sitemap is one file, {index}; it has no parts.",
                           kind="sitemap")
        last = len(starts)
        if not (name.isascii() and name.isdigit() and name == str(int(name))
                and 1 <= int(name) <= last):
            raise NotFound(f"The sitemap has parts 1 to {last} (sitemap-1.xml ... "
                           f"sitemap-{last}.xml); there is no part {name!r}. Their index "
                           f"is {index}.", kind="sitemap")
        return int(name)

    def part(self, base: str, number: int) -> str:
        """``/sitemap-{number}.xml``: the ``<urlset>`` of that part (see
        :meth:`part_number`)."""
        starts = self.starts(base)
        urls = self._urls()
        end = starts[number] if number < len(starts) else len(urls)
        return self._urlset(base, urls[starts[number - 1]:end])

    def _urlset(self, base: str, paths: list[str]) -> str:
        root = escape(base)
        lastmod = self.lastmod
        return _HEAD + "".join(f"<url><loc>{root}{escape(p)}.html</loc>{lastmod}</url>\n"
                               for p in paths) + _TAIL


__all__ = ["DATASET_PATH", "MAX_BYTES", "MAX_URLS", "NAMESPACE", "SitemapService", "sitemap_limits",
           "split"]
