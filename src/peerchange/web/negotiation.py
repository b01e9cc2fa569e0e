"""Content negotiation: pick a format from the ``format``/``output`` parameter or ``Accept``.

werkzeug parses ``Accept`` (q-values, wildcards); this module normalises media-type
parameters first: ``charset=utf-8`` is accepted (we only speak UTF-8), an entry asking for
another charset is dropped, other parameters are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from peerchange.core.errors import NotAcceptable
from peerchange.core.formats import Format, find_format, media_types


def clean_accept(header: str | None) -> MIMEAccept | None:
    """Return the parsed ``Accept`` header with parameters normalised, or ``None`` if absent."""
    if header is None or not header.strip():
        return None
    entries = []
    for value, quality in parse_accept_header(header, MIMEAccept):
        media, _, params = value.partition(";")
        charset_ok = True
        for param in params.split(";"):
            key, _, val = param.strip().partition("=")
            if key.strip().lower() == "charset" and val.strip().strip('"').lower() not in {
                "utf-8", "utf8"
            }:
                charset_ok = False
        if charset_ok:
            entries.append((media.strip().lower(), quality))
    return MIMEAccept(entries)


def negotiate(
    formats: tuple[Format, ...],
    *,
    accept: str | None,
    format_param: str | Sequence[str] | None = None,
    what: str = "this answer",
) -> Format:
    """Return the format to answer in.

    :param formats: the formats offered, the default first.
    :param format_param: the ``format`` (or ``output``) request parameter values; they win
        over ``Accept``. Several values are allowed (SPARQLWrapper sends ``format=tsv`` and
        ``format=text/tab-separated-values``): the first one that names an offered format
        is used.
    :raise NotAcceptable: if the parameters name no offered format, or ``Accept`` matches
        none.
    """
    offered = ", ".join(media_types(formats))
    values = [format_param] if isinstance(format_param, str) else list(format_param or ())
    values = [v for v in values if v.strip()]
    if values:
        for value in values:
            fmt = find_format(value, formats)
            if fmt is not None:
                return fmt
        names = ", ".join(f.name for f in formats)
        asked = ", ".join(repr(v) for v in values)
        raise NotAcceptable(
            f"format={asked} is not offered for {what}; use one of {names} "
            f"(or the media types {offered})."
        )
    parsed = clean_accept(accept)
    if parsed is None:
        return formats[0]
    best = parsed.best_match(media_types(formats))
    if best is None:
        raise NotAcceptable(
            f"None of the media types in Accept ({accept}) is offered for {what}. "
            f"Offered: {offered}."
        )
    fmt = find_format(best, formats)
    assert fmt is not None  # best is one of the offered media types
    return fmt


def prefers_json(accept: str | None) -> bool:
    """Whether an error should be JSON: the client accepts JSON and prefers it to text/plain."""
    parsed = clean_accept(accept)
    if parsed is None:
        return False
    json_q = max(
        (q for value, q in parsed if value.endswith("/json") or value.endswith("+json")),
        default=0,
    )
    return json_q > 0 and json_q >= parsed["text/plain"]
