"""The one JSON encoder writes exactly the bytes the standard library's indented encoder wrote before it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.jsonio import dumps, dumps_floatless, dumps_line, dumps_text


def stdlib(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(st.characters(exclude_categories=("Cs",))))
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=30)


@settings(max_examples=600)
@given(documents)
def test_any_json_document_gets_the_standard_librarys_bytes(obj: Any) -> None:
    assert dumps(obj) == stdlib(obj)


@pytest.mark.parametrize("obj", [
    {"control": "".join(chr(i) for i in range(32)) + "\x7f\u2028\u2029\"\\/"},
    {"non-ascii": "é ü 中文 \U0001f600"},
    {"small": [1e-05, 1.5e-07, -3e-09, 0.0001, 0.00012, 1e-10], "big": [1e16, 1.5e22, 1e308]},
    {"edges": [math.nan, -math.inf, math.inf], "null": None},
    {"big ints": [2**64, -(2**63) - 1, 2**63 - 1]},
    {1: "int key", 2.5: "float key", False: "bool key", None: "none key"},
    {"tuple": (1, 2), "empty": [{}, [], ""], "nested": {"a": {"b": [[]]}}},
    {"text looks like a small float": ["0.00001", "1e-7", "x\": 1e-7", "phase-4", "null", "a\": null"]},
    1e-07, math.nan, [math.inf], "null",
])
def test_edge_values_get_the_standard_librarys_bytes(obj: Any) -> None:
    assert dumps(obj) == stdlib(obj)
    assert dumps_text(obj) == stdlib(obj).decode("utf-8")


def test_what_neither_encoder_takes_raises_as_before() -> None:
    with pytest.raises(TypeError):
        dumps({"a": {1, 2}})
    with pytest.raises(UnicodeEncodeError):
        dumps({"lone surrogate": "\ud800"})


def test_a_line_is_compact_and_has_no_newline() -> None:
    assert dumps_line({"a": [1, "é", None], "b": 2**64}) == '{"a":[1,"é",null],"b":18446744073709551616}'.encode()
    assert dumps_line({"a": 1.5}) == b'{"a":1.5}'


def test_text_that_looks_like_a_float_or_null_keeps_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only values, never string contents, send a document to the slow standard-library encoder."""
    import converters.jsonio as jsonio

    def slow(obj: Any) -> bytes:
        raise AssertionError("fell back to the standard library")

    monkeypatch.setattr(jsonio, "_stdlib_indented", slow)
    doc = {"code": "phase-4", "id": "urn:uuid:85cdd94c-d43e-5e4e-b0ea-1", "text": ["0.00001", "x\": 1e-7", "null"],
           "n": [1, 2.5, 0.0001, 1e-10, None], "nested": {"a\": null": "b"}}
    assert dumps(doc) == stdlib(doc)


floatless_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
                     | st.text(st.characters(exclude_categories=("Cs",))))
floatless_documents = st.recursive(floatless_scalars, lambda inner: st.lists(inner, max_size=4)
                                   | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=30)


@settings(max_examples=300)
@given(floatless_documents)
def test_a_document_without_floats_gets_the_same_bytes_unchecked(obj: Any) -> None:
    assert dumps_floatless(obj) == stdlib(obj) == dumps(obj)
