"""Links between the pages of a paged answer (``/api/{name}``, ``/cited/{Key}``,
``/links/{path}``): the ``page`` parameter read, the URL of page N of the same request,
the RFC 8288 relations (``first``, ``prev``, ``next``, ``last``) to the pages around it,
and the ``Link`` header's values for them.

Where a page stands (its number, the count, the one before and after) is the services'
arithmetic (:class:`peerchange.services.paging.PageWindow`); here only the URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from urllib.parse import urlencode

from flask import request

from peerchange.core.errors import NotFound

#: The relations between pages, in the order they are given (RFC 8288, IANA's registry).
RELATIONS = ("first", "prev", "next", "last")


def page_number() -> int:
    """The ``page`` parameter (1 when absent); 404 for anything but a positive number."""
    text = request.args.get("page", "1")
    if not text.isdigit() or int(text) < 1 or len(text) > 9:
        raise NotFound(f"There is no page {text!r}: pages are numbered from 1.", kind="page")
    return int(text)


def request_params(*, only: Collection[str] | None = None) -> list[tuple[str, str]]:
    """The request's query parameters as (name, value) pairs, in their order, ``page``
    left out; only those named in ``only`` when it is given."""
    args = request.args
    return [(k, v) for k in args for v in args.getlist(k)
            if k != "page" and (only is None or k in only)]


def page_url(base: str, number: int, params: Iterable[tuple[str, str]] = ()) -> str:
    """``base`` with ``params`` (their ``page`` left out) and ``page=number`` as its query."""
    items = [(k, v) for k, v in params if k != "page"]
    return f"{base}?{urlencode([*items, ('page', str(number))])}"


def page_links(number: int, count: int, url: Callable[[int], str]) -> dict[str, str]:
    """The URLs of page ``number`` (``self``) and of the pages around it among ``count``,
    by relation: ``self``, ``first``, ``prev`` (not on the first), ``next`` (not on the
    last), ``last``. ``url(n)`` makes the URL of page n."""
    links = {"self": url(number), "first": url(1)}
    if number > 1:
        links["prev"] = url(number - 1)
    if number < count:
        links["next"] = url(number + 1)
    links["last"] = url(count)
    return links


def link_values(links: Mapping[str, str]) -> list[str]:
    """The ``Link`` header's values (``<url>; rel="…"``) of the relations in ``links``
    (``self`` left out: a page does not link to itself)."""
    return [f'<{url}>; rel="{rel}"' for rel, url in links.items() if rel in RELATIONS]
