"""core/json_text: JSON written and read by json's own C functions, without importing json
(held equal to json here)."""

from __future__ import annotations

import json

import pytest

from peerchange.core.json_text import encoder, loads

VALUES = [
    {"head": {}, "boolean": True},
    {"head": {"vars": ["s", "é", "a\"b"]}, "results": {"bindings": []}},
    {"s": {"type": "literal", "value": "line\nbreak \u2028 \U0001f600 \\ \x00", "xml:lang": "en"}},
    {"n": 1, "f": 2.5, "big": 10**30, "neg": -0.0, "none": None, "false": False, "list": [1, [2]]},
    "a string", 3, 1e100, [], {}, {"nested": {"deeper": [{"k": "v"}]}},
]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("separators", [(", ", ": "), (",", ":")])
def test_encoder_writes_what_json_writes(value, ensure_ascii, separators):
    expected = json.JSONEncoder(ensure_ascii=ensure_ascii, separators=separators).encode(value)
    assert encoder(ensure_ascii=ensure_ascii, separators=separators)(value) == expected


def test_encoder_refuses_what_json_refuses():
    with pytest.raises(TypeError):
        encoder()({"x": object()})
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError):
        encoder()(loop)


@pytest.mark.parametrize("text", [
    '{"layout": 2, "version": "74675c12fdfa8fb8", "folder": "store-x", "quads": 1015605}',
    ' \n{"a": [1, 2.5, -3e2, true, false, null, "\\u00e9\\n"]}\n\t ', "[]", '"x"', "12",
    '{"a": {"b": {"c": NaN, "d": Infinity, "e": -Infinity}}}', '{"a": 1, "a": 2}'])
def test_loads_reads_what_json_reads(text):
    assert repr(loads(text)) == repr(json.loads(text))


@pytest.mark.parametrize("text", ["", "  ", "{", '{"a": 1} x', '{"a": 1}{}', "[1,]",
                                  '{"a": "\x01"}', "nul"])
def test_loads_refuses_what_json_refuses(text):
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        loads(text)

