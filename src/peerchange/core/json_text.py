"""JSON text read and written by the C functions :mod:`json` itself uses, without
importing :mod:`json` (whose decoder imports :mod:`re`: about 5 ms at each start).

For a restart's early answerer (:mod:`peerchange.serving.early`), whose first answer
waits for every import. :func:`encoder` returns what ``json.JSONEncoder(...).encode``
returns for a dict, list, number or string, byte for byte (it calls the same
``_json.make_encoder`` with the arguments the encoder passes); :func:`loads` parses a
document as ``json.loads`` does (``_json.make_scanner``, the decoder's defaults). Where
the C module is missing (another Python) both fall back to :mod:`json`.
``tests/unit/test_json_text.py`` holds them equal to :mod:`json`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc imports collections
    from collections.abc import Callable

try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it
    _json = None  # type: ignore[assignment]

_WHITESPACE = " \t\n\r"


def encoder(*, ensure_ascii: bool = True, separators: tuple[str, str] = (", ", ": ")
            ) -> Callable[[object], str]:
    """``json.JSONEncoder(ensure_ascii=..., separators=...).encode`` (other options at
    their defaults: no indent, no sorting, NaN allowed, circular references checked)."""
    if _json is None:  # pragma: no cover
        import json

        return json.JSONEncoder(ensure_ascii=ensure_ascii, separators=separators).encode
    text = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    item_separator, key_separator = separators

    def default(o: object) -> object:
        raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")

    def encode(o: object) -> str:
        if isinstance(o, str):
            return text(o)
        make = _json.make_encoder({}, default, text, None, key_separator, item_separator,
                                  False, False, True)
        return "".join(make(o, 0))

    return encode


class _Decoding:
    """The attributes ``_json.make_scanner`` reads (``json.JSONDecoder``'s defaults)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"),
                      "NaN": float("nan")}.__getitem__
    memo: dict = {}


_scan = _json.make_scanner(_Decoding()) if _json is not None else None


def loads(text: str) -> object:
    """``json.loads(text)`` for a ``str``.

    :raise ValueError: ``text`` is not one JSON document.
    """
    if _scan is None:  # pragma: no cover
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration:
        raise ValueError(f"Expecting value at character {start}") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"Extra data at character {end}")
    return value
